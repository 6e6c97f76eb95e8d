"""Adapter scale: probe one adapter persona at scales 0…1 and read the curve (``talab sweep`` in the window).

The sweep is an ordinary probe run over ``persona:0``, ``persona:0.2`` … on the worker thread,
so it is stored, resumable and exportable like any other run; the view only asks for it and
draws the newest one in the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.i18n import persona_name, tr
from desktop.views.personas import start_stop_buttons
from desktop.views.probe_grid import display_name
from desktop.views.sweep_chart import SweepChart
from engine.errors import TalabError
from engine.lab import PersonaInfo
from engine.store import open_store
from engine.sweep import SweepCurve, curve_of, latest_sweep, sweep_persona_ids, sweep_scales

QUESTION = (
    "Is there a scale that keeps the identity and loses little? Identity and course facts should rise "
    "with the scale while general ability holds and over-generalisation stays low. Bars: 95% intervals."
)


class SweepView(QWidget):
    run = Signal(list, dict)
    cancel = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.names: dict[str, PersonaInfo] = {}
        self.curve: SweepCurve | None = None
        self._asked: list[str] = []  # the persona ids of the sweep last started here
        outer = QVBoxLayout(self)
        intro = QLabel(tr(QUESTION))
        intro.setWordWrap(True)
        outer.addWidget(intro)
        row = QHBoxLayout()
        row.addWidget(QLabel(tr("Persona:")))
        self.persona = QComboBox()
        self.persona.setToolTip(tr("A persona with an adapter: the sweep changes its adapter's scale"))
        row.addWidget(self.persona)
        row.addWidget(QLabel(tr("Scales:")))
        self.points = QSpinBox()
        self.points.setRange(3, 11)  # a stored run reads as a sweep from three scales on
        self.points.setValue(6)
        self.points.setToolTip(tr("How many evenly spaced scales from 0 to 1 (6: 0, 0.2 … 1)"))
        row.addWidget(self.points)
        row.addWidget(QLabel(tr("Probes per category:")))
        self.limit = QSpinBox()
        self.limit.setRange(0, 99)
        self.limit.setValue(5)
        self.limit.setSpecialValueText(tr("all"))
        self.limit.setToolTip(tr("The first N probes of each category at each scale; all: the whole suite"))
        row.addWidget(self.limit)
        row.addStretch(1)
        self.run_button, self.cancel_button = start_stop_buttons(
            (tr("Run sweep"), tr("Probe the persona at each scale; the run is saved like any probe run")),
            (tr("Cancel"), tr("Stop after the current token; finished answers are kept (Esc)")),
            self._submit,
            self.cancel,
        )
        row.addWidget(self.run_button)
        row.addWidget(self.cancel_button)
        outer.addLayout(row)
        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m")
        self.progress.hide()
        outer.addWidget(self.progress)
        self.status = QLabel()
        self.status.setObjectName("sweep-status")
        self.status.setWordWrap(True)
        outer.addWidget(self.status)
        self.chart = SweepChart()
        self.chart.empty_text = tr(
            "No adapter-scale sweep yet. Choose a persona with an adapter and press Run sweep: "
            "it probes that persona at evenly spaced scales from 0 to 1 and draws the curve here."
        )
        outer.addWidget(self.chart, 1)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.cancel.emit)

    def set_personas(self, personas: Sequence[PersonaInfo]) -> None:
        """Only personas with an adapter can be swept; the Fine-tuned TA is the default."""
        self.names = {p.id: p for p in personas}
        current = self.persona.currentData() or "finetuned"
        self.persona.clear()
        for p in personas:
            if p.adapters and p.available and ":" not in p.id:
                self.persona.addItem(persona_name(p.base_name, p.name_scale), p.id)
        index = self.persona.findData(current)
        self.persona.setCurrentIndex(max(index, 0))
        can = self.persona.count() > 0
        self.run_button.setEnabled(can)
        if not can:
            self.status.setText(tr("No persona has a trained adapter yet: train one in the Train tab first."))

    def _submit(self) -> None:
        pid = self.persona.currentData()
        if not pid or not self.run_button.isEnabled():
            return
        ids = self._asked = sweep_persona_ids(str(pid), sweep_scales(self.points.value()))
        self.progress.setValue(0)
        self.progress.show()
        self.status.setText(tr("Starting…"))
        self.run.emit(ids, {"per_category": self.limit.value() or None})

    def set_busy(self, busy: bool) -> None:
        self.run_button.setEnabled(not busy and self.persona.count() > 0)
        self.cancel_button.setEnabled(busy)

    @Slot(dict)
    def on_progress(self, p: dict[str, Any]) -> None:
        self.progress.setMaximum(int(p["total"]))
        self.progress.setValue(int(p["done"]))
        name = display_name(p["persona_id"], self.names)
        self.status.setText(tr("{name}: {probe}", name=name, probe=p["probe_id"]))

    def show_result(self, result: dict[str, Any]) -> None:
        """The sweep the worker just finished (or cancelled: the scales it reached are drawn)."""
        self.progress.hide()
        status, summary = str(result.get("status") or ""), result.get("summary") or {}
        curve = curve_of(int(result["run_id"]), status, self._asked, summary)
        self._show(curve)

    def show_latest(self) -> None:
        """The newest sweep in the store, so the curve is there again after a restart."""
        try:
            store = open_store(read_only=True)
            try:
                curve = latest_sweep(store)
            finally:
                store.close()
        except TalabError as exc:
            self.status.setText(str(exc))
            return
        self._show(curve)

    def _show(self, curve: SweepCurve | None) -> None:
        self.curve = curve
        self.chart.set_curve(curve)
        if curve is None:
            untrained = self.persona.count() == 0
            self.status.setText(
                tr("No persona has a trained adapter yet: train one in the Train tab first.")
                if untrained
                else tr("No sweep run yet.")
            )
            return
        name = display_name(curve.persona, self.names)
        text = tr(
            "Run {run_id}: {name} at {n} scales from {lo:g} to {hi:g}.",
            run_id=curve.run_id,
            name=name,
            n=len(curve.scales),
            lo=min(curve.scales),
            hi=max(curve.scales),
        )
        if curve.status in ("cancelled", "interrupted"):
            text += " " + tr("The run stopped early: only the answers it has are drawn.")
        self.status.setText(text)
