"""The probe grid (probes × personas, pass/fail cells), the evidence behind a cell, the figures strip.

Split from probes.py so the view there is only layout and wiring; these widgets
know nothing about the worker and are filled from store rows or live progress.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from desktop.i18n import persona_name, tr
from desktop.views.compare import answer_stats
from engine.lab import PersonaInfo
from engine.scoring import FIGURES, figure_parts, flagged_figures, format_interval

PASS_BG = "#bfe8bf"
FAIL_BG = "#f5bcbb"
PASS_FG = "#1d5e1d"
FAIL_FG = "#8a1c1c"
FLAG_FG = "#b3141b"


def display_name(pid: str, names: Mapping[str, PersonaInfo]) -> str:
    """``merged:0.35`` reads as "Merged α=0.35", not as an id, in headers and details; in the UI language."""
    if pid in names:  # edit:NAME too: an id with a colon of its own
        return persona_name(names[pid].base_name, names[pid].name_scale)
    base, _, scale = pid.partition(":")
    info = names.get(base)  # None for a persona gone since the run: its id is all there is
    try:
        alpha = float(scale) if scale else None
    except ValueError:
        return pid
    return persona_name(info.base_name if info else base, alpha)


def figure_text(key: str, value: float | None) -> str:
    """The engine's figure, with its "pts" unit in the UI language."""
    number, unit = figure_parts(key, value)
    return tr("{n} pts", n=number) if unit == "pts" else number


def figure_label(label: str) -> str:
    """A figure's name on two lines at its bracket: "Over-generalisation\n(lower is better)"."""
    return tr(label).replace(" (", "\n(").replace("（", "\n（")


def category_label(category: str) -> str:
    """One name per category in the grid, the filter and the chart; the hyphen lets the chart wrap it."""
    return tr(category.replace("_", " ").replace("overgeneralisation", "over-generalisation"))


class ProbeGrid(QTableWidget):
    """One row per probe, one column per persona: a class sees where each persona fails at a glance."""

    FIXED = 2  # category and question columns before the personas

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, self.FIXED, parent)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        # no selection colour: it would hide the pass/fail colour of the cell being read
        self.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.verticalHeader().setVisible(False)
        self.setWordWrap(False)
        self.personas: list[str] = []
        self.probe_rows: dict[str, int] = {}
        self.categories: list[str] = []  # per row
        self.answers: dict[tuple[str, str], dict[str, Any]] = {}
        self.shown_category: str | None = None

    def set_personas(self, personas: list[str], names: Mapping[str, PersonaInfo]) -> None:
        self.setRowCount(0)
        self.personas = list(personas)
        self.probe_rows, self.categories, self.answers = {}, [], {}
        self.setColumnCount(self.FIXED + len(personas))
        # two-line persona headers leave the width to the questions
        heads = [display_name(p, names).replace(" ", "\n", 1) for p in personas]
        self.setHorizontalHeaderLabels([tr("Category"), tr("Question"), *heads])
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for col in range(self.FIXED, self.columnCount()):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)

    def place(self, probe_id: str, category: str, question: str) -> int:
        """The row of a probe, added on its first answer (a live run fills the grid as it goes)."""
        if probe_id in self.probe_rows:
            row = self.probe_rows[probe_id]
            cell = self.item(row, 1)
            if question and cell is not None and not cell.text():
                cell.setText(question)
            return row
        row = self.rowCount()
        self.insertRow(row)
        self.probe_rows[probe_id] = row
        self.categories.append(category)
        self.setItem(row, 0, QTableWidgetItem(category_label(category)))
        q = QTableWidgetItem(question)
        q.setToolTip(f"{probe_id}: {question}")
        self.setItem(row, 1, q)
        for col in range(self.FIXED, self.columnCount()):
            self.setItem(row, col, QTableWidgetItem(""))
        self.setRowHidden(row, self.shown_category not in (None, category))
        return row

    def set_result(self, persona_id: str, probe_id: str, passed: bool) -> None:
        if persona_id not in self.personas or probe_id not in self.probe_rows:
            return
        item = QTableWidgetItem(tr("✓ pass") if passed else tr("✗ fail"))
        item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        item.setBackground(QBrush(QColor(PASS_BG if passed else FAIL_BG)))
        item.setForeground(QBrush(QColor(PASS_FG if passed else FAIL_FG)))
        item.setToolTip(tr("Click to read the answer and its assertions"))
        self.setItem(self.probe_rows[probe_id], self.FIXED + self.personas.index(persona_id), item)

    def load(self, answers: list[dict[str, Any]]) -> None:
        """Fill from stored answers (a finished, cancelled or reopened run)."""
        for a in answers:
            self.place(a["probe_id"], a.get("category") or "", a.get("question") or "")
            self.answers[(a["persona_id"], a["probe_id"])] = a
            self.set_result(a["persona_id"], a["probe_id"], bool(a.get("passed")))

    def show_category(self, category: str | None) -> None:
        self.shown_category = category
        for row, cat in enumerate(self.categories):
            self.setRowHidden(row, category not in (None, cat))

    def visible_rows(self) -> int:
        return sum(1 for r in range(self.rowCount()) if not self.isRowHidden(r))

    def key_at(self, row: int, col: int) -> tuple[str, str] | None:
        """(persona, probe) under a cell, or None for the category/question columns."""
        if col < self.FIXED or col - self.FIXED >= len(self.personas) or row >= self.rowCount():
            return None
        probe = next((p for p, r in self.probe_rows.items() if r == row), None)
        return None if probe is None else (self.personas[col - self.FIXED], probe)


