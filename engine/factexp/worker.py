"""The window's worker: ``python -m engine.factexp.worker --spec SPEC.json`` runs the CLI's command.

It is ``talab fact-experiment`` with its progress as JSON lines (``progress``,
then ``done`` or ``cancelled``; a failure is the CLI's one ``error:`` line on
stderr), so the window and the terminal run the same code. The result is read
back from :func:`engine.factexp.spec.results_path`, where every run saves it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.finetune.process import JobKind


def parse_line(line: str | bytes) -> dict[str, Any] | None:
    from engine.edit.worker import parse_edit_line

    return parse_edit_line(line)


@dataclass(frozen=True)
class FactEnding:
    state: str  # done, cancelled, failed
    message: str = ""
    done: dict[str, Any] | None = None


def classify_end(
    last: dict[str, Any] | None,
    code: int,
    *,
    cancel_asked: bool,
    stderr: Iterable[str] = (),
    killed_by: int | None = None,
) -> FactEnding:
    """How the experiment ended, in one line: its own ``error:`` line where it wrote one."""
    from engine.finetune.events import last_line

    event = (last or {}).get("event")
    if event == "done" and code == 0:
        return FactEnding("done", done=last)
    if cancel_asked or event == "cancelled":
        return FactEnding("cancelled", "The experiment was cancelled; the last result is unchanged")
    said = last_line(stderr).strip()
    if said.startswith("error: "):
        return FactEnding("failed", said.removeprefix("error: "))
    how = f"was killed (signal {killed_by})" if killed_by else f"stopped (exit code {code})"
    return FactEnding("failed", f"The experiment {how}{': ' + said if said != 'no output' else ''}")


FACT_JOB = JobKind("engine.factexp.worker", "--fact-worker", "experiment", parse_line, classify_end)


def main(argv: list[str] | None = None) -> int:
    from engine.cli import main as cli_main

    ap = argparse.ArgumentParser(prog="python -m engine.factexp.worker")
    ap.add_argument("--spec", required=True, type=Path)
    args = ap.parse_args(argv)
    return cli_main(["fact-experiment", "--progress-json", "--spec", str(args.spec)])


if __name__ == "__main__":
    sys.exit(main())
