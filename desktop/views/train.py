"""Train: fine-tune the TA adapter from the course KB, with progress and cancel."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.views.chart import LineChart
from desktop.views.personas import start_stop_buttons

INTRO = (
    "Fine-tuning changes the model's weights. TA Lab trains a LoRA adapter on questions and answers "
    "made from the course knowledge base (identity and course facts) on this CPU, in a separate "
    "process, and saves it as <b>xiaojin</b>: the Fine-tuned, Fine-tuned + prompt and Merged personas "
    "use it. Then run the probes and look for forgetting and over-generalisation."
)


class TrainView(QWidget):
    train = Signal(dict)
    cancel = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        outer.addWidget(intro)
        row = QHBoxLayout()
        row.addWidget(QLabel("Steps:"))
        self.steps = QSpinBox()
        self.steps.setRange(1, 500)
        self.steps.setValue(15)
        self.steps.setToolTip("About 8 s per step on 2 cores; 15 steps learn the identity")
        row.addWidget(self.steps)
        self.mix = QCheckBox("Mix in general questions (the lecture's counter-measure to forgetting)")
        row.addWidget(self.mix)
        row.addStretch(1)
        self.train_button, self.cancel_button = start_stop_buttons(
            ("Train adapter", "Start fine-tuning (Ctrl+T)"),
            ("Cancel", "Stop training; the previous adapter stays (Esc)"),
            self._submit,
            self.cancel,
        )
        row.addWidget(self.train_button)
        row.addWidget(self.cancel_button)
        outer.addLayout(row)
        self.progress = QProgressBar()
        self.progress.setFormat("step %v / %m")
        self.progress.hide()
        self.status = QLabel("Press Train adapter (Ctrl+T) to fine-tune; about 8 s per step here.")
        self.status.setObjectName("train-status")
        self.adapter = QLabel("")
        self.adapter.setWordWrap(True)
        outer.addWidget(self.progress)
        outer.addWidget(self.status)
        outer.addWidget(self.adapter)
        self.losses: list[float] = []
        self.chart = LineChart()
        self.chart.title = "Training loss"
        self.chart.empty_text = "The training loss appears here, step by step"
        outer.addWidget(self.chart, 1)
        QShortcut(QKeySequence("Ctrl+T"), self, self._submit)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.cancel.emit)

    def _submit(self) -> None:
        if self.train_button.isEnabled():
            self.train.emit({"steps": self.steps.value(), "mix_general": self.mix.isChecked()})

    def set_running(self, running: bool) -> None:
        self.train_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        if running:
            self.progress.setMaximum(self.steps.value())
            self.progress.setValue(0)
            self.progress.show()
            self.status.setText("Starting the training process…")
            self.losses = []
            self.chart.set_values([])

    def on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "start":
            self.status.setText(f"{event['pairs']} training examples from the knowledge base")
        elif kind == "loading":
            self.status.setText("Loading the model into torch…")
        elif kind == "step":
            self.progress.setMaximum(event["steps"])
            self.progress.setValue(event["step"])
            self.status.setText(f"Step {event['step']}/{event['steps']} · loss {event['loss']:.3f}")
            self.losses.append(float(event["loss"]))
            self.chart.set_values(self.losses)
        elif kind == "exporting":
            self.status.setText("Writing the GGUF adapter…")

    def show_adapter(self, text: str) -> None:
        self.adapter.setText(text)