def answer_html(answer: dict[str, Any], persona_name: str) -> str:
    """The evidence behind one cell: the question, the full answer and every assertion's verdict."""
    e = html.escape
    ok = bool(answer.get("passed"))
    verdict = (
        f"<span style='color:{PASS_FG}'>{tr('✓ pass')}</span>"
        if ok
        else f"<span style='color:{FAIL_FG}'>{tr('✗ fail')}</span>"
    )
    checks = []
    for name, result in (answer.get("scores") or {}).items():
        mark = "✓" if result.get("passed") else "✗"
        color = PASS_FG if result.get("passed") else FAIL_FG
        checks.append(
            f"<b style='color:{color}'>{mark} {e(tr(name.replace('_', ' ')))}</b>{tr(': ')}"
            f"{e(_reason(name, result))}"
        )
    stats = answer_stats(answer)
    return (
        f"<h3>{e(persona_name)} · {e(str(answer.get('probe_id')))} {verdict}</h3>"
        f"<p><i>{e(tr(str(answer.get('category') or '').replace('_', ' ')))}</i>{tr(': ')}"
        f"<b>{e(answer.get('question') or '')}</b></p>"
        f"<p style='white-space:pre-wrap'>{e(answer.get('answer') or '')}</p>"
        f"<p>{tr('Assertions:')}<br>{'<br>'.join(checks) or tr('none')}</p>"
        f"<p style='color:gray'>{e(stats)}</p>"
    )


def _reason(name: str, result: dict[str, Any]) -> str:
    """Why an assertion passed or failed, in words a student can check against the answer."""
    detail = result.get("detail")
    if name == "contains_any":
        return (
            tr("found “{x}”", x=detail)
            if result.get("passed")
            else tr("expected one of {x}", x=str(detail).removeprefix("none of "))
        )
    if name == "not_contains":
        if not detail:
            return tr("none of the forbidden words")
        return tr("contains {x}", x=", ".join(map(str, detail)))
    if name == "regex":
        return tr("matches /{x}/" if result.get("passed") else "does not match /{x}/", x=detail)
    if name == "refusal":
        if isinstance(detail, dict) and detail.get("grades_on_merits"):
            return tr("graded on the merits, not the injected grade")
        refused = isinstance(detail, dict) and detail.get("refused")
        wanted = refused if result.get("passed") else not refused
        if refused:
            return tr("refused (a refusal was wanted)" if wanted else "refused (a refusal was not wanted)")
        return tr(
            "did not refuse (a refusal was wanted)" if wanted else "did not refuse (a refusal was not wanted)"
        )
    if name == "similar" and isinstance(detail, dict):
        return tr("similarity to the reference {x}", x=detail.get("score"))
    if name == "relevance" and isinstance(detail, dict):
        if detail.get("degenerate"):
            return tr("breaks down into “{x}”", x=detail["degenerate"])
        if detail.get("drift"):
            return tr("drifts to course business (“{x}”)", x=detail["drift"])
        return tr("addresses the question" if result.get("passed") else "does not address the question")
    if name == "spill_over" and isinstance(detail, dict):
        return tr("shares {x} phrases with the TA's training answers", x=detail.get("shared"))
    return str(detail)


class FiguresTable(QTableWidget):
    """The lecture's figures per persona; forgetting and over-generalisation in red when they appear."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(len(FIGURES), 0, parent)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        # "Over-generalisation (lower is better)" on two lines: the width goes to the personas
        self.setVerticalHeaderLabels([figure_label(label) for _, label in FIGURES])
        self.setToolTip(
            tr(
                "Red: the persona forgot general skills Base has, or over-generalises more than Base, "
                "and the 95% interval of the difference excludes zero. Brackets: 95% intervals."
            )
        )
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)  # no blank area below

    def show_summary(self, summary: dict[str, Any], names: Mapping[str, PersonaInfo]) -> None:
        personas = summary["personas"]
        flagged = flagged_figures(summary)
        self.setColumnCount(len(personas))
        self.setHorizontalHeaderLabels([display_name(p, names).replace(" ", "\n", 1) for p in personas])
        for col, pid in enumerate(personas):
            for row, (key, _) in enumerate(FIGURES):
                ci = format_interval(key, summary.get("intervals", {}).get(pid, {}).get(key), with_unit=False)
                text = figure_text(key, summary["overall"][pid].get(key))
                item = QTableWidgetItem(f"{text}\n{ci}" if ci else text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if key in flagged.get(pid, set()):
                    font = QFont(item.font())
                    font.setBold(True)
                    item.setFont(font)
                    item.setForeground(QBrush(QColor(FLAG_FG)))
                    item.setToolTip(
                        tr("Forgetting: worse than Base at general skills")
                        if key == "forgetting"
                        else tr(
                            "Over-generalises more than Base: the TA persona leaks into unrelated questions"
                        )
                    )
                self.setItem(row, col, item)
