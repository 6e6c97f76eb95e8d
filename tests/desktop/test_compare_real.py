"""Compare end to end on the real default model: llama.cpp on the worker thread, real SQLite."""

from __future__ import annotations

import pytest

from engine.store import open_store
from tests.desktop.gaps import ask_three_columns

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
    qtbot.waitUntil(
        lambda: bool(cols) and all("tok/s" in c.stats.text() for c in cols.values()), timeout=60_000
    )
    assert list(cols) == ["base", "prompted"]
    for column in cols.values():
        assert column.text.toPlainText().strip()  # real text, streamed then finished
        assert "tokens" in column.stats.text() and "first token" in column.stats.text()
    assert cols["prompted"].setup.text().startswith("system prompt ✓")
    answers = open_store().answers(open_store().list_runs(1)[0]["id"])
    assert [a["persona_id"] for a in answers] == ["base", "prompted"]
    assert all(a["params"]["max_tokens"] == 12 for a in answers)
    window.close()


def test_real_model_streams_three_columns_without_freezing_the_window(qtbot, lora_file, talab_home) -> None:  # type: ignore[no-untyped-def]
    """llama.cpp decodes on the worker thread; the GUI thread only appends tokens and keeps ticking."""
    import shutil

    from desktop.app import MainWindow, settings

    (talab_home / "adapters").mkdir(parents=True)
    shutil.copy(lora_file, talab_home / "adapters" / "xiaojin.gguf")  # a random LoRA: a real adapter swap
    s = settings()
    s.setValue("max_tokens", 48)
    s.setValue("personas", ["base", "prompted", "finetuned"])
    # one llama.cpp thread: with a thread per core, any other busy process on the machine makes
    # llama.cpp's spinning threads crawl (seen at 1 tok/s); what is measured here is the GUI thread
    s.setValue("n_threads", 1)
    s.sync()
    window = MainWindow()
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: bool(window.names), timeout=60_000)
    assert window.compare.picker.selected() == ["base", "prompted", "finetuned"]
    gaps = ask_three_columns(window, qtbot, "Write a short poem about the sea.", 120_000)
    cols = window.compare.columns
    assert all(c.text.toPlainText().strip() for c in cols.values())
    assert "adapter xiaojin ×1" in cols["finetuned"].setup.text()
    worst = gaps.worst
    print(
        f"max event-loop gap while 3 real columns streamed: {worst * 1000:.0f} ms over {len(gaps.gaps)} ticks"
    )
    assert worst < 0.1, f"the event loop stalled for {worst * 1000:.0f} ms"
    window.close()
