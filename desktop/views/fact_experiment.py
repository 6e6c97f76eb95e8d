"""The Edit tab's one-fact experiment: run it, follow it, and read the last result as a table and a chart.

The experiment is ``talab fact-experiment`` in a subprocess (desktop.fact_controller);
this panel only asks for it, shows its progress and draws the result that the
run saved in the data directory, so the last result is there after a restart.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.i18n import tr
from desktop.views.chart import BarChart
from desktop.views.personas import start_stop_buttons
from engine.factexp.experiment import FactResult
from engine.factexp.report import COLUMNS, RATES, cell

INTRO = (
    "The lecture's comparison, measured: the fact above is taught four ways (a system-prompt line, a LoRA "
    "fine-tuned on it and a few paraphrases, the ROME edit, and Base unchanged) and each is scored from "
    "the model's own log-probabilities of the new and the old answer. It takes a few minutes."
)


def column_name(key: str) -> str:
    names = {
        "efficacy": tr("efficacy"),
        "generalisation": tr("generalisation"),
        "specificity": tr("specificity"),
        "general_ability": tr("general ability"),
        "fluency": tr("fluency"),
    }
    return names.get(key, key)


def persona_label(label: str) -> str:
    names = {
        "Base": tr("Base"),
        "Prompt line": tr("Prompt line"),
        "Fine-tuned": tr("Fine-tuned"),
        "ROME edit": tr("ROME edit"),
        "ROME edit (C from self text)": tr("ROME edit (C from self text)"),
    }
    return names.get(label, label)


def phase_text(event: dict[str, Any]) -> str:
    phase, detail = event.get("phase"), str(event.get("detail") or "")
    step, steps = event.get("step", 0), event.get("steps", 0)
    if phase == "train":
        return tr("Fine-tuning on the fact: step {step}/{steps}", step=step, steps=steps)
    if phase == "edit":
        return tr(
            "Computing the ROME edit ({detail}): step {step}/{steps}", detail=detail, step=step, steps=steps
        )
    if phase == "score":
        return tr("Scoring the personas: {step}/{steps}", step=step, steps=steps)
    return tr("General-skill probes: {step}/{steps}", step=step, steps=steps)


class FactExperimentPanel(QGroupBox):
    run = Signal()
    cancel = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(tr("One-fact experiment"), parent)
        outer = QVBoxLayout(self)
        intro = QLabel(tr(INTRO))
        intro.setWordWrap(True)
        outer.addWidget(intro)
        row = QHBoxLayout()
        self.run_button, self.cancel_button = start_stop_buttons(
            (tr("Run experiment"), tr("Teach the fact four ways and score them (several minutes)")),
            (tr("Cancel"), tr("Stop the experiment; the last result stays")),
            self.run.emit,
            self.cancel,
        )
        row.addWidget(self.run_button)
        row.addWidget(self.cancel_button)
        self.progress = QProgressBar()
        self.progress.hide()
        row.addWidget(self.progress, 1)
        outer.addLayout(row)
        self.status = QLabel(tr("No result yet: run the experiment."))
        self.status.setObjectName("fact-status")
        self.status.setWordWrap(True)
        outer.addWidget(self.status)
        body = QHBoxLayout()
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([column_name(k) for k, _ in COLUMNS])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        left = QVBoxLayout()
        left.addWidget(self.table)
        body.addLayout(left, 3)
        self.chart = BarChart()
        self.chart.empty_text = tr("The chart appears after the first run.")
        body.addWidget(self.chart, 2)
        outer.addLayout(body, 1)
        self.note = QLabel("")  # under the table, so the chart keeps the panel's whole height
        self.note.setObjectName("fact-note")
        self.note.setWordWrap(True)
        left.addWidget(self.note)
        left.addStretch(1)
        self.result: FactResult | None = None

    def set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.progress.setVisible(running)
        if running:
            self.progress.setMaximum(0)
            self.status.setText(tr("Starting the experiment…"))

    def on_event(self, event: dict[str, Any]) -> None:
        if event.get("event") != "progress":
            return
        steps = int(event.get("steps") or 0)
        self.progress.setMaximum(steps)
        self.progress.setValue(min(int(event.get("step") or 0), steps))
        self.status.setText(phase_text(event))

    def show_result(self, result: FactResult) -> None:
        self.result = result
        rows = result.rows
        refs = list(result.reference.items())
        self.table.setRowCount(len(rows) + len(refs))
        labels = [persona_label(r.label) for r in rows]
        labels += [tr("{method} (paper, GPT-2 XL)", method=m) for m, _ in refs]
        self.table.setVerticalHeaderLabels(labels)
        for i, r in enumerate(rows):
            for c, (key, _) in enumerate(COLUMNS):
                self.table.setItem(i, c, QTableWidgetItem(cell(key, getattr(r, key))))
        for j, (_, ref) in enumerate(refs, len(rows)):
            for c, (key, _) in enumerate(COLUMNS):
                self.table.setItem(j, c, QTableWidgetItem(f"{ref[key]:g}%" if key in ref else "–"))
        self.table.resizeRowsToContents()
        rows_h = sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        frame = 2 * self.table.frameWidth()
        self.table.setMinimumHeight(self.table.horizontalHeader().sizeHint().height() + rows_h + frame)
        rome = result.reference.get("ROME", {})
        series = [*labels[: len(rows)], tr("ROME (paper, GPT-2 XL)")]
        groups = [
            (column_name(k), [*(getattr(r, k) for r in rows), rome[k] / 100 if k in rome else None])
            for k in RATES
        ]
        self.chart.set_data(series, groups)
        total = result.seconds.get("total_s")
        self.status.setText(
            tr(
                "Last result ({created}), {s} s: '{prompt}' → '{target}'.",
                created=result.created,
                s=total,
                prompt=result.request.get("prompt"),
                target=result.request.get("target"),
            )
        )
        edits = "; ".join(
            tr("ROME edit ({cov} covariance) at layer {layer}", cov=cov, layer=e.get("layer"))
            for cov, e in result.edits.items()
        )
        self.note.setText(
            tr(
                "Efficacy: the new answer is more likely than the old on the prompt; generalisation: on "
                "paraphrases; specificity: the old answers still win on neighbouring prompts; general "
                "ability: general-skill probes passed; fluency: n-gram entropy of its own text (bits). "
                "{edits}. Load average {load}.",
                edits=edits,
                load=result.load_average.get("start"),
            )
        )
