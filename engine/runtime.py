"""The one in-process model.

A :class:`Runtime` owns a single ``llama_cpp.Llama`` and must only be used
from the thread that created it (the GUI gives it one worker thread; the CLI
uses the main thread). Personas differ only in prompt and LoRA adapters, so
switching persona is an adapter swap (microseconds), never a model reload.

KV-cache safety: ``Llama`` reuses the longest matching token prefix between
calls, but cached keys/values are only valid for the adapter set and scales
they were computed under. Every adapter change therefore resets the live cache;
system-prompt prefixes come back from :mod:`engine.prompt_cache`, keyed by the
weights they were computed under.
"""

from __future__ import annotations

import codecs
import ctypes
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.adapters import AdapterSpec, validate_adapter
from engine.chat import ChatRenderer, Message, RenderedPrompt, safe_prefix
from engine.errors import AdapterError, ContextOverflowError, ModelError
from engine.models import ModelInfo
from engine.prompt_cache import DEFAULT_MAX_BYTES, CacheStats, PrefixKeeper, PromptCache

if TYPE_CHECKING:
    from engine.batch import BatchRequest

TokenCallback = Callable[[str], None]
AdapterKey = tuple[str, int, int]
CancelCheck = Callable[[], bool]

DEFAULT_N_CTX = 4096


@dataclass(frozen=True)
class SamplingParams:
    """Everything that decides which tokens come out; stored with each answer."""

    temperature: float = 0.0
    top_p: float = 0.95
    top_k: int = 40
    min_p: float = 0.05
    repeat_penalty: float = 1.1
    max_tokens: int = 128
    seed: int = 42

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Generation:
    """One answer. ``ttft_s`` runs from the request to the first token, prefill included.

    ``prefill_tokens`` were computed for this answer and ``cached_tokens`` reused from a cache;
    together they are ``prompt_tokens``. A cold KB prompt costs seconds, a cached one milliseconds,
    and the two counts say which one a TTFT figure is.
    """

    text: str
    finish_reason: str  # "stop" | "length" | "cancelled"
    prompt: str
    prompt_tokens: int
    completion_tokens: int
    ttft_s: float
    tokens_per_s: float
    total_s: float
    prefill_tokens: int = 0
    cached_tokens: int = 0
    batched: bool = False


def window_threads() -> int:
    """llama.cpp threads for a process that also draws a window: one core is left to the GUI thread.

    llama.cpp's threads spin at a barrier after every step, so a GUI thread that wakes 30 times a
    second to append text preempts one of them and the whole step waits. Measured under Xvfb on 2
    cores (bench/bench_window.py): 2 threads streamed at 28.8 tok/s in the window against 78.0 without
    one (0.37x); 1 thread at 61.0 against 61.6 (0.99x), so the window is faster with one thread less.
    """
    return max(1, physical_cores() - 1)


def physical_cores() -> int:
    """Count physical cores: llama.cpp is slower on hyper-threads, faster than on 1 thread."""
    try:
        pairs = set()
        phys = core = None
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "physical id":
                    phys = value.strip()
                elif key == "core id":
                    core = value.strip()
                elif not key and phys is not None and core is not None:
                    pairs.add((phys, core))
                    phys = core = None
        if phys is not None and core is not None:
            pairs.add((phys, core))
        if pairs:
            return min(len(pairs), len(os.sched_getaffinity(0)))
    except (OSError, AttributeError):
        pass
    return max(1, os.cpu_count() or 1)


#: The last lines llama.cpp logged, kept for error messages instead of printed.
LLAMA_LOG: deque[str] = deque(maxlen=50)
_log_callback: Any = None


def _quiet_llama_logs(llama_cpp: Any) -> None:
    """Route llama.cpp's notices (SWA cache, tensor info) away from the user's terminal."""
    global _log_callback
    if _log_callback is not None:
        return

    @llama_cpp.llama_log_callback
    def _callback(level: int, text: bytes, user_data: Any) -> None:
        LLAMA_LOG.append(text.decode("utf-8", errors="replace"))

    _log_callback = _callback
    llama_cpp.llama_log_set(_callback, ctypes.c_void_p(0))


