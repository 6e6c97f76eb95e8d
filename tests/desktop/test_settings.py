"""Settings: they survive a restart, rebuild the Lab, and a bad model never costs the working one."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from desktop.prefs import PRESENTATION_POINT_SIZE
from engine.errors import ModelError
from engine.lab import Lab, LabConfig
from tests.fakes import FakeRuntime

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # offscreen platform, shown dialogs


@pytest.fixture(autouse=True)
def pointer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The data-directory pointer lives outside TALAB_HOME: keep it in tmp too."""
    file = tmp_path / "config" / "data_dir"
    monkeypatch.setattr("desktop.prefs.pointer_file", lambda: file)
    return file


def _open(qtbot: Any, configs: list[LabConfig]) -> Any:
    """A fresh window, as after a restart, recording which configs its Lab was built with."""
    from desktop.app import MainWindow

    def factory(config: LabConfig) -> Lab:
        configs.append(config)
        if "broken" in str(config.model):
            raise ModelError(f"llama.cpp could not load {Path(str(config.model)).name}: bad tensor data")
        return Lab(config, runtime_factory=FakeRuntime)

    trainer = [sys.executable, str(Path(__file__).resolve().parent.parent / "fake_trainer.py"), "--spec"]
    win = MainWindow(factory, trainer_program=trainer)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: bool(win.names), timeout=10_000)
    return win


def _ok(dialog: Any) -> None:
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()


def test_auto_threads_leave_the_window_a_core(qtbot: Any, monkeypatch: Any) -> None:
    """On "auto" the window's model gets one llama.cpp thread fewer than the cores; a set value is kept."""
    import engine.runtime
    from desktop.app import settings

    monkeypatch.setattr(engine.runtime, "physical_cores", lambda: 4)
    configs: list[LabConfig] = []
    win = _open(qtbot, configs)
    assert win.config.n_threads is None and configs[-1].n_threads == 3
    assert win.open_settings().threads.specialValueText().endswith("(3)")
    win.close()
    settings().setValue("n_threads", 2)
    again = _open(qtbot, configs)
    assert configs[-1].n_threads == 2
    again.close()


def test_settings_apply_at_once_and_survive_a_restart(qtbot: Any) -> None:
    configs: list[LabConfig] = []
    win = _open(qtbot, configs)
    dialog = win.open_settings()
    dialog.threads.setValue(2)
    dialog.n_ctx.setValue(2048)
    dialog.temperature.setValue(0.7)
    dialog.seed.setValue(7)
    dialog.presentation.setChecked(True)
    _ok(dialog)
    assert not dialog.isVisible()
    qtbot.waitUntil(
        lambda: win.info is not None and win.info.n_ctx == 2048, timeout=10_000
    )  # the Lab was rebuilt
    assert configs[-1].n_threads == 2
    assert win.font().pointSize() == PRESENTATION_POINT_SIZE

    win._ask("Who are you?", ["base"])
    qtbot.waitUntil(lambda: "saved as run" in win.statusBar().currentMessage(), timeout=10_000)
    (answer,) = win.worker.lab.store.answers(int(win.statusBar().currentMessage().rsplit(" ", 1)[-1]))
    assert (answer["params"]["temperature"], answer["seed"]) == (0.7, 7)  # what the answer was sampled with
    win.close()

    again = _open(qtbot, configs)
    assert (again.config.n_ctx, again.config.n_threads) == (2048, 2)
    assert again.presentation_action.isChecked() and again.font().pointSize() == PRESENTATION_POINT_SIZE
    reopened = again.open_settings()
    assert (reopened.temperature.value(), reopened.seed.value()) == (0.7, 7)
    reopened.reject()
    again.close()


def test_presentation_mode_enlarges_text_and_restores_the_desk_size(window: Any) -> None:
    desk = window.font().pointSize()
    window.presentation_action.trigger()
    assert window.font().pointSize() == PRESENTATION_POINT_SIZE > desk
    assert window.kb_view.editor.font().pointSize() == window.font().pointSize()  # the editor follows
    window.presentation_action.trigger()
    assert window.font().pointSize() == desk


def test_a_file_that_is_not_a_model_is_refused_in_the_dialog(window: Any, tmp_path: Path) -> None:
    bad = tmp_path / "notes.gguf"
    bad.write_text("these are lecture notes, not a model")
    dialog = window.open_settings()
    dialog.model.setCurrentIndex(dialog.model.count() - 1)
    dialog.model_path.setText(str(bad))
    _ok(dialog)
    assert dialog.isVisible()  # nothing typed is lost
    assert not dialog.error.isHidden()
    assert "Model not changed" in dialog.error.text() and "notes.gguf" in dialog.error.text()
    assert window.config.model == "default"
    dialog.reject()


