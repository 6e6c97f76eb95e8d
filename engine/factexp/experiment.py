"""Run the one-fact experiment: teach the fact three ways, then score all four personas.

Training and the edit run in their own subprocesses (the trainer's and the
editor's, with their JSON-line progress and cancel); the scoring loads the
model once into llama.cpp in this process. The persona that learns the fact
from a system-prompt line gets it as a system message where the case is a chat
question, and as a line of text before the prompt where the case is a raw
completion (the form the edit is made on).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine import paths
from engine.adapters import AdapterSpec
from engine.factexp.metrics import (
    REFERENCE,
    REFERENCE_SOURCE,
    PersonaScore,
)
from engine.factexp.spec import FactError, FactSpec, results_path


@dataclass(frozen=True)
class FactEvent:
    """Progress: ``phase`` is train, edit, score or probes; ``step``/``steps`` where there are steps."""

    phase: str
    detail: str = ""
    step: int = 0
    steps: int = 0
    loss: float | None = None


@dataclass
class FactResult:
    request: dict[str, Any]
    rows: list[PersonaScore]
    seconds: dict[str, float] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    edits: dict[str, Any] = field(default_factory=dict)  # covariance -> layer, source, target prob, seconds
    probe_run: int | None = None
    load_average: dict[str, str] = field(default_factory=dict)
    created: str = ""
    reference: dict[str, dict[str, float]] = field(default_factory=lambda: dict(REFERENCE))
    reference_source: str = REFERENCE_SOURCE
    framing: str = (
        "raw completion prompts (the prompt line as a line of text before them) and chat questions with "
        "the reply's start forced (the prompt line as the system message)"
    )

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rows": [r.as_dict() for r in self.rows]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FactResult:
        rows = [PersonaScore.from_dict(r) for r in data.get("rows", [])]
        known = set(cls.__dataclass_fields__)
        return cls(**{**{k: v for k, v in data.items() if k in known}, "rows": rows})


Report = Callable[[FactEvent], None]
Cancel = Callable[[], bool]


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text(encoding="utf-8").split()[:3])
    except OSError:
        return "unknown"


# -- teaching the fact ----------------------------------------------------------
def write_dataset(spec: FactSpec, folder: Path) -> Path:
    from engine.finetune.dataset import Example, write_jsonl

    examples = [Example(q, spec.line, "fact", "en") for q in spec.training_questions()]
    return write_jsonl(examples, folder / "dataset.jsonl")


def train_adapter(
    spec: FactSpec,
    model: Path,
    data: Path,
    report: Report,
    cancel: Cancel | None,
    program: list[str] | None = None,
) -> dict[str, Any]:
    from engine.finetune.events import Start, Step
    from engine.finetune.process import run_training
    from engine.finetune.train import TrainSpec

    examples = sum(1 for line in data.read_text(encoding="utf-8").splitlines() if line.strip())
    ts = TrainSpec(
        model_path=str(model),
        out_path=str(paths.adapters_dir() / f"{spec.name('ft')}.gguf"),
        dataset_path=str(data),
        rank=spec.rank,
        alpha=2 * spec.rank,
        lr=spec.lr,
        epochs=spec.epochs,
        batch_size=examples,
        seed=spec.seed,
    )
    ts.check()

    def on_event(e: Any) -> None:
        if isinstance(e, Start):
            report(FactEvent("train", f"{e.examples} examples", 0, e.steps))
        elif isinstance(e, Step):
            report(FactEvent("train", "", e.step, e.steps, e.loss))

    done = run_training(ts, on_event, cancel, program=program)
    return {
        "adapter": ts.out_path,
        "examples": examples,
        "steps": done.steps,
        "final_loss": done.final_loss,
        "train_seconds": done.train_seconds,
        "lr": spec.lr,
        "rank": spec.rank,
    }


def make_edit(
    spec: FactSpec,
    model: Path,
    covariance: str,
    report: Report,
    cancel: Cancel | None,
    program: list[str] | None = None,
) -> dict[str, Any]:
    from engine.edit.registry import refuse_overwriting_other_adapters
    from engine.edit.spec import EditSpec
    from engine.edit.worker import EDIT_JOB
    from engine.finetune.process import run_job

    name = spec.name("rome") + ("-self" if covariance == "self" and spec.covariance == "both" else "")
    es = EditSpec(
        model_path=str(model),
        out_path=str(paths.adapters_dir() / f"{name}.gguf"),
        prompt=spec.prompt,
        subject=spec.subject,
        target=spec.target,
        layer=spec.layer,
        layer_source="user" if spec.layer is not None else "default",
        steps=spec.edit_steps,
        covariance=covariance,
        seed=spec.seed,
    )
    es.check()
    refuse_overwriting_other_adapters(Path(es.out_path))

    def on_event(e: dict[str, Any]) -> None:
        if e.get("event") == "step":
            report(FactEvent("edit", covariance, int(e["step"]), int(e["steps"]), e.get("loss")))
        elif e.get("event") == "keys":
            report(FactEvent("edit", f"{covariance}: layer {e.get('layer')}"))

    done = run_job(EDIT_JOB, es.to_json(), Path(es.out_path), on_event, cancel, program=program)
    return {
        "adapter": es.out_path,
        "name": name,
        "layer": done.get("layer"),
        "layer_source": done.get("layer_source"),
        "target_prob": done.get("target_prob"),
        "steps": done.get("steps"),
        "seconds": (done.get("seconds") or {}).get("total_s"),
    }


def earlier_run(spec: FactSpec) -> tuple[dict[str, Any], dict[str, Any]]:
    """--no-train: the adapters of an earlier run, or one line saying there are none."""
    from engine.finetune.registry import read_manifest

    folder = paths.adapters_dir()
    ft = folder / f"{spec.name('ft')}.gguf"
    edits = {"identity": spec.name("rome")} if spec.covariance != "self" else {"self": spec.name("rome")}
    if spec.covariance == "both":
        edits["self"] = spec.name("rome-self")
    missing = [p.stem for p in (ft, *(folder / f"{n}.gguf" for n in edits.values())) if not p.exists()]
    if missing:
        raise FactError(
            f"No earlier run to reuse (missing adapters: {', '.join(missing)}); run without --no-train"
        )
    m = read_manifest(ft) or {}
    training = {
        "adapter": str(ft),
        "steps": m.get("steps"),
        "final_loss": m.get("final_loss"),
        "reused": True,
    }
    out = {}
    for cov, name in edits.items():
        e = read_manifest(folder / f"{name}.gguf") or {}
        out[cov] = {
            "adapter": str(folder / f"{name}.gguf"),
            "name": name,
            "layer": e.get("layer"),
            "layer_source": e.get("layer_source"),
            "target_prob": e.get("target_prob"),
            "reused": True,
        }
    return training, out


# -- the personas ----------------------------------------------------------------
def personas(spec: FactSpec, training: dict[str, Any], edits: dict[str, Any]) -> list[Any]:
    from engine.personas import Persona

    def p(pid: str, name: str, how: str, system: str | None = None, adapter: str | None = None) -> Persona:
        adapters = [AdapterSpec(Path(adapter), 1.0)] if adapter else []
        return Persona(pid, name, how, how, system, adapters)

    out = [
        p("base", "Base", "control: unchanged"),
        p(f"{spec.prefix}-prompt", "Prompt line", f"system prompt: {spec.line}", system=spec.line),
        p(
            f"stack:{spec.name('ft')}",
            "Fine-tuned",
            f"LoRA r={spec.rank}, {training.get('steps')} steps",
            adapter=training["adapter"],
        ),
    ]
    for cov, e in edits.items():
        out.append(
            p(
                f"edit:{e['name']}",
                "ROME edit" + (" (C from self text)" if cov == "self" else ""),
                f"rank-1 edit, layer {e.get('layer')}, covariance {cov}",
                adapter=e["adapter"],
            )
        )
    return out


def run(
    spec: FactSpec,
    on_event: Report | None = None,
    should_cancel: Cancel | None = None,
    *,
    trainer: list[str] | None = None,
    editor: list[str] | None = None,
) -> FactResult:
    """The whole experiment; ``trainer``/``editor`` replace the workers' command lines (tests)."""
    from engine.edit.spec import check_architecture
    from engine.errors import Cancelled
    from engine.factexp.scoring import general_ability, old_answers, score_persona
    from engine.logprobs import answer_tokens
    from engine.models import load_model_info
    from engine.runtime import Runtime

    spec.check()
    report = on_event or (lambda _e: None)
    info = load_model_info(spec.model)
    check_architecture(info.architecture, info.path.name)
    result = FactResult(
        request={
            "prompt": spec.prompt,
            "subject": spec.subject,
            "target": spec.target,
            "line": spec.line,
            "model": info.path.name,
            "epochs": spec.epochs,
            "edit_steps": spec.edit_steps,
            "max_tokens": spec.max_tokens,
            "covariance": spec.covariance,
            "seed": spec.seed,
            "threads": spec.threads,
        },
        rows=[],
        load_average={"start": load_average()},
    )
    work = paths.data_dir() / "fact-experiment"
    work.mkdir(parents=True, exist_ok=True)
    t0 = t = time.perf_counter()
    if spec.train:
        report(FactEvent("train", "starting"))
        result.training = train_adapter(
            spec, info.path, write_dataset(spec, work), report, should_cancel, trainer
        )
        result.seconds["train_s"] = round(time.perf_counter() - t, 1)
        covs = ("identity", "self") if spec.covariance == "both" else (spec.covariance,)
        for cov in covs:
            t = time.perf_counter()
            report(FactEvent("edit", cov))
            result.edits[cov] = make_edit(spec, info.path, cov, report, should_cancel, editor)
            result.seconds[f"edit_{cov}_s"] = round(time.perf_counter() - t, 1)
    else:
        result.training, result.edits = earlier_run(spec)
    chosen = personas(spec, result.training, result.edits)
    t = time.perf_counter()
    report(FactEvent("score", "loading the model", 0, len(chosen)))
    with Runtime(info, n_ctx=2048, n_threads=spec.threads) as rt:
        new = answer_tokens(rt, spec.target)
        cases = (
            [("efficacy", c) for c in spec.efficacy_cases()]
            + [("paraphrase", c) for c in spec.paraphrase_cases()]
            + [("neighbour", c) for c in spec.neighbours]
        )
        olds = old_answers(rt, spec, cases, new)
        for i, persona in enumerate(chosen, 1):
            if should_cancel is not None and should_cancel():
                raise Cancelled("Cancelled while scoring; the adapters are kept (rerun with --no-train)")
            result.rows.append(score_persona(rt, spec, persona, cases, olds, new))
            report(FactEvent("score", persona.id, i, len(chosen)))
        result.seconds["score_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        result.probe_run, general = general_ability(rt, spec, chosen, should_cancel, report)
        result.seconds["probes_s"] = round(time.perf_counter() - t, 1)
    for row in result.rows:
        row.general_ability, row.general_n = general.get(row.persona, (None, 0))
    result.seconds["total_s"] = round(time.perf_counter() - t0, 1)
    result.load_average["end"] = load_average()
    result.created = datetime.now(UTC).isoformat(timespec="seconds")
    save(result)
    return result


def save(result: FactResult) -> Path:
    import json

    out = results_path()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    tmp.write_text(json.dumps(result.as_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(out)
    return out


def load_last() -> FactResult | None:
    """The last saved result; None when there is none or it cannot be read (an older format)."""
    import json

    try:
        return FactResult.from_dict(json.loads(results_path().read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, KeyError):
        return None
