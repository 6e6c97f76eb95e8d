"""The main window's fine-tuning behaviour: the first-launch offer and the training subprocess's outcome.

Kept apart from app.py, which is about assembling the window: this is the one
place that knows the adapter's name, where it goes and what the window does
while it trains.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Slot
from PySide6.QtWidgets import QLabel, QTabWidget

from desktop.i18n import tr
from engine.adapters import adapter_status
from engine.finetune.events import Done
from engine.finetune.registry import read_manifest
from engine.finetune.train import TrainSpec
from engine.kb import LANGUAGES, kb_path
from engine.lab import LabConfig, LabInfo
from engine.paths import default_adapter_path

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMainWindow

    from desktop.job_process import TrainingProcess
    from desktop.views.first_run import TrainOffer
    from desktop.views.train import TrainView
    from desktop.workers import LabWorker

    _Window = QMainWindow
else:
    _Window = object


def training_kbs(current_kb: str, lang: str) -> list[str]:
    """The KB in use plus the shipped KB of every other language: the identity is taught in both."""
    return [current_kb if other == lang else str(kb_path(lang=other)) for other in LANGUAGES]


class TrainingHost(_Window):
    settings: QSettings
    config: LabConfig
    info: LabInfo | None
    worker: LabWorker
    trainer: TrainingProcess
    train: TrainView
    offer: TrainOffer
    tabs: QTabWidget
    banner: QLabel

    def _on_failed(self, message: str) -> None:
        raise NotImplementedError

    def show_training_state(self, info: LabInfo) -> None:
        """After a load: the Train tab shows the current adapter and the KBs it would train on."""
        adapter = default_adapter_path()
        manifest = read_manifest(adapter) if adapter.exists() else None
        self.train.show_adapter(adapter_status(adapter), (manifest or {}).get("loss_curve"))
        self.train.set_kbs(training_kbs(info.kb, self.config.lang))
        self._maybe_offer_training()

    def _maybe_offer_training(self) -> None:
        """First launch: no adapter yet, so offer to train one (once; "Not now" is remembered)."""
        missing = not default_adapter_path().exists()
        dismissed = str(self.settings.value("train_offer_dismissed", "false")) == "true"
        self.offer.setVisible(missing and not dismissed and not self.trainer.running())

    @Slot()
    def _train_from_offer(self) -> None:
        self.offer.hide()
        self.tabs.setCurrentWidget(self.train)
        self.train.train_button.click()

    @Slot()
    def _dismiss_offer(self) -> None:
        self.offer.hide()
        self.settings.setValue("train_offer_dismissed", "true")

    @Slot(dict)
    def _start_training(self, options: dict[str, Any]) -> None:
        if self.info is None:
            self._on_failed(tr("Load a model before training"))
            return
        spec = TrainSpec(model_path=self.info.model_path, out_path=str(default_adapter_path()), **options)
        self.banner.hide()
        self.train.set_running(True)
        self.trainer.start(spec)
        self.worker.threads_requested.emit(1)  # leave a core to the trainer: both run faster

    @Slot(dict)
    def _on_trained(self, done: Done) -> None:
        self.worker.threads_requested.emit(0)
        self.train.set_running(False)
        self.train.show_done(done)
        self.worker.load_requested.emit(self.config)  # personas re-check their adapters

    @Slot(str)
    def _on_train_failed(self, message: str) -> None:
        self.worker.threads_requested.emit(0)
        self.train.set_running(False)
        self.train.status.setText(tr("Training did not finish; any previous adapter is unchanged."))
        self._on_failed(message)

    @Slot()
    def _on_train_cancelled(self) -> None:
        self.worker.threads_requested.emit(0)
        self.train.set_running(False)
        self.train.status.setText(tr("Cancelled. Any previous adapter is unchanged."))
