"""Measure how long the Qt event loop goes without running: a 10 ms timer records each pause."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QTimer


class EventLoopGaps:
    """``with EventLoopGaps() as g: …``; then ``g.worst`` is the longest pause in seconds."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self._timer = QTimer()
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now

    def __enter__(self) -> EventLoopGaps:
        self._last = time.perf_counter()
        self._timer.start(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.stop()

    @property
    def worst(self) -> float:
        return max(self.gaps[1:], default=0.0)


def ask_three_columns(window: Any, qtbot: Any, question: str, timeout_ms: int) -> EventLoopGaps:
    """Ask the ticked personas and wait until three columns have finished, recording the gaps."""
    with EventLoopGaps() as gaps:
        window.compare.question.setText(question)
        window.compare.ask_button.click()
        cols = window.compare.columns
        qtbot.waitUntil(
            lambda: len(cols) == 3 and all("tok/s" in c.stats.text() for c in cols.values()),
            timeout=timeout_ms,
        )
    return gaps
