"""Run the training subprocess and turn its JSON lines into callbacks.

Used by the CLI; the desktop drives the same command through QProcess. Cancel
terminates the child (then kills it after a grace period); the adapter file
is only replaced when training finished, so nothing is lost.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.errors import Cancelled, TalabError
from engine.finetune.train import TrainSpec

Event = dict[str, Any]


def command(spec_file: Path) -> list[str]:
    """The trainer's command line; in the installed (frozen) app the app binary is the trainer."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "--train-worker", "--spec", str(spec_file)]
    return [sys.executable, "-m", "engine.finetune.train", "--spec", str(spec_file)]


def run_training(
    spec: TrainSpec,
    on_event: Callable[[Event], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> Event:
    """Block until training ends; return the ``done`` event or raise a clear error."""
    from engine.paths import REPO_ROOT

    with tempfile.TemporaryDirectory(prefix="talab-train-") as tmp:
        spec_file = Path(tmp) / "spec.json"
        spec_file.write_text(spec.to_json(), encoding="utf-8")
        cancelled = threading.Event()
        with subprocess.Popen(
            command(spec_file), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT
        ) as proc:

            def watch() -> None:
                while proc.poll() is None:
                    if should_cancel is not None and should_cancel():
                        cancelled.set()
                        proc.terminate()
                        try:
                            proc.wait(5)
                        except subprocess.TimeoutExpired:
                            proc.kill()
                        return
                    threading.Event().wait(0.1)

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            last: Event = {}
            assert proc.stdout is not None and proc.stderr is not None
            for line in proc.stdout:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                last = event
                if on_event is not None:
                    on_event(event)
            stderr = proc.stderr.read()
            code = proc.wait()
            watcher.join()
    if cancelled.is_set():
        raise Cancelled("Training cancelled; the previous adapter (if any) is unchanged")
    if last.get("event") == "error":
        raise TalabError(f"Training failed: {last.get('message')}")
    if code != 0 or last.get("event") != "done":
        tail = stderr.strip().splitlines()[-1:] or ["no output"]
        raise TalabError(f"The training process stopped unexpectedly (exit {code}): {tail[0]}")
    return last
