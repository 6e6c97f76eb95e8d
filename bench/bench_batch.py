"""Probe runs, batched against one-at-a-time, measured in the same process.

The same probes, personas and settings are run through ``Lab.probe`` three times: sequentially
(``batch=1``, the baseline), batched, and batched again. It prints the aggregate decode rate of each
(completion tokens over the run's wall time, scoring and SQLite included), their ratio (target
>= 2.5x), how many batched answers are word for word the sequential ones, and whether the two
batched runs agree (they must: temperature 0, same layout).

    .venv/bin/python bench/bench_batch.py [--personas base,prompted] [--limit 40] [--batch 8]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--personas", default="base,prompted")
    ap.add_argument("--limit", type=int, default=40, help="probes per run (default 40)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--tokens", type=int, default=64, help="max tokens per answer")
    ap.add_argument("--threads", type=int, default=0, help="llama.cpp threads (0: physical cores)")
    args = ap.parse_args()
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
