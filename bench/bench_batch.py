"""Probe runs, batched against one-at-a-time, measured in the same process.

The same probes, personas and settings are run through ``Lab.probe`` three times: sequentially
(``batch=1``, the baseline), batched, and batched again. It prints the aggregate decode rate of each
(completion tokens over the run's wall time, scoring and SQLite included), their ratio (target
>= 2.5x), how many batched answers are word for word the sequential ones, and whether the two
batched runs agree (they must: temperature 0, same layout).

    .venv/bin/python bench/bench_batch.py [--personas base,prompted] [--limit 40] [--batch 8]

It also prints llama.cpp's own ceiling: one ``llama_decode`` step of N sequences against one, in a
bare low-level context with no TA Lab code (``--ceiling-only`` prints just that).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def raw_step_rates(threads: int, sizes: tuple[int, ...], steps: int = 40) -> dict[int, float]:
    """tok/s of ``llama_decode`` steps of n sequences (one token each) after a shared 500-token prefix."""
    import llama_cpp as L

    from engine.models import load_model_info
    from engine.runtime import _quiet_llama_logs

    _quiet_llama_logs(L)
    mparams = L.llama_model_default_params()
    mparams.n_gpu_layers = 0
    model = L.llama_model_load_from_file(str(load_model_info("default").path).encode(), mparams)
    cparams = L.llama_context_default_params()
    cparams.n_ctx, cparams.n_batch, cparams.n_ubatch = 4096, 512, 512
    cparams.n_seq_max, cparams.kv_unified = max(sizes), True
    cparams.n_threads = cparams.n_threads_batch = threads
    cparams.flash_attn_type = L.LLAMA_FLASH_ATTN_TYPE_DISABLED  # as llama_cpp.Llama sets it
    ctx = L.llama_init_from_model(model, cparams)
    mem = L.llama_get_memory(ctx)
    batch = L.llama_batch_init(512, 0, 1)

    def decode(rows: list[tuple[int, int, int, bool]]) -> None:
        batch.n_tokens = len(rows)
        for i, (tok, pos, seq, logits) in enumerate(rows):
            batch.token[i], batch.pos[i], batch.n_seq_id[i] = tok, pos, 1
            batch.seq_id[i][0], batch.logits[i] = seq, logits
        assert L.llama_decode(ctx, batch) == 0

    decode([(100 + i % 50, i, 0, i == 499) for i in range(500)])
    for s in range(1, max(sizes)):
        L.llama_memory_seq_cp(mem, 0, s, -1, -1)
    rates = {}
    for n in sizes:
        for s in range(n):
            L.llama_memory_seq_rm(mem, s, 500, -1)
        t0 = time.perf_counter()
        for step in range(steps):
            decode([(200 + step, 500 + step, s, True) for s in range(n)])
        rates[n] = n * steps / (time.perf_counter() - t0)
    L.llama_batch_free(batch)
    L.llama_free(ctx)
    L.llama_model_free(model)
    return rates


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--personas", default="base,prompted")
    ap.add_argument("--limit", type=int, default=40, help="probes per run (default 40)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--tokens", type=int, default=64, help="max tokens per answer")
    ap.add_argument("--threads", type=int, default=0, help="llama.cpp threads (0: physical cores)")
    ap.add_argument("--ceiling-only", action="store_true", help="only llama.cpp's own 1-vs-N step rates")
    args = ap.parse_args()
    from engine.runtime import physical_cores

    threads = args.threads or physical_cores()
    rates = raw_step_rates(threads, (1, 4, args.batch))
    listed = ", ".join(f"{n} seq {r:.0f} tok/s" for n, r in rates.items())
    print(f"llama.cpp alone, {threads} threads: {listed}")
    print(f"llama.cpp ceiling, {args.batch} sequences / 1: {rates[args.batch] / rates[1]:.2f}x")
    if args.ceiling_only:
        return
    import tempfile

    from engine.lab import Lab, LabConfig

    print(f"load average at start: {Path('/proc/loadavg').read_text().strip()}")
    personas = args.personas.split(",")
    with tempfile.TemporaryDirectory() as home:
        import os

        os.environ["TALAB_HOME"] = home
        lab = Lab(LabConfig(n_threads=args.threads or None))
        try:
            lab.ask("Hello", personas, {"max_tokens": 1}, batch=1)  # every prefix in the prompt cache
            rows = {}
            for label, batch in (("sequential", 1), ("batched", args.batch), ("batched again", args.batch)):
                t0 = time.perf_counter()
                result = lab.probe(
                    personas, limit=args.limit, overrides={"max_tokens": args.tokens}, batch=batch
                )
                wall = time.perf_counter() - t0
                answers = {(a["persona_id"], a["probe_id"]): a for a in lab.store.answers(result.run_id)}
                tokens = sum(a["completion_tokens"] for a in answers.values())
                rows[label] = (wall, tokens, answers)
                rate = tokens / wall
                print(f"{label:13}: {len(answers)} answers, {tokens} tok, {wall:5.1f} s, {rate:5.1f} tok/s")
        finally:
            lab.close()
    seq_wall, seq_tok, seq = rows["sequential"]
    bat_wall, bat_tok, bat = rows["batched"]
    _, _, again = rows["batched again"]
    ratio = (bat_tok / bat_wall) / (seq_tok / seq_wall)
    same = sum(seq[k]["answer"] == bat[k]["answer"] for k in seq)
    stable = sum(bat[k]["answer"] == again[k]["answer"] for k in bat)
    verdicts = sum(seq[k]["passed"] == bat[k]["passed"] for k in seq)
    print(f"batched / sequential tok/s   : {ratio:.2f}x (target >= 2.5x; batch {args.batch})")
    print(f"wall time batched/sequential : {bat_wall / seq_wall:.2f}")
    print(f"batched == sequential, words : {same}/{len(seq)} answers; same verdict {verdicts}/{len(seq)}")
    print(f"batched run to run, words    : {stable}/{len(bat)} answers (must be all)")
    print(f"load average at end: {Path('/proc/loadavg').read_text().strip()}")


if __name__ == "__main__":
    main()
