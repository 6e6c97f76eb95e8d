"""The per-persona prompt cache: honest TTFT accounting and answers identical to a cold start."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.adapters import AdapterSpec
from engine.chat import Message
from engine.prompt_cache import PrefixKey, PromptCache
from engine.runtime import Runtime, SamplingParams
from tests.ggufs import write_lora

GREEDY = SamplingParams(max_tokens=8)
#: One llama.cpp thread: answers are the same with any count (test_runtime), and the tests stay fast
#: on a loaded 2-core machine, where 2 spinning threads per process slow each other down badly.
THREADS = 1
COURSE = (
    "You are Xiao Jin, the teaching assistant of Machine Learning 2025 taught by Prof. Lee. "
    "Homework 1 is due on March 14. Homework 2 is due on April 4. Grading: homework 60%, final "
    "project 40%. Office hours are on Tuesday afternoons. Never change or promise grades."
)


def _key(tokens: tuple[int, ...]) -> PrefixKey:
    return PrefixKey("sha", (), tokens)


def test_lru_is_bounded_in_bytes() -> None:
    cache = PromptCache(max_bytes=100)
    cache.put(_key((1,)), bytearray(40))
    cache.put(_key((2,)), bytearray(40))
    assert cache.get(_key((1,))) is not None  # 1 is now the most recently used
    cache.put(_key((3,)), bytearray(40))  # over the bound: 2 goes
    assert cache.get(_key((2,))) is None
    assert cache.get(_key((1,))) is not None and cache.get(_key((3,))) is not None
    cache.put(_key((4,)), bytearray(500))  # larger than the whole cache: never kept
    stats = cache.stats()
    assert (stats.entries, stats.bytes, stats.hits, stats.misses) == (2, 80, 3, 1)
    assert "2 prefixes" in stats.describe()


@pytest.mark.integration
def test_ttft_counts_the_prefill_a_cache_saves(runtime) -> None:  # type: ignore[no-untyped-def]
    """A cold prompted answer computes its prefix (slower first token); a cached one reuses it."""
    runtime.prompt_cache.clear()
    runtime.set_adapters([])
    runtime.set_threads(THREADS)
    prompted = [Message("system", COURSE * 4), Message("user", "When is HW1 due?")]
    try:
        cold = runtime.generate(prompted, GREEDY)
        runtime.generate([Message("user", "Hi")], GREEDY)  # another persona answers in between
        warm = runtime.generate(prompted, GREEDY)
    finally:
        runtime.set_threads(0)
    assert cold.cached_tokens == 0 and cold.prefill_tokens == cold.prompt_tokens
    assert warm.cached_tokens > 150 and warm.prefill_tokens == warm.prompt_tokens - warm.cached_tokens
    assert warm.prefill_tokens < 20
    assert cold.ttft_s > warm.ttft_s
    assert warm.text == cold.text
    assert runtime.cache_stats().bytes > 0


def _plan() -> list[tuple[str, str | None, float | None]]:
    """(label, system prompt, adapter scale): personas, scales, a retrain and a KB edit interleaved."""
    edited = COURSE.replace("March 14", "March 21")
    return [
        ("base", None, None),
        ("prompted", COURSE, None),
        ("finetuned", None, 1.0),
        ("both", COURSE, 1.0),
        ("merged", COURSE, 0.5),
        ("prompted", COURSE, None),
        ("both", COURSE, 1.0),
        ("retrain", "", None),  # the adapter file is rewritten in place here
        ("both", COURSE, 1.0),
        ("kb-edit", edited, None),
        ("both", edited, 1.0),
        ("merged", COURSE, 0.5),
        ("base", None, None),
    ]


def _messages(system: str | None, question: str) -> list[Message]:
    return ([Message("system", system)] if system else []) + [Message("user", question)]


def _answer(rt: Runtime, lora: Path, system: str | None, scale: float | None, q: str) -> tuple[str, int]:
    rt.set_adapters([AdapterSpec(lora, scale)] if scale is not None else [])
    gen = rt.generate(_messages(system, q), GREEDY)
    return gen.text, gen.cached_tokens


@pytest.mark.integration
def test_any_interleaving_answers_like_a_cold_start(model_info, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Warm answers equal, word for word, those of a fresh runtime that never cached anything."""
    shapes = {t.name: t.shape for t in model_info.header.tensors}
    lora = write_lora(tmp_path / "xiaojin.gguf", shapes, std=0.08, seed=1)
    questions = ["Who are you?", "When is HW1 due?"]
    warm = Runtime(model_info, n_ctx=1024, n_threads=THREADS)
    reused = 0
    try:
        for i, (label, system, scale) in enumerate(_plan()):
            if label == "retrain":
                write_lora(lora, shapes, std=0.08, seed=2)
                os.utime(lora, ns=(10**9 * (i + 5), 10**9 * (i + 5)))
                continue
            q = questions[i % 2]
            got, cached = _answer(warm, lora, system, scale, q)
            reused += cached > 0
            cold = Runtime(model_info, n_ctx=1024, n_threads=THREADS, prompt_cache_bytes=0)
            try:
                want, cold_cached = _answer(cold, lora, system, scale, q)
            finally:
                cold.close()
            assert cold_cached == 0
            assert got == want, f"step {i} ({label}): cached {cached} tokens"
    finally:
        warm.close()
    assert reused >= 3  # the cache was really used on the way


@pytest.mark.integration
def test_lab_stores_prefill_and_cached_tokens(model_info) -> None:  # type: ignore[no-untyped-def]
    from engine.lab import Lab, LabConfig

    lab = Lab(LabConfig(n_ctx=2048))
    lab.runtime.set_threads(THREADS)
    try:
        overrides = {"max_tokens": 4}
        first = lab.ask("Who are you?", ["base", "prompted"], overrides)
        second = lab.ask("Who are you?", ["base", "prompted"], overrides)
        rows = {(run, a["persona_id"]): a for run in (first, second) for a in lab.store.answers(run)}
    finally:
        lab.close()
    cold, warm = rows[(first, "prompted")], rows[(second, "prompted")]
    assert cold["cached_tokens"] == 0 and cold["prefill_tokens"] == cold["prompt_tokens"] > 300
    assert warm["cached_tokens"] > 300
    assert warm["prefill_tokens"] + warm["cached_tokens"] == warm["prompt_tokens"]
    assert warm["batched"] == 1  # Base and Prompted TA share their (empty) adapter set: one batch
    assert cold["ttft_s"] > warm["ttft_s"]


@pytest.mark.integration
def test_a_warmed_persona_answers_its_first_question_from_the_cache(runtime) -> None:  # type: ignore[no-untyped-def]
    runtime.prompt_cache.clear()
    runtime.set_adapters([])
    runtime.set_threads(THREADS)
    asked = [Message("system", COURSE), Message("user", "Who are you?")]
    try:
        computed = runtime.warm(asked)
        assert computed > 50 and runtime.warm(asked) == 0  # the second time it is already kept
        runtime.generate([Message("user", "Hi")], GREEDY)  # the live KV now holds another prefix
        gen = runtime.generate(asked, GREEDY)
    finally:
        runtime.set_threads(0)
    assert gen.cached_tokens == computed and gen.prefill_tokens == gen.prompt_tokens - computed
