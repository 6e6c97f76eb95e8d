"""The last line of defence: a bug in a slot becomes a banner and a log entry, never a dialog.

Qt calls ``sys.excepthook`` for an exception a Python slot lets escape. The
default prints a traceback to a terminal the class never sees, and leaves the
window as if nothing happened. The hook must itself never raise: an exception
inside ``sys.excepthook`` would bury the original one.
"""

from __future__ import annotations

import datetime as dt
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Protocol

from desktop.i18n import tr
from engine import paths

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], object]

LOG_NAME = "talab.log"


class ShowsFailures(Protocol):
    def _on_failed(self, message: str) -> None: ...


def log_exception(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> str:
    """Append the traceback to talab.log; says where the details went, as the banner shows it.

    A data directory that cannot be written (a full disk, a read-only
    classroom profile) must not stop the banner, so the details go to stderr.
    """
    log: Path | None = None
    try:
        log = paths.data_dir() / LOG_NAME
        with log.open("a", encoding="utf-8") as fh:
            fh.write(f"--- {dt.datetime.now().isoformat(timespec='seconds')}\n")
            traceback.print_exception(kind, exc, tb, file=fh)
        return str(log)
    except Exception as write_error:  # whatever went wrong, the banner still shows
        if sys.__stderr__ is not None:  # None in a windowed (no console) build
            traceback.print_exception(kind, exc, tb, file=sys.__stderr__)
        reason = " ".join(str(write_error).split()) or type(write_error).__name__
        return f"stderr; {log.name if log else LOG_NAME} could not be written: {reason}"


def install_excepthook(window: ShowsFailures) -> ExceptHook:
    """Route uncaught exceptions to ``window``'s banner; returns the hook it replaced, to restore."""
    previous: ExceptHook = sys.excepthook

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if not issubclass(kind, Exception):  # KeyboardInterrupt, SystemExit: not a bug to show
            previous(kind, exc, tb)
            return
        where = log_exception(kind, exc, tb)
        error = " ".join(str(exc).split())  # one line: the banner is not a traceback viewer
        try:
            window._on_failed(tr("Unexpected {kind}: {error} (details in {log})", kind=kind.__name__,
                                 error=error, log=where))  # fmt: skip
        except RuntimeError:  # the window is already gone (closing): the default is all that is left
            previous(kind, exc, tb)

    sys.excepthook = hook
    return previous
