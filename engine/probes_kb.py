"""Course-fact probes generated from the course KB, with their expected answers.

Every homework's deadline and release date, every grading item and its
weight, the late policy, each office hour, each add-course rule, the
instructor and the TA: one probe each, asked in every language the KB has.
The expected strings come from the same KB, so an edit in the Course KB tab
changes the questions and the answers they are checked against together.

The questions are worded differently from the training data's (the builder in
engine/finetune/dataset.py drops any training question that is a probe, and a
test checks that none is nearly one): a probe must measure whether the fact
generalises, not whether a sentence was memorised.
"""

from __future__ import annotations

import re
from typing import Any

from engine.kb import CourseKB
from engine.probes import Probe

_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_NUMBER = re.compile(r"\d+(?:\.\d+)?\s*%|\d+")
_QUANTITY = re.compile(r"\d+\s*(?:days?|weeks?|hours?|天|週|小時|%)")
_DAYS_EN = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_WEEKDAYS_ZH = dict(
    zip(["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"], _DAYS_EN, strict=True)
)


def date_forms(text: str) -> list[str]:
    """The ways an answer may write a KB date: 2025-03-14, March 14, Mar 14, 14 March, 3/14, 3月14."""
    out: list[str] = []
    for y, m, d in _DATE.findall(text):
        month, day = _MONTHS[int(m) - 1], int(d)
        out += [f"{y}-{m}-{d}", f"{month} {day}", f"{month[:3]} {day}", f"{day} {month}",
                f"{int(m)}/{day}", f"{m}-{d}", f"{int(m)}月{day}"]  # fmt: skip
    return out


def time_forms(text: str) -> list[str]:
    out: list[str] = []
    for h, m in _TIME.findall(text):
        hour = int(h)
        out.append(f"{hour:02d}:{m}")
        if hour > 12:
            out += [f"{hour - 12} pm", f"{hour - 12}pm", f"{hour - 12}:{m} pm", f"{hour - 12}:{m}pm"]
        elif hour == 12:
            out += ["12 pm", "12pm", "noon", "12:00"]
    return out


def _if(flag: object, text: str | None) -> str | None:
    """The question only where that language's KB has the item."""
    return text if flag else None


def _probe(pid: str, en: str | None, zh: str | None, expect: list[str]) -> Probe | None:
    question = {k: v for k, v in (("en", en), ("zh-TW", zh)) if v}
    expect = list(dict.fromkeys(x for x in expect if x.strip()))
    if not question or not expect:
        return None
    return Probe.model_validate(
        {"id": pid, "category": "course_fact", "question": question,
         "assert": {"contains_any": expect}, "note": "generated from the course KB"}
    )  # fmt: skip


def _short(item: str) -> str:
    """ "Homework (HW1 to HW5, 16% each)" → "Homework": the question must not contain its answer."""
    return re.split(r"\s*[（(]", item, maxsplit=1)[0].strip()


def _pct(weight: float) -> list[str]:
    w = f"{weight:g}"
    return [f"{w}%", f"{w} %", f"{w} percent", f"百分之{w}"]


def _key_terms(rule: str, question: str) -> list[str]:
    """What an answer must mention of a free-text rule: its numbers and dates, else its rarer words."""
    dates = date_forms(rule)
    if dates:
        return dates
    quantities = _QUANTITY.findall(rule)
    if quantities:
        return quantities + [q.replace(" ", "") for q in quantities]
    words = re.findall(r"[A-Za-z][A-Za-z-]{5,}", rule)
    return [w for w in words if w.casefold() not in question.casefold()][:4]


