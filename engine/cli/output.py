"""Rendering for the CLI: comparison tables and the probe progress bar."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from engine.scoring import CATEGORIES, FIGURES, flagged_figures, format_figure, format_interval, pct


def summary_table(summary: dict[str, Any], names: dict[str, str] | None = None) -> Table:
    personas = summary["personas"]
    names = names or {}
    table = Table(title="Pass rate per category", title_justify="left")
    table.add_column("category")
    for pid in personas:
        table.add_column(names.get(pid, pid), justify="right")
    for cat in CATEGORIES:
        if not any(cat in summary["pass_rates"][p] for p in personas):
            continue
        cells = []
        for pid in personas:
            rate = summary["pass_rates"][pid].get(cat)
            n = summary["counts"][pid].get(cat, 0)
            ci = format_interval(cat, summary.get("rate_intervals", {}).get(pid, {}).get(cat))
            cells.append(f"{pct(rate)} ({n}) {ci}" if rate is not None else "–")
        table.add_row(cat, *cells)
    table.add_section()
    flagged = flagged_figures(summary)
    for key, label in FIGURES:
        cells = []
        for pid in personas:
            text = format_figure(key, summary["overall"][pid].get(key))
            text += " " + format_interval(key, summary.get("intervals", {}).get(pid, {}).get(key))
            cells.append(f"[bold red]{text}[/bold red]" if key in flagged.get(pid, set()) else text)
        table.add_row(f"[bold]{label}[/bold]", *cells)
    table.caption = (
        "[brackets]: 95% interval (Wilson; differences from Base paired on the same probes). "
        "Red: the interval of the difference from Base excludes zero."
    )
    return table


def runs_table(runs: list[dict[str, Any]]) -> Table:
    table = Table(title="Runs (newest first)", title_justify="left")
    for col in ("id", "started", "status", "kind", "model", "personas", "answers", "pass rate"):
        table.add_column(col, justify="right" if col in ("id", "answers") else "left")
    for r in runs:
        overall = (r.get("summary") or {}).get("overall", {}) if isinstance(r.get("summary"), dict) else {}
        rates = ", ".join(f"{p}:{pct(v.get('pass_rate'))}" for p, v in overall.items())
        personas = r.get("personas")
        table.add_row(
            str(r["id"]),
            (r.get("created_at") or "")[:16].replace("T", " "),
            r.get("status") or "",
            r.get("kind") or "",
            r.get("model_label") or "",
            ",".join(personas) if isinstance(personas, list) else str(personas or ""),
            str(r.get("n_answers", 0)),
            rates or "–",
        )
    return table


def err_console() -> Console:
    return Console(stderr=True, highlight=False)
