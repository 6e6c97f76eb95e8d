"""Run the training subprocess and turn its JSON lines into callbacks.

Used by the CLI; the desktop drives the same command through QProcess. Cancel
terminates the child (then kills it after a grace period); the adapter file
is only replaced when training finished, so nothing is lost.

The child runs in its own session (process group on Windows): Ctrl+C in a
terminal goes to the whole foreground group, and a trainer that died of it
before the parent noticed the cancel made the CLI report a crash instead of
"Cancelled". Now only the parent sees Ctrl+C and stops the child itself (a
trainer whose parent died anyway fails on its next progress line: broken pipe).
Its stderr is drained on a thread while stdout is read, so a chatty child can
never fill one pipe while the parent waits on the other.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from engine.errors import Cancelled, TalabError
from engine.finetune.registry import discard_staged
from engine.finetune.train import TrainSpec

Event = dict[str, Any]
KILL_AFTER_S = 5.0
#: stderr lines kept for the error message (a traceback's last line is the one that says what broke)
STDERR_LINES = 20
CANCELLED_MESSAGE = "Training cancelled; the previous adapter (if any) is unchanged"


@dataclass(frozen=True)
class JobKind:
    """What differs between the torch subprocesses (training, model editing): program and words."""

    module: str  # run as ``python -m MODULE --spec FILE``
    worker_flag: str  # the frozen app's switch that runs the same worker
    noun: str  # "the {noun} process was killed"
    failed: str  # prefix of a reported error
    cancelled: str  # the whole cancel message
    unchanged: str  # what a failure leaves, ending every failure message


TRAINING = JobKind(
    module="engine.finetune.train",
    worker_flag="--train-worker",
    noun="training",
    failed="Training failed",
    cancelled=CANCELLED_MESSAGE,
    unchanged="the previous adapter (if any) is unchanged",
)


def command(spec_file: Path, kind: JobKind = TRAINING) -> list[str]:
    """The worker's command line; in the installed (frozen) app the app binary is the worker."""
    if getattr(sys, "frozen", False):
        return [sys.executable, kind.worker_flag, "--spec", str(spec_file)]
    return [sys.executable, "-m", kind.module, "--spec", str(spec_file)]


def last_line(lines: Iterable[str]) -> str:
    """The last non-blank line, shortened: enough to name the failure, never a whole traceback."""
    text = next((line.strip() for line in reversed(list(lines)) if line.strip()), "no output")
    return text if len(text) <= 300 else text[:297] + "..."


def stopped_message(
    code: int, stderr_tail: str, *, killed_by: int | None = None, kind: JobKind = TRAINING
) -> str:
    """One line for a worker that ended without ``done`` or ``error`` (crash, kill, out of memory)."""
    if killed_by is not None:
        try:
            name = signal.Signals(killed_by).name
        except ValueError:
            name = f"signal {killed_by}"
        return (
            f"The {kind.noun} process was killed ({name}), perhaps because the computer ran out of "
            f"memory; {kind.unchanged}"
        )
    return f"The {kind.noun} process stopped unexpectedly (exit {code}): {stderr_tail}; {kind.unchanged}"


def _own_group() -> dict[str, Any]:
    if sys.platform == "win32":  # the new group ignores the console's Ctrl+C
        return {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
    return {"start_new_session": True}


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(KILL_AFTER_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _drain(stream: IO[str], tail: deque[str]) -> None:
    for line in stream:
        tail.append(line[:1000])


def _watch(
    proc: subprocess.Popen[str], should_cancel: Callable[[], bool], cancelled: threading.Event
) -> None:
    while proc.poll() is None:
        if should_cancel():
            cancelled.set()
            _stop(proc)
            return
        threading.Event().wait(0.1)


def _read_events(stream: IO[str], on_event: Callable[[Event], None] | None) -> Event:
    last: Event = {}
    for line in stream:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        last = event
        if on_event is not None:
            on_event(event)
    return last


def run_training(
    spec: TrainSpec,
    on_event: Callable[[Event], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    *,
    program: list[str] | None = None,
) -> Event:
    """Block until training ends; return the ``done`` event or raise a clear one-line error.

    ``program`` replaces the trainer's command line up to the spec file (tests use a scripted
    trainer). A KeyboardInterrupt here (no SIGINT handler installed) also counts as a cancel.
    """
    return run_job(TRAINING, spec.to_json(), Path(spec.out_path), on_event, should_cancel, program=program)


def run_job(
    kind: JobKind,
    spec_json: str,
    out: Path,
    on_event: Callable[[Event], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    *,
    program: list[str] | None = None,
) -> Event:
    """Run one worker of ``kind`` on a spec until it ends (see :func:`run_training`)."""
    from engine.paths import REPO_ROOT

    cancelled = threading.Event()
    tail: deque[str] = deque(maxlen=STDERR_LINES)
    with tempfile.TemporaryDirectory(prefix="talab-job-") as tmp:
        spec_file = Path(tmp) / "spec.json"
        spec_file.write_text(spec_json, encoding="utf-8")
        argv = (program or command(spec_file, kind)[:-1]) + [str(spec_file)]
        with subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
            errors="replace", cwd=REPO_ROOT, **_own_group(),
        ) as proc:  # fmt: skip
            assert proc.stdout is not None and proc.stderr is not None
            threads = [threading.Thread(target=_drain, args=(proc.stderr, tail), daemon=True)]
            if should_cancel is not None:
                threads.append(
                    threading.Thread(target=_watch, args=(proc, should_cancel, cancelled), daemon=True)
                )
            for t in threads:
                t.start()
            last: Event = {}
            try:
                last = _read_events(proc.stdout, on_event)
                code = proc.wait()
            except KeyboardInterrupt:
                cancelled.set()
                _stop(proc)
                code = proc.wait()
            except BaseException:
                _stop(proc)  # never leave a trainer running behind an error
                raise
            finally:
                for t in threads:
                    t.join()
    if last.get("event") == "done" and code == 0:
        return last
    discard_staged(out)  # what a kill during export left behind
    asked = cancelled.is_set() or (should_cancel is not None and should_cancel())
    if asked or last.get("event") == "cancelled":
        raise Cancelled(kind.cancelled)
    if last.get("event") == "error":
        raise TalabError(f"{kind.failed}: {last.get('message')}")
    killed_by = -code if code < 0 else None
    raise TalabError(stopped_message(code, last_line(tail), killed_by=killed_by, kind=kind))