def kb_fact_probes(kbs: dict[str, CourseKB]) -> list[Probe]:
    """One course-fact probe per KB fact; ``kbs`` maps a language to its KB (either may be absent)."""
    en_kb, zh_kb = kbs.get("en"), kbs.get("zh-TW")
    en = en_kb.data if en_kb else None
    zh = zh_kb.data if zh_kb else None
    main = en or zh
    if main is None:
        return []

    def pick(items_en: list[Any] | None, items_zh: list[Any] | None, i: int) -> tuple[Any, Any]:
        a = items_en[i] if items_en is not None and i < len(items_en) else None
        b = items_zh[i] if items_zh is not None and i < len(items_zh) else None
        return a, b

    out: list[Probe | None] = []
    for i, hw in enumerate(main.homework):
        h_en, h_zh = pick(en.homework if en else None, zh.homework if zh else None, i)
        out.append(_probe(
            f"fact-{hw.id.lower()}-due",
            _if(h_en, f"By what date must {h_en.id} be submitted?"),
            _if(h_zh, f"{h_zh.id} 最晚哪一天要繳交？"),
            date_forms(hw.due),
        ))  # fmt: skip
        if hw.released:
            out.append(_probe(
                f"fact-{hw.id.lower()}-release",
                _if(h_en, f"On which date is {h_en.id} handed out?"),
                _if(h_zh, f"{h_zh.id} 哪一天公布？"),
                date_forms(hw.released),
            ))  # fmt: skip
    for i, g in enumerate(main.grading):
        g_en, g_zh = pick(en.grading if en else None, zh.grading if zh else None, i)
        out.append(_probe(
            f"fact-grading-{i + 1}",
            _if(g_en, f"What share of the final grade does the {_short(g_en.item).lower()} count for?"),
            _if(g_zh, f"{_short(g_zh.item)}佔學期成績的比例是多少？"),
            _pct(g.weight),
        ))  # fmt: skip
    notes = [(i, g.notes) for i, g in enumerate(main.grading) if g.notes]
    for i, note in notes:
        g_en, g_zh = pick(en.grading if en else None, zh.grading if zh else None, i)
        late = bool(re.search(r"late|遲交|晚交", note, re.IGNORECASE))
        if late:
            q_en, q_zh = (
                "How many points do I lose for each day my homework is late?",
                "作業每晚一天交會被扣多少？",
            )
            expect = [n for n in _NUMBER.findall(note) if "%" in n] or _NUMBER.findall(note)
            expect = expect + [e.replace("%", " percent") for e in expect]
        elif re.search(r"exam|考試", note, re.IGNORECASE):
            q_en, q_zh = "Do students sit a written exam at the end of the term?", "期末需要參加筆試嗎？"
            negated = re.search(r"\bno\b|not|沒有|無", note, re.IGNORECASE)
            no_exam = ["no exam", "no written exam", "no final", "not have", "there is no", "No,",
                       "do not sit", "don't sit", "not sit", "沒有考試", "沒有筆試", "不需要", "沒有期末考",
                       "不用", "沒有"]  # fmt: skip
            expect = no_exam if negated else _key_terms(note, q_en)
        else:
            q_en, q_zh = f"What is the rule about the {_short(main.grading[i].item).lower()}?", None
            expect = _key_terms(note, q_en)
        out.append(_probe(f"fact-grading-note-{i + 1}", _if(g_en, q_en), _if(g_zh, q_zh), expect))
    for i, oh in enumerate(main.office_hours):
        o_en, o_zh = pick(en.office_hours if en else None, zh.office_hours if zh else None, i)
        day = next((v for k, v in _WEEKDAYS_ZH.items() if k in oh.when), "")
        when = time_forms(oh.when) + (
            [day, next(k for k, v in _WEEKDAYS_ZH.items() if v == day)] if day else []
        )
        if o_en:
            when += [w for w in re.findall(r"[A-Z][a-z]+day", o_en.when)]
        out.append(_probe(
            f"fact-office-hours-{i + 1}-when",
            _if(o_en, f"At what time can students visit {o_en.who} during office hours?"),
            _if(o_zh, f"{o_zh.who}的辦公時間是星期幾、幾點？"),
            when,
        ))  # fmt: skip
        rooms = re.findall(r"\d{2,}", oh.where) or [oh.where]
        out.append(_probe(
            f"fact-office-hours-{i + 1}-where",
            _if(o_en, f"In which room does {o_en.who} hold office hours?"),
            _if(o_zh, f"{o_zh.who}的辦公時間在哪個教室？"),
            rooms,
        ))  # fmt: skip
    add_q_en = ["What is the last day on which I can still enrol in the course?",
                "What steps get me an add code for the class?",
                "Are people who only audit the class graded?"]  # fmt: skip
    add_q_zh = ["最晚哪一天還能選上這門課？", "要怎麼拿到這門課的授權碼？", "旁聽的同學作業會被打分數嗎？"]
    for i, rule in enumerate(main.add_course):
        r_en, r_zh = pick(en.add_course if en else None, zh.add_course if zh else None, i)
        q_en = add_q_en[i] if i < len(add_q_en) else f"What does add-course rule {i + 1} say?"
        q_zh = add_q_zh[i] if i < len(add_q_zh) else f"加簽規定第 {i + 1} 條是什麼？"
        if "audit" in rule.casefold() and re.search(r"\bnot\b", rule):
            expect = ["not graded", "are not graded", "won't be graded", "will not be graded", "isn't graded",
                      "not be graded", "不評分", "不會被打分", "不會評分", "不予評分"]  # fmt: skip
        else:
            expect = _key_terms(rule, q_en) + (_key_terms(r_zh, q_zh) if r_zh else [])
        out.append(_probe(f"fact-add-course-{i + 1}", _if(r_en, q_en), _if(r_zh, q_zh), expect))
    names = [k.course.instructor for k in (en, zh) if k]
    names += [n.split()[-1] for n in names if " " in n]  # "Lee" for "Prof. Lee"
    title_en, title_zh = (en.course.title if en else ""), (zh.course.title if zh else "")
    people = [
        ("fact-instructor", f"Which professor is in charge of {title_en}?", f"{title_zh}的授課教授是哪一位？",
         names),
        ("fact-ta", f"Who is the teaching assistant for {title_en}?", f"{title_zh}的助教叫什麼名字？",
         [k.ta.name for k in (en, zh) if k]),
        ("fact-instructor-email", "What email address reaches the professor?", "教授的電子郵件地址是什麼？",
         [main.course.instructor_email or ""]),
        ("fact-ta-email", "Which email address should I use to contact the TA?", "聯絡助教要寫信到哪個信箱？",
         [main.ta.email or ""]),
        ("fact-website", "What is the URL of the course website?", "課程網站的網址是什麼？",
         [(main.course.website or "").removeprefix("https://").removeprefix("http://")]),
    ]  # fmt: skip
    out += [_probe(pid, _if(en, q_en), _if(zh, q_zh), expect) for pid, q_en, q_zh, expect in people]
    return [p for p in out if p is not None]
