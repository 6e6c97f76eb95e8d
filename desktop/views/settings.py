"""Settings dialog: model, threads, context, sampling, data directory, UI language, presentation.

Everything is stored in the window's QSettings file (gui.ini in the data
directory) except the data directory itself: gui.ini lives inside it, so that
one choice goes to a small pointer file in the platform's config directory and
applies after a restart. A model is checked here (its GGUF header) before the
window rebuilds the Lab with it, so a wrong file is an inline error and the
model in use keeps working.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Signal, Slot
from PySide6.QtGui import QAction, QColor, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.i18n import UI_LANGUAGES, retranslated, set_ui_language, tr, ui_language
from desktop.prefs import (
    BUNDLED_MODELS,
    PRESENTATION_POINT_SIZE,
    SettingsValues,
    _int,
    store_config,
    write_data_dir_pointer,
)
from engine import paths
from engine.errors import TalabError
from engine.lab import LabConfig
from engine.models import load_model_info
from engine.runtime import SamplingParams, window_threads

#: Under the UI language choice, in both languages: whoever switches may not read the one shown now.
RESTART_NOTE = (
    "Tabs and menus switch at once; the rest of the window after a restart.\n"
    "分頁與選單會立即切換；視窗的其他部分在重新啟動後切換。"
)

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMainWindow

    from desktop.workers import LabWorker

    _Window = QMainWindow
else:
    _Window = object


class SettingsDialog(QDialog):
    applied = Signal(object)  # SettingsValues, only once they have been checked

    def __init__(self, s: QSettings, config: LabConfig, presentation: bool, parent: QWidget | None = None):
        super().__init__(parent)
        if parent is not None:  # before any child exists: styled labels keep the font they start with
            self.setFont(parent.font())
        self.setWindowTitle(tr("Settings"))
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 72)  # room for a model's path
        self.setObjectName("settings-dialog")
        form = QFormLayout()

        self.model = QComboBox()
        for name, label in BUNDLED_MODELS.items():
            self.model.addItem(tr(label), name)
        self.model.addItem(tr("GGUF file…"), "")
        self.model_path = QLineEdit()
        self.model_path.setPlaceholderText(tr("/path/to/model.gguf"))
        browse = QPushButton(tr("Browse…"))
        browse.clicked.connect(self._pick_model)
        current = str(config.model)
        if current in BUNDLED_MODELS:
            self.model.setCurrentIndex(self.model.findData(current))
        else:
            self.model.setCurrentIndex(self.model.count() - 1)
            self.model_path.setText(current)
        self.model.currentIndexChanged.connect(self._on_model_kind)
        form.addRow(tr("Model"), self.model)
        row = QHBoxLayout()
        row.addWidget(self.model_path, 1)
        row.addWidget(browse)
        form.addRow("", row)
        self._on_model_kind()

        self.server = QLineEdit(config.server or "")
        self.server.setPlaceholderText(tr("this computer (or a server URL, e.g. http://lab-gpu:8080)"))
        self.server.setToolTip(
            tr("A llama-server or vLLM started with talab serve; empty: answer in-process")
        )
        form.addRow(tr("Answers from"), self.server)

        self.threads = QSpinBox()
        self.threads.setRange(0, max(os.cpu_count() or 1, 1))
        self.threads.setSpecialValueText(f"{tr('auto')} ({window_threads()})")
        self.threads.setValue(config.n_threads or 0)
        form.addRow(tr("Threads"), self.threads)
        self.n_ctx = QSpinBox()
        self.n_ctx.setRange(512, 131072)
        self.n_ctx.setSingleStep(512)
        self.n_ctx.setSuffix(tr(" tokens"))
        self.n_ctx.setValue(config.n_ctx)
        form.addRow(tr("Context size"), self.n_ctx)

        base = SamplingParams()
        self.temperature = self._double(0.0, 2.0, 0.1, float(str(s.value("temperature", base.temperature))))
        form.addRow(tr("Temperature"), self.temperature)
        self.top_p = self._double(0.0, 1.0, 0.05, float(str(s.value("top_p", base.top_p))))
        form.addRow("top_p", self.top_p)
        self.max_tokens = QSpinBox()
        self.max_tokens.setRange(1, 8192)
        self.max_tokens.setValue(_int(s.value("max_tokens", base.max_tokens), base.max_tokens))
        form.addRow(tr("Max tokens"), self.max_tokens)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(_int(s.value("seed", base.seed), base.seed))
        form.addRow(tr("Seed"), self.seed)

        self.data_dir = QLineEdit(str(paths.data_dir()))
        data_browse = QPushButton(tr("Browse…"))
        data_browse.clicked.connect(self._pick_data_dir)
        row = QHBoxLayout()
        row.addWidget(self.data_dir, 1)
        row.addWidget(data_browse)
        form.addRow(tr("Data directory"), row)
        note = QLabel(  # rich text, not a style sheet: a styled label ignores the projector font size
            '<span style="color:#555">'
            + tr(
                "Applies after a restart: the database, adapters, your KB copy and these settings are "
                "then read from that directory (nothing is moved). A TALAB_HOME environment variable "
                "overrides it."
            )
            + "</span>"
        )
        note.setWordWrap(True)
        form.addRow("", note)

        self.ui_lang = QComboBox()
        for code, label in UI_LANGUAGES.items():
            self.ui_lang.addItem(label, code)
        self.ui_lang.setCurrentIndex(max(0, self.ui_lang.findData(str(s.value("ui_lang", "en")))))
        form.addRow(tr("UI language"), self.ui_lang)
        self.ui_lang_note = QLabel(RESTART_NOTE)
        self.ui_lang_note.setObjectName("ui-lang-note")
        self.ui_lang_note.setWordWrap(True)
        form.addRow("", self.ui_lang_note)
        self.presentation = QCheckBox(tr("Presentation mode (large fonts)"))
        self.presentation.setChecked(presentation)
        form.addRow("", self.presentation)

        self.error = QLabel()
        self.error.setObjectName("settings-error")
        self.error.setWordWrap(True)
        palette = self.error.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor("#fde2e1"))
        palette.setColor(QPalette.ColorRole.WindowText, QColor("#8a1c1c"))
        self.error.setPalette(palette)
        self.error.setAutoFillBackground(True)
        self.error.setMargin(8)
        self.error.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(tr("OK"))  # Qt's own are English
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Cancel"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addLayout(form)
        box.addWidget(self.error)
        box.addWidget(buttons)
        self._data_dir_was = self.data_dir.text()

    @staticmethod
    def _double(low: float, high: float, step: float, value: float) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(low, high)
        spin.setSingleStep(step)
        spin.setDecimals(2)
        spin.setValue(value)
        return spin

    @Slot()
    def _on_model_kind(self) -> None:
        self.model_path.setEnabled(self.model.currentData() == "")

    @Slot()
    def _pick_model(self) -> None:
        file, _ = QFileDialog.getOpenFileName(
            self, tr("Model"), "", tr("GGUF models (*.gguf);;All files (*)")
        )
        if file:
            self.model.setCurrentIndex(self.model.count() - 1)
            self.model_path.setText(file)

    @Slot()
    def _pick_data_dir(self) -> None:
        directory = QFileDialog.getExistingDirectory(self, tr("Data directory"), self.data_dir.text())
        if directory:
            self.data_dir.setText(directory)

    def chosen_values(self) -> SettingsValues:
        model = str(self.model.currentData()) or self.model_path.text().strip()
        data_dir = self.data_dir.text().strip()
        return SettingsValues(
            model=model,
            n_threads=self.threads.value() or None,
            n_ctx=self.n_ctx.value(),
            sampling={
                "temperature": round(self.temperature.value(), 2),
                "top_p": round(self.top_p.value(), 2),
                "max_tokens": self.max_tokens.value(),
                "seed": self.seed.value(),
            },
            data_dir="" if data_dir == self._data_dir_was else data_dir,
            ui_lang=str(self.ui_lang.currentData()),
            presentation=self.presentation.isChecked(),
            server=self.server.text().strip(),
        )

    def problem(self, values: SettingsValues) -> str | None:
        """What is wrong with the choice, in words a teacher can act on; None when it is usable."""
        if not values.model:
            return tr("Choose a GGUF model file, or one of the bundled models.")
        try:
            load_model_info(values.model)  # the header only: fast, and catches non-GGUF files
        except TalabError as exc:
            return tr("Model not changed: {error}", error=exc)
        if values.server:
            from engine.remote.http import normalise_url

            try:
                normalise_url(values.server)
            except TalabError as exc:
                return str(exc)
        if values.data_dir:
            try:
                Path(values.data_dir).expanduser().mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                return tr(
                    "Cannot use {path} as the data directory: {error}",
                    path=values.data_dir,
                    error=exc.strerror or exc,
                )
        return None

    @Slot()
    def accept(self) -> None:
        values = self.chosen_values()
        message = self.problem(values)
        if message:
            self.error.setText(message)
            self.error.show()
            return  # the dialog stays open with everything the user typed
        self.applied.emit(values)
        super().accept()


class SettingsHost(_Window):
    """The main window's settings behaviour, kept here so app.py stays about assembly."""

    settings: QSettings
    config: LabConfig
    presentation: bool
    presentation_action: QAction
    worker: LabWorker
    model_label: QLabel
    banner: QLabel
    tabs: QTabWidget
    _fallback: LabConfig | None  # what to go back to if a new config fails to load
    _notice: str

    def set_font_size(self, size: int) -> None:
        raise NotImplementedError

    def set_presentation(self, on: bool) -> None:
        """Projector text that the back row can read; the desk size comes back when it is off."""
        self.presentation = on
        self.settings.setValue("presentation", on)
        self.presentation_action.setChecked(on)
        key, default = ("presentation_font_size", PRESENTATION_POINT_SIZE) if on else ("font_size", 12)
        self.set_font_size(int(str(self.settings.value(key, default))))

    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.settings, self.config, self.presentation, self)
        dialog.applied.connect(self.apply_settings)
        dialog.open()  # window-modal but not blocking: streaming answers go on behind it
        return dialog

    def apply_settings(self, values: SettingsValues) -> None:
        values.save(self.settings)
        messages = []
        if values.ui_lang != ui_language():
            set_ui_language(values.ui_lang)
            self.retranslate()
            messages.append(
                tr(
                    "Tabs and menus are now in {language}; the rest of the window after a restart.",
                    language=UI_LANGUAGES[ui_language()],
                )
            )
        self.set_presentation(values.presentation)
        if values.data_dir:
            write_data_dir_pointer(values.data_dir)
            messages.append(tr("The data directory {path} applies after a restart", path=values.data_dir))
        if messages:
            self.statusBar().showMessage("  ".join(messages))
        new = replace(
            self.config,
            model=values.model,
            n_ctx=values.n_ctx,
            n_threads=values.n_threads,
            server=values.server or None,
        )
        if new != self.config:
            self._fallback, self.config = self.config, new
            store_config(self.settings, new)
            self.model_label.setText(tr("Loading…"))
            self.worker.load_requested.emit(new)

    def retranslate(self) -> None:
        """Tabs and menus switch language at once; the views' own labels follow at the next start."""
        for i in range(self.tabs.count()):
            self.tabs.setTabText(i, retranslated(self.tabs.tabText(i)))
        pending = list(self.menuBar().actions())
        while pending:
            action = pending.pop()
            action.setText(retranslated(action.text()))
            menu = action.menu()
            if isinstance(menu, QMenu):
                menu.setTitle(retranslated(menu.title()))
                pending.extend(menu.actions())

    def recover_from_failed_load(self, message: str) -> None:
        """A model that does not load puts the previous one back, in the Lab and in the settings."""
        if self._fallback is not None and self._fallback != self.config:
            self.config, self._fallback = self._fallback, None
            store_config(self.settings, self.config)
            self._notice = tr(
                "{message}\nStill using {model}: the setting is back to it.",
                message=message,
                model=self.config.model,
            )
            self.banner.setText(self._notice)
            self.worker.load_requested.emit(self.config)

    def show_notice(self) -> None:
        """After a load: say why the model is not the one just chosen (the load hid the banner)."""
        self._fallback = None
        if self._notice:
            self.banner.setText(self._notice)
            self.banner.show()
            self._notice = ""
