"""Does an answer address its question? A non-sequitur fails a general question.

"I never change or promise grades" in reply to "Who is the most handsome
person?" contains no forbidden name, so the old assertions passed it. Two
plain signals catch it: the answer shares no content word (Chinese: no
character pair) with the question, or it drifts into course business
(homework, grades, deadlines) that the question never mentioned. A third
sees an answer that broke down: a small model's degenerate run of one
punctuation mark ("安全！！！！！！！") answers nothing, whatever words came first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.scorers.text import cjk_chars, content_words, has_cjk

#: Course business: natural in a TA's answer, a non-sequitur in reply to a general question.
_COURSE_EN = re.compile(
    r"\b(?:homework|hw\d|grades?|grading|scores?|marks|deadlines?|(?<!of )course|office hours?|syllabus|"
    r"machine learning 2025|teaching assistant|prof\.? lee|xiao jin)\b",
    re.IGNORECASE,
)
_COURSE_ZH = re.compile(r"作業|成績|分數|評分|截止|課程|助教|小金|李教授|加簽|機器學習 ?2025")
#: A run of six or more of one punctuation mark: the model looping, not writing.
_DEGENERATE = re.compile(r"([!?;:,~、，。！？；：])\1{5,}")
#: Chinese characters an answer must write twice, apart, to count as looping. Tuned on tune.jsonl.
LOOP_CHARS = 8
#: Characters that appear in any Chinese question and say nothing about its topic.
_ZH_FUNCTION = set("的是誰什麼哪裡嗎呢請你我他她它們一個有在和與為了這那會要把給說下上中最請問如何怎樣多少幾")


@dataclass(frozen=True)
class Relevance:
    overlap: bool
    drift: str | None  # the course term the answer brought in, if any
    degenerate: str | None = None  # the run of repeated punctuation, if the answer broke down

    @property
    def relevant(self) -> bool:
        return self.overlap and self.drift is None and self.degenerate is None


def _zh_pairs(text: str) -> set[str]:
    chars = "".join(ch for ch in cjk_chars(text) if ch not in _ZH_FUNCTION)
    return {chars[i : i + 2] for i in range(len(chars) - 1)} | set(chars)


def measure(question: str, answer: str) -> Relevance:
    if has_cjk(question):
        overlap = bool(_zh_pairs(question) & _zh_pairs(answer)) or bool(
            content_words(question) & content_words(answer)
        )
        drift_match = _COURSE_ZH.search(answer) or _COURSE_EN.search(answer)
        drift = drift_match.group(0) if drift_match and drift_match.group(0) not in question else None
    else:
        overlap = bool(content_words(question) & content_words(answer))
        drift_match = _COURSE_EN.search(answer)
        drift = (
            drift_match.group(0)
            if drift_match and drift_match.group(0).casefold() not in question.casefold()
            else None
        )
    run = _DEGENERATE.search(answer)
    return Relevance(overlap, drift, run.group(0) if run else _loop(cjk_chars(answer)))


def _loop(chars: str, length: int = LOOP_CHARS) -> str | None:
    """A stretch of Chinese the answer writes twice: the model looping ("…是一个智能安全性的巨大力量的
    一名士。…是一个智能安全性的巨大力量的一名士"). English is left out: a fluent answer may restate a
    phrase ("the most suitable place to live in a city … depends …")."""
    seen: dict[str, int] = {}
    for i in range(len(chars) - length + 1):
        gram = chars[i : i + length]
        if gram in seen and i - seen[gram] >= length:
            return gram
        seen.setdefault(gram, i)
    return None
