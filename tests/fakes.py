"""A scripted stand-in for the llama.cpp runtime, for GUI tests only.

Everything around it stays real: KB, personas, scoring and the SQLite store.
It streams its queued answers token by token and honours cancellation the
same way the real runtime does, between tokens.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from engine.chat import Message
from engine.inference import InferenceRuntime, RuntimeFactory
from engine.runtime import CancelCheck, Generation, SamplingParams, TokenCallback


class FakeRuntime:
    source = "local"

    def __init__(
        self,
        model: Any,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        answers: list[str] | None = None,
        delay_s: float = 0.0,
    ) -> None:
        self.model = model
        self.n_ctx = n_ctx
        self.n_threads = n_threads or 0
        self.answers: deque[str] = deque(answers or [])
        self.delay_s = delay_s
        self.adapter_calls: list[list[Any]] = []
        self.closed = False

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def set_adapters(self, adapters: list[Any]) -> None:
        self.adapter_calls.append(list(adapters))

    def set_threads(self, n: int) -> None:
        self.n_threads = n

    def generate(
        self,
        messages: list[Message],
        params: SamplingParams | None = None,
        *,
        on_token: TokenCallback | None = None,
        should_cancel: CancelCheck | None = None,
    ) -> Generation:
        text = self.answers.popleft() if self.answers else "I am a scripted answer."
        out: list[str] = []
        finish = "stop"
        for word in text.split(" "):
            piece = (" " if out else "") + word
            out.append(piece)
            if on_token:
                on_token(piece)
            if self.delay_s:
                time.sleep(self.delay_s)
            if should_cancel is not None and should_cancel():
                finish = "cancelled"
                break
        prompt = "\n".join(m.content for m in messages)
        return Generation("".join(out), finish, prompt, len(prompt.split()), len(out), 0.01, 100.0, 0.05)

    def complete(self, text: str, max_tokens: int = 24) -> str:
        return self.answers.popleft() if self.answers else " a scripted continuation."

    def warm(self, messages: list[Message]) -> int:
        return 0

    def close(self) -> None:
        self.closed = True


# mypy (pyproject's files list includes this module) checks that the fake fits the engine's seam
_fits: RuntimeFactory = FakeRuntime
_is_a_runtime: type[InferenceRuntime] = FakeRuntime
