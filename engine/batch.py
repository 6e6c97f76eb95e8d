"""Batched generation: several answers decoded together, one llama.cpp step for all of them.

Why: on 2 cores one sequence leaves most of each step's arithmetic idle (a 135M model decodes one
token in about 10 ms, mostly memory traffic and fixed cost), so eight sequences in one
``llama_decode`` cost little more than one. Probe runs and Compare's personas that share an
adapter set go through here.

How: a second llama context on the same weights (no reload) with a unified KV cache and
``n_seq_max`` sequences. Each distinct system-prompt prefix is restored once, from the runtime's
prompt cache, into a holder sequence and shared with every slot by ``llama_memory_seq_cp`` (cells are
shared, not copied). Each slot has its own sampler with its own seed, built exactly as the
sequential path builds it; logits are computed only for each slot's last token. A finished slot is
refilled with the next question at once, in question order, so the same questions in the same
order always decode in the same layout: answers at temperature 0 are identical from run to run.
They can differ from the sequential path's in rare cases, because llama.cpp's kernels for a batch
of several rows round differently from its one-row kernels (measured in bench/bench_batch.py).
"""

from __future__ import annotations

import codecs
import ctypes
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.chat import Message, RenderedPrompt
from engine.errors import ContextOverflowError, ModelError
from engine.runtime import Generation, SamplingParams, TokenCallback, emit_visible, final_text

#: Sequences decoded at once by default: past 8 a 2-core step slows down as fast as it grows.
DEFAULT_SLOTS = 8


@dataclass
class BatchRequest:
    """One answer to decode; ``on_start`` fires when it enters a slot, ``on_token`` as text streams."""

    messages: list[Message]
    params: SamplingParams
    on_start: Callable[[], None] | None = None
    on_token: TokenCallback | None = None


@dataclass
class _Prepared:
    index: int
    rendered: RenderedPrompt
    tokens: list[int]
    prefix_len: int
    holder: int  # the sequence holding this prompt's prefix; -1: none (the whole prompt is its own)
    max_tokens: int


@dataclass
class _Slot:
    """One sequence in flight."""

    seq: int
    job: _Prepared
    sampler: Any
    start: float
    cached: int
    pos: int = 0
    out: list[int] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    emitted: int = 0
    first: float = 0.0
    last: float = 0.0
    row: int = -1  # this step's batch row that carries its logits
    pending: list[int] = field(default_factory=list)  # tokens to feed in the next step
    decoder: Any = field(default_factory=lambda: codecs.getincrementaldecoder("utf-8")(errors="replace"))


DoneCallback = Callable[[int, Generation], None]


