"""Aggregate probe throughput of N concurrent TA Lab clients against one llama.cpp server, in one run.

Baseline: the same N probe runs one after another against the same server. Both use the
same server process (llama.cpp's own server from the xllamacpp wheel, ``--parallel N``), the
same persona, probes and greedy settings, so the ratio is the gain from the server batching
the students' requests. Also checks that every answer is the same in both modes.

    .venv/bin/python bench/bench_server.py [--clients 3] [--limit 6]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def run_clients(
    url: str, n: int, limit: int, tokens: int, concurrent: bool
) -> tuple[float, int, list[list[str]]]:
    from engine.lab import Lab, LabConfig

    labs = [Lab(LabConfig(server=url)) for _ in range(n)]
    answers: list[list[str]] = [[] for _ in range(n)]
    counts = [0] * n

    def client(i: int) -> None:
        result = labs[i].probe(["base"], limit=limit, overrides={"max_tokens": tokens})
        rows = labs[i].store.answers(result.run_id)
        answers[i] = [r["answer"] for r in rows]
        counts[i] = sum(int(r["completion_tokens"]) for r in rows)

    start = time.perf_counter()
    if concurrent:
        threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:
        for i in range(n):
            client(i)
    elapsed = time.perf_counter() - start
    return elapsed, sum(counts), answers


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=3)
    ap.add_argument("--limit", type=int, default=6, help="probes per client")
    ap.add_argument("--tokens", type=int, default=32, help="max tokens per answer")
    ap.add_argument("--threads", type=int, default=2, help="server threads")
    args = ap.parse_args()
    os.environ["TALAB_HOME"] = tempfile.mkdtemp(prefix="talab-bench-")
    from engine.models import default_model_path
    from tests.remote_server import ServerProcess

    server = ServerProcess(default_model_path(), [], parallel=args.clients, threads=args.threads).start()
    try:
        run_clients(server.url, 1, 1, 4, concurrent=False)  # warm-up
        seq_s, seq_tok, seq_answers = run_clients(server.url, args.clients, args.limit, args.tokens, False)
        con_s, con_tok, con_answers = run_clients(server.url, args.clients, args.limit, args.tokens, True)
    finally:
        server.stop()
    n = args.clients * args.limit
    print(
        f"{args.clients} clients x {args.limit} probes x <= {args.tokens} tokens, "
        f"server --threads {args.threads} --parallel {args.clients}"
    )
    print(f"one after another: {seq_s:6.1f} s  {n / seq_s:5.2f} answers/s  {seq_tok / seq_s:6.1f} tok/s")
    print(f"concurrent:        {con_s:6.1f} s  {n / con_s:5.2f} answers/s  {con_tok / con_s:6.1f} tok/s")
    print(f"ratio concurrent/sequential (answers/s): {seq_s / con_s:.2f}x")
    same = sum(
        a == b for x, y in zip(seq_answers, con_answers, strict=True) for a, b in zip(x, y, strict=True)
    )
    print(f"answers identical in both modes: {same}/{n}")
    print(f"load average: {Path('/proc/loadavg').read_text().strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
