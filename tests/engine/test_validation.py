"""The scorer against careful human grading: agreement on the held-out labelled answers.

tests/validation/heldout.jsonl holds real answers of the default model (Base, Prompted TA, and
adapters trained with and without replay, alone and with the prompt, English and zh-TW), each
labelled pass/fail by reading it against tests/validation/RUBRIC.md. The scorer was tuned on
tune.jsonl only. bench/bench_scoring.py prints the same figures with intervals and the old
assertions-only baseline.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from engine.score_file import Scorer, build_scorer
from engine.scoring import CATEGORIES

VALIDATION = Path(__file__).resolve().parents[1] / "validation"
#: The issue's targets are 95% overall and 90% per category. Measured on the held-out part when this
#: test was last updated (bench/bench_scoring.py, 238 answers): 95.8% overall (228/238); identity and
#: course facts 100%, general skills 97.7%, open opinions 95.5%, over-generalisation 93.2%, off-topic
#: 92.3% and injection 91.7% (22/24); English 97.4%, zh-TW 93.1%. The floors are the targets, just
#: under the measurement, so a change that makes the scorer worse fails here.
FLOOR_OVERALL = 0.95
FLOOR_CATEGORY = 0.90
#: What the set holds: the issue asks for at least 300 answers, and zh-TW must not be a token part.
MIN_ROWS = 330
MIN_ZH = 60
PERSONAS = {"base", "prompted", "finetuned", "finetuned-prompted", "finetuned-replay"}
LANGS = {"en", "zh-TW"}


def _load(name: str) -> list[dict[str, Any]]:
    text = (VALIDATION / f"{name}.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return build_scorer()


def test_the_labelled_set_is_large_varied_and_split() -> None:
    tune, held = _load("tune"), _load("heldout")
    rows = tune + held
    assert len(rows) >= MIN_ROWS
    assert not {r["id"] for r in tune} & {r["id"] for r in held}  # never tuned on the held-out part
    assert {r["persona_id"] for r in rows} >= PERSONAS and {r["lang"] for r in rows} >= LANGS
    assert set(Counter(r["category"] for r in held)) == set(CATEGORIES)
    assert all(isinstance(r["label"], bool) and r["reason"].strip() for r in rows)
    zh = [r for r in rows if r["lang"] == "zh-TW"]
    assert len(zh) >= MIN_ZH and len({r["persona_id"] for r in zh}) >= 3
    assert len({r["id"] for r in rows}) == len(rows)  # each answer labelled once
    # the split is the rubric's id hash, fixed before any scoring: no answer was moved to suit the scorer
    assert all(int(hashlib.sha256(r["id"].encode()).hexdigest(), 16) % 2 == 0 for r in held)
    assert all(int(hashlib.sha256(r["id"].encode()).hexdigest(), 16) % 2 == 1 for r in tune)


def test_the_scorer_agrees_with_careful_grading_on_the_held_out_part(scorer: Scorer) -> None:
    held = _load("heldout")
    agree: dict[str, list[bool]] = defaultdict(list)
    for row in held:
        same = scorer.score(row).passed == row["label"]
        agree[row["category"]].append(same)
        agree["overall"].append(same)
    rates = {k: sum(v) / len(v) for k, v in agree.items()}
    print({k: f"{v:.1%}" for k, v in rates.items()})
    assert rates["overall"] >= FLOOR_OVERALL
    assert {c: r for c, r in rates.items() if r < FLOOR_CATEGORY} == {}


def test_spill_over_is_seen_on_real_answers_of_a_real_adapter(scorer: Scorer) -> None:
    """Answers of the fine-tuned TA that the reader failed for copying its training answers."""
    rows = [r for r in _load("tune") + _load("heldout") if r["persona_id"].startswith("finetuned")]
    copied = [r for r in rows if "spill" in r["reason"].lower() and not r["label"]]
    assert copied, "the labelled set has real spill-over answers"
    found = [r for r in copied if not scorer.score(r).checks.get("spill_over", {}).get("passed", True)]
    # measured: 27 of 34 (79.4%); the misses are garbled zh-TW copies ("誰是小金，我不會問。") that share
    # no character 4-gram with a training answer (they still fail, on the TA's name and on relevance)
    assert len(found) >= 0.75 * len(copied)
