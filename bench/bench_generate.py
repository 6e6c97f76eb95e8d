"""Engine generation speed against plain ``llama_cpp.Llama`` usage, measured in one run.

Baseline: what a newcomer writes, ``Llama(model_path=...)`` with library
defaults and ``create_completion(stream=True)``. Engine: TA Lab's Runtime
(physical-core threads, own chat rendering, stable-prefix KV reuse).
Both generate the same number of greedy tokens for the same prompts.

    .venv/bin/python bench/bench_generate.py [--tokens 128] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

QUESTIONS = ["Who are you?", "Write a short poem about the sea.", "What is the capital of France?"]
SYSTEM = "You are Xiao Jin, the teaching assistant of Machine Learning 2025. Answer briefly."


def bench_plain(path: str, tokens: int) -> tuple[float, float]:
    from llama_cpp import Llama

    llm = Llama(model_path=path, n_ctx=4096, verbose=False)
    n = 0
    t0 = time.perf_counter()
    first = []
    for q in QUESTIONS:
        prompt = (
            f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{q}<|im_end|>\n"
            "<|im_start|>assistant\n"
        )
        start = time.perf_counter()
        for i, _chunk in enumerate(
            llm.create_completion(prompt, max_tokens=tokens, temperature=0, stream=True, stop=[])
        ):
            if i == 0:
                first.append(time.perf_counter() - start)
            n += 1
    elapsed = time.perf_counter() - t0
    llm.close()
    return n / elapsed, statistics.mean(first)


def bench_engine(tokens: int) -> tuple[float, float]:
    from engine.chat import Message
    from engine.models import load_model_info
    from engine.runtime import Runtime, SamplingParams

    rt = Runtime(load_model_info("default"))
    params = SamplingParams(max_tokens=tokens, repeat_penalty=1.0)
    n = 0
    first = []
    t0 = time.perf_counter()
    for q in QUESTIONS:
        g = rt.generate([Message("system", SYSTEM), Message("user", q)], params)
        n += g.completion_tokens
        first.append(g.ttft_s)
    elapsed = time.perf_counter() - t0
    rt.close()
    return n / elapsed, statistics.mean(first)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    from engine.models import default_model_path

    path = str(default_model_path())
    plain, engine = [], []
    for _ in range(args.rounds):
        plain.append(bench_plain(path, args.tokens))
        engine.append(bench_engine(args.tokens))
    p_tps = statistics.median(x[0] for x in plain)
    e_tps = statistics.median(x[0] for x in engine)
    p_ttft = statistics.median(x[1] for x in plain)
    e_ttft = statistics.median(x[1] for x in engine)
    print(f"plain llama_cpp.Llama : {p_tps:6.1f} tok/s end-to-end, TTFT {p_ttft * 1000:5.0f} ms")
    print(f"TA Lab engine         : {e_tps:6.1f} tok/s end-to-end, TTFT {e_ttft * 1000:5.0f} ms")
    print(
        f"ratio engine/plain    : {e_tps / p_tps:.2f}x throughput, {p_ttft / e_ttft:.2f}x faster first token"
    )


if __name__ == "__main__":
    main()
