"""Runtimes that answer through an existing serving engine (llama.cpp's llama-server, vLLM).

They present the same surface as the in-process :class:`engine.runtime.Runtime`, so personas,
probes, scores and the store do not know where an answer was computed; each answer records the
server's URL as its source and the server's model identity in place of the local sha256.
"""

from __future__ import annotations

from typing import Any


def connect(url: str, *, engine: str = "auto", timeout_s: float = 120.0) -> Any:
    """The runtime for the server at ``url``: llama-server if it answers ``/props``, else vLLM."""
    from engine.remote.http import Http

    http = Http(url, timeout_s=timeout_s)
    if engine == "auto":
        engine = "llama" if http.has_llama_props() else "vllm"
    if engine == "llama":
        from engine.remote.llama import LlamaServerRuntime

        return LlamaServerRuntime(http)
    from engine.remote.vllm import VllmRuntime

    return VllmRuntime(http)
