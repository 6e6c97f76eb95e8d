"""The live demo's figures, each against a baseline measured in the same run.

1. TTFT of the Prompted TA (full KB prompt) right after another persona answered, against a bare
   question's TTFT. TTFT runs from the request, prefill included (engine.runtime.Generation).
2. Engine single-stream decode against a minimal ``llama_decode`` loop written with the
   low-level API: same model, same context settings, same threads, alternated in one process.
3. One question to the five personas, ``--tokens`` each, wall time until the last answer ends,
   cold (empty prompt cache) and warm. The adapter is a random LoRA with the default model's
   shapes: its values do not matter for speed.

    .venv/bin/python bench/bench_live.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

STORY = "Write a long story about a lighthouse keeper and the sea."


def raw_decode_rate(path: str, prompt: str, n_tokens: int, threads: int, n_ctx: int) -> float:
    """Decode tok/s of the plainest loop llama.cpp allows: greedy sample, decode one token, repeat."""
    import llama_cpp as L

    mparams = L.llama_model_default_params()
    mparams.n_gpu_layers = 0
    model = L.llama_model_load_from_file(path.encode(), mparams)
    cparams = L.llama_context_default_params()
    cparams.n_ctx, cparams.n_batch, cparams.n_ubatch = n_ctx, 512, 512
    cparams.n_threads = cparams.n_threads_batch = threads
    cparams.flash_attn_type = L.LLAMA_FLASH_ATTN_TYPE_DISABLED  # as llama_cpp.Llama sets it
    ctx = L.llama_init_from_model(model, cparams)
    vocab = L.llama_model_get_vocab(model)
    text = prompt.encode()
    ids = (L.llama_token * n_ctx)()
    n = L.llama_tokenize(vocab, text, len(text), ids, n_ctx, True, True)
    smpl = L.llama_sampler_chain_init(L.llama_sampler_chain_default_params())
    L.llama_sampler_chain_add(smpl, L.llama_sampler_init_greedy())
    L.llama_decode(ctx, L.llama_batch_get_one(ids, n))
    tok = (L.llama_token * 1)()
    stamps = []
    for _ in range(n_tokens):
        tok[0] = L.llama_sampler_sample(smpl, ctx, -1)
        stamps.append(time.perf_counter())
        L.llama_decode(ctx, L.llama_batch_get_one(tok, 1))
    L.llama_sampler_free(smpl)
    L.llama_free(ctx)
    L.llama_model_free(model)
    return (len(stamps) - 1) / (stamps[-1] - stamps[0])


def decode_ceiling(rt: Any, rounds: int, tokens: int) -> tuple[float, float]:
    from engine.chat import Message
    from engine.runtime import SamplingParams

    messages = [Message("user", STORY)]
    prompt = rt.render(messages).text
    params = SamplingParams(max_tokens=tokens, repeat_penalty=1.0)
    raw, eng = [], []
    for _ in range(rounds):
        raw.append(raw_decode_rate(str(rt.model.path), prompt, tokens, rt.n_threads, rt.n_ctx))
        gen = rt.generate(messages, params)
        if gen.completion_tokens < tokens // 2:
            raise SystemExit(f"the engine stopped after {gen.completion_tokens} tokens: pick a longer prompt")
        eng.append(gen.tokens_per_s)
    return statistics.median(raw), statistics.median(eng)


def personas(kb_prompt: str, lora: Path) -> dict[str, tuple[str | None, list[Any]]]:
    from engine.adapters import AdapterSpec

    return {
        "base": (None, []),
        "prompted": (kb_prompt, []),
        "finetuned": (None, [AdapterSpec(lora, 1.0)]),
        "finetuned-prompted": (kb_prompt, [AdapterSpec(lora, 1.0)]),
        "merged": (None, [AdapterSpec(lora, 0.5)]),
    }


def ask_all(rt: Any, cast: dict[str, tuple[str | None, list[Any]]], question: str, tokens: int) -> Any:
    from engine.chat import Message
    from engine.runtime import SamplingParams

    t0 = time.perf_counter()
    gens = {}
    for pid, (system, adapters) in cast.items():
        rt.set_adapters(adapters)
        msgs = ([Message("system", system)] if system else []) + [Message("user", question)]
        gens[pid] = rt.generate(msgs, SamplingParams(max_tokens=tokens))
    return time.perf_counter() - t0, gens


Cast = dict[str, tuple[str | None, list[Any]]]


def ask_all_batched(rt: Any, cast: Cast, question: str, tokens: int) -> Any:
    """As the window asks: personas that share an adapter set decode in one batch (engine.batch)."""
    from engine.batch import BatchRequest
    from engine.chat import Message
    from engine.runtime import SamplingParams

    t0 = time.perf_counter()
    groups: dict[tuple[Any, ...], list[str]] = {}
    for pid, (_, adapters) in cast.items():
        groups.setdefault(tuple((str(a.path), a.scale) for a in adapters), []).append(pid)
    gens = {}
    for pids in groups.values():
        rt.set_adapters(cast[pids[0]][1])
        reqs = [
            BatchRequest(
                ([Message("system", cast[p][0] or "")] if cast[p][0] else []) + [Message("user", question)],
                SamplingParams(max_tokens=tokens),
            )
            for p in pids
        ]
        gens.update(zip(pids, rt.generate_batch(reqs, slots=len(reqs)), strict=True))
    return time.perf_counter() - t0, gens


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--threads", type=int, default=0, help="llama.cpp threads (0: physical cores)")
    args = ap.parse_args()
    from engine.kb import load_kb
    from engine.models import load_model_info
    from engine.runtime import Runtime
    from tests.ggufs import write_lora

    info = load_model_info("default")
    kb_prompt = load_kb(None).system_prompt
    print(f"load average at start: {Path('/proc/loadavg').read_text().strip()}")
    with tempfile.TemporaryDirectory() as tmp, Runtime(info, n_threads=args.threads or None) as rt:
        lora = write_lora(Path(tmp) / "xiaojin.gguf", {t.name: t.shape for t in info.header.tensors},
                          targets=("attn_q", "attn_k", "attn_v", "attn_output", "ffn_up", "ffn_down",
                                   "ffn_gate"), rank=8)  # fmt: skip
        cast = personas(kb_prompt, lora)
        rt.model.sha256  # noqa: B018 - hash once, outside every timing

        # 1. TTFT after another persona answered
        from engine.chat import Message
        from engine.runtime import SamplingParams

        short = SamplingParams(max_tokens=8)
        bare, prompted, cold = [], [], None
        for i in range(args.rounds + 1):
            rt.set_adapters([])
            b = rt.generate([Message("user", "When is HW1 due?")], short)
            p = rt.generate([Message("system", kb_prompt), Message("user", "When is HW1 due?")], short)
            if i == 0:
                cold = p
                continue
            bare.append(b.ttft_s)
            prompted.append(p.ttft_s)
        assert cold is not None
        b_ms, p_ms = statistics.median(bare) * 1000, statistics.median(prompted) * 1000
        print(f"TTFT bare question              : {b_ms:7.1f} ms (median of {len(bare)})")
        print(f"TTFT Prompted TA, cached prefix : {p_ms:7.1f} ms ({p.cached_tokens} of {p.prompt_tokens} "
              f"prompt tokens reused)")  # fmt: skip
        print(f"TTFT Prompted TA, cold          : {cold.ttft_s * 1000:7.1f} ms ({cold.prefill_tokens} "
              f"prompt tokens computed)")  # fmt: skip
        print(f"ratio prompted/bare             : {p_ms / b_ms:.2f}x (target <= 1.2x)")

        # 2. the raw decode ceiling
        raw, eng = decode_ceiling(rt, args.rounds, args.tokens)
        print(f"raw llama_decode loop           : {raw:7.1f} tok/s ({rt.n_threads} threads)")
        print(f"engine Runtime.generate         : {eng:7.1f} tok/s")
        print(f"ratio engine/raw                : {eng / raw:.3f}x (target >= 0.97x)")

        # 3. one question to five personas
        rt.prompt_cache.clear()
        rt.reset_cache()
        cold_s, _ = ask_all(rt, cast, "Who are you?", args.tokens)
        warm = [ask_all(rt, cast, q, args.tokens) for q in ("Who is the US president?", "Who are you?")]
        warm_s = statistics.median(w[0] for w in warm)
        n = sum(g.completion_tokens for g in warm[-1][1].values())
        print(f"five personas, cold cache       : {cold_s:6.2f} s")
        print(f"five personas, warm cache       : {warm_s:6.2f} s ({n} tokens in the last round; aim <= 8 s)")
        questions = ("Who is the US president?", "Who are you?")
        batched = [ask_all_batched(rt, cast, q, args.tokens) for q in questions]
        b_s = statistics.median(w[0] for w in batched)
        n = sum(g.completion_tokens for g in batched[-1][1].values())
        ratio = b_s / warm_s
        print(f"five personas, batched (window) : {b_s:6.2f} s ({n} tokens; {ratio:.2f}x the one-by-one")
        print("                                  wall time: personas sharing adapters decode together)")
        print(rt.cache_stats().describe())
    print(f"load average at end: {Path('/proc/loadavg').read_text().strip()}")


if __name__ == "__main__":
    main()
