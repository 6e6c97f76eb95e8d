"""Run the training (or model-editing) subprocess and turn its JSON lines into callbacks.

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

import subprocess
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from engine.errors import Cancelled, TalabError
from engine.finetune.events import Done, TrainEvent, classify_end, parse_line
from engine.finetune.registry import discard_staged
from engine.finetune.train import TrainSpec

KILL_AFTER_S = 5.0
#: stderr lines kept for the error message (a traceback's last line is the one that says what broke)
STDERR_LINES = 20


@dataclass(frozen=True)
class JobKind:
    """What differs between the torch subprocesses (training, model editing).

    ``parse`` turns one stdout line into an event (None: not one); ``classify`` decides how the
    run ended, as :func:`engine.finetune.events.classify_end` does for training, returning an
    object with ``state``, ``message`` and ``done``.
    """

    module: str  # run as ``python -m MODULE --spec FILE``
    worker_flag: str  # the frozen app's switch that runs the same worker
    noun: str  # "the {noun} process could not start"
    parse: Callable[[str | bytes], Any]
    classify: Callable[..., Any]


TRAINING = JobKind("engine.finetune.train", "--train-worker", "training", parse_line, classify_end)


def command(spec_file: Path, kind: JobKind = TRAINING) -> list[str]:
    """The worker's command line; in the installed (frozen) app the app binary is the worker."""
    if getattr(sys, "frozen", False):
        return [sys.executable, kind.worker_flag, "--spec", str(spec_file)]
    return [sys.executable, "-m", kind.module, "--spec", str(spec_file)]


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


def _read_events(
    stream: IO[str], on_event: Callable[[Any], None] | None, parse: Callable[[str | bytes], Any]
) -> Any:
    last: Any = None
    for line in stream:
        event = parse(line)
        if event is None:
            continue
        last = event
        if on_event is not None:
            on_event(event)
    return last


def run_training(
    spec: TrainSpec,
    on_event: Callable[[TrainEvent], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    *,
    program: list[str] | None = None,
) -> Done:
    """Block until training ends; return the ``done`` event or raise a clear one-line error.

    ``program`` replaces the trainer's command line up to the spec file (tests use a scripted
    trainer). A KeyboardInterrupt here (no SIGINT handler installed) also counts as a cancel.
    """
    done: Done = run_job(TRAINING, spec.to_json(), Path(spec.out_path), on_event, should_cancel,
                         program=program)  # fmt: skip
    return done


def run_job(
    kind: JobKind,
    spec_json: str,
    out: Path,
    on_event: Callable[[Any], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    *,
    program: list[str] | None = None,
) -> Any:
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
            last: Any = None
            try:
                last = _read_events(proc.stdout, on_event, kind.parse)
                code = proc.wait()
            except KeyboardInterrupt:
                cancelled.set()
                _stop(proc)
                code = proc.wait()
            except BaseException:
                _stop(proc)  # never leave a worker running behind an error
                raise
            finally:
                for t in threads:
                    t.join()
    asked = cancelled.is_set() or (should_cancel is not None and should_cancel())
    end = kind.classify(last, code, cancel_asked=asked, stderr=tail, killed_by=-code if code < 0 else None)
    if end.done is not None:
        return end.done
    discard_staged(out)  # what a kill during export left behind
    if end.state == "cancelled":
        raise Cancelled(end.message)
    raise TalabError(end.message)
