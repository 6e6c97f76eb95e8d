"""The main window's model-editing behaviour: the edit subprocess and the before/after answers.

Kept apart from app.py as train_controller.py is: the Edit tab asks for an edit,
this checks it (one line per mistake, before any process starts), runs it in
an EditProcess, reloads the personas when it is saved so ``edit:NAME`` shows
in Compare and Probes at once, then asks the edited persona the same prompt.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Slot

from desktop.i18n import tr
from engine import paths
from engine.errors import TalabError
from engine.lab import LabConfig, LabInfo

if TYPE_CHECKING:
    from PySide6.QtWidgets import QLabel, QMainWindow

    from desktop.job_process import EditProcess
    from desktop.views.edit import EditView
    from desktop.workers import LabWorker

    _Window = QMainWindow
else:
    _Window = object


def edit_spec(model_path: str, request: dict[str, str]) -> Any:
    """The spec for the Edit tab's request, with every check that needs no torch."""
    from engine.edit.registry import refuse_overwriting_other_adapters
    from engine.edit.spec import EditSpec, check_architecture, check_name
    from engine.models import validate_model

    check_name(request["name"])
    spec = EditSpec(
        model_path=model_path,
        out_path=str(paths.adapters_dir() / f"{request['name']}.gguf"),
        prompt=request["prompt"],
        subject=request["subject"],
        target=request["target"],
    )
    spec.check()
    info = validate_model(Path(model_path))
    check_architecture(info.architecture, info.path.name)
    refuse_overwriting_other_adapters(Path(spec.out_path))
    return spec


class EditHost(_Window):
    config: LabConfig
    info: LabInfo | None
    worker: LabWorker
    editor: EditProcess
    edit_view: EditView
    banner: QLabel
    _requests: int

    def _on_failed(self, message: str) -> None:
        raise NotImplementedError

    def _connect_editing(self) -> None:
        self._requests = 0
        ed, view = self.editor, self.edit_view
        ed.report.connect(view.on_event)
        ed.finished.connect(self._on_edited)
        ed.failed.connect(self._on_edit_failed)
        ed.cancelled.connect(self._on_edit_cancelled)
        view.compute.connect(self._start_edit)
        view.cancel.connect(ed.cancel)
        view.ask.connect(self._ask_completion)
        view.changed.connect(self._reload_personas)
        # to the view, a QObject: a slot of this mixin would run on the worker's thread
        self.worker.completed.connect(view.on_completed)

    @Slot(str, str)
    def _ask_completion(self, text: str, persona: str) -> None:
        self._requests += 1
        self.worker.complete_requested.emit(self._requests, text, persona)

    @Slot(dict)
    def _start_edit(self, request: dict[str, str]) -> None:
        if self.info is None:
            self._on_failed(tr("Load a model before editing it"))
            return
        try:
            spec = edit_spec(self.info.model_path, request)
        except TalabError as exc:
            self.edit_view.status.setText(tr("Fix the edit first: {error}", error=exc))
            return
        self.banner.hide()
        self.edit_view.set_running(True)
        self.editor.start(spec)
        self.worker.threads_requested.emit(1)  # leave a core to the editor, as for training

    @Slot(dict)
    def _on_edited(self, done: dict[str, Any]) -> None:
        self.worker.threads_requested.emit(0)
        self.edit_view.set_running(False)
        self.edit_view.show_done(done)
        self._reload_personas()  # queued before the question: the edit:NAME persona exists by then
        self._ask_completion(str(done["request"]["prompt"]), f"edit:{done['name']}")

    @Slot(str)
    def _on_edit_failed(self, message: str) -> None:
        self.worker.threads_requested.emit(0)
        self.edit_view.set_running(False)
        self.edit_view.status.setText(tr("The edit did not finish; nothing was written."))
        self._on_failed(message)

    @Slot()
    def _on_edit_cancelled(self) -> None:
        self.worker.threads_requested.emit(0)
        self.edit_view.set_running(False)
        self.edit_view.status.setText(tr("Cancelled. Nothing was written."))

    @Slot()
    def _reload_personas(self) -> None:
        self.worker.load_requested.emit(self.config)
