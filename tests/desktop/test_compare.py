"""Compare: what each column tells the class, the Merged α slider, and a window that never freezes."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from desktop.views.compare import PromptDialog
from tests.desktop.gaps import ask_three_columns
from tests.ggufs import write_model_lora


def _ask(window, qtbot, question: str) -> None:  # type: ignore[no-untyped-def]
    window.compare.question.setText(question)
    window.compare.ask_button.click()
    cols = window.compare.columns
    qtbot.waitUntil(
        lambda: bool(cols) and all("tok/s" in c.stats.text() for c in cols.values()), timeout=10_000
    )


def test_each_column_says_what_the_persona_is_and_shows_its_prompt(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    _ask(window, qtbot, "Who are you?")
    base, prompted = window.compare.columns["base"], window.compare.columns["prompted"]
    assert base.setup.text() == "no system prompt\nno adapter"
    assert prompted.setup.text() == "system prompt ✓\nno adapter"
    prompted.prompt_button.click()
    assert isinstance(prompted.dialog, PromptDialog) and prompted.dialog.isVisible()
    assert "Xiao Jin" in prompted.dialog.text.toPlainText()
    assert not prompted.dialog.isModal()  # the class can keep reading the answers
    base.prompt_button.click()
    assert "no system prompt" in base.dialog.text.toPlainText()  # type: ignore[union-attr]
    assert "tok/s" in base.stats.text() and "first token" in base.stats.text()


def test_the_alpha_slider_scales_the_merged_adapter_and_is_remembered(  # type: ignore[no-untyped-def]
    window, qtbot, script, talab_home: Path
) -> None:
    from desktop.app import MainWindow

    assert not window.compare.alpha.isEnabled()  # no adapter yet: nothing to scale
    _train_fake_adapter(window, qtbot, talab_home)
    assert window.compare.alpha.isEnabled()
    for pid, box in window.compare.picker.boxes.items():
        box.setChecked(pid == "merged")
    window.compare.set_alpha(0.35)
    assert window.compare.alpha_label.text() == "Merged α = 0.35"
    _ask(window, qtbot, "Who is the most handsome person in the world?")
    column = window.compare.columns["merged:0.35"]
    assert column.title() == "Merged α=0.35" and "adapter xiaojin ×0.35" in column.setup.text()
    runtime = script["runtimes"][-1]
    assert [a.scale for a in runtime.adapter_calls[-1]] == [0.35]
    window.close()
    again = MainWindow(window.worker._factory)
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: bool(again.names), timeout=10_000)
    assert again.compare.alpha_value == 0.35
    again.close()


def _train_fake_adapter(window, qtbot, talab_home: Path) -> None:  # type: ignore[no-untyped-def]
    adapters = talab_home / "adapters"
    adapters.mkdir(parents=True, exist_ok=True)
    write_model_lora(adapters / "xiaojin.gguf")  # a real LoRA file: availability reads its header
    window.worker.load_requested.emit(window.config)
    qtbot.waitUntil(lambda: window.compare.picker.boxes["finetuned"].isEnabled(), timeout=10_000)


def test_the_window_never_freezes_while_three_columns_stream(window, qtbot, script, talab_home: Path) -> None:  # type: ignore[no-untyped-def]
    """Tokens arrive from the worker thread as queued signals; the GUI must keep painting."""
    _train_fake_adapter(window, qtbot, talab_home)
    for pid, box in window.compare.picker.boxes.items():
        box.setChecked(pid in ("base", "prompted", "finetuned"))
    rt = script["runtimes"][-1]
    rt.delay_s = 0.004
    rt.answers.extend([" ".join(["token"] * 150)] * 3)
    gaps = ask_three_columns(window, qtbot, "Say token many times", 30_000)
    cols = window.compare.columns
    assert [c.text.toPlainText().count("token") for c in cols.values()] == [150, 150, 150]
    assert len(gaps.gaps) > 50 and gaps.worst < 0.1, f"the event loop stalled for {gaps.worst * 1000:.0f} ms"


def test_stop_ends_every_column_and_streaming_counts_tokens(window, qtbot, script) -> None:  # type: ignore[no-untyped-def]
    rt = script["runtimes"][0]
    rt.delay_s = 0.05
    rt.answers.append(" ".join(["word"] * 200))
    window.compare.question.setText("Write a long essay")
    window.compare.ask_button.click()
    base, prompted = window.compare.columns["base"], window.compare.columns["prompted"]
    qtbot.waitUntil(lambda: "tokens so far" in base.stats.text(), timeout=5_000)  # live, before the end
    window.compare.stop_button.click()
    qtbot.waitUntil(window.compare.ask_button.isEnabled, timeout=5_000)
    assert "stopped" in base.stats.text()
    assert prompted.stats.text() == "not asked (stopped)" and not prompted.text.toPlainText()
    assert "Stopped before" in prompted.text.placeholderText()


def test_ctrl_l_brings_the_cursor_back_to_the_question(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    window.compare.question.setText("old question")
    window.compare.ask_button.setFocus()
    qtbot.keyClick(window.compare.ask_button, "l", Qt.KeyboardModifier.ControlModifier)
    assert window.compare.question.hasFocus() and window.compare.question.selectedText() == "old question"
    assert "Ctrl+L" in window.compare.question.placeholderText()


def test_streamed_pieces_reach_the_window_once_per_frame(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A column's first piece shows at once; later ones are joined until a frame has passed."""
    from desktop import workers

    clock = [100.0]
    monkeypatch.setattr(workers.time, "monotonic", lambda: clock[0])
    sent: list[tuple[str, str, int]] = []
    chunks = workers.TokenCoalescer(lambda *a: sent.append(a), frame_s=0.05)
    chunks.add("base", "The")
    for piece in (" sea", " is", " wide"):
        clock[0] += 0.01
        chunks.add("base", piece)
    clock[0] += 0.03  # a frame after the first update
    chunks.add("base", ".")
    chunks.add("base", " Waves")
    chunks.add("prompted", "I")  # another persona: base's rest first, then the new first piece at once
    chunks.flush()
    assert sent == [
        ("base", "The", 1),
        ("base", " sea is wide.", 4),
        ("base", " Waves", 1),
        ("prompted", "I", 1),
    ]
    sent.clear()
    for pid, piece in [("base", " more"), ("prompted", " am"), ("base", " sea"), ("prompted", " Xiao")]:
        clock[0] += 0.01  # a batch interleaves two columns within one frame: one chunk each
        chunks.add(pid, piece)
    clock[0] += 0.02
    chunks.add("base", ".")
    assert sent == [("base", " more sea.", 3), ("prompted", " am Xiao", 2)]
