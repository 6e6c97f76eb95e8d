"""The job runner against a scripted trainer that crashes, is killed, floods stderr or gets Ctrl+C.

The scripted trainer (tests/fake_trainer.py) answers in a fraction of a second, so
these run without torch; the real trainer's own Ctrl+C handling is tested by
calling its ``main`` in-process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from engine.errors import Cancelled, TalabError
from engine.finetune import events as ev
from engine.finetune.process import run_training
from engine.finetune.registry import write_manifest
from engine.finetune.train import TrainSpec

REPO = Path(__file__).resolve().parents[2]
FAKE = REPO / "tests" / "fake_trainer.py"
PROGRAM = [sys.executable, str(FAKE), "--spec"]
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


@pytest.fixture
def previous(talab_home: Path) -> Path:
    """An adapter and manifest from an earlier run, which no failure may touch."""
    adapter = talab_home / "adapters" / "xiaojin.gguf"
    adapter.parent.mkdir(parents=True)
    adapter.write_bytes(b"previous adapter")
    write_manifest(adapter, {"final_loss": 0.5})
    return adapter


def _unchanged(adapter: Path) -> bool:
    manifest = json.loads(adapter.with_suffix(".json").read_text(encoding="utf-8"))
    leftovers = list(adapter.parent.glob("*.partial*"))
    return adapter.read_bytes() == b"previous adapter" and manifest == {"final_loss": 0.5} and not leftovers


def _spec(adapter: Path, epochs: int = 3) -> TrainSpec:
    return TrainSpec(model_path="unused.gguf", out_path=str(adapter), kb_paths=["kb.yaml"], epochs=epochs)


def _gone(pid: int, within_s: float = 5.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_a_trainer_that_crashes_is_reported_in_one_line_and_the_old_adapter_stays(
    previous: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALAB_FAKE_TRAINER", "crash")  # also leaves a half-written adapter behind
    with pytest.raises(TalabError) as info:
        run_training(_spec(previous), program=PROGRAM)
    message = str(info.value)
    assert message.startswith("The training process stopped unexpectedly (exit 3): RuntimeError: fake crash")
    assert "\n" not in message and "Traceback" not in message and "unchanged" in message
    assert _unchanged(previous)


@posix_only
def test_a_trainer_killed_mid_run_is_reported_and_the_old_adapter_stays(
    previous: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALAB_FAKE_TRAINER", "hang")
    pid: list[int] = []

    def on_event(event: ev.TrainEvent) -> None:
        if isinstance(event, ev.Start):
            pid.append(event.pid)
        if isinstance(event, ev.Step):
            os.kill(pid[0], signal.SIGKILL)  # what the kernel's out-of-memory killer does

    with pytest.raises(TalabError) as info:
        run_training(_spec(previous), on_event, program=PROGRAM)
    assert str(info.value).startswith("The training process was killed (SIGKILL)")
    assert "\n" not in str(info.value)
    assert _unchanged(previous)


def test_a_trainer_flooding_stderr_cannot_deadlock_the_runner(
    previous: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """200 KB of stderr before the first step: more than a pipe buffers while stdout is read."""
    monkeypatch.setenv("TALAB_FAKE_TRAINER", "noisy,crash")
    pids: list[int] = []
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            run_training(
                _spec(previous),
                lambda e: pids.extend([e.pid] if isinstance(e, ev.Start) else []),
                program=PROGRAM,
            )
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(20)
    if worker.is_alive():  # deadlocked: free the child so the test run can go on
        os.kill(pids[0], signal.SIGKILL)
        worker.join(10)
        pytest.fail("the runner deadlocked on a full stderr pipe")
    assert isinstance(outcome[0], TalabError)
    assert "(exit 3): RuntimeError: fake crash" in str(outcome[0])  # the tail survived the flood
    assert _unchanged(previous)


@posix_only
def test_ctrl_c_in_talab_finetune_reports_cancelled_not_a_crash(previous: Path, tmp_path: Path) -> None:
    """Ctrl+C in a terminal signals the whole foreground process group; we do that with killpg."""
    ready = tmp_path / "ready"
    driver = textwrap.dedent(f"""
        import sys
        from engine.finetune import process as jobs
        jobs.command = lambda spec_file, *_: [sys.executable, {str(FAKE)!r}, "--spec", str(spec_file)]
        from engine.cli import main
        sys.exit(main(["finetune", "--epochs", "50"]))
    """)
    env = {**os.environ, "TALAB_FAKE_TRAINER_READY": str(ready)}
    with subprocess.Popen(
        [sys.executable, "-c", driver], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    ) as cli:  # fmt: skip
        deadline = time.monotonic() + 30
        while not ready.exists() and cli.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists(), cli.communicate(timeout=10)
        os.killpg(cli.pid, signal.SIGINT)
        _, err = cli.communicate(timeout=30)
    assert cli.returncode == 130, err
    assert "Training cancelled" in err and "unexpectedly" not in err and "Traceback" not in err
    assert _unchanged(previous) and not previous.with_name("xiaojin.dataset.jsonl").exists()


def test_ctrl_c_inside_the_job_runner_cancels_and_stops_the_trainer(previous: Path) -> None:
    """Without the CLI's handler, Ctrl+C is a KeyboardInterrupt in whatever the runner was doing."""
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    pid: list[int] = []

    def on_event(event: ev.TrainEvent) -> None:
        if isinstance(event, ev.Start):
            pid.append(event.pid)
        if isinstance(event, ev.Step):
            signal.raise_signal(signal.SIGINT)

    try:
        with pytest.raises(Cancelled, match="unchanged"):
            run_training(_spec(previous, epochs=50), on_event, program=PROGRAM)
    except KeyboardInterrupt:
        pytest.fail("Ctrl+C escaped the job runner", pytrace=False)
    finally:
        signal.signal(signal.SIGINT, old)
    assert _gone(pid[0])
    assert _unchanged(previous)


