"""Probes: run the suite over personas, watch progress, read the chart."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.views.chart import BarChart
from desktop.views.personas import PersonaPicker, start_stop_buttons
from engine.errors import TalabError
from engine.scoring import CATEGORIES, CHART_FIGURES, FIGURES, format_figure, pct
from engine.store import open_store


class ProbesView(QWidget):
    run = Signal(list, dict)
    cancel = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        self.picker = PersonaPicker()
        outer.addWidget(self.picker)

        row = QHBoxLayout()
        row.addWidget(QLabel("Category:"))
        self.category = QComboBox()
        self.category.addItem("All categories", None)
        for cat in CATEGORIES:
            self.category.addItem(cat.replace("_", " "), cat)
        row.addWidget(self.category)
        row.addWidget(QLabel("Probes per persona:"))
        self.limit = QSpinBox()
        self.limit.setRange(0, 999)
        self.limit.setSpecialValueText("all")
        row.addWidget(self.limit)
        row.addStretch(1)
        self.run_button, self.cancel_button = start_stop_buttons(
            ("Run probes", "Run the probe suite (Ctrl+R)"),
            ("Cancel", "Stop after the current token; finished answers are kept (Esc)"),
            self._submit,
            self.cancel,
        )
        row.addWidget(self.run_button)
        row.addWidget(self.cancel_button)
        outer.addLayout(row)

        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m")
        self.progress.setValue(0)
        self.progress.hide()  # shown once there is progress to show
        self.status = QLabel("No probe run yet. Choose personas and press Run probes (Ctrl+R).")
        self.status.setObjectName("probe-status")
        outer.addWidget(self.progress)
        outer.addWidget(self.status)

        split = QSplitter(Qt.Orientation.Vertical)
        self.chart = BarChart()
        self.chart.empty_text = "Scores appear here after a run"
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setToolTip("Click a pass rate to read the answers behind it")
        self.table.cellClicked.connect(self.show_answers)
        self.details = QTextBrowser()
        self.details.setPlaceholderText("Click a category's pass rate to read the answers behind it.")
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.table)
        lower.addWidget(self.details)
        lower.setSizes([760, 480])
        split.addWidget(self.chart)
        split.addWidget(lower)
        split.setSizes([360, 280])
        self._run_id: int | None = None
        self._personas: list[str] = []
        self._categories: list[str] = []
        outer.addWidget(split, 1)

        QShortcut(QKeySequence("Ctrl+R"), self, self._submit)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.cancel.emit)

    def _submit(self) -> None:
        personas = self.picker.selected()
        if not personas or not self.run_button.isEnabled():
            self.status.setText("Select at least one persona first.")
            return
        options = {"category": self.category.currentData(), "limit": self.limit.value() or None}
        self.progress.setValue(0)
        self.progress.show()
        self.status.setText("Starting…")
        self.run.emit(personas, options)

    def set_busy(self, busy: bool) -> None:
        self.run_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)

    def on_progress(self, done: int, total: int, label: str) -> None:
        self.progress.setMaximum(total)
        self.progress.setValue(done)
        self.status.setText(label)

    def show_result(self, result: dict[str, Any], names: dict[str, str]) -> None:
        summary = result["summary"]
        personas = summary["personas"]
        state = "finished" if result["status"] == "done" else "cancelled (finished answers kept)"
        self.status.setText(f"Run {result['run_id']} {state}.")
        self.chart.set_data(
            [names.get(p, p) for p in personas],
            [(label, [summary["overall"][p].get(key) for p in personas]) for key, label in CHART_FIGURES],
        )
        rows = [c for c in CATEGORIES if any(c in summary["pass_rates"][p] for p in personas)]
        self._run_id, self._personas, self._categories = result["run_id"], list(personas), rows
        self.details.clear()
        extra = FIGURES
        self.table.setRowCount(len(rows) + len(extra))
        self.table.setColumnCount(len(personas))
        self.table.setHorizontalHeaderLabels([names.get(p, p) for p in personas])
        self.table.setVerticalHeaderLabels([c.replace("_", " ") for c in rows] + [x[1] for x in extra])
        for col, pid in enumerate(personas):
            for r, cat in enumerate(rows):
                rate = summary["pass_rates"][pid].get(cat)
                item = QTableWidgetItem(pct(rate))
                if rate is not None:
                    item.setBackground(QColor.fromHsvF(0.33 * rate, 0.35, 1.0))
                self.table.setItem(r, col, item)
            for r, (key, _label) in enumerate(extra, start=len(rows)):
                text = format_figure(key, summary["overall"][pid].get(key))
                self.table.setItem(r, col, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()

    def show_answers(self, row: int, col: int) -> None:
        """The evidence behind a number: each question, the persona's answer and its verdict."""
        if self._run_id is None or row >= len(self._categories) or col >= len(self._personas):
            return
        persona, category = self._personas[col], self._categories[row]
        try:
            store = open_store()
            answers = [a for a in store.answers(self._run_id)
                       if a["persona_id"] == persona and a["category"] == category]  # fmt: skip
            store.close()
        except TalabError as exc:
            self.details.setPlainText(str(exc))
            return
        e = html.escape
        parts = [f"<h3>{e(persona)} · {e(category.replace('_', ' '))}</h3>"]
        for a in answers:
            mark = (
                "<span style='color:#2a7a2a'>✓ pass</span>"
                if a.get("passed")
                else "<span style='color:#a12'>✗ fail</span>"
            )
            parts.append(f"<p><b>{e(a.get('question') or '')}</b> {mark}<br>{e(a.get('answer') or '')}</p>")
        self.details.setHtml("".join(parts))
