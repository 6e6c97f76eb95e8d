"""The seam between the engine and whatever answers: what ``Lab`` and the runner need of a runtime.

:class:`engine.runtime.Runtime` (llama.cpp in this process) implements it; so do the GUI tests'
scripted ``FakeRuntime`` and a runtime that answers from another machine. Everything above this
seam (personas, scoring, the store, the window) stays the same whichever one answers, and mypy
checks that each of them fits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from engine.adapters import AdapterSpec
    from engine.batch import BatchRequest
    from engine.chat import Message
    from engine.models import ModelInfo
    from engine.runtime import CancelCheck, Generation, SamplingParams, TokenCallback


#: ``InferenceRuntime.source`` of a model run in this process (a server's runtime gives its URL)
LOCAL = "local"


class InferenceRuntime(Protocol):
    """A loaded model that answers with LoRA adapters at given scales; used from one thread."""

    #: where answers are computed: :data:`LOCAL` or the server's URL (stored with each answer)
    source: str

    @property
    def model(self) -> ModelInfo: ...

    @property
    def n_ctx(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...

    def set_adapters(self, adapters: list[AdapterSpec]) -> None:
        """Exactly these adapters from the next answer on (empty: the base model)."""

    def set_threads(self, n: int) -> None:
        """``n`` threads from the next token on; 0: the runtime's default (training shares the CPU)."""

    def generate(
        self,
        messages: list[Message],
        params: SamplingParams | None = None,
        *,
        on_token: TokenCallback | None = None,
        should_cancel: CancelCheck | None = None,
    ) -> Generation:
        """One answer, streamed through ``on_token``; ``should_cancel`` is asked between tokens."""
        ...

    def complete(self, text: str, max_tokens: int = 24) -> str:
        """Greedy raw continuation of ``text`` without the chat template (the Edit tab's before/after)."""
        ...

    def warm(self, messages: list[Message]) -> int:
        """Evaluate the prompt prefix of ``messages`` ahead of a question; returns the tokens it computed."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class BatchingRuntime(Protocol):
    """A runtime that decodes several answers under one adapter set at once (the in-process one).

    A server batches its own requests, and the GUI tests' fake answers one by one, so they leave it out
    and the runner asks them one question at a time.
    """

    def generate_batch(
        self,
        requests: list[BatchRequest],
        *,
        slots: int = 8,
        on_done: Callable[[int, Generation], None] | None = None,
        should_cancel: CancelCheck | None = None,
    ) -> list[Generation | None]: ...


class RuntimeFactory(Protocol):
    """How ``Lab`` makes its runtime: ``Runtime`` itself, or a test's or a remote one's factory."""

    def __call__(self, model: ModelInfo, *, n_ctx: int, n_threads: int | None = None) -> InferenceRuntime: ...
