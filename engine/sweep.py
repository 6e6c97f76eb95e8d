"""The adapter-scale curve: one persona probed at several adapter scales (``talab sweep``).

Shared by the CLI table and the HTML report, so both plot the same figures with the same intervals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.errors import TalabError

if TYPE_CHECKING:
    from engine.store import Store

#: The curve's figures: the summary key, where it lives, and its label.
CURVE = [
    ("identity", "pass_rates", "identity adherence"),
    ("course_fact", "pass_rates", "course facts"),
    ("general_ability", "overall", "general ability"),
    ("overgeneralisation_rate", "overall", "over-generalisation"),
    ("injection_resistance", "overall", "injection resistance"),
]


def curve_points(summary: dict[str, Any], scales: list[float]) -> list[dict[str, Any]]:
    """One point per scale: each figure with its 95% interval (None where nothing was asked)."""
    points = []
    for pid, scale in zip(summary["personas"], scales, strict=True):
        point: dict[str, Any] = {"scale": scale, "persona": pid}
        for key, where, _ in CURVE:
            value = summary[where].get(pid, {}).get(key)
            ci_where = "rate_intervals" if where == "pass_rates" else "intervals"
            point[key] = {"value": value, "ci": summary.get(ci_where, {}).get(pid, {}).get(key)}
        points.append(point)
    return points


def sweep_scales(points: int) -> list[float]:
    """``points`` scales from 0 to 1, evenly spaced (the CLI's ``--points`` and the window's)."""
    if points < 2:
        raise TalabError("--points must be at least 2 (the scales 0 and 1)")
    return [round(i / (points - 1), 4) for i in range(points)]


def sweep_persona_ids(persona: str, scales: list[float]) -> list[str]:
    """``finetuned:0``, ``finetuned:0.2`` …: the personas a sweep probes, one per scale."""
    return [f"{persona}:{s:g}" for s in scales]


def scales_of(personas: list[str]) -> list[float] | None:
    """The scales, when a run's personas are one persona at three or more scales; else None."""
    stems = {p.partition(":")[0] for p in personas}
    try:
        scales = [float(p.partition(":")[2]) for p in personas]
    except ValueError:
        return None
    return scales if len(personas) >= 3 and len(stems) == 1 else None


@dataclass(frozen=True)
class SweepCurve:
    """A stored sweep as the curve: per figure key (see :data:`CURVE`), one value and one 95%
    interval per scale, scales ascending; None where that figure had no probe."""

    run_id: int
    persona: str
    status: str
    scales: list[float]
    values: dict[str, list[float | None]]
    intervals: dict[str, list[tuple[float, float] | None]]


def curve_of(run_id: int, status: str, personas: list[str], summary: dict[str, Any]) -> SweepCurve | None:
    """``personas``: what the run asked for (a cancelled sweep's summary lacks the scales it never
    reached); None when they are not one persona at several scales, or nothing was answered."""
    answered = list(summary.get("personas") or [])
    if scales_of(personas) is None or not answered:
        return None
    points = sorted(
        curve_points(summary, [float(p.partition(":")[2]) for p in answered]), key=lambda p: p["scale"]
    )
    values: dict[str, list[float | None]] = {}
    intervals: dict[str, list[tuple[float, float] | None]] = {}
    for key, _, _ in CURVE:
        values[key] = [p[key]["value"] for p in points]
        intervals[key] = [(float(ci[0]), float(ci[1])) if (ci := p[key]["ci"]) else None for p in points]
    persona = personas[0].partition(":")[0]
    return SweepCurve(run_id, persona, status, [float(p["scale"]) for p in points], values, intervals)


def latest_sweep(store: Store, look_back: int = 200) -> SweepCurve | None:
    """The newest probe run that is a sweep and has answers; None when there is none yet."""
    from engine.runs import run_summary

    for run in store.list_runs(look_back):
        if run.get("kind") != "probe" or not run.get("n_answers"):
            continue
        personas = list(run.get("personas") or [])
        if scales_of(personas) is None:
            continue
        summary = run_summary(run, store.answers(run["id"]))
        curve = curve_of(int(run["id"]), str(run.get("status") or ""), personas, summary)
        if curve is not None:
            return curve
    return None
