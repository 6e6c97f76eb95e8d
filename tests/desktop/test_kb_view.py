"""Course KB tab: problems with field and line, Save refused on errors, saved edits reach the personas."""

from __future__ import annotations

import re
from typing import Any

import pytest
from PySide6.QtCore import Qt

from engine.kb import shipped_kb_path, user_kb_path


def _kb_tab(window: Any, qtbot: Any) -> Any:
    window.tabs.setCurrentWidget(window.kb_view)
    view = window.kb_view
    qtbot.waitUntil(lambda: "/" in view.tokens.text() and "…" not in view.tokens.text(), timeout=5000)
    return view


def _counted(view: Any) -> int:
    """The model's count shown in the preview heading; -1 while counting or estimating."""
    found = re.match(r"(\d+) / ", view.tokens.text())
    return int(found.group(1)) if found else -1


def _edit(view: Any, qtbot: Any, old: str, new: str) -> None:
    text = view.editor.toPlainText()
    assert old in text
    view.editor.setPlainText(text.replace(old, new, 1))
    # validation is debounced: it happens by itself shortly after typing stops
    qtbot.waitUntil(lambda: not view._timer.isActive(), timeout=3000)


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform, when the window is shown
def test_invalid_edit_lists_field_and_line_and_save_is_refused(window: Any, qtbot: Any) -> None:
    view = _kb_tab(window, qtbot)
    shipped = shipped_kb_path(lang="en").read_bytes()
    line = next(i for i, s in enumerate(view.editor.toPlainText().splitlines(), 1) if "week: 1," in s)
    _edit(view, qtbot, "week: 1,", "week: first,")

    problems = [view.problems.item(i).text() for i in range(view.problems.count())]
    assert any(f"line {line}" in p and "schedule.0.week" in p for p in problems), problems
    assert line in view.error_lines()
    assert not view.save_button.isEnabled()

    window.show()
    window.activateWindow()
    view.editor.setFocus()
    qtbot.waitUntil(view.editor.hasFocus, timeout=3000)
    qtbot.keyClick(view.editor, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert "Not saved" in view.status.text()
    assert not user_kb_path(lang="en").exists()
    assert shipped_kb_path(lang="en").read_bytes() == shipped


def test_clicking_a_problem_moves_the_cursor_to_its_line(window: Any, qtbot: Any) -> None:
    view = _kb_tab(window, qtbot)
    _edit(view, qtbot, "weight: 80", "weight: 81")
    item = view.problems.item(0)
    assert "grading weights add up to 101" in item.text()
    view.problems.itemClicked.emit(item)
    assert view.editor.textCursor().block().text().startswith("grading:")


def test_valid_edit_saves_a_copy_and_the_prompted_persona_uses_it(window: Any, qtbot: Any) -> None:
    view = _kb_tab(window, qtbot)
    shipped = shipped_kb_path(lang="en").read_bytes()
    before = view.tokens.text()
    _edit(view, qtbot, "name: Xiao Jin", "name: Professor Pickles the Helpful")
    assert "Professor Pickles" in view.preview.toPlainText()
    qtbot.waitUntil(lambda: view.tokens.text() != before and "…" not in view.tokens.text(), timeout=5000)
    assert view.tokens.text().endswith(f"/ {window.info.n_ctx} tokens")  # the model's count, not a guess

    assert view.save()
    assert "Professor Pickles" in user_kb_path(lang="en").read_text(encoding="utf-8")
    assert shipped_kb_path(lang="en").read_bytes() == shipped
    assert not list(user_kb_path(lang="en").parent.glob("*.tmp"))  # the atomic write left no temp file
    qtbot.waitUntil(lambda: window.info.kb == str(user_kb_path(lang="en")), timeout=10_000)

    window._ask("Who are you?", ["prompted"])
    qtbot.waitUntil(lambda: "saved as run" in window.statusBar().currentMessage(), timeout=10_000)
    from engine.store import open_store

    store = open_store()
    answers = store.answers(int(window.statusBar().currentMessage().rsplit(" ", 1)[-1]))
    store.close()
    assert "Professor Pickles" in answers[0]["prompt"]  # what the model was actually given


def test_revert_goes_back_to_the_shipped_kb_and_keeps_a_backup(window: Any, qtbot: Any) -> None:
    view = _kb_tab(window, qtbot)
    _edit(view, qtbot, "name: Xiao Jin", "name: Someone Else")
    assert view.save()
    qtbot.waitUntil(lambda: window.info.kb == str(user_kb_path(lang="en")), timeout=10_000)
    view.revert()
    assert not user_kb_path(lang="en").exists()
    assert "Someone Else" in user_kb_path(lang="en").with_suffix(".yaml.bak").read_text(encoding="utf-8")
    assert "name: Xiao Jin" in view.editor.toPlainText()
    qtbot.waitUntil(lambda: window.info.kb == str(shipped_kb_path(lang="en")), timeout=10_000)


def test_switching_language_keeps_unsaved_edits(window: Any, qtbot: Any) -> None:
    view = _kb_tab(window, qtbot)
    _edit(view, qtbot, "name: Xiao Jin", "name: Draft Name")
    view.language.setCurrentIndex(view.language.findData("zh-TW"))
    assert "language: zh-TW" in view.editor.toPlainText()
    assert "小金" in view.preview.toPlainText()
    view.language.setCurrentIndex(view.language.findData("en"))
    assert "name: Draft Name" in view.editor.toPlainText()


def test_wrong_language_in_a_slot_is_an_error(window: Any, qtbot: Any) -> None:
    view = _kb_tab(window, qtbot)
    _edit(view, qtbot, "language: en", "language: zh-TW")
    assert any("language" in view.problems.item(i).text() for i in range(view.problems.count()))
    assert not view.save()


def test_the_course_language_switch_brings_the_kb_of_that_language(window: Any, qtbot: Any) -> None:
    view = _kb_tab(window, qtbot)
    window.set_language("zh-TW")
    assert "language: zh-TW" in view.editor.toPlainText()
    qtbot.waitUntil(lambda: window.info.kb.endswith("zh-TW.yaml"), timeout=10_000)


@pytest.mark.integration
def test_real_model_counts_the_preview_and_gets_the_threads_setting(qtbot: Any) -> None:
    """The default model, not the fake: the count is its tokenizer's, the threads are the setting's."""
    import sys
    from pathlib import Path

    from desktop.app import MainWindow, settings

    settings().setValue("n_threads", 1)
    trainer = [sys.executable, str(Path(__file__).resolve().parent.parent / "fake_trainer.py"), "--spec"]
    win = MainWindow(trainer_program=trainer)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: bool(win.names), timeout=30_000)
    try:
        view = _kb_tab(win, qtbot)
        assert view.tokens.text() == f"{win.info.prompt_tokens} / {win.info.n_ctx} tokens"
        lab = win.worker.lab
        assert lab is not None and lab.runtime.n_threads == 1
        _edit(view, qtbot, "name: Xiao Jin", "name: Xiao Jin the Extraordinarily Long-Named Assistant")
        first = win.info.prompt_tokens
        qtbot.waitUntil(lambda: _counted(view) > first, timeout=20_000)
    finally:
        win.close()
