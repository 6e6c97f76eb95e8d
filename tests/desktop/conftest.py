"""GUI fixtures: a real MainWindow whose Lab runs on the scripted runtime."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import FakeRuntime


@pytest.fixture(autouse=True)
def collect_qt_garbage() -> Iterator[None]:
    """Collect closed windows on the GUI thread.

    Otherwise a later test's worker thread may run the garbage collector and
    destroy those widgets off the GUI thread, which crashes Qt.
    """
    yield
    gc.collect()


@pytest.fixture
def script() -> dict[str, Any]:
    """Tests fill ``answers`` (and may set ``delay_s``) before the window loads."""
    return {"answers": [], "delay_s": 0.0, "runtimes": []}


@pytest.fixture
def window(qtbot, script: dict[str, Any]) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    from desktop.app import MainWindow
    from engine.lab import Lab

    def factory(config: Any) -> Lab:
        def make_runtime(model: Any, *, n_ctx: int, n_threads: int | None = None) -> FakeRuntime:
            rt = FakeRuntime(
                model, n_ctx=n_ctx, n_threads=n_threads, answers=script["answers"], delay_s=script["delay_s"]
            )
            script["runtimes"].append(rt)
            return rt

        return Lab(config, runtime_factory=make_runtime)

    here = Path(__file__).resolve().parent.parent
    fake_trainer = [sys.executable, str(here / "fake_trainer.py"), "--spec"]
    fake_editor = [sys.executable, str(here / "fake_editor.py"), "--spec"]
    win = MainWindow(factory, trainer_program=fake_trainer, editor_program=fake_editor)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: bool(win.names), timeout=10_000)
    yield win
    win.close()
