"""The trainer's progress as typed events, one JSON line each on its stdout, and how a run ended.

The trainer writes them, the CLI's runner (:mod:`engine.finetune.process`) and the window's QProcess
runner read them, and the tests' scripted trainer speaks them too: all through this module, so a
field renamed on one side cannot silently vanish on the other. :func:`classify_end` is the one
place that decides whether a training process finished, was cancelled, failed or crashed.
"""

from __future__ import annotations

import dataclasses
import json
import signal
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal


@dataclass(frozen=True)
class Replay:
    """The base model answers the replay prompts (before training starts)."""

    kind: ClassVar[str] = "replay"
    done: int = 0
    total: int = 0


@dataclass(frozen=True)
class Start:
    kind: ClassVar[str] = "start"
    examples: int = 0
    kinds: dict[str, int] = field(default_factory=dict)  # examples per kind (identity, replay…)
    skipped: int = 0  # longer than the maximum sequence length
    steps: int = 0
    epochs: int = 0
    pid: int = 0


@dataclass(frozen=True)
class Loading:
    kind: ClassVar[str] = "loading"
    device: str = "cpu"
    dtype: str = "float32"


@dataclass(frozen=True)
class Step:
    kind: ClassVar[str] = "step"
    step: int = 0
    steps: int = 0
    epoch: int = 1
    loss: float = 0.0
    elapsed_s: float = 0.0
    eta_s: float = 0.0
    tokens_per_s: float = 0.0
    peak_rss_mb: float = 0.0


@dataclass(frozen=True)
class Exporting:
    kind: ClassVar[str] = "exporting"


@dataclass(frozen=True)
class Done:
    """The adapter and its manifest are written; the figures are the manifest's."""

    kind: ClassVar[str] = "done"
    adapter: str = ""
    name: str = ""
    final_loss: float = 0.0
    steps: int = 0
    seconds: float = 0.0
    train_seconds: float = 0.0
    tokens_per_s: float = 0.0
    peak_rss_mb: float = 0.0
    manifest: str = ""
    trained_on: str = ""
    dataset: dict[str, Any] = field(default_factory=dict)  # the manifest's: examples, kinds, sha256…


@dataclass(frozen=True)
class Cancelled:
    kind: ClassVar[str] = "cancelled"


@dataclass(frozen=True)
class Error:
    """The trainer caught the failure itself and says what it was."""

    kind: ClassVar[str] = "error"
    message: str = ""


TrainEvent = Replay | Start | Loading | Step | Exporting | Done | Cancelled | Error
_KINDS: dict[str, type[TrainEvent]] = {
    cls.kind: cls for cls in (Replay, Start, Loading, Step, Exporting, Done, Cancelled, Error)
}


def to_line(event: TrainEvent) -> str:
    return json.dumps({"event": event.kind, **dataclasses.asdict(event)}, ensure_ascii=False)


def emit(event: TrainEvent) -> None:
    print(to_line(event), flush=True)


def from_fields(kind: str, fields: dict[str, Any]) -> TrainEvent | None:
    """An event from its JSON fields; fields it does not know (a newer trainer's) are left out."""
    cls = _KINDS.get(kind)
    if cls is None:
        return None
    known = {f.name for f in dataclasses.fields(cls)}
    try:
        return cls(**{k: v for k, v in fields.items() if k in known})
    except TypeError:
        return None


def parse_line(line: str | bytes) -> TrainEvent | None:
    """One line of the trainer's stdout; None for anything that is not an event (a library's print)."""
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("event"), str):
        return None
    return from_fields(data.pop("event"), data)


CANCELLED_MESSAGE = "Training cancelled; the previous adapter (if any) is unchanged"


@dataclass(frozen=True)
class Ending:
    """How a training process ended: ``message`` is the one line to show when it was not done."""

    state: Literal["done", "cancelled", "failed"]
    message: str = ""
    done: Done | None = None


def last_line(lines: Iterable[str]) -> str:
    """The last non-blank line, shortened: enough to name the failure, never a whole traceback."""
    text = next((line.strip() for line in reversed(list(lines)) if line.strip()), "no output")
    return text if len(text) <= 300 else text[:297] + "..."


def stopped_message(
    code: int,
    stderr_tail: str,
    *,
    killed_by: int | None = None,
    noun: str = "training",
    unchanged: str = "the previous adapter (if any) is unchanged",
) -> str:
    """One line for a worker that ended without ``done`` or ``error`` (crash, kill, out of memory)."""
    if killed_by is not None:
        try:
            name = signal.Signals(killed_by).name
        except ValueError:
            name = f"signal {killed_by}"
        return (
            f"The {noun} process was killed ({name}), perhaps because the computer ran out of memory; "
            f"{unchanged}"
        )
    return f"The {noun} process stopped unexpectedly (exit {code}): {stderr_tail}; {unchanged}"


def classify_end(
    last: TrainEvent | None,
    code: int,
    *,
    cancel_asked: bool,
    stderr: Iterable[str] = (),
    killed_by: int | None = None,
) -> Ending:
    """Done, cancelled, failed (the trainer said why) or crashed (the process just stopped).

    A ``done`` with exit 0 wins over a cancel that came too late: the adapter was replaced, and
    saying otherwise would be false.
    """
    if isinstance(last, Done) and code == 0:
        return Ending("done", done=last)
    if cancel_asked or isinstance(last, Cancelled):
        return Ending("cancelled", CANCELLED_MESSAGE)
    if isinstance(last, Error):
        return Ending("failed", f"Training failed: {last.message}")
    return Ending("failed", stopped_message(code, last_line(stderr), killed_by=killed_by))
