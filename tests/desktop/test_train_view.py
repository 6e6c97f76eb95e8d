"""The Train tab drives a (scripted) training subprocess through QProcess."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from desktop.job_process import KILL_AFTER_MS


def test_training_shows_progress_then_enables_the_finetuned_personas(window, qtbot, talab_home: Path) -> None:  # type: ignore[no-untyped-def]
    assert not window.compare.picker.boxes["finetuned"].isEnabled()
    window.tabs.setCurrentWidget(window.train)
    window.train.epochs.setValue(3)
    window.train.train_button.click()
    assert window.train.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: window.worker.threads == 1, timeout=5_000)  # a core left to the trainer
    qtbot.waitUntil(lambda: window.train.status.text().startswith("Done"), timeout=15_000)
    qtbot.waitUntil(lambda: window.worker.threads == 0, timeout=5_000)
    assert (
        "final loss 0.100" in window.train.status.text()
        and "peak memory 1.0 GB" in window.train.status.text()
    )
    assert window.train.losses == [1.0, 0.5, 1 / 3]
    assert (talab_home / "adapters" / "xiaojin.gguf").exists()
    qtbot.waitUntil(lambda: window.compare.picker.boxes["finetuned"].isEnabled(), timeout=10_000)
    assert window.train.train_button.isEnabled()


def test_cancel_terminates_training_and_keeps_the_old_adapter(window, qtbot, talab_home: Path) -> None:  # type: ignore[no-untyped-def]
    old = talab_home / "adapters" / "xiaojin.gguf"
    old.parent.mkdir(parents=True, exist_ok=True)
    old.write_bytes(b"previous")
    window.train.epochs.setValue(50)
    window.train.train_button.click()
    qtbot.waitUntil(lambda: window.train.progress.value() >= 1, timeout=15_000)
    window.train.cancel_button.click()
    qtbot.waitUntil(lambda: window.train.status.text().startswith("Cancelled"), timeout=10_000)
    assert old.read_bytes() == b"previous"
    assert not window.trainer.running()


def test_a_failed_training_is_reported_in_the_banner(window, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window.train.kb_paths = [str(tmp_path / "fail.yaml")]  # the scripted trainer fails on it
    window.train.train_button.click()
    qtbot.waitUntil(lambda: window.banner.isVisibleTo(window), timeout=15_000)
    assert "Training failed: the knowledge base is broken" in window.banner.text()
    assert "unchanged" in window.train.status.text()


@pytest.fixture
def old_adapter(talab_home: Path) -> Path:
    from engine.finetune.registry import write_manifest

    adapter = talab_home / "adapters" / "xiaojin.gguf"
    adapter.parent.mkdir(parents=True, exist_ok=True)
    adapter.write_bytes(b"previous")
    write_manifest(adapter, {"final_loss": 0.5})
    return adapter


def _still_the_old(adapter: Path) -> bool:
    manifest = adapter.with_suffix(".json").read_text(encoding="utf-8")
    return (
        adapter.read_bytes() == b"previous"
        and '"final_loss": 0.5' in manifest
        and not list(adapter.parent.glob("*.partial*"))
    )


def test_a_crashed_trainer_is_reported_readably_and_the_old_adapter_stays(  # type: ignore[no-untyped-def]
    window, qtbot, old_adapter: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALAB_FAKE_TRAINER", "crash")  # after one step, like a crash during export
    window.train.train_button.click()
    qtbot.waitUntil(lambda: window.banner.isVisibleTo(window), timeout=15_000)
    banner = window.banner.text()
    assert "The training process stopped unexpectedly (exit 3): RuntimeError: fake crash" in banner
    assert "Traceback" not in banner and "\n" not in banner
    assert "unchanged" in window.train.status.text() and window.train.train_button.isEnabled()
    assert _still_the_old(old_adapter)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_trainer_killed_mid_run_is_reported_and_the_old_adapter_stays(  # type: ignore[no-untyped-def]
    window, qtbot, old_adapter: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALAB_FAKE_TRAINER", "hang")
    window.train.train_button.click()
    qtbot.waitUntil(lambda: window.train.progress.value() >= 1, timeout=15_000)
    os.kill(window.trainer._proc.processId(), signal.SIGKILL)  # as the out-of-memory killer would
    qtbot.waitUntil(lambda: window.banner.isVisibleTo(window), timeout=10_000)
    assert "The training process was killed (SIGKILL)" in window.banner.text()
    assert "unchanged" in window.train.status.text() and not window.trainer.running()
    assert _still_the_old(old_adapter)


def test_closing_the_window_stops_a_running_training(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.train.epochs.setValue(50)
    window.train.train_button.click()
    qtbot.waitUntil(lambda: window.train.progress.value() >= 1, timeout=15_000)
    window.close()
    assert not window.trainer.running()
    qtbot.wait(KILL_AFTER_MS + 300)  # the kill timer must not fire on a deleted process


def test_the_dataset_preview_shows_the_kb_examples_and_an_edit_is_trained_on(  # type: ignore[no-untyped-def]
    window, qtbot, talab_home: Path
) -> None:
    view = window.train
    qtbot.waitUntil(lambda: "examples" in view.dataset_info.text(), timeout=10_000)
    assert "identity" in view.dataset_info.text() and "built from the course KB" in view.dataset_info.text()
    lines = view.dataset.toPlainText().splitlines()
    assert '"kind": "identity"' in lines[0] and "Xiao Jin" in lines[0]
    assert any('"lang": "zh-TW"' in line for line in lines)  # both languages teach the identity

    view.dataset.setPlainText("\n".join([lines[0], "{broken"]))
    assert ":2: not valid JSON" in view.dataset_info.text()
    view.train_button.click()
    assert "Fix the training data first" in view.status.text() and not window.trainer.running()

    view.dataset.setPlainText(lines[0])
    assert "1 examples (1 identity)" in view.dataset_info.text() and "edited" in view.dataset_info.text()
    started: list[dict] = []
    view.train.connect(started.append)
    view.epochs.setValue(1)
    view.train_button.click()
    saved = talab_home / "datasets" / "xiaojin-edited.jsonl"
    assert started[0]["dataset_path"] == str(saved) and saved.read_text(encoding="utf-8") == lines[0] + "\n"
    qtbot.waitUntil(lambda: view.status.text().startswith("Done"), timeout=15_000)

    view.rebuild.click()
    assert view.dataset.toPlainText().splitlines() == lines


def test_first_launch_offers_to_train_and_base_answers_meanwhile(
    window, qtbot, talab_home: Path, script
) -> None:  # type: ignore[no-untyped-def]
    assert window.offer.isVisibleTo(window)  # no adapter on a fresh machine
    window.train.epochs.setValue(3)
    window.offer.train_now.click()
    assert window.tabs.currentWidget() is window.train and window.trainer.running()
    assert not window.offer.isVisibleTo(window)
    script["runtimes"][0].answers.extend(["Base answers while the adapter trains."])
    window.compare.question.setText("Hello?")
    window.compare.ask_button.click()
    column = lambda: window.compare.columns["base"].text.toPlainText()  # noqa: E731
    qtbot.waitUntil(lambda: "base" in window.compare.columns and "adapter trains" in column(), timeout=10_000)
    qtbot.waitUntil(lambda: window.compare.picker.boxes["finetuned"].isEnabled(), timeout=15_000)
    assert not window.offer.isVisibleTo(window)


def test_not_now_is_remembered_across_restarts(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from desktop.app import MainWindow

    window.offer.later.click()
    assert not window.offer.isVisibleTo(window)
    window.close()
    again = MainWindow(window.worker._factory)
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: bool(again.names), timeout=10_000)
    assert not again.offer.isVisibleTo(again)
    again.close()


@pytest.fixture
def trained_before(talab_home: Path) -> list[float]:
    """An adapter and its manifest from an earlier session, as the trainer writes them."""
    from engine.finetune.registry import write_manifest

    adapter = talab_home / "adapters" / "xiaojin.gguf"
    adapter.parent.mkdir(parents=True, exist_ok=True)
    adapter.write_bytes(b"an adapter from last week")
    curve = [2.5, 1.25, 0.75, 0.5]
    write_manifest(adapter, {"loss_curve": curve, "final_loss": curve[-1]})
    return curve


def test_after_a_restart_the_train_tab_shows_the_current_adapters_loss_curve(trained_before, window) -> None:  # type: ignore[no-untyped-def]
    assert window.train.losses == trained_before
    assert window.train.chart.values == trained_before
    assert "xiaojin.gguf" in window.train.adapter.text()


def test_the_train_tab_words_each_adapter_state(tmp_path: Path) -> None:
    from desktop.views.train import adapter_text
    from engine.adapters import AdapterStatus

    path = tmp_path / "xiaojin.gguf"
    assert adapter_text(AdapterStatus(path, "missing")).startswith(f"No adapter at {path} yet")
    assert adapter_text(AdapterStatus(path, "unusable", error="not a GGUF file")) == (
        f"The adapter at {path} is unusable: not a GGUF file"
    )
    trained = AdapterStatus(path, "ready", saved="2026-11-25 10:00", steps="24", final_loss="1.0397")
    assert (
        adapter_text(trained)
        == f"Current adapter: {path} (saved 2026-11-25 10:00, 24 steps, final loss 1.0397)"
    )
    assert adapter_text(AdapterStatus(path, "ready", saved="2026-11-25 10:00")) == (
        f"Current adapter: {path} (saved 2026-11-25 10:00)"
    )
