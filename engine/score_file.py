"""Score answers produced elsewhere (another tool, a teacher's labelled set) with the current scorer.

Each input line is a JSON object with ``question``, ``answer`` and ``category``,
and optionally ``probe_id`` and ``persona_id``. A line whose probe id (or
question) is in the probe set gets that probe's assertions; any other line
gets its category's default assertions. Non-course categories are also
checked for relevance and for spill-over against the KB's training answers and,
with an adapter, the data it was trained on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import scoring
from engine.errors import TalabError
from engine.probes import Probe, ProbeSet
from engine.scorers.spill import SpillReference


class ScoreInputError(TalabError):
    """A line of the answers file that cannot be scored."""


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reasons: list[str]
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)


def default_assertions(category: str, ta_names: list[str]) -> dict[str, Any]:
    """What any answer of a category must do when no probe says more."""
    rules: dict[str, dict[str, Any]] = {
        "identity": {"contains_any": ta_names},
        "course_fact": {"refusal": False},
        "general_skill": {"refusal": False},
        "open_opinion": {"not_contains": ta_names},
        "overgeneralisation": {"not_contains": ta_names},
        "off_topic": {"refusal": True},
        "injection": {"refusal": True},
    }
    return rules[category]


def _reason(name: str, result: Mapping[str, Any]) -> str:
    detail = result.get("detail")
    if isinstance(detail, dict):
        detail = ", ".join(f"{k} {v}" for k, v in detail.items())
    elif isinstance(detail, list):
        detail = ", ".join(map(str, detail)) or "none"
    return f"{name} {'passed' if result.get('passed') else 'failed'} ({detail})"


class Scorer:
    """One scorer for many answers: the probe set and spill-over reference are built once."""

    def __init__(self, probes: ProbeSet, spill: SpillReference, ta_names: list[str]) -> None:
        from engine.finetune.dataset import normalise

        self._normalise = normalise
        self.by_id = {p.id: p for p in probes.probes}
        self.by_question = {normalise(q): p for p in probes.probes for q in p.question.values()}
        self.spill = spill
        self.ta_names = ta_names

    def probe_for(self, record: Mapping[str, Any]) -> Probe | None:
        probe = self.by_id.get(str(record.get("probe_id") or ""))
        return probe or self.by_question.get(self._normalise(str(record["question"])))

    def score(self, record: Mapping[str, Any]) -> Verdict:
        probe = self.probe_for(record)
        category = probe.category if probe else str(record["category"])
        rules = (
            probe.assertions.model_dump(exclude_none=True)
            if probe
            else default_assertions(category, self.ta_names)
        )
        checks = scoring.check(
            rules,
            str(record["answer"]),
            question=str(record["question"]),
            category=category,
            spill=self.spill,
        )
        ok = scoring.passed(checks)
        shown = [n for n, r in checks.items() if not r["passed"]] if not ok else list(checks)
        return Verdict(ok, [_reason(n, checks[n]) for n in shown], checks)


def build_scorer(adapter: str | None = None, probes_file: Path | None = None) -> Scorer:
    from engine import paths
    from engine.kb import LANGUAGES, load_kb
    from engine.probes import load_probe_set
    from engine.scorers.spill import reference_for_adapters, reference_from_kbs

    kbs = {lang: load_kb(lang=lang) for lang in LANGUAGES}
    spill = reference_from_kbs(list(kbs.values()))
    if adapter:
        path = Path(adapter) if adapter.endswith(".gguf") else paths.adapters_dir() / f"{adapter}.gguf"
        trained = reference_for_adapters([path])
        if trained is None:
            raise ScoreInputError(
                f"No training data found for adapter '{adapter}' (looked for "
                f"{path.with_suffix('.dataset.jsonl')}); list the adapters with: talab adapters"
            )
        spill = SpillReference(spill.answers + trained.answers, f"kb+{trained.origin}")
    names = [kb.data.ta.name for kb in kbs.values()]
    return Scorer(load_probe_set(probes_file, kbs), spill, names)


def read_answers(path: Path) -> Iterator[dict[str, Any]]:
    """The lines of an answers file, each checked; errors name the file and line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ScoreInputError(f"Cannot read {path}: {exc.strerror or exc}") from None
    for n, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ScoreInputError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise ScoreInputError(f"{path}:{n}: expected a JSON object with question, answer and category")
        missing = [k for k in ("question", "answer", "category") if not isinstance(record.get(k), str)]
        if missing:
            raise ScoreInputError(f"{path}:{n}: missing or not text: {', '.join(missing)}")
        if record["category"] not in scoring.CATEGORIES:
            raise ScoreInputError(
                f"{path}:{n}: unknown category '{record['category']}' "
                f"(use one of {', '.join(scoring.CATEGORIES)})"
            )
        yield record


def score_records(scorer: Scorer, records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for record in records:
        verdict = scorer.score(record)
        yield {**record, "passed": verdict.passed, "reasons": verdict.reasons}
