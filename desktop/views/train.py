"""Train: preview and edit the fine-tuning data, set the hyperparameters, watch the loss fall.

The dataset is built from the course KB by the engine and shown as the JSONL
the trainer reads. A TA may edit it here; the edited copy is validated (line
numbers in the error) and saved to the data directory before training, so the
KB itself is never touched.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.i18n import tr
from desktop.views.chart import LineChart
from desktop.views.personas import start_stop_buttons
from engine import paths
from engine.adapters import AdapterStatus
from engine.errors import TalabError
from engine.finetune import events as ev
from engine.finetune.dataset import Example, build_examples, kind_counts, parse_jsonl, to_jsonl, write_jsonl
from engine.finetune.train import TrainSpec
from engine.kb import load_kb

INTRO = (
    "Fine-tuning changes the model's weights. TA Lab trains a LoRA adapter on the questions and answers "
    "below, made from the course knowledge base, on this CPU in a separate process, and saves it as "
    "<b>xiaojin</b>: the Fine-tuned, Fine-tuned + prompt and Merged personas use it. Then run the probes "
    "and look for forgetting and over-generalisation."
)


def _duration(seconds: float) -> str:
    s = round(seconds)
    return tr("{m} min {s} s", m=s // 60, s=f"{s % 60:02d}") if s >= 60 else tr("{s} s", s=s)


def kinds_text(kinds: dict[str, int]) -> str:
    """Examples per kind, "3 identity, 2 replay", with the kinds in the UI language."""
    return ", ".join(f"{n} {tr(kind)}" for kind, n in kinds.items())


def adapter_text(status: AdapterStatus) -> str:
    """What is trained, in the UI language."""
    if status.state == "missing":
        return tr(
            "No adapter at {path} yet: the fine-tuned personas stay unavailable until you train one.",
            path=status.path,
        )
    if status.state == "unusable":
        return tr("The adapter at {path} is unusable: {error}", path=status.path, error=status.error)
    if status.steps:
        return tr(
            "Current adapter: {path} (saved {when}, {steps} steps, final loss {loss})",
            path=status.path, when=status.saved, steps=status.steps, loss=status.final_loss,
        )  # fmt: skip
    return tr("Current adapter: {path} (saved {when})", path=status.path, when=status.saved)


def _spin(low: int, high: int, value: int, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(value)
    box.setToolTip(tip)
    return box


def _dspin(low: float, high: float, value: float, step: float, decimals: int, tip: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setValue(value)
    box.setToolTip(tip)
    return box


class TrainView(QWidget):
    train = Signal(dict)
    cancel = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        d = TrainSpec("", "")
        outer = QVBoxLayout(self)
        intro = QLabel(tr(INTRO))
        intro.setWordWrap(True)
        outer.addWidget(intro)
        split = QSplitter(Qt.Orientation.Horizontal)
        outer.addWidget(split, 1)

        data_box = QGroupBox(tr("Training data (JSONL, editable)"))
        data = QVBoxLayout(data_box)
        self.dataset = QPlainTextEdit()
        self.dataset.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)  # one example, whole
        self.dataset.setFont(QFont("monospace"))
        self.dataset.setPlaceholderText(tr("The examples built from the course KB appear here."))
        self.dataset.textChanged.connect(self._on_edit)
        data.addWidget(self.dataset, 1)
        row = QHBoxLayout()
        self.dataset_info = QLabel("")
        self.dataset_info.setWordWrap(True)
        row.addWidget(self.dataset_info, 1)
        self.rebuild = QPushButton(tr("Rebuild from KB"))
        self.rebuild.setToolTip(tr("Discard edits and regenerate the examples from the course KB"))
        self.rebuild.clicked.connect(self._rebuild)
        row.addWidget(self.rebuild)
        data.addLayout(row)
        split.addWidget(data_box)

        right = QWidget()
        side = QVBoxLayout(right)
        form_box = QGroupBox(tr("Hyperparameters"))
        form = QFormLayout(form_box)
        self.epochs = _spin(1, 50, d.epochs, tr("Passes over the data; 3 learn the identity (~2-3 min here)"))
        self.rank = _spin(1, 64, d.rank, tr("LoRA rank: the adapter's capacity"))
        self.alpha = _spin(1, 128, d.alpha, tr("LoRA alpha: the update is scaled by alpha / rank"))
        self.lr = _dspin(1e-5, 1e-1, d.lr, 5e-4, 4, tr("Learning rate"))
        replay_tip = tr(
            "Fraction of general examples answered by the base model itself, mixed in against "
            "forgetting (the lecture's counter-measure)"
        )
        self.replay = _dspin(0.0, 0.9, d.replay, 0.1, 2, replay_tip)
        self.seed = _spin(0, 2**31 - 1, d.seed, tr("Same seed, same data, same adapter"))
        rows: list[tuple[str, QWidget]] = [
            (tr("Epochs"), self.epochs), (tr("Rank"), self.rank), (tr("Alpha"), self.alpha),
            (tr("Learning rate"), self.lr), (tr("Replay fraction"), self.replay), (tr("Seed"), self.seed),
        ]  # fmt: skip
        for label, box in rows:
            form.addRow(label, box)
        side.addWidget(form_box)
        buttons = QHBoxLayout()
        self.train_button, self.cancel_button = start_stop_buttons(
            (tr("Train adapter"), tr("Start fine-tuning (Ctrl+T)")),
            (tr("Cancel"), tr("Stop training; the previous adapter stays (Esc)")),
            self._submit,
            self.cancel,
        )
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.cancel_button)
        side.addLayout(buttons)
        self.progress = QProgressBar()
        self.progress.setFormat(tr("step %v / %m"))
        self.progress.hide()
        side.addWidget(self.progress)
        self.status = QLabel(tr("Press Train adapter (Ctrl+T) to fine-tune."))
        self.status.setObjectName("train-status")
        self.status.setWordWrap(True)
        side.addWidget(self.status)
        self.adapter = QLabel("")
        self.adapter.setWordWrap(True)
        side.addWidget(self.adapter)
        self.chart = LineChart()
        self.chart.title = tr("Training loss")
        self.chart.empty_text = tr("The training loss appears here, step by step")
        side.addWidget(self.chart, 1)
        split.addWidget(right)
        split.setSizes([560, 440])
        self.losses: list[float] = []
        self.kb_paths: list[str] = []
        self._generated = ""
        QShortcut(QKeySequence("Ctrl+T"), self, self._submit)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.cancel.emit)

    # -- the dataset ---------------------------------------------------------
    def set_kbs(self, kb_paths: list[str]) -> None:
        """Show the examples these KBs make, unless the user is in the middle of an edit."""
        edited = self.dataset.toPlainText() != self._generated
        self.kb_paths = list(kb_paths)
        if not edited:
            self._rebuild()

    def _rebuild(self) -> None:
        try:
            examples = build_examples([load_kb(p) for p in self.kb_paths])
        except TalabError as exc:
            self._generated = ""
            self.dataset.setPlainText("")
            self.dataset_info.setText(tr("The knowledge base has an error: {error}", error=exc))
            return
        self._generated = to_jsonl(examples)
        self.dataset.setPlainText(self._generated)

    def _on_edit(self) -> None:
        text = self.dataset.toPlainText()
        if not text.strip():
            self.dataset_info.setText(tr("No examples: rebuild them from the KB."))
            return
        edited = text != self._generated
        try:
            examples = self._parse(text)
        except TalabError as exc:
            self.dataset_info.setText(f"<span style='color:#b00020'>{exc}</span>")
            return
        note = (
            tr(" · <b>edited</b>: training uses your copy") if edited else tr(" · built from the course KB")
        )
        kinds = kinds_text(kind_counts(examples))
        self.dataset_info.setText(tr("{n} examples ({kinds})", n=len(examples), kinds=kinds) + note)

    @staticmethod
    def _parse(text: str) -> list[Example]:
        return parse_jsonl(text, "training data")

    def _dataset_option(self) -> dict[str, Any]:
        """An edited dataset is saved to the data directory and trained on; else the KBs are."""
        text = self.dataset.toPlainText()
        if text == self._generated:
            return {"kb_paths": self.kb_paths, "dataset_path": None}
        examples = self._parse(text)
        out = write_jsonl(examples, paths.data_dir() / "datasets" / f"{paths.DEFAULT_ADAPTER}-edited.jsonl")
        return {"kb_paths": self.kb_paths, "dataset_path": str(out)}

    # -- running -------------------------------------------------------------
    def _submit(self) -> None:
        if not self.train_button.isEnabled():
            return
        try:
            data = self._dataset_option()
        except TalabError as exc:
            self.status.setText(tr("Fix the training data first: {error}", error=exc))
            return
        self.train.emit({
            **data, "epochs": self.epochs.value(), "rank": self.rank.value(), "alpha": self.alpha.value(),
            "lr": self.lr.value(), "replay": self.replay.value(), "seed": self.seed.value(),
        })  # fmt: skip

    def set_running(self, running: bool) -> None:
        self.train_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.rebuild.setEnabled(not running)
        self.dataset.setReadOnly(running)
        if running:
            self.progress.setMaximum(0)  # busy until the trainer says how many steps
            self.progress.setValue(0)
            self.progress.show()
            self.status.setText(tr("Starting the training process…"))
            self.losses = []
            self.chart.set_values([])
        else:
            self.progress.hide()

    def on_event(self, event: ev.TrainEvent) -> None:
        if isinstance(event, ev.Replay):
            self.progress.setMaximum(event.total)
            self.progress.setValue(event.done)
            self.status.setText(
                tr(
                    "The base model answers replay prompts ({done}/{total})…",
                    done=event.done,
                    total=event.total,
                )
            )
        elif isinstance(event, ev.Start):
            self.status.setText(
                tr(
                    "{n} examples ({kinds}), {steps} steps",
                    n=event.examples,
                    kinds=kinds_text(event.kinds),
                    steps=event.steps,
                )
            )
        elif isinstance(event, ev.Loading):
            self.status.setText(tr("Loading the model into torch…"))
        elif isinstance(event, ev.Step):
            self.progress.setMaximum(event.steps)
            self.progress.setValue(event.step)
            self.status.setText(
                tr(
                    "Step {step}/{steps} · epoch {epoch} · loss {loss} · about {eta} left · "
                    "peak memory {gb} GB",
                    step=event.step,
                    steps=event.steps,
                    epoch=event.epoch,
                    loss=f"{event.loss:.3f}",
                    eta=_duration(event.eta_s),
                    gb=f"{event.peak_rss_mb / 1024:.1f}",
                )
            )
            self.losses.append(float(event.loss))
            self.chart.set_values(self.losses)
        elif isinstance(event, ev.Exporting):
            self.status.setText(tr("Writing the GGUF adapter…"))

    def show_done(self, done: ev.Done) -> None:
        self.status.setText(
            tr(
                "Done in {duration}, final loss {loss}, peak memory {gb} GB. "
                "The fine-tuned personas are now available in Compare and Probes.",
                duration=_duration(done.seconds),
                loss=f"{done.final_loss:.3f}",
                gb=f"{done.peak_rss_mb / 1024:.1f}",
            )
        )

    def show_adapter(self, status: AdapterStatus, loss_curve: list[float] | None = None) -> None:
        """What is trained now; its recorded loss curve fills the chart until a new training starts."""
        self.adapter.setText(adapter_text(status))
        if loss_curve and not self.cancel_button.isEnabled():
            self.losses = [float(v) for v in loss_curve]
            self.chart.set_values(self.losses)
