"""The Train tab drives a (scripted) training subprocess through QProcess."""

from __future__ import annotations

from pathlib import Path

from desktop.training import KILL_AFTER_MS


def test_training_shows_progress_then_enables_the_finetuned_personas(window, qtbot, talab_home: Path) -> None:  # type: ignore[no-untyped-def]
    assert not window.compare.picker.boxes["finetuned"].isEnabled()
    window.tabs.setCurrentWidget(window.train)
    window.train.steps.setValue(3)
    window.train.train_button.click()
    assert window.train.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: window.train.status.text().startswith("Done"), timeout=15_000)
    assert window.train.progress.value() == window.train.progress.maximum() == 3
    assert (talab_home / "adapters" / "xiaojin.gguf").exists()
    qtbot.waitUntil(lambda: window.compare.picker.boxes["finetuned"].isEnabled(), timeout=10_000)
    assert window.train.train_button.isEnabled()


def test_cancel_terminates_training_and_keeps_the_old_adapter(window, qtbot, talab_home: Path) -> None:  # type: ignore[no-untyped-def]
    old = talab_home / "adapters" / "xiaojin.gguf"
    old.parent.mkdir(parents=True, exist_ok=True)
    old.write_bytes(b"previous")
    window.train.steps.setValue(200)
    window.train.train_button.click()
    qtbot.waitUntil(lambda: window.train.progress.value() >= 1, timeout=15_000)
    window.train.cancel_button.click()
    qtbot.waitUntil(lambda: window.train.status.text().startswith("Cancelled"), timeout=10_000)
    assert old.read_bytes() == b"previous"
    assert not window.trainer.running()


def test_a_failed_training_is_reported_in_the_banner(window, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window.info = {**window.info, "kb": str(tmp_path / "fail.yaml")}
    window.train.train_button.click()
    qtbot.waitUntil(lambda: window.banner.isVisibleTo(window), timeout=15_000)
    assert "Training failed: the knowledge base is broken" in window.banner.text()
    assert "unchanged" in window.train.status.text()


def test_closing_the_window_stops_a_running_training(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.train.steps.setValue(200)
    window.train.train_button.click()
    qtbot.waitUntil(lambda: window.train.progress.value() >= 1, timeout=15_000)
    window.close()
    assert not window.trainer.running()
    qtbot.wait(KILL_AFTER_MS + 300)  # the kill timer must not fire on a deleted process
