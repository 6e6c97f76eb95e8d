"""The adapter-scale curve: one persona probed at several adapter scales (``talab sweep``).

Shared by the CLI table and the HTML report, so both plot the same figures with the same intervals.
"""

from __future__ import annotations

from typing import Any

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
