"""The main window on a scripted model: real Qt widgets, real KB, personas and SQLite."""

from __future__ import annotations

import csv

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction

from engine.store import open_store


def test_personas_from_the_kb_with_untrained_ones_disabled(window) -> None:  # type: ignore[no-untyped-def]
    boxes = window.compare.picker.boxes
    assert list(boxes) == ["base", "prompted", "finetuned", "finetuned-prompted", "merged"]
    assert boxes["prompted"].isEnabled() and boxes["prompted"].isChecked()
    assert not boxes["finetuned"].isEnabled()
    assert "not been trained" in boxes["finetuned"].toolTip()
    assert "Machine Learning 2025" in window.model_label.text()
    assert not window.compare.empty.isHidden()  # the empty state until the first question
    assert window.compare.columns == {}


def test_ask_streams_into_one_column_per_persona_and_logs(window, script, qtbot) -> None:  # type: ignore[no-untyped-def]
    script["runtimes"][0].answers.extend(["I am SmolLM.", "I am Xiao Jin, Prof. Lee's TA."])
    window.compare.question.setText("Who are you?")
    qtbot.keyClick(window.compare.question, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: (
            "Saved" in window.statusBar().currentMessage() or "saved" in window.statusBar().currentMessage()
        ),
        timeout=10_000,
    )
    cols = window.compare.columns
    assert list(cols) == ["base", "prompted"]
    assert cols["base"].text.toPlainText() == "I am SmolLM."
    assert cols["prompted"].text.toPlainText() == "I am Xiao Jin, Prof. Lee's TA."
    assert "tok/s" in cols["prompted"].stats.text()
    run = open_store().list_runs(1)[0]
    assert run["kind"] == "ask" and run["n_answers"] == 2


def test_stop_cancels_between_tokens(window, script, qtbot) -> None:  # type: ignore[no-untyped-def]
    rt = script["runtimes"][0]
    rt.delay_s = 0.05
    rt.answers.append(" ".join(["word"] * 200))
    window.compare.question.setText("Write a long essay")
    window.compare.ask_button.click()
    qtbot.waitUntil(lambda: window.compare.stop_button.isEnabled(), timeout=5_000)
    qtbot.waitUntil(lambda: "word" in window.compare.columns["base"].text.toPlainText(), timeout=5_000)
    window.compare.stop_button.click()
    qtbot.waitUntil(lambda: window.compare.ask_button.isEnabled(), timeout=5_000)
    assert "stopped" in window.compare.columns["base"].stats.text()
    assert window.compare.columns["base"].text.toPlainText().count("word") < 200


def test_probe_run_fills_progress_chart_and_table(window, script, qtbot) -> None:  # type: ignore[no-untyped-def]
    view = window.probes
    view.limit.setValue(3)
    view.run_button.click()
    # waitUntil, not waitSignal: the signal comes from the worker thread
    qtbot.waitUntil(lambda: "finished" in view.status.text(), timeout=20_000)
    assert view.progress.value() == view.progress.maximum() == 6  # 3 probes × 2 personas
    assert view.chart.series == ["Base", "Prompted TA"]
    assert view.grid.rowCount() == 3 and view.grid.columnCount() == 2 + 2  # category, question, personas
    run = open_store().list_runs(1)[0]
    assert f"Run {run['id']} finished" in view.status.text()
    assert run["kind"] == "probe" and run["n_answers"] == 6 and run["status"] == "done"
    # the evidence behind a cell: row 0 is the first probe, column 3 the Prompted TA
    view.grid.cellClicked.emit(0, 3)
    shown = view.details.toPlainText()
    assert "Prompted TA" in shown and "Who are you?" in shown
    assert "I am a scripted answer." in shown and ("✓ pass" in shown or "✗ fail" in shown)
    assert "Assertions:" in shown


def test_errors_show_in_a_banner_not_a_dialog(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from engine.lab import LabConfig

    window.worker.load_requested.emit(LabConfig(model="/nonexistent/model.gguf"))
    qtbot.waitUntil(lambda: window.banner.isVisibleTo(window), timeout=5_000)
    assert "not found" in window.banner.text()


def test_settings_survive_a_restart(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from desktop.app import MainWindow

    window.compare.question.setText("When is HW1 due?")
    window.set_font_size(18)
    window.compare.picker.boxes["base"].setChecked(False)
    window.close()
    again = MainWindow(window.worker._factory)
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: bool(again.names), timeout=10_000)
    assert again.compare.question.text() == "When is HW1 due?"
    assert again.font().pointSize() == 18
    assert again.compare.picker.selected() == ["prompted"]
    again.close()


def test_last_scores_are_back_after_a_restart(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from desktop.app import MainWindow

    window.probes.limit.setValue(2)
    window.probes.run_button.click()
    qtbot.waitUntil(lambda: "finished" in window.probes.status.text(), timeout=20_000)
    window.close()
    again = MainWindow(window.worker._factory)
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: bool(again.names), timeout=10_000)
    assert again.probes.chart.series == ["Base", "Prompted TA"]
    assert again.probes.grid.rowCount() > 0
    again.close()


def test_switching_the_course_language_reloads_the_kb(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.findChild(QAction, "lang-zh-TW").trigger()
    qtbot.waitUntil(lambda: "機器學習 2025" in window.model_label.text(), timeout=10_000)
    assert window.config.lang == "zh-TW"
    assert window.settings.value("lang") == "zh-TW"


def test_history_lists_runs_and_exports_the_selected_one(window, script, qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    script["runtimes"][0].answers.extend(["one", "two"])
    window.compare.question.setText("Who are you?")
    window.compare.ask_button.click()
    qtbot.waitUntil(lambda: "saved" in window.statusBar().currentMessage(), timeout=10_000)
    window.tabs.setCurrentWidget(window.history)
    view = window.history
    assert view.table.rowCount() == 1
    assert view.export_selected("csv", tmp_path / "x.csv") is None  # nothing selected yet
    assert "Select a run" in view.result.text()
    view.table.selectRow(0)
    out = view.export_selected("csv", tmp_path / "x.csv")
    assert out is not None
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["answer"] for r in rows] == ["one", "two"]
    assert f"written to {out}" in view.result.text()


def test_training_before_a_model_has_loaded_is_refused_in_the_banner(window) -> None:  # type: ignore[no-untyped-def]
    window.info = None  # as before the first load finishes
    window._start_training({})
    assert window.banner.isVisibleTo(window) and "Load a model before training" in window.banner.text()
    assert not window.trainer.running()
