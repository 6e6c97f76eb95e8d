"""Compare end to end on the real default model: llama.cpp on the worker thread, real SQLite."""

from __future__ import annotations

import pytest

from engine.store import open_store

pytestmark = pytest.mark.integration


def test_real_model_answers_in_every_column(qtbot) -> None:  # type: ignore[no-untyped-def]
    from desktop.app import MainWindow, settings

    s = settings()
    s.setValue("max_tokens", 12)  # short answers keep the test quick
    s.sync()
    window = MainWindow()  # the default Lab: SmolLM2 through llama.cpp
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: bool(window.names), timeout=60_000)
    assert "SmolLM2" in window.model_label.text()
    window.compare.question.setText("Who are you?")
    window.compare.ask_button.click()
    cols = window.compare.columns
    qtbot.waitUntil(lambda: bool(cols) and all(c.stats.text() for c in cols.values()), timeout=60_000)
    assert list(cols) == ["base", "prompted"]
    for column in cols.values():
        assert column.text.toPlainText().strip()  # real text, streamed then finished
        assert "tokens" in column.stats.text() and "first token" in column.stats.text()
    assert cols["prompted"].setup.text().startswith("system prompt ✓")
    answers = open_store().answers(open_store().list_runs(1)[0]["id"])
    assert [a["persona_id"] for a in answers] == ["base", "prompted"]
    assert all(a["params"]["max_tokens"] == 12 for a in answers)
    window.close()
