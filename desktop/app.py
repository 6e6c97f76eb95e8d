"""The TA Lab main window: Compare, Probes, History, Train, Course KB, Edit and Adapter scale tabs
over one worker thread.

This module assembles the window; the settings, the fine-tuning, the model editing and the
last-resort error handling live in desktop/views/settings.py, desktop/train_controller.py,
desktop/edit_controller.py and desktop/errors.py.
"""

from __future__ import annotations

import gc
import sys
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, QTimer, Slot
from PySide6.QtGui import QAction, QActionGroup, QFont, QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QTabWidget, QVBoxLayout, QWidget

from desktop.edit_controller import EditHost
from desktop.errors import install_excepthook
from desktop.fact_controller import FactHost
from desktop.i18n import set_ui_language, tr
from desktop.job_process import EditProcess, JobProcess, TrainingProcess
from desktop.prefs import (
    apply_data_dir_pointer,
    as_bool,
    config_from_settings,
    default_lab,
    sampling_overrides,
)
from desktop.train_controller import TrainingHost
from desktop.views.compare import CompareView
from desktop.views.edit import EditView
from desktop.views.first_run import TrainOffer, tint
from desktop.views.history import HistoryView
from desktop.views.kb import KBView
from desktop.views.layout_state import restore_splitters, save_splitters, ticked
from desktop.views.persona_builder import PersonaBuilder
from desktop.views.probes import ProbesView
from desktop.views.settings import SettingsHost
from desktop.views.sweep import SweepView
from desktop.views.train import TrainView
from desktop.workers import LabFactory, LabWorker, WorkerThread
from engine import paths
from engine.errors import TalabError
from engine.factexp.worker import FACT_JOB
from engine.lab import LabConfig, LabInfo, PersonaInfo
from engine.store import open_store

DEFAULT_PERSONAS = ["base", "prompted", "finetuned", "finetuned-prompted", "merged"]


def settings() -> QSettings:
    """Stored beside the database so TALAB_HOME isolates everything (tests, classrooms)."""
    return QSettings(str(paths.data_dir() / "gui.ini"), QSettings.Format.IniFormat)


