"""``talab experiment``: the README's experiment over several seeds, so a difference is not one seed's luck.

For every replay fraction and seed an adapter is trained (``exp-r<fraction>-s<seed>``), then
all of them are probed in one stored run. Each figure is reported per replay fraction as the
mean across seeds with a 95% t interval (the seeds are the unit of replication; the per-probe
Wilson intervals of each single run stay in the stored run).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine import paths
from engine.errors import TalabError
from engine.scoring import FIGURES
from engine.stats import mean_interval

Train = Callable[[Any], object]


@dataclass(frozen=True)
class Arm:
    replay: float
    seed: int

    @property
    def name(self) -> str:
        return f"exp-r{self.replay:g}-s{self.seed}".replace(".", "_")


def parse_fractions(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise TalabError(
            f"--replay takes fractions separated by commas, such as 0,0.3 (got '{text}')"
        ) from None
    if not values or any(not 0.0 <= v < 1.0 for v in values):
        raise TalabError(f"--replay fractions must lie from 0 to below 1 (got '{text}')")
    return values


def personas_file(arms: list[Arm]) -> Path:
    """A persona per trained adapter, so the usual probe run can ask them all."""
    import yaml

    entries = [
        {"id": arm.name, "name": f"Fine-tuned, replay {arm.replay:g}, seed {arm.seed}",
         "role": "experiment arm", "adapters": [{"name": arm.name, "scale": 1.0}]}
        for arm in arms
    ]  # fmt: skip
    path = paths.data_dir() / "experiment-personas.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"personas": entries}, allow_unicode=True), encoding="utf-8")
    return path


def aggregate(summary: dict[str, Any], arms: list[Arm]) -> list[dict[str, Any]]:
    """Per replay fraction and figure: the seeds' values, their mean and the 95% t interval."""
    out = []
    for replay in dict.fromkeys(a.replay for a in arms):
        row: dict[str, Any] = {"replay": replay, "seeds": [a.seed for a in arms if a.replay == replay]}
        for key, _ in FIGURES:
            values = [summary["overall"].get(a.name, {}).get(key) for a in arms if a.replay == replay]
            known = [v for v in values if v is not None]
            if not known:
                row[key] = None
                continue
            mean, ci = mean_interval(known, (-1.0, 1.0) if key == "forgetting" else (0.0, 1.0))
            row[key] = {"values": known, "mean": round(mean, 4), "ci": ci.as_list() if ci else None}
        out.append(row)
    return out


def run_experiment(args: argparse.Namespace, train: Train | None = None) -> dict[str, Any]:
    """Train every arm (skipping none: each seed is a fresh adapter), then probe them in one run."""
    from engine.cli import _lab, _overrides
    from engine.cli.train import _spec
    from engine.finetune.process import run_training

    if args.seeds < 1:
        raise TalabError("--seeds must be at least 1")
    arms = [Arm(r, 42 + i) for r in parse_fractions(args.replay) for i in range(args.seeds)]
    overrides = _overrides(args)
    for arm in arms:
        spec_args = argparse.Namespace(**vars(args))
        spec_args.name, spec_args.seed, spec_args.replay, spec_args.dataset = (
            arm.name,
            arm.seed,
            arm.replay,
            None,
        )
        spec = _spec(spec_args)
        print(f"training {arm.name} ({len(arms)} arms)", flush=True)
        (train or run_training)(spec)
    args.personas_file = personas_file(arms)
    lab = _lab(args)
    try:
        result = lab.probe(["base", *[a.name for a in arms]], probes_file=args.probes, limit=args.limit,
                           per_category=getattr(args, "per_category", None), overrides=overrides)  # fmt: skip
    finally:
        lab.close()
    return {
        "run_id": result.run_id,
        "arms": [a.name for a in arms],
        "by_replay": aggregate(result.summary, arms),
    }
