"""A bug in a slot: a one-line banner and a log entry, never a dialog, even when nothing can be logged."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QDialog

from desktop.errors import install_excepthook


class Emitter(QObject):
    fired = Signal()


def buggy_slot() -> None:
    raise ValueError("the slot\nbroke")  # a message over two lines must still make one banner line


@pytest.fixture
def hooked(window: Any) -> Iterator[Any]:
    """The app's hook for one test, then pytest-qt's own back, so its exception capture still works."""
    before = sys.excepthook
    assert install_excepthook(window) is before
    assert sys.excepthook is not before
    yield window
    sys.excepthook = before


def fire_buggy_slot() -> None:
    emitter = Emitter()
    emitter.fired.connect(buggy_slot)
    emitter.fired.emit()  # PySide hands the slot's exception to sys.excepthook


def no_dialogs() -> list[QDialog]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QDialog) and w.isVisible()]


def test_a_bug_in_a_slot_is_a_one_line_banner_with_the_details_in_talab_log(
    hooked: Any, talab_home: Path
) -> None:
    fire_buggy_slot()
    banner = hooked.banner
    assert banner.isVisibleTo(hooked)
    assert "\n" not in banner.text() and "Traceback" not in banner.text()
    assert "Unexpected ValueError: the slot broke" in banner.text()
    log = talab_home / "talab.log"
    assert str(log) in banner.text()
    details = log.read_text(encoding="utf-8")
    assert "Traceback" in details and "buggy_slot" in details and "ValueError: the slot" in details
    assert no_dialogs() == []


def test_the_banner_shows_even_when_the_data_dir_cannot_be_written(
    hooked: Any, talab_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: Any
) -> None:
    not_a_dir = tmp_path / "a-file"
    not_a_dir.write_text("")
    # as root, chmod does not stop a write; a path through a plain file fails for everyone
    monkeypatch.setenv("TALAB_HOME", str(not_a_dir / "home"))
    try:
        fire_buggy_slot()
    finally:
        monkeypatch.setenv("TALAB_HOME", str(talab_home))  # the window's own teardown writes there
    text = hooked.banner.text()
    assert hooked.banner.isVisibleTo(hooked)
    assert "Unexpected ValueError: the slot broke" in text and "could not be written" in text
    assert "\n" not in text
    assert "Traceback" in capfd.readouterr().err  # the details went to the terminal instead
    assert no_dialogs() == []


def test_interrupts_go_to_the_previous_hook_and_not_to_the_banner(window: Any) -> None:
    before = sys.excepthook
    seen: list[type[BaseException]] = []

    def recorder(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        seen.append(kind)

    sys.excepthook = recorder
    try:
        assert install_excepthook(window) is recorder
        sys.excepthook(KeyboardInterrupt, KeyboardInterrupt(), None)
    finally:
        sys.excepthook = before
    assert seen == [KeyboardInterrupt]
    assert not window.banner.isVisibleTo(window)


def test_a_window_already_gone_falls_back_to_the_previous_hook() -> None:
    before = sys.excepthook
    seen: list[BaseException] = []

    class Gone:
        def _on_failed(self, message: str) -> None:
            raise RuntimeError("Internal C++ object (MainWindow) already deleted.")

    sys.excepthook = lambda kind, exc, tb: seen.append(exc)
    try:
        install_excepthook(Gone())
        error = ValueError("late")
        sys.excepthook(ValueError, error, None)
    finally:
        sys.excepthook = before
    assert seen == [error]


def test_the_app_installs_the_hook_before_it_runs(window: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import desktop.app

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    name = app.applicationName()
    monkeypatch.setattr(desktop.app, "apply_data_dir_pointer", lambda: None)  # reads the real config dir
    monkeypatch.setattr(desktop.app, "MainWindow", lambda: window)
    monkeypatch.setattr(QApplication, "exec", lambda self: 0)
    before = sys.excepthook
    try:
        assert desktop.app.main([]) == 0
        sys.excepthook(ValueError, ValueError("from main"), None)
    finally:
        sys.excepthook = before
        app.setApplicationName(name)
    assert "Unexpected ValueError: from main" in window.banner.text()