class MainWindow(SettingsHost, TrainingHost, EditHost, FactHost, QMainWindow):
    def __init__(
        self,
        factory: LabFactory | None = None,
        config: LabConfig | None = None,
        trainer_program: list[str] | None = None,
        editor_program: list[str] | None = None,
        fact_program: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings()
        set_ui_language(str(self.settings.value("ui_lang", "en")))  # before any widget: views call tr()
        self.setWindowTitle(tr("TA Lab — prompting vs fine-tuning"))
        self.config = config or config_from_settings(self.settings)
        self.presentation = False
        # the config to go back to if a new one fails to load: a bad model never leaves the class empty
        self._fallback: LabConfig | None = LabConfig(lang=self.config.lang)
        self._notice = ""
        self.names: dict[str, PersonaInfo] = {}  # persona id → what the engine says of it

        self.tabs = QTabWidget()
        self.compare = CompareView()
        self.probes = ProbesView()
        self.history = HistoryView()
        self.tabs.addTab(self.compare, tr("&Compare"))
        self.tabs.addTab(self.probes, tr("&Probes"))
        self.tabs.addTab(self.history, tr("&History"))
        self.train = TrainView()
        self.tabs.addTab(self.train, tr("&Train"))
        self.kb_view = KBView(self.config.lang)
        self.tabs.addTab(self.kb_view, tr("Course &KB"))
        self.edit_view = EditView()
        self.tabs.addTab(self.edit_view, tr("&Edit"))
        self.sweep = SweepView()
        self.tabs.addTab(self.sweep, tr("Adapter &scale"))
        self._probe_view: ProbesView | SweepView = self.probes  # the view whose probe run is running
        self.trainer = TrainingProcess(self, trainer_program)
        self.trainer.report.connect(self.train.on_event)
        self.trainer.finished.connect(self._on_trained)
        self.trainer.failed.connect(self._on_train_failed)
        self.trainer.cancelled.connect(self._on_train_cancelled)
        self.train.train.connect(self._start_training)
        self.train.cancel.connect(self.trainer.cancel)
        self.info: LabInfo | None = None
        self.tabs.currentChanged.connect(lambda i: self.history.refresh() if i == 2 else None)
        self.banner = QLabel()
        self.banner.setObjectName("error-banner")
        self.banner.setWordWrap(True)
        tint(self.banner, "#fde2e1", "#8a1c1c")
        self.banner.setMargin(8)
        self.banner.hide()
        central = QWidget()
        box = QVBoxLayout(central)
        box.addWidget(self.banner)
        self.offer = TrainOffer()
        self.offer.accepted.connect(self._train_from_offer)
        self.offer.dismissed.connect(self._dismiss_offer)
        box.addWidget(self.offer)
        box.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.model_label = QLabel(tr("Loading model…"))
        self.statusBar().addPermanentWidget(self.model_label)
        self._menus()

        self.worker = LabWorker(factory or default_lab)
        self.worker_thread = WorkerThread(self.worker)
        w = self.worker
        w.loaded.connect(self._on_loaded)
        w.failed.connect(self._on_failed)
        w.busy.connect(self._on_busy)
        w.answer_started.connect(self.compare.on_started)
        w.token.connect(self.compare.on_token)
        w.answer_done.connect(self.compare.on_done)
        # bound slots, not lambdas: PySide runs a lambda in the emitting (worker) thread
        w.ask_finished.connect(self._on_ask_finished)
        w.progress.connect(self._on_progress)
        w.probe_finished.connect(self._on_probe_finished)
        self.compare.ask.connect(self._ask)
        self.compare.stop.connect(self._cancel)
        self.probes.run.connect(self._run_probes)
        self.probes.cancel.connect(self._cancel)
        self.probes.resume.connect(self._resume)
        self.sweep.run.connect(self._run_sweep)
        self.sweep.cancel.connect(self._cancel)
        self.history.open_run.connect(self._open_run)
        self.compare.picker.changed.connect(self._save_personas)
        self.kb_view.count_tokens.connect(self._count_tokens)
        w.counted.connect(self.kb_view.on_counted)
        self.kb_view.saved.connect(self._on_kb_saved)
        self.editor = EditProcess(self, editor_program)
        self._connect_editing()
        self.fact_job = JobProcess(self, fact_program, FACT_JOB)
        self._connect_fact_experiment()

        # Python's collector may run on whichever thread allocates; if that is the worker it
        # can destroy Qt widgets off the GUI thread and crash. Collect here, on a timer.
        gc.disable()
        # What exists now (modules, widgets) lives as long as the window: keep it out of every
        # collection, so a full one scans only what came since (~40 ms -> ~0 ms measured here). A
        # full collection can fall between a click on Ask and the answer's start, while a prompt
        # warm-up keeps the worker busy without the window being busy.
        gc.freeze()
        self._gc_timer = QTimer(self)
        self._gc_timer.setInterval(2000)
        self._gc_timer.timeout.connect(self._collect)
        self._busy = False
        self._gc_timer.start()

        self._restore()
        w.load_requested.emit(self.config)

    def _menus(self) -> None:
        file = self.menuBar().addMenu(tr("&File"))  # File first, as on every desktop
        view = self.menuBar().addMenu(tr("&View"))
        language = view.addMenu(tr("Course &language"))
        group = QActionGroup(self)
        for code, label in (("en", "English"), ("zh-TW", "繁體中文")):
            act = QAction(label, self, checkable=True)
            act.setChecked(code == self.config.lang)
            act.setObjectName(f"lang-{code}")
            act.triggered.connect(lambda _=False, c=code: self.set_language(c))
            group.addAction(act)
            language.addAction(act)
        for text, keys, delta in (
            (tr("Larger text"), QKeySequence.StandardKey.ZoomIn, 2),
            (tr("Smaller text"), QKeySequence.StandardKey.ZoomOut, -2),
        ):
            act = QAction(text, self)
            act.setShortcut(keys)
            act.triggered.connect(lambda _=False, d=delta: self.set_font_size(self.font().pointSize() + d))
            view.addAction(act)
        self.presentation_action = QAction(tr("&Presentation mode"), self, checkable=True)
        self.presentation_action.setShortcut(QKeySequence("Ctrl+Shift+P"))
        self.presentation_action.toggled.connect(self.set_presentation)
        view.addAction(self.presentation_action)
        personas = self.menuBar().addMenu(tr("P&ersonas"))
        new_persona = QAction(tr("&New persona…"), self)
        new_persona.setObjectName("new-persona")
        new_persona.triggered.connect(self.open_persona_builder)
        personas.addAction(new_persona)
        settings_action = QAction(tr("&Settings…"), self)
        settings_action.setShortcut(QKeySequence("Ctrl+,"))
        settings_action.triggered.connect(self.open_settings)
        file.addAction(settings_action)
        quit_action = QAction(tr("&Quit"), self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file.addAction(quit_action)

    def open_persona_builder(self) -> PersonaBuilder:
        from engine.kb import load_kb

        try:
            kb = load_kb(self.config.kb, lang=self.config.lang)
        except TalabError:
            kb = None  # the builder still works; templates are then checked without the KB
        self.builder = PersonaBuilder(kb, self)
        self.builder.setFont(self.font())  # a dialog is a window: fonts do not propagate to it
        self.builder.saved.connect(self._on_persona_saved)
        self.builder.show()
        return self.builder

    @Slot(str)
    def _on_persona_saved(self, pid: str) -> None:
        """Ticked, then the Lab reloads the personas file: the new column is there at once."""
        self.settings.setValue("personas", [*self._checked(), pid])
        self.statusBar().showMessage(tr("Persona {pid} saved", pid=pid), 8000)
        self.model_label.setText(tr("Loading…"))
        self.worker.load_requested.emit(self.config)

    def set_language(self, lang: str) -> None:
        """Reload the KB and personas in another language: questions and prompt follow it."""
        if lang == self.config.lang:
            return
        self.config = replace(self.config, lang=lang)
        self.settings.setValue("lang", lang)
        self.kb_view.show_language(lang)  # the KB being taught is the one on screen; edits are kept
        self.model_label.setText(tr("Loading…"))
        self.worker.load_requested.emit(self.config)

    def set_font_size(self, size: int) -> None:
        size = max(8, min(32, size))
        font = QFont(self.font())
        font.setPointSize(size)
        self.setFont(font)
        self.settings.setValue("presentation_font_size" if self.presentation else "font_size", size)

    def _restore(self) -> None:
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 760)
        self.set_presentation(as_bool(self.settings.value("presentation", False)))
        self.compare.question.setText(str(self.settings.value("question", "")))
        self.compare.set_alpha(float(str(self.settings.value("merged_alpha", 0.5))))
        self.tabs.setCurrentIndex(int(str(self.settings.value("tab", 0))))
        restore_splitters(self.settings, [*self.probes.splitters(), *self.history.splitters()])

    @Slot()
    def _save_personas(self) -> None:
        self.settings.setValue("personas", ticked(self.compare.picker.boxes, self._checked()))

    def _checked(self) -> list[str]:
        value = self.settings.value("personas", DEFAULT_PERSONAS)
        return list(value) if isinstance(value, list) else [str(value)]

    @Slot(object)
    def _on_loaded(self, info: LabInfo) -> None:
        self.info = info
        self.show_notice()
        self.names = {p.id: p for p in info.personas}
        for picker in (self.compare.picker, self.probes.picker):
            picker.set_personas(info.personas, self._checked())
        self.compare.set_details(info.personas)
        self.model_label.setText(
            tr(
                "{model} · {kb} · system prompt {n}/{ctx} tokens",
                model=info.model,
                kb=info.kb_title,
                n=info.prompt_tokens,
                ctx=info.n_ctx,
            )
        )
        if self.probes.grid.rowCount() == 0:
            self._show_last_probe_run()
        self.sweep.set_personas(info.personas)
        if self.sweep.curve is None:
            self.sweep.show_latest()
        self.show_training_state(info)
        self.kb_view.set_context(info.n_ctx)

    def _show_last_probe_run(self) -> None:
        """Reopen on the last scores, so a restart does not blank the chart before class."""
        try:
            store = open_store(read_only=True)
            runs = [r for r in store.list_runs(50) if r.get("kind") == "probe" and r.get("n_answers")]
            store.close()
        except TalabError:
            return
        if runs:
            self.probes.show_result({"run_id": runs[0]["id"], "status": runs[0]["status"]}, self.names)

    @Slot(str, list)
    def _ask(self, question: str, personas: list[str]) -> None:
        self.worker.ask_requested.emit(question, personas, sampling_overrides(self.settings))

    @Slot(list, dict)
    def _run_probes(self, personas: list[str], options: dict[str, Any]) -> None:
        self._start_probe_run(self.probes, personas, options)

    @Slot(list, dict)
    def _run_sweep(self, personas: list[str], options: dict[str, Any]) -> None:
        self._start_probe_run(self.sweep, personas, options)

    def _start_probe_run(
        self, view: ProbesView | SweepView, personas: list[str], options: dict[str, Any]
    ) -> None:
        """``view`` gets the run's progress and result: a sweep draws a curve, not the Probes grid."""
        self._probe_view = view
        overrides = {**sampling_overrides(self.settings), **options.get("overrides", {})}
        self.worker.probe_requested.emit(personas, {**options, "overrides": overrides})

    @Slot(int)
    def _resume(self, run_id: int) -> None:
        self._probe_view = self.probes
        self.worker.resume_requested.emit(run_id)

    @Slot(dict)
    def _on_progress(self, progress: dict[str, Any]) -> None:
        self._probe_view.on_progress(progress)

    @Slot()
    def _collect(self) -> None:
        """Only the young generations while answers stream; otherwise a full one (small after gc.freeze)."""
        gc.collect(1 if self._busy else 2)

    @Slot(int, bool)
    def _open_run(self, run_id: int, resume: bool) -> None:
        self.tabs.setCurrentWidget(self.probes)
        self.probes.open_run(run_id, self.names, resume)

    @Slot()
    def _cancel(self) -> None:
        """Called on the GUI thread: a queued call would wait behind the running job."""
        self.worker.cancel()

    @Slot(int, str)
    def _count_tokens(self, request: int, text: str) -> None:
        self.worker.count_requested.emit(request, text)

    @Slot(str)
    def _on_kb_saved(self, lang: str) -> None:
        """Rebuild the Lab as a language switch does: the personas and the training data read the new KB."""
        if self.config.kb is None:  # the other language's KB is training data too
            self.model_label.setText(tr("Loading…"))
            self.worker.load_requested.emit(self.config)

    @Slot(int)
    def _on_ask_finished(self, run_id: int) -> None:
        self.statusBar().showMessage(tr("Answers saved as run {run_id}", run_id=run_id), 8000)

    @Slot(dict)
    def _on_probe_finished(self, result: dict[str, Any]) -> None:
        if self._probe_view is self.sweep:
            self.sweep.show_result(result)
        else:
            self.probes.show_result(result, self.names)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        """Errors go to a banner, not a modal dialog: the class keeps seeing the app."""
        self.banner.setText(message)
        self.banner.show()
        self.recover_from_failed_load(message)
        if not self.names:
            self.model_label.setText(tr("No model loaded"))

    @Slot(bool)
    def _on_busy(self, busy: bool) -> None:
        self._busy = busy
        if busy:
            self.banner.hide()
        self.compare.set_busy(busy)
        self.probes.set_busy(busy)
        self.sweep.set_busy(busy)

    def closeEvent(self, event: Any) -> None:
        s = self.settings
        s.setValue("geometry", self.saveGeometry())
        s.setValue("question", self.compare.question.text())
        s.setValue("merged_alpha", self.compare.alpha_value)
        s.setValue("tab", self.tabs.currentIndex())
        if self.compare.picker.boxes:
            self._save_personas()
        save_splitters(s, [*self.probes.splitters(), *self.history.splitters()])
        s.sync()
        self.trainer.shutdown()
        self.editor.shutdown()
        self.fact_job.shutdown()
        self.worker_thread.stop()
        self._gc_timer.stop()
        gc.unfreeze()
        gc.enable()
        super().closeEvent(event)


def main(argv: list[str] | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv if argv is None else ["talab", *argv])
    app.setApplicationName("TA Lab")
    apply_data_dir_pointer()
    window = MainWindow()
    install_excepthook(window)
    window.show()
    return int(app.exec())
