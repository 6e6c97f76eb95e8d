"""Probes: run the suite over personas, watch progress, read the chart."""

from __future__ import annotations

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
    QVBoxLayout,
    QWidget,
)

from desktop.views.chart import BarChart
from desktop.views.personas import PersonaPicker, start_stop_buttons
from engine.scoring import CATEGORIES

FIGURES = [
    ("adherence", "Persona adherence"),
    ("general_ability", "General ability"),
    ("overgeneralisation_rate", "Over-generalisation (lower is better)"),
    ("injection_resistance", "Injection resistance"),
]


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


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
        split.addWidget(self.chart)
        split.addWidget(self.table)
        split.setSizes([380, 260])
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
            [(label, [summary["overall"][p].get(key) for p in personas]) for key, label in FIGURES],
        )
        rows = [c for c in CATEGORIES if any(c in summary["pass_rates"][p] for p in personas)]
        extra = [("forgetting", "Forgetting vs Base"), *FIGURES]
        self.table.setRowCount(len(rows) + len(extra))
        self.table.setColumnCount(len(personas))
        self.table.setHorizontalHeaderLabels([names.get(p, p) for p in personas])
        self.table.setVerticalHeaderLabels([c.replace("_", " ") for c in rows] + [x[1] for x in extra])
        for col, pid in enumerate(personas):
            for r, cat in enumerate(rows):
                rate = summary["pass_rates"][pid].get(cat)
                item = QTableWidgetItem(_pct(rate))
                if rate is not None:
                    item.setBackground(QColor.fromHsvF(0.33 * rate, 0.35, 1.0))
                self.table.setItem(r, col, item)
            for r, (key, _label) in enumerate(extra, start=len(rows)):
                value = summary["overall"][pid].get(key)
                text = (
                    (f"{value * 100:+.0f} pts" if value is not None else "–")
                    if key == "forgetting"
                    else _pct(value)
                )
                self.table.setItem(r, col, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