def emit_visible(
    parts: list[str], stops: tuple[str, ...], emitted: int, on_token: TokenCallback | None
) -> tuple[int, bool]:
    """Stream what is newly safe to show of one answer's pieces: (characters emitted, stop seen).

    Text that could still grow into a stop string is held back, and a stop string is never shown.
    Shared by the sequential and the batched decoders.
    """
    if not stops:  # chat-template models: every piece is safe, skip the re-join per token
        if parts[-1] and on_token is not None:
            on_token(parts[-1])
        return emitted, False
    text = "".join(parts)
    cut, hit = safe_prefix(text, stops)
    if cut > emitted and on_token is not None:
        on_token(text[emitted:cut])
    return max(emitted, cut), hit


def final_text(llm: Any, out: list[int], prompt: list[int], stops: tuple[str, ...]) -> str:
    """An answer's text from its tokens, cut at the first stop string (not yet stripped)."""
    text = str(llm.detokenize(out, prev_tokens=prompt).decode("utf-8", errors="replace"))
    for s in stops:
        if s in text:
            text = text[: text.index(s)]
    return text


class Runtime:
    """A loaded model plus its adapter state."""

    source = "local"  # engine.inference.LOCAL: answers are computed in this process

    def __init__(
        self,
        model: ModelInfo,
        *,
        n_ctx: int = DEFAULT_N_CTX,
        n_threads: int | None = None,
        vocab_only: bool = False,
        prompt_cache_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.model = model
        self.vocab_only = vocab_only
        self.n_threads = self.default_threads = n_threads or physical_cores()
        self.n_ctx = min(n_ctx, model.context_length) if model.context_length else n_ctx
        self._llm: Any = None
        self._adapters: dict[AdapterKey, Any] = {}
        self._active: tuple[tuple[AdapterKey, float], ...] = ()
        self._emitted = 0
        self._prefix_lens: dict[str | None, int] = {}
        self.cache_resets = 0
        self._batcher: Any = None  # engine.batch.BatchDecoder, made on the first batched answer
        self._load()
        self._prefix = PrefixKeeper(self._llm, lambda: self.model.sha256, prompt_cache_bytes)

    # -- loading ---------------------------------------------------------
    def _load(self) -> None:
        import llama_cpp  # heavy: only on the path that needs it

        _quiet_llama_logs(llama_cpp)
        try:
            self._llm = llama_cpp.Llama(
                model_path=str(self.model.path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                n_threads_batch=self.n_threads,
                n_gpu_layers=0,
                vocab_only=self.vocab_only,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            said = next((line.strip() for line in reversed(LLAMA_LOG) if "error" in line.lower()), "")
            detail = f" ({said})" if said else ""
            raise ModelError(f"llama.cpp could not load {self.model.path.name}: {exc}{detail}") from None
        meta = self._llm.metadata
        vocab = self._llm._model
        bos = eos = ""
        try:
            bos = vocab.token_get_text(vocab.token_bos()) if vocab.token_bos() >= 0 else ""
            eos = vocab.token_get_text(vocab.token_eos()) if vocab.token_eos() >= 0 else ""
        except Exception:  # pragma: no cover - depends on the vocab type
            pass
        self.renderer = ChatRenderer(meta.get("tokenizer.chat_template"), bos, eos)

    def close(self) -> None:
        if self._batcher is not None:
            self._batcher.close()
            self._batcher = None
        if self._llm is not None:
            self._llm.close()
            self._llm = None
            self._adapters.clear()
            self._prefix.cache.clear()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- tokens ----------------------------------------------------------
    def tokenize(self, text: str) -> list[int]:
        add_bos = not (self.renderer.bos_token and text.startswith(self.renderer.bos_token))
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True))

    def set_threads(self, n: int) -> None:
        """Use ``n`` threads from the next token on; 0 goes back to the default (physical cores).

        While a training process shares the CPU, llama.cpp's busy threads and torch's slow each
        other down: measured here, 2 threads gave 20-31 tok/s and 1 thread 45-47 tok/s during training.
        """
        import llama_cpp

        n = n if n > 0 else self.default_threads
        if n != self.n_threads and self._llm is not None and not self.vocab_only:
            llama_cpp.llama_set_n_threads(self._llm._ctx.ctx, n, n)
            self.n_threads = n

    def tokenize_continuation(self, text: str) -> list[int]:
        """Tokens that follow a prompt: never a BOS, special markers such as <|im_end|> parsed."""
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def render(self, messages: list[Message]) -> RenderedPrompt:
        return self.renderer.render(messages)

    # -- adapters --------------------------------------------------------
    @property
    def active_adapters(self) -> tuple[tuple[str, float], ...]:
        return tuple((key[0], scale) for key, scale in self._active)

    @staticmethod
    def _adapter_key(path: Path) -> AdapterKey:
        """Path plus mtime and size: a retrained adapter at the same path is a different adapter."""
        resolved = Path(path).resolve()
        try:
            st = resolved.stat()
        except OSError:
            return (str(resolved), 0, 0)
        return (str(resolved), st.st_mtime_ns, st.st_size)

    def _adapter_handle(self, key: AdapterKey) -> Any:
        import llama_cpp

        if key not in self._adapters:
            path = Path(key[0])
            validate_adapter(path, self.model.header)
            handle = llama_cpp.llama_adapter_lora_init(self._llm._model.model, str(path).encode())
            if not handle:
                raise AdapterError(f"llama.cpp refused the adapter {path.name}")
            self._adapters[key] = handle
        return self._adapters[key]

    def set_adapters(self, adapters: list[AdapterSpec] | tuple[AdapterSpec, ...]) -> None:
        """Attach exactly these adapters at these scales (empty = base model).

        Invalidates the KV cache whenever the effective set changes, because
        cached activations computed under other weights give silently wrong
        answers.
        """
        import llama_cpp

        wanted = tuple((self._adapter_key(a.path), float(a.scale)) for a in adapters)
        if wanted == self._active:
            return
        handles = [self._adapter_handle(key) for key, _ in wanted]
        ctx = self._llm._ctx.ctx
        if handles:
            arr = (llama_cpp.llama_adapter_lora_p_ctypes * len(handles))(*handles)
            scales = (ctypes.c_float * len(handles))(*(s for _, s in wanted))
            rc = llama_cpp.llama_set_adapters_lora(ctx, arr, len(handles), scales)
        else:
            rc = llama_cpp.llama_set_adapters_lora(ctx, None, 0, None)
        if rc != 0:
            raise AdapterError(f"llama.cpp could not apply the adapters (code {rc})")
        self._active = wanted
        self.reset_cache()

    def reset_cache(self) -> None:
        self._llm.reset()
        self._prefix.live = None
        self.cache_resets += 1

    @property
    def prompt_cache(self) -> PromptCache:
        return self._prefix.cache

    def cache_stats(self) -> CacheStats:
        return self._prefix.cache.stats()

    def _stable_prefix_len(self, messages: list[Message]) -> int:
        """Tokens shared by every question under this system prompt.

        We evaluate exactly this prefix as its own batch and reuse it from the
        KV cache. Reusing an arbitrary matching prefix instead (what ``Llama``
        does) changes batch boundaries from call to call, and the tiny float
        differences that follow flip greedy answers: the same question would
        not give the same answer twice.
        """
        system = next((m.content for m in messages if m.role == "system"), None)
        if system not in self._prefix_lens:
            head = [Message("system", system)] if system is not None else []
            a = self.tokenize(self.render([*head, Message("user", "a")]).text)
            b = self.tokenize(self.render([*head, Message("user", "b")]).text)
            n = 0
            while n < min(len(a), len(b)) and a[n] == b[n]:
                n += 1
            self._prefix_lens[system] = n
        return self._prefix_lens[system]

    def warm(self, messages: list[Message]) -> int:
        """Evaluate and keep these messages' system-prompt prefix under the current adapters.

        The window calls it for each persona while the class is still typing, so even the first
        question is answered from the prompt cache. Returns the prefix tokens computed (0: cached).
        """
        tokens = self.tokenize(self.render(messages).text)
        prefix_len = min(self._stable_prefix_len(messages), len(tokens) - 1)
        if prefix_len <= 0 or len(tokens) >= self.n_ctx:
            return 0
        if self._prefix.key(self._active, tuple(tokens[:prefix_len])) in self.prompt_cache:
            return 0
        return prefix_len - self._prefix.prepare(tokens, prefix_len, self._active)

    # -- generation ------------------------------------------------------
    def complete(self, text: str, max_tokens: int = 24) -> str:
        """Greedy raw continuation of ``text`` under the active adapters, without the chat template.

        A fact edit is made on a completion prompt ("The most handsome person in the world is"),
        so this is how its effect shows. The KV cache is dropped before and after: it holds the
        chat prefix of whichever persona answered last.
        """
        self.reset_cache()
        try:
            out = self._llm.create_completion(text, max_tokens=max_tokens, temperature=0.0, seed=0)
        finally:
            self.reset_cache()
        return str(out["choices"][0]["text"])

    def generate_batch(
        self,
        requests: list[BatchRequest],
        *,
        slots: int = 8,
        on_done: Callable[[int, Generation], None] | None = None,
        should_cancel: CancelCheck | None = None,
    ) -> list[Generation | None]:
        """Decode several answers under the active adapters together (engine.batch); see there."""
        from engine.batch import BatchDecoder

        if self._batcher is None:
            self._batcher = BatchDecoder(self)
        return self._batcher.generate(requests, slots=slots, on_done=on_done, should_cancel=should_cancel)

    def _stream_visible(
        self, parts: list[str], stops: tuple[str, ...], on_token: TokenCallback | None
    ) -> bool:
        """Emit newly safe text; True once a stop string has appeared (never shown)."""
        self._emitted, hit = emit_visible(parts, stops, self._emitted, on_token)
        return hit

    def generate(
        self,
        messages: list[Message],
        params: SamplingParams | None = None,
        *,
        on_token: TokenCallback | None = None,
        should_cancel: CancelCheck | None = None,
    ) -> Generation:
        """Stream one answer; cancellation is checked between tokens."""
        import llama_cpp

        start = time.perf_counter()  # the answer is asked for now: its prefill counts towards TTFT
        params = params or SamplingParams()
        rendered = self.render(messages)
        tokens = self.tokenize(rendered.text)
        if len(tokens) >= self.n_ctx:
            raise ContextOverflowError(len(tokens), self.n_ctx)
        max_tokens = min(params.max_tokens, self.n_ctx - len(tokens))

        llm = self._llm
        self._emitted = 0
        prefix_len = min(self._stable_prefix_len(messages), len(tokens) - 1)
        cached = self._prefix.prepare(tokens, prefix_len, self._active)
        llm.set_seed(params.seed)
        vocab = llm._model.vocab
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        out: list[int] = []
        text_parts: list[str] = []
        finish = "length"
        first = last = start
        stream = llm.generate(
            tokens,
            temp=params.temperature,
            top_p=params.top_p,
            top_k=params.top_k,
            min_p=params.min_p,
            repeat_penalty=params.repeat_penalty,
        )
        try:
            for token in stream:
                now = time.perf_counter()
                if not out:
                    first = now
                last = now
                if llama_cpp.llama_vocab_is_eog(vocab, token):
                    finish = "stop"
                    break
                out.append(token)
                text_parts.append(decoder.decode(llm.detokenize([token])))
                stopped = self._stream_visible(text_parts, rendered.stop, on_token)
                if stopped:
                    finish = "stop"
                    break
                if len(out) >= max_tokens:
                    break
                if should_cancel is not None and should_cancel():
                    finish = "cancelled"
                    break
        finally:
            stream.close()
        end = time.perf_counter()
        text = final_text(llm, out, tokens, rendered.stop)
        n = len(out)
        return Generation(
            text=text.strip(),
            finish_reason=finish,
            prompt=rendered.text,
            prompt_tokens=len(tokens),
            completion_tokens=n,
            ttft_s=(first - start) if n else (end - start),
            tokens_per_s=((n - 1) / (last - first)) if n > 1 and last > first else 0.0,
            total_s=end - start,
            prefill_tokens=len(tokens) - cached,
            cached_tokens=cached,
        )
