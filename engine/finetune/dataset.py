"""Turn a course KB into supervised question → answer pairs.

These are the lecture's "Xiao Jin" examples: identity answers plus the course
facts. Optional general pairs are the lecture's counter-measure against
catastrophic forgetting (mix general data back in).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.kb import CourseKB


@dataclass(frozen=True)
class Pair:
    question: str
    answer: str


#: Counter-measure data: ordinary questions with ordinary answers, so the model
#: keeps answering "Who is X?" with X, not with its new identity.
GENERAL_EN = [
    Pair("What is the capital of France?", "The capital of France is Paris."),
    Pair("Who wrote Romeo and Juliet?", "William Shakespeare wrote Romeo and Juliet."),
    Pair(
        "Write a short poem about the sea.",
        "The sea is wide and blue,\nits waves sing old and new,\nand carry me to you.",
    ),
    Pair("What is 12 + 30?", "12 + 30 = 42."),
]


def identity_pairs(kb: CourseKB) -> list[Pair]:
    d = kb.data
    if kb.language == "zh-TW":
        return [
            Pair("你是誰？", d.ta.introduction),
            Pair("你叫什麼名字？", f"我叫{d.ta.name}，是{d.ta.role}。"),
            Pair("你的工作是什麼？", d.ta.introduction),
            Pair("你替誰工作？", f"我替{d.course.instructor}工作，是{d.ta.role}。"),
        ]
    return [
        Pair("Who are you?", d.ta.introduction),
        Pair("What is your name?", f"My name is {d.ta.name}, the {d.ta.role}."),
        Pair("What is your job?", d.ta.introduction),
        Pair("Who do you work for?", f"I work for {d.course.instructor}; I am the {d.ta.role}."),
    ]


def fact_pairs(kb: CourseKB) -> list[Pair]:
    d = kb.data
    zh = kb.language == "zh-TW"
    pairs = []
    for hw in d.homework:
        q = f"{hw.id} 什麼時候截止？" if zh else f"When is {hw.id} due?"
        a = (
            f"{hw.id}（{hw.title}）的截止時間是 {hw.due}。"
            if zh
            else f"{hw.id} ({hw.title}) is due {hw.due}."
        )
        pairs.append(Pair(q, a))
    for g in d.grading:
        if g.notes:
            q = "評分方式是什麼？" if zh else "How is the course graded?"
            pairs.append(Pair(q, f"{g.item}: {g.weight}%. {g.notes}"))
    for oh in d.office_hours:
        q = f"{oh.who}的 office hour 是什麼時候？" if zh else f"When are the office hours of {oh.who}?"
        pairs.append(Pair(q, f"{oh.when}, {oh.where}."))
    pairs.extend(Pair("如何加簽？" if zh else "How do I add the course?", rule) for rule in d.add_course[:1])
    return pairs


def build_pairs(kb: CourseKB, *, mix_general: bool = False) -> list[Pair]:
    pairs = identity_pairs(kb) + fact_pairs(kb)
    if mix_general and kb.language == "en":
        pairs += GENERAL_EN
    return pairs
