"""History: filter past runs, open one, compare two side by side, resume an interrupted probe run."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QItemSelectionModel

from engine.store import open_store


def _ask(window: Any, qtbot: Any, question: str) -> None:
    window.compare.question.setText(question)
    window.compare.ask_button.click()
    qtbot.waitUntil(lambda: "saved" in window.statusBar().currentMessage(), timeout=10_000)
    window.statusBar().clearMessage()


def _probe(window: Any, qtbot: Any, limit: int) -> None:
    window.probes.limit.setValue(limit)
    window.probes.run_button.click()
    qtbot.waitUntil(lambda: "finished" in window.probes.status.text(), timeout=20_000)
    # the worker says "not busy" just after the result: until then Ask and Run ignore a click
    qtbot.waitUntil(window.compare.ask_button.isEnabled, timeout=10_000)


def _select(view: Any, *rows: int) -> None:
    view.table.clearSelection()
    model = view.table.selectionModel()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for r in rows:
        model.select(view.table.model().index(r, 0), flags)


def _history(window: Any) -> Any:
    window.tabs.setCurrentWidget(window.history)
    return window.history


def test_the_filter_narrows_runs_by_kind_status_and_persona(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    _ask(window, qtbot, "Who are you?")
    window.compare.picker.boxes["base"].setChecked(False)
    _ask(window, qtbot, "When is HW1 due?")
    _probe(window, qtbot, 1)
    view = _history(window)
    assert view.table.rowCount() == 3
    visible = lambda: [view.table.item(r, 2).text() for r in range(3) if not view.table.isRowHidden(r)]  # noqa: E731
    view.filter.setText("probe")
    assert visible() == ["probe"]
    view.filter.setText("ask base")  # every word must match: only the first question had Base
    assert visible() == ["ask"] and "1 of 3 runs" in view.hint.text()
    view.filter.setText("done")
    assert len(visible()) == 3
    view.filter.clear()
    assert len(visible()) == 3


def test_opening_a_probe_run_shows_its_grid_and_an_ask_run_its_answers(window, script, qtbot) -> None:  # type: ignore[no-untyped-def]
    _probe(window, qtbot, 2)
    probe_run = window.probes._run_id
    window.probes.grid.set_personas([], {})  # as if another run were on screen
    script["runtimes"][0].answers.extend(["I am SmolLM.", "I am Xiao Jin."])
    _ask(window, qtbot, "Who are you?")
    view = _history(window)
    _select(view, 1)  # newest first: the probe run is second
    view.open_button.click()
    assert window.tabs.currentWidget() is window.probes
    assert window.probes._run_id == probe_run and window.probes.grid.rowCount() == 2
    assert f"Run {probe_run} finished" in window.probes.status.text()
    view = _history(window)
    _select(view, 0)
    view.open_button.click()
    shown = view.detail.toPlainText()
    assert "I am SmolLM." in shown and "I am Xiao Jin." in shown and "Who are you?" in shown


def test_two_runs_side_by_side(window, script, qtbot) -> None:  # type: ignore[no-untyped-def]
    _probe(window, qtbot, 2)
    script["runtimes"][0].answers.extend(["I am Xiao Jin, the TA."] * 4)  # the second run answers better
    _probe(window, qtbot, 2)
    view = _history(window)
    _select(view, 0)
    assert not view.compare_button.isEnabled()  # one run: nothing to compare yet
    _select(view, 0, 1)
    assert view.compare_button.isEnabled()
    view.compare_button.click()
    runs = open_store().list_runs(2)
    shown = view.detail.toPlainText()
    assert f"Run {runs[1]['id']} (A) vs run {runs[0]['id']} (B)" in shown
    assert "0 of 4 shared answers are identical" in shown
    assert "Persona adherence" in shown and "+100 pts" in shown  # identity went from 0% to 100%
    assert "base" in shown and "prompted" in shown


def test_an_interrupted_run_is_resumed_from_history(window, script, qtbot) -> None:  # type: ignore[no-untyped-def]
    rt = script["runtimes"][0]
    rt.delay_s = 0.03
    window.probes.limit.setValue(3)
    window.probes.run_button.click()
    qtbot.waitUntil(lambda: window.probes.progress.value() >= 2, timeout=20_000)
    window.probes.cancel_button.click()
    qtbot.waitUntil(lambda: "cancelled" in window.probes.status.text(), timeout=20_000)
    rt.delay_s = 0.0
    window.probes.grid.set_personas([], {})
    view = _history(window)
    _select(view, 0)
    assert view.table.item(0, 3).text() == "cancelled" and view.resume_button.isEnabled()
    view.resume_button.click()
    assert window.tabs.currentWidget() is window.probes
    qtbot.waitUntil(lambda: "finished" in window.probes.status.text(), timeout=20_000)
    # the worker says "not busy" just after the result: until then Ask and Run ignore a click
    qtbot.waitUntil(window.compare.ask_button.isEnabled, timeout=10_000)
    run = open_store().list_runs(1)[0]
    assert run["status"] == "done" and run["n_answers"] == 6
    assert len(open_store().list_runs(10)) == 1  # resumed in place, not started again


def test_the_column_names_grow_with_the_text_size(window) -> None:  # type: ignore[no-untyped-def]
    window.set_font_size(20)  # Ctrl++ or presentation mode, for the back row
    assert window.history.table.horizontalHeader().font().pointSize() == 20


def test_history_shows_where_each_run_came_from(window, qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A local run, a run on a lab server and a run imported from a student's machine."""
    _ask(window, qtbot, "Who are you?")
    store = open_store()
    store.create_run(
        kind="probe", personas=["base"], origin={"machine": "lab-gpu", "server": "http://lab:8080"}
    )
    store.create_run(kind="probe", personas=["base"], origin={"machine": "alice-laptop", "server": None})
    view = _history(window)
    view.refresh()
    col = 6
    assert view.table.horizontalHeaderItem(col).text() == "Source"
    sources = [view.table.item(r, col).text() for r in range(3)]
    assert sources == ["alice-laptop", "http://lab:8080 (lab-gpu)", "this computer"]
