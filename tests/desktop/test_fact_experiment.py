"""The Edit tab's one-fact experiment runs a scripted worker (tests/fake_fact_worker.py) with progress,
shows the saved result as a table and a chart, keeps it across a restart, and fails or cancels in one line."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import FakeRuntime

HERE = Path(__file__).resolve().parent.parent


@pytest.fixture
def fact_window(qtbot, script: dict[str, Any]) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    from desktop.app import MainWindow
    from engine.lab import Lab

    def factory(config: Any) -> Lab:
        def make_runtime(model: Any, *, n_ctx: int, n_threads: int | None = None) -> FakeRuntime:
            return FakeRuntime(model, n_ctx=n_ctx, n_threads=n_threads, answers=script["answers"])

        return Lab(config, runtime_factory=make_runtime)

    def open_window() -> Any:
        win = MainWindow(factory, fact_program=[sys.executable, str(HERE / "fake_fact_worker.py"), "--spec"])
        qtbot.addWidget(win)
        qtbot.waitUntil(lambda: bool(win.names), timeout=10_000)
        return win

    win = open_window()
    win.reopen = open_window  # type: ignore[attr-defined]
    yield win
    win.close()


def test_a_run_shows_progress_then_the_table_and_chart_and_survives_a_restart(fact_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = fact_window.edit_view.fact
    assert panel.table.rowCount() == 0 and panel.status.text() == "No result yet: run the experiment."
    fact_window.edit_view.target.setText("Dr. Chen")
    seen: list[str] = []
    fact_window.fact_job.report.connect(lambda e: seen.append(e.get("phase", "")))
    panel.run_button.click()
    assert panel.cancel_button.isEnabled() and not panel.run_button.isEnabled()
    qtbot.waitUntil(lambda: panel.status.text().startswith("Last result"), timeout=15_000)
    assert seen[:3] == ["train"] * 3 and "score" in seen
    assert "→ 'Dr. Chen'" in panel.status.text() and panel.run_button.isEnabled()
    # two personas, then the paper's two reference rows
    assert panel.table.rowCount() == 4
    assert [panel.table.item(1, c).text() for c in range(5)] == ["100%", "50%", "75%", "25%", "2.90"]
    assert panel.table.item(3, 2).text() == "75.4%"
    assert panel.chart.series[-1] == "ROME (paper, GPT-2 XL)" and len(panel.chart.groups) == 4
    assert "layer 4" in panel.note.text()
    fact_window.close()
    again = fact_window.reopen()
    assert again.edit_view.fact.table.rowCount() == 4  # read back from the data directory
    again.close()


def test_bad_input_fails_and_cancel_are_one_line(fact_window, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    panel = fact_window.edit_view.fact
    fact_window.edit_view.subject.setText("smartest person")
    panel.run_button.click()
    assert panel.status.text().startswith("Fix the fact first: The subject 'smartest person' does not occur")
    assert not fact_window.fact_job.running()
    fact_window.edit_view.subject.setText("most handsome person")
    monkeypatch.setenv("TALAB_FAKE_FACT", "fail")
    panel.run_button.click()
    qtbot.waitUntil(lambda: "did not finish" in panel.status.text(), timeout=15_000)
    assert panel.status.text() == (
        "The experiment did not finish: The subject's key is orthogonal to the update direction; "
        "try another layer"
    )
    monkeypatch.setenv("TALAB_FAKE_FACT", "hang")
    panel.run_button.click()
    qtbot.waitUntil(lambda: panel.progress.value() == 1, timeout=15_000)
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: panel.status.text() == "Cancelled. The last result is unchanged.", timeout=15_000)
    assert panel.table.rowCount() == 0 and panel.run_button.isEnabled()
