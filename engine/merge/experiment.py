"""``talab merge-experiment``: the lecture's merging scenario, measured on this machine.

Two specialists are trained on separate data that they never share (the TA's
identity; the course facts), then merged without any data by task arithmetic,
TIES and DARE. The merged personas are probed against each specialist alone and
against an adapter trained on the union of both data sets (the upper bound a
merge tries to reach without the data). All training uses the same settings,
so only the data differs. The probes are the default set's identity and
course-fact questions, which measure the two skills, and its general skills,
which measure what the merge costs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine import paths
from engine.finetune.events import TrainEvent

CATEGORIES = ("identity", "course_fact", "general_skill")
SKILLS = {"identity": "identity", "facts": "course_fact"}


@dataclass(frozen=True)
class ExperimentSpec:
    model: str = "default"
    prefix: str = "mx"
    epochs: int = 4
    rank: int = 8
    density: float = 0.5
    drop: float = 0.3
    seed: int = 42
    train: bool = True  # False: reuse the specialists and union adapter of an earlier run
    per_category: int = 8  # probes per category: 7 personas × 3 categories × 8 = 168 answers

    def name(self, what: str) -> str:
        return f"{self.prefix}-{what}"


@dataclass
class ExperimentResult:
    run_id: int
    rows: list[dict[str, Any]] = field(default_factory=list)  # persona, kind, rates per category
    merges: dict[str, dict[str, Any]] = field(default_factory=dict)  # method -> rank, error, seconds
    training: dict[str, dict[str, Any]] = field(default_factory=dict)  # adapter -> steps, loss, seconds


def datasets(folder: Path) -> dict[str, Path]:
    """Identity, facts and their union from the English KB, probe questions held out."""
    from engine.finetune.dataset import build_examples, write_jsonl
    from engine.kb import load_kb

    examples = build_examples([load_kb(None, lang="en")])
    identity = [e for e in examples if e.kind == "identity"]
    facts = [e for e in examples if e.kind == "fact"]
    return {
        "identity": write_jsonl(identity, folder / "identity.jsonl"),
        "facts": write_jsonl(facts, folder / "facts.jsonl"),
        "union": write_jsonl(identity + facts, folder / "union.jsonl"),
    }


def probe_file(folder: Path, per_category: int) -> Path:
    """The first ``per_category`` English probes of each measured category (course facts included,
    generated from the KB), written out as a fixed set so the run can be replayed."""
    from engine.probes import load_probe_set

    chosen = []
    for category in CATEGORIES:
        probes = load_probe_set().select(lang="en", category=category)[:per_category]
        chosen += [p.model_dump(by_alias=True, exclude_none=True) for p in probes]
    out = folder / "probes.yaml"
    data = {
        "name": "merge-experiment",
        "description": "identity, course facts, general skills",
        "probes": chosen,
    }
    out.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


def train(
    spec: ExperimentSpec, data: dict[str, Path], on_event: Callable[[str, TrainEvent | None], None]
) -> dict[str, dict[str, Any]]:
    from functools import partial

    from engine.finetune.process import run_training
    from engine.finetune.train import TrainSpec
    from engine.models import load_model_info

    model = str(load_model_info(spec.model).path)
    out = {}
    for what, dataset in data.items():
        ts = TrainSpec(model_path=model, out_path=str(paths.adapters_dir() / f"{spec.name(what)}.gguf"),
                       dataset_path=str(dataset), rank=spec.rank, alpha=2 * spec.rank, epochs=spec.epochs,
                       seed=spec.seed)  # fmt: skip
        ts.check()
        done = run_training(ts, partial(on_event, what))
        out[spec.name(what)] = {
            "steps": done.steps,
            "final_loss": done.final_loss,
            "train_seconds": done.train_seconds,
        }
    return out


def merge_specialists(spec: ExperimentSpec) -> dict[str, dict[str, Any]]:
    from engine.merge.build import MergeSpec, Source, merge, save_merge

    folder = paths.adapters_dir()
    sources = tuple(Source(spec.name(w), folder / f"{spec.name(w)}.gguf", 1.0) for w in SKILLS)
    out = {}
    for method in ("linear", "ties", "dare"):
        ms = MergeSpec(sources, method=method, density=spec.density if method == "ties" else 1.0,
                       drop=spec.drop if method == "dare" else 0.0, seed=spec.seed)  # fmt: skip
        result = merge(ms)
        save_merge(ms, result, folder / f"{spec.name(method)}.gguf")
        out[method] = {"rank": result.rank, "truncation_error": round(result.error, 6),
                       "seconds": round(result.seconds, 2)}  # fmt: skip
    return out


def personas(spec: ExperimentSpec) -> list[tuple[str, str]]:
    """(persona id, what it is), in the table's order."""
    n = spec.name
    return [
        ("base", "control"),
        (f"stack:{n('identity')}", "identity data only"),
        (f"stack:{n('facts')}", "course-fact data only"),
        (f"stack:{n('union')}", "both data sets"),
        (f"stack:{n('linear')}", "ΔW_identity + ΔW_facts"),
        (f"stack:{n('ties')}", f"TIES, density {spec.density:g}"),
        (f"stack:{n('dare')}", f"DARE, drop {spec.drop:g}"),
    ]


def run(
    spec: ExperimentSpec,
    on_event: Callable[[str, TrainEvent | None], None] | None = None,
    on_progress: Callable[[Any], None] | None = None,
) -> ExperimentResult:
    from engine.lab import Lab, LabConfig

    work = paths.data_dir() / "merge-experiment"
    work.mkdir(parents=True, exist_ok=True)
    report = on_event or (lambda _w, _e: None)
    training = train(spec, datasets(work), report) if spec.train else {}
    report("merge", None)  # None: the training is over, the merges begin
    merges = merge_specialists(spec)
    lab = Lab(LabConfig(model=spec.model, lang="en"))
    try:
        chosen = personas(spec)
        result = lab.probe(
            [p for p, _ in chosen], probes_file=probe_file(work, spec.per_category), on_progress=on_progress
        )
    finally:
        lab.close()
    rates = result.summary["pass_rates"]
    rows = [{"persona": pid, "what": what, **{c: rates.get(pid, {}).get(c) for c in CATEGORIES}}
            for pid, what in chosen]  # fmt: skip
    return ExperimentResult(result.run_id, rows, merges, training)


def verdicts(result: ExperimentResult, spec: ExperimentSpec) -> list[str]:
    """Where 1 + 1 reaches 2 (each skill as good as its specialist) and where it interferes."""
    by_id = {r["persona"]: r for r in result.rows}
    lines = []
    for method in ("linear", "ties", "dare"):
        row = by_id[f"stack:{spec.name(method)}"]
        parts = []
        for what, cat in SKILLS.items():
            mine, best = row[cat], by_id[f"stack:{spec.name(what)}"][cat]
            if mine is None or best is None:
                continue
            verdict = "kept" if mine >= best else "interference"
            parts.append(f"{cat} {mine:.0%} vs specialist {best:.0%} ({verdict})")
        base = by_id["base"]["general_skill"]
        if row["general_skill"] is not None and base is not None:
            parts.append(f"general skills {row['general_skill']:.0%} vs base {base:.0%}")
        lines.append(f"{method}: " + "; ".join(parts))
    return lines
