"""What llama-server and vLLM share: an OpenAI-style streamed chat completion, timed honestly.

The time to first token is measured from the moment the request is sent, so it includes the
network and the server's prompt evaluation: what a student at the far end of the class's Wi-Fi
actually waits. (The in-process runtime can only start its clock after its prefix cache.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.chat import Message
from engine.remote.http import Http
from engine.runtime import CancelCheck, Generation, SamplingParams, TokenCallback


@dataclass
class RemoteModel:
    """The server's model, standing in for a local :class:`engine.models.ModelInfo`.

    ``sha256`` holds the server identity (``server:NAME@URL``): servers expose no file hash,
    and a run must never be resumed or compared against another server's model by mistake.
    ``local_sha256`` is the real file hash when the server's model file is readable here
    (a server on this machine), so adapters trained on another base model are still caught.
    """

    path: Path
    label: str
    sha256: str
    source: str
    context_length: int = 0
    chat_template: str | None = None
    local_sha256: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def display_name(self) -> str:
        return f"{self.label} @ {self.source}"

    @property
    def architecture(self) -> str:
        return str(self.meta.get("architecture", "unknown"))


def identity(name: str, url: str) -> str:
    return f"server:{name}@{url}"


def local_file_sha256(path: str) -> str | None:
    """The model file's hash when the server runs on this machine; None when it is elsewhere."""
    from engine.models import file_sha256

    p = Path(path)
    try:
        return file_sha256(p) if path and p.is_file() else None
    except OSError:
        return None


def sampling_fields(params: SamplingParams) -> dict[str, Any]:
    """The OpenAI fields plus the llama.cpp/vLLM extensions that make an answer replayable."""
    return {
        "temperature": params.temperature,
        "top_p": params.top_p,
        "top_k": params.top_k,
        "min_p": params.min_p,
        "seed": params.seed,
        "max_tokens": params.max_tokens,
    }


def stream_chat(
    http: Http,
    body: dict[str, Any],
    *,
    prompt: str,
    on_token: TokenCallback | None,
    should_cancel: CancelCheck | None,
) -> Generation:
    """POST a streamed chat completion and collect it; cancelling closes the connection."""
    parts: list[str] = []
    finish = "length"
    usage: dict[str, Any] = {}
    n_chunks = 0
    start = time.perf_counter()
    first = last = start
    events = http.stream("/v1/chat/completions", {**body, "stream": True})
    try:
        for event in events:
            if isinstance(event.get("usage"), dict):
                usage = event["usage"]
            for choice in event.get("choices") or []:
                piece = (choice.get("delta") or {}).get("content") or ""
                if piece:
                    now = time.perf_counter()
                    if not n_chunks:
                        first = now
                    last = now
                    n_chunks += 1
                    parts.append(piece)
                    if on_token is not None:
                        on_token(piece)
                if choice.get("finish_reason"):
                    finish = "stop" if choice["finish_reason"] == "stop" else "length"
            if should_cancel is not None and should_cancel():
                finish = "cancelled"
                break
    finally:
        events.close()
    end = time.perf_counter()
    n = int(usage.get("completion_tokens") or n_chunks)
    return Generation(
        text="".join(parts).strip(),
        finish_reason=finish,
        prompt=prompt,
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=n,
        ttft_s=(first - start) if n_chunks else (end - start),
        tokens_per_s=((n - 1) / (last - first)) if n > 1 and last > first else 0.0,
        total_s=end - start,
    )


def as_messages(messages: list[Message]) -> list[dict[str, str]]:
    return [m.as_dict() for m in messages]