class BatchDecoder:
    """The batch context of one :class:`engine.runtime.Runtime`; used from the runtime's thread only."""

    def __init__(self, runtime: Any) -> None:
        self.rt = runtime
        self._ctx: Any = None
        self._batch: Any = None
        self._cells = 0
        self._seqs = 0
        self._rows = 0
        self._applied: Any = None  # the runtime's adapter set last applied to this context

    def close(self) -> None:
        import llama_cpp

        if self._batch is not None:
            llama_cpp.llama_batch_free(self._batch)
            self._batch = None
        if self._ctx is not None:
            self._ctx.close()
            self._ctx = None

    # -- the context ------------------------------------------------------
    def _context(self, cells: int, seqs: int, rows: int) -> Any:
        """A context with room for ``cells`` KV cells and ``seqs`` sequences, made again only to grow."""
        import llama_cpp
        from llama_cpp import _internals

        if self._ctx is not None and cells <= self._cells and seqs <= self._seqs and rows <= self._rows:
            return self._ctx
        self.close()
        llm = self.rt._llm
        src = llm.context_params
        params = type(src).from_buffer_copy(src)
        cells = max(cells, self._cells, 1024)
        cells = -(-cells // 256) * 256
        seqs = max(seqs, self._seqs)
        params.n_ctx = cells
        params.n_batch = max(512, rows, self._rows)
        params.n_ubatch = 512
        params.n_seq_max = seqs
        params.kv_unified = True
        try:
            self._ctx = _internals.LlamaContext(model=llm._model, params=params, verbose=False)
        except ValueError as exc:
            raise ModelError(f"llama.cpp could not make a batch context of {cells} cells: {exc}") from None
        self._batch = llama_cpp.llama_batch_init(params.n_batch, 0, 1)
        self._cells, self._seqs, self._rows = cells, seqs, params.n_batch
        self._applied = None
        return self._ctx

    def _apply_adapters(self, ctx: Any) -> None:
        import llama_cpp

        active = self.rt._active
        if active == self._applied:
            return
        handles = [self.rt._adapter_handle(key) for key, _ in active]
        if handles:
            arr = (llama_cpp.llama_adapter_lora_p_ctypes * len(handles))(*handles)
            scales = (ctypes.c_float * len(handles))(*(s for _, s in active))
            rc = llama_cpp.llama_set_adapters_lora(ctx.ctx, arr, len(handles), scales)
        else:
            rc = llama_cpp.llama_set_adapters_lora(ctx.ctx, None, 0, None)
        if rc != 0:
            raise ModelError(f"llama.cpp could not apply the adapters to the batch context (code {rc})")
        self._applied = active

    # -- decoding ---------------------------------------------------------
    def _prepare(self, requests: list[BatchRequest]) -> tuple[list[_Prepared], dict[tuple[int, ...], int]]:
        rt = self.rt
        jobs: list[_Prepared] = []
        prefixes: dict[tuple[int, ...], int] = {}
        for i, req in enumerate(requests):
            rendered = rt.render(req.messages)
            tokens = rt.tokenize(rendered.text)
            if len(tokens) >= rt.n_ctx:
                raise ContextOverflowError(len(tokens), rt.n_ctx)
            prefix_len = max(0, min(rt._stable_prefix_len(req.messages), len(tokens) - 1))
            holder = -1
            if prefix_len:
                holder = prefixes.setdefault(tuple(tokens[:prefix_len]), len(prefixes))
            max_tokens = min(req.params.max_tokens, rt.n_ctx - len(tokens))
            jobs.append(_Prepared(i, rendered, tokens, prefix_len, holder, max_tokens))
        return jobs, prefixes

    def _load_prefix(self, ctx: Any, prefix: tuple[int, ...], seq: int, example: list[int]) -> bool:
        """Put ``prefix`` into sequence ``seq`` from the prompt cache; True if it was reused, not computed."""
        import llama_cpp

        from engine.prompt_cache import restore, save

        rt = self.rt
        keeper = rt._prefix
        key = keeper.key(rt._active, prefix)
        state = keeper.cache.get(key)
        reused = state is not None
        if state is None:  # evaluate it once on the main context, as the sequential path would
            reused = keeper.prepare(example, len(prefix), rt._active) == len(prefix)
            state = keeper.cache.get(key) or save(llama_cpp, rt._llm._ctx.ctx)
        if state is None or not restore(llama_cpp, ctx.ctx, state, seq):
            raise ModelError("llama.cpp refused to load a cached prompt into the batch context")
        return reused

    def generate(
        self,
        requests: list[BatchRequest],
        *,
        slots: int = DEFAULT_SLOTS,
        on_done: DoneCallback | None = None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> list[Generation | None]:
        """Decode every request, ``slots`` at a time; ``on_done(index, gen)`` fires as each one ends.

        A cancel ends every sequence in flight (finish ``cancelled``, text so far); requests that never
        entered a slot come back as None.
        """
        import llama_cpp

        if not requests:
            return []
        t0 = time.perf_counter()
        jobs, prefixes = self._prepare(requests)
        slots = max(1, min(slots, len(jobs)))
        longest = max(len(j.tokens) - j.prefix_len + j.max_tokens for j in jobs)
        suffix_rows = slots * (max(len(j.tokens) - j.prefix_len for j in jobs) + 1)
        cells = sum(len(p) for p in prefixes) + slots * (longest + 1)
        ctx = self._context(cells, slots + len(prefixes), suffix_rows)
        llama_cpp.llama_set_n_threads(ctx.ctx, self.rt.n_threads, self.rt.n_threads)
        self._apply_adapters(ctx)
        mem = llama_cpp.llama_get_memory(ctx.ctx)
        llama_cpp.llama_memory_clear(mem, True)
        reused: dict[int, bool] = {}
        for prefix, holder in prefixes.items():
            example = next(j.tokens for j in jobs if j.holder == holder)
            reused[holder] = self._load_prefix(ctx, prefix, slots + holder, example)
        charged: set[int] = set()  # holders whose computed prefix was already counted once

        results: list[Generation | None] = [None] * len(jobs)
        queue = deque(jobs)
        free = list(range(slots - 1, -1, -1))
        active: list[_Slot] = []
        llm = self.rt._llm
        vocab = llm._model.vocab

        def finish(slot: _Slot, reason: str) -> None:
            end = time.perf_counter()
            job, n = slot.job, len(slot.out)
            span = slot.last - slot.first
            text = final_text(llm, slot.out, job.tokens, job.rendered.stop)
            gen = Generation(
                text=text.strip(),
                finish_reason=reason,
                prompt=job.rendered.text,
                prompt_tokens=len(job.tokens),
                completion_tokens=n,
                ttft_s=(slot.first - slot.start) if n else (end - slot.start),
                tokens_per_s=((n - 1) / span) if n > 1 and span > 0 else 0.0,
                total_s=end - slot.start,
                prefill_tokens=len(job.tokens) - slot.cached,
                cached_tokens=slot.cached,
                batched=True,
            )
            results[job.index] = gen
            slot.sampler.close()
            llama_cpp.llama_memory_seq_rm(mem, slot.seq, -1, -1)
            free.append(slot.seq)
            if on_done is not None:
                on_done(job.index, gen)

        while queue or active:
            if should_cancel is not None and should_cancel():
                for slot in active:
                    finish(slot, "cancelled")
                return results
            while queue and free:
                job = queue.popleft()
                seq = free.pop()
                params = requests[job.index].params
                llm.set_seed(params.seed)
                sampler = llm._init_sampler(
                    top_k=params.top_k, top_p=params.top_p, min_p=params.min_p,
                    temp=params.temperature, repeat_penalty=params.repeat_penalty,
                )  # fmt: skip
                cached = 0
                if job.holder >= 0:
                    llama_cpp.llama_memory_seq_cp(mem, slots + job.holder, seq, -1, -1)
                    if reused[job.holder] or job.holder in charged:
                        cached = job.prefix_len
                    charged.add(job.holder)
                start = t0 if job.index < slots else time.perf_counter()
                slot = _Slot(seq, job, sampler, start, cached, pos=job.prefix_len)
                slot.pending = job.tokens[job.prefix_len :]
                active.append(slot)
                if requests[job.index].on_start is not None:
                    requests[job.index].on_start()  # type: ignore[misc]
            self._decode(ctx, active)
            for slot in list(active):
                token = llama_cpp.llama_sampler_sample(slot.sampler.sampler, ctx.ctx, slot.row)
                now = time.perf_counter()
                if not slot.out:
                    slot.first = now
                slot.last = now
                job = slot.job
                if llama_cpp.llama_vocab_is_eog(vocab, token):
                    active.remove(slot)
                    finish(slot, "stop")
                    continue
                slot.out.append(token)
                slot.parts.append(slot.decoder.decode(llm.detokenize([token])))
                if self._stream(slot, requests[job.index].on_token):
                    active.remove(slot)
                    finish(slot, "stop")
                elif len(slot.out) >= job.max_tokens:
                    active.remove(slot)
                    finish(slot, "length")
                else:
                    slot.pending = [token]
        return results

    def _decode(self, ctx: Any, active: list[_Slot]) -> None:
        """One ``llama_decode`` over every slot's pending tokens; logits only at each slot's last one."""
        import llama_cpp

        batch = self._batch
        row = 0
        for slot in active:
            for k, token in enumerate(slot.pending):
                batch.token[row] = token
                batch.pos[row] = slot.pos + k
                batch.n_seq_id[row] = 1
                batch.seq_id[row][0] = slot.seq
                batch.logits[row] = k == len(slot.pending) - 1
                row += 1
            slot.pos += len(slot.pending)
            slot.row = row - 1
            slot.pending = []
        batch.n_tokens = row
        rc = llama_cpp.llama_decode(ctx.ctx, batch)
        if rc != 0:
            raise ModelError(f"llama.cpp could not decode a batch of {row} tokens (code {rc})")

    @staticmethod
    def _stream(slot: _Slot, on_token: TokenCallback | None) -> bool:
        """Emit newly safe text; True once a stop string has appeared (never shown)."""
        slot.emitted, hit = emit_visible(slot.parts, slot.job.rendered.stop, slot.emitted, on_token)
        return hit