def test_a_model_that_fails_to_load_falls_back_to_the_previous_one(qtbot: Any, tmp_path: Path) -> None:
    from desktop.prefs import SettingsValues

    configs: list[LabConfig] = []
    win = _open(qtbot, configs)
    sampling = {"temperature": 0.0, "top_p": 0.95, "max_tokens": 128, "seed": 42}
    broken = str(tmp_path / "broken.gguf")
    win.apply_settings(SettingsValues(broken, None, 4096, sampling, "", "en", False))
    qtbot.waitUntil(lambda: len(configs) == 3 and not win.banner.isHidden(), timeout=10_000)
    assert "bad tensor data" in win.banner.text() and "Still using default" in win.banner.text()
    assert [str(c.model) for c in configs[-2:]] == [broken, "default"]
    assert win.settings.value("model") == "default"  # a restart will not hit the broken model either

    win._ask("Who are you?", ["base"])  # and the class can go on
    qtbot.waitUntil(lambda: "saved as run" in win.statusBar().currentMessage(), timeout=10_000)
    win.close()


def test_ui_language_switches_the_window_to_traditional_chinese(qtbot: Any) -> None:
    from desktop.i18n import set_ui_language

    configs: list[LabConfig] = []
    win = _open(qtbot, configs)
    dialog = win.open_settings()
    dialog.ui_lang.setCurrentIndex(dialog.ui_lang.findData("zh-TW"))
    _ok(dialog)
    try:
        assert win.tabs.tabText(0) == "比較(&C)"
        assert "檢視(&V)" in [a.text() for a in win.menuBar().actions()]
        assert "重新啟動後" in win.statusBar().currentMessage()  # the rest of the window follows then
        win.close()
        again = _open(qtbot, configs)
        assert again.tabs.tabText(again.tabs.indexOf(again.kb_view)) == "課程知識庫(&K)"
        assert again.kb_view.save_button.text() == "儲存"
        # and back: English tabs and menus at once, and the status bar says the rest follows at a restart
        dialog = again.open_settings()
        dialog.ui_lang.setCurrentIndex(dialog.ui_lang.findData("en"))
        _ok(dialog)
        assert [again.tabs.tabText(i) for i in range(again.tabs.count())] == [
            "&Compare", "&Probes", "&History", "&Train", "Course &KB", "&Edit", "Adapter &scale",
        ]  # fmt: skip
        assert [a.text() for a in again.menuBar().actions()] == ["&File", "&View", "P&ersonas"]
        assert "after a restart" in again.statusBar().currentMessage()
        again.close()
    finally:
        set_ui_language("en")  # module state: later tests expect English


def test_data_directory_is_a_pointer_applied_at_the_next_start(
    window: Any, tmp_path: Path, pointer: Path
) -> None:
    import os

    from desktop.prefs import apply_data_dir_pointer

    target = tmp_path / "classroom-data"
    dialog = window.open_settings()
    dialog.data_dir.setText(str(target))
    _ok(dialog)
    assert pointer.read_text(encoding="utf-8") == str(target)
    assert "after a restart" in window.statusBar().currentMessage()

    env = dict(os.environ)
    try:
        os.environ.pop("TALAB_HOME")
        apply_data_dir_pointer()
        assert os.environ["TALAB_HOME"] == str(target)
    finally:
        os.environ.clear()
        os.environ.update(env)


@pytest.mark.integration
def test_answers_from_a_lab_server_chosen_in_settings(qtbot: Any, llama_server: Any) -> None:
    """Compare runs the same against a real llama.cpp server; the choice survives a restart."""
    configs: list[LabConfig] = []
    win = _open(qtbot, configs)
    dialog = win.open_settings()
    dialog.server.setText("ftp://lab")
    _ok(dialog)
    assert dialog.isVisible() and "must be an http:// address" in dialog.error.text()
    dialog.server.setText(llama_server.url)
    _ok(dialog)
    qtbot.waitUntil(lambda: configs[-1].server == llama_server.url and bool(win.names), timeout=20_000)
    qtbot.waitUntil(
        lambda: win.worker.lab is not None and win.worker.lab.config.server is not None, timeout=20_000
    )
    win._ask("Who are you?", ["base"])
    qtbot.waitUntil(lambda: "saved as run" in win.statusBar().currentMessage(), timeout=30_000)
    (answer,) = win.worker.lab.store.answers(int(win.statusBar().currentMessage().rsplit(" ", 1)[-1]))
    assert answer["source"] == llama_server.url and answer["answer"]
    win.close()
    again = _open(qtbot, configs)
    assert again.config.server == llama_server.url
    again.close()
