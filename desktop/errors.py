"""The last line of defence: a bug in a slot becomes a banner and a log entry, never a dialog.

Qt calls ``sys.excepthook`` for an exception a Python slot lets escape. The
default prints a traceback to a terminal the class never sees, and leaves the
window as if nothing happened. The hook must itself never raise: an exception
inside ``sys.excepthook`` would bury the original one.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import TracebackType
from typing import Protocol

from desktop.i18n import tr
from engine.log import log_exception

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], object]


class ShowsFailures(Protocol):
    def _on_failed(self, message: str) -> None: ...


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
