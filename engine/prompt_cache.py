"""Per-persona prompt cache: each system-prompt prefix is evaluated once per weight set and kept.

Why: Compare alternates personas on one llama context. Without a cache every switch of adapters
or of system prompt re-evaluates the prefix (547 tokens of KB prompt: about 2.6 s on 2 cores),
so the Prompted TA's first token came 12x later than a bare question's. Restoring the prefix's
sequence state (``llama_state_seq_set_data``, about 12 MB here) takes milliseconds.

Safety: the saved state records no adapter identity, and a LoRA changes the keys and values of
every adapted layer and of every layer after it. A state is therefore keyed by the model's
sha256, the exact adapter set (file path, mtime and size, scale; in order) and the prefix
tokens. A retrained adapter (a rewritten file), another scale or an edited KB (other tokens) is
another key, never a stale hit. The bytes restored are the very keys and values computed, into
the same cells, so answers are identical to a cold start (tests/engine/test_prompt_cache.py).
"""

from __future__ import annotations

import ctypes
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: One adapter's identity (resolved path, mtime_ns, size) and the scale it is applied at.
AdapterSet = tuple[tuple[tuple[str, int, int], float], ...]

#: Room for a dozen KB-prompt prefixes of the default model (about 12 MB each).
DEFAULT_MAX_BYTES = 160 * 2**20


@dataclass(frozen=True)
class PrefixKey:
    model_sha256: str
    adapters: AdapterSet
    tokens: tuple[int, ...]


@dataclass(frozen=True)
class CacheStats:
    entries: int
    bytes: int
    max_bytes: int
    hits: int
    misses: int

    def describe(self) -> str:
        return (
            f"prompt cache: {self.entries} prefixes, {self.bytes / 2**20:.1f} of "
            f"{self.max_bytes / 2**20:.0f} MB, {self.hits} hits, {self.misses} misses"
        )


class PromptCache:
    """LRU of saved sequence states, bounded in bytes."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._states: OrderedDict[PrefixKey, Any] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    def __contains__(self, key: object) -> bool:
        return key in self._states

    def get(self, key: PrefixKey) -> Any | None:
        state = self._states.get(key)
        if state is None:
            self.misses += 1
            return None
        self._states.move_to_end(key)
        self.hits += 1
        return state

    def put(self, key: PrefixKey, state: Any) -> None:
        """Keep ``state`` (a ctypes byte array); the least recently used go first when over the bound."""
        size = len(state)
        if size > self.max_bytes:
            return
        old = self._states.pop(key, None)
        if old is not None:
            self._bytes -= len(old)
        self._states[key] = state
        self._bytes += size
        while self._bytes > self.max_bytes:
            _, dropped = self._states.popitem(last=False)
            self._bytes -= len(dropped)

    def clear(self) -> None:
        self._states.clear()
        self._bytes = 0

    def stats(self) -> CacheStats:
        return CacheStats(len(self._states), self._bytes, self.max_bytes, self.hits, self.misses)


def save(llama_cpp: Any, ctx: Any, seq_id: int = 0) -> Any | None:
    """Copy one sequence's KV state out of the context (None if llama.cpp gives nothing)."""
    size = int(llama_cpp.llama_state_seq_get_size(ctx, seq_id))
    if size <= 0:
        return None
    buf = (ctypes.c_uint8 * size)()
    written = int(llama_cpp.llama_state_seq_get_data(ctx, buf, size, seq_id))
    return buf if written == size else None


def restore(llama_cpp: Any, ctx: Any, state: Any, seq_id: int = 0) -> bool:
    """Load a saved state into an emptied context; False when llama.cpp refuses it."""
    return int(llama_cpp.llama_state_seq_set_data(ctx, state, len(state), seq_id)) > 0


class PrefixKeeper:
    """Keeps exactly one stable prefix in a ``llama_cpp.Llama``'s KV cache, through a :class:`PromptCache`.

    The prefix is evaluated as its own batch, as before the cache existed: reusing an arbitrary
    matching prefix instead changes batch boundaries from call to call, and the tiny float
    differences that follow flip greedy answers.
    """

    def __init__(self, llm: Any, model_sha256: Callable[[], str], max_bytes: int) -> None:
        self.llm = llm
        self.cache = PromptCache(max_bytes)
        self._model_sha256 = model_sha256
        self._sha: str | None = None
        self.live: tuple[int, ...] | None = None  # the prefix now in the KV cache, under current weights

    def key(self, adapters: AdapterSet, prefix: tuple[int, ...]) -> PrefixKey:
        if self._sha is None:
            self._sha = self._model_sha256()
        return PrefixKey(self._sha, adapters, prefix)

    def prepare(self, tokens: list[int], prefix_len: int, adapters: AdapterSet) -> int:
        """Put exactly ``tokens[:prefix_len]`` in the KV cache; return how many were reused, not computed.

        Cheapest first: the live cache holds it (the same persona again), the prompt cache has
        its state under these adapters, or it is evaluated now and saved.
        """
        import llama_cpp

        llm = self.llm
        prefix = tuple(tokens[:prefix_len])
        if prefix_len and self.live == prefix and llm.n_tokens >= prefix_len:
            llm.n_tokens = prefix_len
            llm._ctx.kv_cache_seq_rm(-1, prefix_len, -1)
            return prefix_len
        llm.reset()
        self.live = None
        if not prefix_len:
            return 0
        llm._ctx.kv_cache_seq_rm(-1, 0, -1)  # empty cells: a restored state lands where eval puts it
        key = self.key(adapters, prefix)
        state = self.cache.get(key)
        if state is not None and restore(llama_cpp, llm._ctx.ctx, state):
            llm.input_ids[:prefix_len] = prefix
            llm.n_tokens = prefix_len
            self.live = prefix
            return prefix_len
        llm.eval(list(prefix))
        self.live = prefix
        saved = save(llama_cpp, llm._ctx.ctx)
        if saved is not None:
            self.cache.put(key, saved)
        return 0
