"""Persona switch (LoRA hot-swap) against a model reload, measured in one run.

A switch is ``Runtime.set_adapters`` plus the KV-cache reset it implies. The
baseline is what switching costs without hot-swap: constructing a new
``llama_cpp.Llama`` with ``lora_path``. Uses a random LoRA with the default
model's shapes (a real llama.cpp adapter; its values do not matter for speed).

    .venv/bin/python bench/bench_switch.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    from llama_cpp import Llama

    from engine.adapters import AdapterSpec
    from engine.models import load_model_info
    from engine.runtime import Runtime
    from tests.ggufs import write_lora

    info = load_model_info("default")
    with tempfile.TemporaryDirectory() as tmp:
        lora = write_lora(
            Path(tmp) / "bench.gguf",
            {t.name: t.shape for t in info.header.tensors},
            targets=("attn_q", "attn_k", "attn_v", "attn_output", "ffn_up", "ffn_down", "ffn_gate"),
            rank=8,
        )
        reloads = []
        for _ in range(max(3, args.rounds // 4)):
            t0 = time.perf_counter()
            llm = Llama(model_path=str(info.path), n_ctx=4096, lora_path=str(lora), verbose=False)
            reloads.append(time.perf_counter() - t0)
            llm.close()
        rt = Runtime(info)
        rt.set_adapters([AdapterSpec(lora, 1.0)])  # first load of the adapter file: excluded
        switches = []
        for i in range(args.rounds):
            t0 = time.perf_counter()
            rt.set_adapters([AdapterSpec(lora, 1.0 if i % 2 else 0.5)])
            switches.append(time.perf_counter() - t0)
        rt.close()
    r, s = statistics.median(reloads), statistics.median(switches)
    print(f"model reload with adapter : {r * 1000:8.1f} ms (median of {len(reloads)})")
    print(f"persona switch (hot-swap) : {s * 1000:8.3f} ms (median of {len(switches)})")
    print(f"ratio reload/switch       : {r / s:,.0f}x faster to switch")


if __name__ == "__main__":
    main()
