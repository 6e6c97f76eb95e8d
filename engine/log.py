"""``talab.log``: where an unexpected failure's traceback goes, from the CLI, the worker or a slot.

One writer, so every front end copes the same way with a data directory it cannot write (a full
disk, a read-only classroom profile): the details go to stderr and the one-line message says so.
"""

from __future__ import annotations

import datetime as dt
import sys
import traceback
from pathlib import Path
from types import TracebackType

from engine import paths

LOG_NAME = "talab.log"


def log_exception(
    kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
) -> str:
    """Append the traceback to talab.log; returns where the details went, for the one-line message."""
    log: Path | None = None
    try:
        log = paths.data_dir() / LOG_NAME
        with log.open("a", encoding="utf-8") as fh:
            fh.write(f"--- {dt.datetime.now().isoformat(timespec='seconds')}\n")
            traceback.print_exception(kind, exc, tb, file=fh)
        return str(log)
    except Exception as write_error:  # whatever went wrong, the message still goes out
        if sys.__stderr__ is not None:  # None in a windowed (no console) build
            traceback.print_exception(kind, exc, tb, file=sys.__stderr__)
        reason = " ".join(str(write_error).split()) or type(write_error).__name__
        return f"stderr; {log.name if log else LOG_NAME} could not be written: {reason}"


def log_current_exception() -> str:
    """:func:`log_exception` for the exception being handled (inside an ``except`` block)."""
    return log_exception(*sys.exc_info())
