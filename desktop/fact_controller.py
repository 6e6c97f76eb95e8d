"""The main window's one-fact experiment: the CLI's command in a subprocess, its result in the Edit tab.

As edit_controller.py does for one edit: the fact comes from the Edit tab's
form, is checked before anything starts (one line per mistake), and runs as
``python -m engine.factexp.worker`` (``talab fact-experiment`` with JSON-line
progress) under a JobProcess with Cancel. When it is done the saved result is
read back and drawn, and the personas are reloaded so its fine-tuned adapter and
edit show up in Compare and Probes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Slot

from desktop.i18n import tr
from engine.errors import TalabError
from engine.lab import LabConfig, LabInfo

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMainWindow

    from desktop.job_process import JobProcess
    from desktop.views.edit import EditView
    from desktop.workers import LabWorker

    _Window = QMainWindow
else:
    _Window = object


def fact_spec(model_path: str, request: dict[str, str]) -> Any:
    from engine.factexp.spec import FactSpec

    spec = FactSpec(
        prompt=request["prompt"], subject=request["subject"], target=request["target"], model=model_path
    )
    spec.check()
    return spec


class FactHost(_Window):
    config: LabConfig
    info: LabInfo | None
    worker: LabWorker
    fact_job: JobProcess
    edit_view: EditView

    def _on_failed(self, message: str) -> None:
        raise NotImplementedError

    def _connect_fact_experiment(self) -> None:
        from engine.factexp.experiment import load_last

        job, panel = self.fact_job, self.edit_view.fact
        job.report.connect(panel.on_event)
        job.finished.connect(self._on_fact_done)
        job.failed.connect(self._on_fact_failed)
        job.cancelled.connect(self._on_fact_cancelled)
        panel.run.connect(self._start_fact)
        panel.cancel.connect(job.cancel)
        last = load_last()
        if last is not None:
            panel.show_result(last)

    @Slot()
    def _start_fact(self) -> None:
        from engine.factexp.spec import results_path

        panel = self.edit_view.fact
        if self.info is None:
            self._on_failed(tr("Load a model before editing it"))
            return
        try:
            spec = fact_spec(self.info.model_path, self.edit_view.request())
        except TalabError as exc:
            panel.status.setText(tr("Fix the fact first: {error}", error=exc))
            return
        panel.set_running(True)
        self.fact_job.start_job(spec.to_json(), results_path())
        self.worker.threads_requested.emit(1)  # leave a core to the experiment, as for training

    @Slot(dict)
    def _on_fact_done(self, _done: dict[str, Any]) -> None:
        from engine.factexp.experiment import load_last

        self.worker.threads_requested.emit(0)
        panel = self.edit_view.fact
        panel.set_running(False)
        result = load_last()
        if result is None:
            panel.status.setText(tr("The experiment finished but its result could not be read."))
            return
        panel.show_result(result)
        self.edit_view.refresh()
        self.worker.load_requested.emit(self.config)  # its adapters become personas in Compare and Probes

    @Slot(str)
    def _on_fact_failed(self, message: str) -> None:
        self.worker.threads_requested.emit(0)
        self.edit_view.fact.set_running(False)
        self.edit_view.fact.status.setText(tr("The experiment did not finish: {error}", error=message))

    @Slot()
    def _on_fact_cancelled(self) -> None:
        self.worker.threads_requested.emit(0)
        self.edit_view.fact.set_running(False)
        self.edit_view.fact.status.setText(tr("Cancelled. The last result is unchanged."))