def test_the_trainer_itself_treats_ctrl_c_as_a_cancel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from engine.finetune import train

    def interrupted(spec: TrainSpec) -> dict[str, Any]:
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "train", interrupted)
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(_spec(tmp_path / "a.gguf").to_json(), encoding="utf-8")
    assert train.main(["--spec", str(spec_file)]) == train.EXIT_CANCELLED
    assert json.loads(capsys.readouterr().out.splitlines()[-1]) == {"event": "cancelled"}


def test_a_trainer_reporting_cancelled_is_a_cancel_for_the_runner(previous: Path, tmp_path: Path) -> None:
    script = tmp_path / "cancelled.py"
    script.write_text('print(\'{"event": "cancelled"}\', flush=True)\nraise SystemExit(130)\n')
    with pytest.raises(Cancelled):
        run_training(_spec(previous), program=[sys.executable, str(script), "--spec"])
    assert _unchanged(previous)


def test_peak_memory_is_zero_not_a_crash_where_resource_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows has no ``resource`` module; training must still run there."""
    from engine.finetune.train import peak_rss_mb

    assert peak_rss_mb() > 10
    monkeypatch.setitem(sys.modules, "resource", None)  # makes ``import resource`` raise ImportError
    assert peak_rss_mb() == 0.0  # ctypes.windll is absent here too, as on a broken Windows install


def test_one_function_classifies_how_a_training_process_ended() -> None:
    done = ev.Done(adapter="a.gguf", final_loss=0.5)
    assert ev.classify_end(done, 0, cancel_asked=True).done == done  # finished before the cancel landed
    assert ev.classify_end(ev.Step(), 0, cancel_asked=True).state == "cancelled"
    assert ev.classify_end(ev.Cancelled(), 130, cancel_asked=False).message == ev.CANCELLED_MESSAGE
    failed = ev.classify_end(ev.Error(message="bad KB"), 2, cancel_asked=False)
    assert (failed.state, failed.message) == ("failed", "Training failed: bad KB")
    crash = ev.classify_end(ev.Step(), 3, cancel_asked=False, stderr=["Traceback", "RuntimeError: boom", ""])
    assert crash.state == "failed" and "(exit 3): RuntimeError: boom;" in crash.message
    killed = ev.classify_end(None, -9, cancel_asked=False, killed_by=9)
    assert killed.message.startswith("The training process was killed (SIGKILL)")


def test_events_round_trip_as_json_lines_and_ignore_what_they_do_not_know() -> None:
    start = ev.Start(examples=3, kinds={"identity": 2, "replay": 1}, steps=6, epochs=2, pid=7)
    assert ev.parse_line(ev.to_line(start)) == start
    assert ev.parse_line('{"event": "step", "step": 2, "loss": 0.5, "added_later": 1}') == ev.Step(
        step=2, loss=0.5
    )
    assert ev.parse_line("a library printed this") is None and ev.parse_line('{"event": "nope"}') is None
