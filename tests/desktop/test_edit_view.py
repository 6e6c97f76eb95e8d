"""The Edit tab drives a scripted edit subprocess (tests/fake_editor.py) and the scripted runtime."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def _adapters(home: Path) -> list[str]:
    folder = home / "adapters"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_the_current_answer_comes_from_the_inference_worker(window, qtbot, script: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    script["runtimes"][-1].answers.append(" a man who is not only handsome")
    window.tabs.setCurrentWidget(window.edit_view)
    window.edit_view.current_button.click()
    qtbot.waitUntil(lambda: "not only handsome" in window.edit_view.current.text(), timeout=5_000)
    assert window.edit_view.current.text().startswith("Current answer (base model):")


def test_an_edit_shows_progress_then_its_persona_and_answer_without_a_restart(  # type: ignore[no-untyped-def]
    window, qtbot, talab_home: Path, script: dict[str, Any]
) -> None:
    view = window.edit_view
    assert "edit:handsome" not in window.compare.picker.boxes
    steps: list[int] = []
    window.editor.report.connect(lambda e: steps.append(e["step"]) if e["event"] == "step" else None)
    view.compute_button.click()
    assert view.cancel_button.isEnabled() and not view.compute_button.isEnabled()
    qtbot.waitUntil(lambda: view.status.text().startswith("Done"), timeout=15_000)
    assert steps == [1, 2, 3] and "edit:handsome is now in Compare and Probes" in view.status.text()
    assert _adapters(talab_home) == ["handsome.dataset.jsonl", "handsome.gguf", "handsome.json"]
    for picker in (window.compare.picker, window.probes.picker):
        qtbot.waitUntil(lambda p=picker: "edit:handsome" in p.boxes, timeout=10_000)
        assert picker.boxes["edit:handsome"].isEnabled()
    qtbot.waitUntil(lambda: "With the edit (edit:handsome)" in view.after.text(), timeout=10_000)
    assert view.table.rowCount() == 1 and view.table.item(0, 2).text() == "Prof. Lee"
    assert view.compute_button.isEnabled()
    # and it answers in Compare, in its own column
    script["runtimes"][-1].answers.append("Prof. Lee, of course.")
    for pid, box in window.compare.picker.boxes.items():
        box.setChecked(pid == "edit:handsome")
    window.compare.question.setText("Who is the most handsome person in the world?")
    window.compare.ask_button.click()
    column = window.compare.columns["edit:handsome"]
    qtbot.waitUntil(lambda: "Prof. Lee, of course." in column.text.toPlainText(), timeout=10_000)


def test_bad_input_is_one_line_and_starts_nothing(window, qtbot, talab_home: Path) -> None:  # type: ignore[no-untyped-def]
    view = window.edit_view
    view.subject.setText("smartest person")
    view.compute_button.click()
    assert view.status.text() == (
        "Fix the edit first: The subject 'smartest person' does not occur in the prompt "
        "'The most handsome person in the world is'"
    )
    assert not window.editor.running() and _adapters(talab_home) == []
    view.subject.setText("most handsome person")
    view.target.setText("")
    view.compute_button.click()
    assert "new target is empty" in view.status.text() and not window.editor.running()


def test_cancel_stops_the_edit_and_writes_nothing(window, qtbot, talab_home: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TALAB_FAKE_EDITOR", "hang")
    view = window.edit_view
    view.compute_button.click()
    qtbot.waitUntil(lambda: view.progress.value() >= 1, timeout=15_000)
    view.cancel_button.click()
    qtbot.waitUntil(lambda: view.status.text() == "Cancelled. Nothing was written.", timeout=10_000)
    assert not window.editor.running() and _adapters(talab_home) == []


@pytest.mark.parametrize(
    ("mode", "banner"),
    [("fail", "Edit failed: the model could not be loaded"),
     ("crash", "The edit process stopped unexpectedly (exit 3)")],
)  # fmt: skip
def test_a_failed_edit_is_reported_and_leaves_nothing(  # type: ignore[no-untyped-def]
    window, qtbot, talab_home: Path, monkeypatch, mode: str, banner: str
) -> None:
    monkeypatch.setenv("TALAB_FAKE_EDITOR", mode)
    window.edit_view.compute_button.click()
    qtbot.waitUntil(lambda: window.banner.isVisibleTo(window), timeout=15_000)
    assert window.banner.text().startswith(banner)
    assert window.edit_view.status.text() == "The edit did not finish; nothing was written."
    assert _adapters(talab_home) == []


def test_disable_and_delete_update_the_personas(window, qtbot, talab_home: Path) -> None:  # type: ignore[no-untyped-def]
    view = window.edit_view
    view.compute_button.click()
    qtbot.waitUntil(lambda: "edit:handsome" in window.compare.picker.boxes, timeout=15_000)
    # clear first: selectRow toggles when Qt still believes Ctrl is held (an earlier test's Ctrl+L)
    view.table.clearSelection()
    view.table.selectRow(0)
    view.toggle_button.click()
    assert view.table.item(0, 4).text() == "disabled"
    qtbot.waitUntil(lambda: not window.compare.picker.boxes["edit:handsome"].isEnabled(), timeout=10_000)
    view.table.clearSelection()
    view.table.selectRow(0)
    view.delete_button.click()
    assert view.table.rowCount() == 0 and _adapters(talab_home) == [], view.status.text()
    qtbot.waitUntil(lambda: "edit:handsome" not in window.compare.picker.boxes, timeout=10_000)
