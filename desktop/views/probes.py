"""Probes: run the suite over personas, watch the grid fill, read the chart and the figures."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.i18n import tr
from desktop.views.chart import BarChart
from desktop.views.personas import PersonaPicker, start_stop_buttons
from desktop.views.probe_grid import FiguresTable, ProbeGrid, answer_html, category_label, display_name
from engine.errors import TalabError
from engine.lab import PersonaInfo
from engine.runs import is_resumable, run_summary
from engine.scoring import CATEGORIES
from engine.store import open_store

# where the lecture's two effects show: a lower bar than Base here is forgetting / over-generalisation
LOOK_FOR = {
    "general_skill": "where forgetting shows",
    "open_opinion": "where over-generalisation shows",
    "overgeneralisation": "where over-generalisation shows",
}


def eta_text(seconds: float) -> str:
    """Rounded like a person would say it: a class wants "about 40 s", not "38.7 s"."""
    if seconds < 60:
        return tr("about {n} s left", n=max(5, round(seconds / 5) * 5))
    return tr("about {n} min left", n=round(seconds / 60))


def run_state(run_id: int, status: str) -> str:
    """Whole sentences per status: a translation cannot be glued from "Run 3" and "finished"."""
    if status == "done":
        return tr("Run {run_id} finished.", run_id=run_id)
    if status == "cancelled":
        return tr("Run {run_id} cancelled: finished answers kept, Resume asks the rest.", run_id=run_id)
    if status == "interrupted":
        return tr("Run {run_id} was interrupted: finished answers kept, Resume asks the rest.", run_id=run_id)
    return tr("Run {run_id} {status}.", run_id=run_id, status=tr(status))


class ProbesView(QWidget):
    run = Signal(list, dict)
    cancel = Signal()
    resume = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clock: Callable[[], float] = time.monotonic
        self.names: dict[str, PersonaInfo] = {}  # persona id → what the engine says of it
        self._run_id: int | None = None
        self._run_status = ""
        self._started = 0.0
        self._answered = 0
        outer = QVBoxLayout(self)
        self.picker = PersonaPicker()
        outer.addWidget(self.picker)

        row = QHBoxLayout()
        row.addWidget(QLabel(tr("Category:")))
        self.category = QComboBox()
        self.category.setToolTip(
            tr("Show only this category in the grid; Run probes then asks only it (Ctrl+F)")
        )
        self.category.addItem(tr("All categories"), None)
        for cat in CATEGORIES:
            self.category.addItem(category_label(cat), cat)
        self.category.currentIndexChanged.connect(self._on_category)
        row.addWidget(self.category)
        row.addWidget(QLabel(tr("Probes per persona:")))
        self.limit = QSpinBox()
        self.limit.setRange(0, 999)
        self.limit.setSpecialValueText(tr("all"))
        row.addWidget(self.limit)
        row.addStretch(1)
        self.run_button, self.cancel_button = start_stop_buttons(
            (tr("Run probes"), tr("Run the probe suite over the ticked personas (Ctrl+R)")),
            (tr("Cancel"), tr("Stop after the current token; finished answers are kept (Esc)")),
            self._submit,
            self.cancel,
        )
        self.resume_button = QPushButton(tr("Resume"))
        self.resume_button.setToolTip(tr("Finish this interrupted run: only the missing answers are asked"))
        self.resume_button.clicked.connect(self._resume)
        self.resume_button.hide()
        for b in (self.run_button, self.cancel_button, self.resume_button):
            row.addWidget(b)
        outer.addLayout(row)

        bar = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m")
        self.progress.setValue(0)
        self.eta = QLabel("")
        self.eta.setObjectName("probe-eta")
        self.eta.setMinimumWidth(self.eta.fontMetrics().horizontalAdvance(eta_text(55 * 60)))
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.eta)
        self.progress.hide()  # shown once there is progress to show
        self.status = QLabel(tr("No probe run yet. Choose personas and press Run probes (Ctrl+R)."))
        self.status.setObjectName("probe-status")
        outer.addLayout(bar)
        outer.addWidget(self.status)

        self.chart = BarChart()
        self.chart.empty_text = tr("Pass rates per category appear here after a run")
        self.figures = FiguresTable()
        self.grid = ProbeGrid()
        self.grid.cellClicked.connect(self.show_answer)
        self.details = QTextBrowser()
        self.details.setPlaceholderText(tr("Click a ✓ or ✗ cell to read the answer and its assertions."))
        self.top_split = QSplitter(Qt.Orientation.Horizontal)
        self.top_split.setObjectName("probes-top")
        self.top_split.addWidget(self.chart)
        self.top_split.addWidget(self.figures)
        self.top_split.setSizes([600, 680])
        self.bottom_split = QSplitter(Qt.Orientation.Horizontal)
        self.bottom_split.setObjectName("probes-bottom")
        self.bottom_split.addWidget(self.grid)
        self.bottom_split.addWidget(self.details)
        self.bottom_split.setSizes([900, 380])
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.setObjectName("probes-split")
        self.split.addWidget(self.top_split)
        self.split.addWidget(self.bottom_split)
        self.split.setSizes([300, 340])
        outer.addWidget(self.split, 1)

        QShortcut(QKeySequence("Ctrl+R"), self, self._submit)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.cancel.emit)
        QShortcut(QKeySequence("Ctrl+F"), self, self.category.setFocus)

    def splitters(self) -> list[QSplitter]:
        return [self.split, self.top_split, self.bottom_split]

    def _submit(self) -> None:
        personas = self.picker.selected()
        if not personas or not self.run_button.isEnabled():
            self.status.setText(tr("Select at least one persona first."))
            return
        options = {"category": self.category.currentData(), "limit": self.limit.value() or None}
        self.names.update(self.picker.infos)
        self.grid.set_personas(personas, self.names)
        self.details.clear()
        self._start(tr("Starting…"))
        self.run.emit(personas, options)

    def _resume(self) -> None:
        if self._run_id is None or not self.run_button.isEnabled():
            return
        self._start(tr("Resuming run {run_id}…", run_id=self._run_id))
        self.resume.emit(self._run_id)

    def open_run(self, run_id: int, names: Mapping[str, PersonaInfo], resume: bool = False) -> None:
        """A run picked in History: show what it has and, when asked, resume it to ask the rest."""
        self.show_result({"run_id": run_id}, names)
        if resume and self._run_id == run_id:
            self._resume()

    def _start(self, text: str) -> None:
        self._started, self._answered = self.clock(), 0
        self.progress.setValue(0)
        self.progress.show()
        self.eta.setText("")
        self.resume_button.hide()
        self.status.setText(text)

    def _on_category(self, _: int) -> None:
        self.grid.show_category(self.category.currentData())

    def set_busy(self, busy: bool) -> None:
        self.run_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.resume_button.setEnabled(not busy)

    @Slot(dict)
    def on_progress(self, p: dict[str, Any]) -> None:
        done, total = int(p["done"]), int(p["total"])
        self._run_id = int(p.get("run_id") or 0) or self._run_id
        self.progress.setMaximum(total)
        self.progress.setValue(done)
        name = display_name(p["persona_id"], self.names)
        if p.get("skipped"):
            self.status.setText(tr("{name}: {probe} (already answered)", name=name, probe=p["probe_id"]))
            return
        self._answered += 1
        mark = "" if p.get("passed") is None else (" ✓" if p["passed"] else " ✗")
        self.status.setText(tr("{name}: {probe}", name=name, probe=p["probe_id"]) + mark)
        if p.get("passed") is not None:
            self.grid.place(p["probe_id"], p.get("category", ""), p.get("question", ""))
            self.grid.set_result(p["persona_id"], p["probe_id"], bool(p["passed"]))
        per_answer = (self.clock() - self._started) / self._answered
        self.eta.setText(eta_text(per_answer * (total - done)) if done < total else "")

    def show_result(self, result: dict[str, Any], names: Mapping[str, PersonaInfo]) -> None:
        """A finished or cancelled run from the worker, or the last run on startup."""
        self.names = dict(names)
        self.show_run(int(result["run_id"]), result.get("status"), result.get("summary"))

    def show_run(self, run_id: int, status: str | None = None, summary: dict[str, Any] | None = None) -> None:
        """Any stored run: its grid, chart and figures; interrupted runs get a Resume button."""
        try:
            store = open_store(read_only=True)
            run = store.get_run(run_id)
            answers = store.answers(run_id)
            store.close()
        except TalabError as exc:
            self.status.setText(str(exc))
            return
        status = status or run.get("status") or ""
        personas = list(run.get("personas") or [])
        summary = summary or run_summary(run, answers)
        self._run_id, self._run_status = run_id, status
        self.progress.hide()
        self.eta.setText("")
        self.status.setText(run_state(run_id, status))
        self.resume_button.setVisible(is_resumable({**run, "status": status}))
        shown = summary["personas"] or personas
        groups = [c for c in CATEGORIES if any(c in summary["pass_rates"].get(p, {}) for p in shown)]
        self.chart.set_data(
            [display_name(p, self.names) for p in shown],
            [(category_label(c), [summary["pass_rates"][p].get(c) for p in shown]) for c in groups],
            {i: tr(LOOK_FOR[c]) for i, c in enumerate(groups) if c in LOOK_FOR},
            [[summary.get("rate_intervals", {}).get(p, {}).get(c) for p in shown] for c in groups],
        )
        self.figures.show_summary(summary, self.names)
        self.grid.set_personas(personas or shown, self.names)
        self.grid.load(answers)
        self.details.clear()

    @Slot(int, int)
    def show_answer(self, row: int, col: int) -> None:
        """The evidence behind a cell: the full answer and each assertion with its reason."""
        key = self.grid.key_at(row, col)
        if key is None:
            return
        answer = self.grid.answers.get(key)
        if answer is None and self._run_id is not None:
            try:  # a live cell: the answer is in the database already, not yet in the grid's cache
                store = open_store(read_only=True)
                found = [a for a in store.answers(self._run_id) if (a["persona_id"], a["probe_id"]) == key]
                store.close()
            except TalabError as exc:
                self.details.setPlainText(str(exc))
                return
            answer = found[0] if found else None
        if answer is None:
            self.details.setPlainText(tr("Not answered yet."))
            return
        self.details.setHtml(answer_html(answer, display_name(key[0], self.names)))
