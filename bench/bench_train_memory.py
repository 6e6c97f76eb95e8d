"""Peak memory of fine-tuning steps: the model's own loss against the trainer's, same batches.

Each mode runs in its own process (peak RSS is per process): the default spec's data, model
and LoRA, the first ``--steps`` batches of the default run in its order, optimizer steps
included. It prints each step's loss (the two must agree), time per step and peak RSS. A full
default run takes about 3 minutes on an idle 2-core machine; a few steps show the peak, which
is reached in the first step with the longest batch.

    .venv/bin/python bench/bench_train_memory.py [--steps 4]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def load_cpu(path: Path, spec: Any) -> Any:
    """The model as the trainer loads it on a CPU: the GGUF dequantised to float32, fresh LoRA."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, GgufConfig
    from transformers.utils import logging as hf_logging

    from engine.runtime import physical_cores

    hf_logging.set_verbosity_error()
    torch.set_num_threads(physical_cores())
    torch.manual_seed(spec.seed)
    model = AutoModelForCausalLM.from_pretrained(
        str(path.parent), gguf_file=path.name, dtype=torch.float32,
        quantization_config=GgufConfig(dequantize=True),
    )  # fmt: skip
    config = LoraConfig(r=spec.rank, lora_alpha=spec.alpha, lora_dropout=0.0, task_type="CAUSAL_LM",
                        target_modules=list(spec.target_modules))  # fmt: skip
    return get_peft_model(model, config)


def child(mode: str, steps: int, micro: int) -> None:
    import torch

    from engine.finetune import train as t
    from engine.finetune.encode import encode_all
    from engine.kb import kb_path
    from engine.models import load_model_info
    from engine.runtime import Runtime

    info = load_model_info("default")
    spec = t.TrainSpec(str(info.path), "", kb_paths=[str(kb_path(lang="en")), str(kb_path(lang="zh-TW"))])
    with Runtime(info, vocab_only=True) as vocab:
        encoded, _ = encode_all(vocab, t.load_examples(spec), spec.max_seq_len)
    order = list(range(len(encoded)))
    random.Random(spec.seed).shuffle(order)
    peft_model = load_cpu(info.path, spec)
    loaded_mb = t.peak_rss_mb()
    optim = torch.optim.AdamW([p for p in peft_model.parameters() if p.requires_grad], lr=spec.lr)
    peft_model.train()
    losses, times = [], []
    for b in range(steps):
        batch = [encoded[i] for i in order[b * spec.batch_size :][: spec.batch_size]]
        t0 = time.perf_counter()
        if mode == "model-loss":  # the trainer before: one pass, the model's own loss
            ids, mask, labels = t._collate(batch)
            loss = peft_model(input_ids=ids, attention_mask=mask, labels=labels).loss
            loss.backward()
            value = loss.item()
        else:  # the trainer now: answer positions only, in slices of `micro` (0: whole)
            value, _ = t.backward_batch(peft_model, batch, "cpu", contextlib.nullcontext(), micro)
        optim.step()
        optim.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - t0)
        losses.append(round(value, 4))
    print(json.dumps({"mode": mode, "losses": losses, "step_s": times, "loaded_mb": loaded_mb,
                      "peak_mb": t.peak_rss_mb()}))  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--child", choices=("model-loss", "sliced"))
    ap.add_argument("--micro-batch", type=int, default=2, help="sequences per pass for the new loss")
    args = ap.parse_args()
    if args.child:
        child(args.child, args.steps, args.micro_batch)
        return 0
    print(f"load average at start: {Path('/proc/loadavg').read_text().strip()}")
    out = {}
    for mode in ("model-loss", "sliced"):
        run = subprocess.run([sys.executable, __file__, "--child", mode, "--steps", str(args.steps),
                              "--micro-batch", str(args.micro_batch)],
                             capture_output=True, text=True, check=True)  # fmt: skip
        out[mode] = json.loads(run.stdout.strip().splitlines()[-1])
    for mode, r in out.items():
        step = sum(r["step_s"]) / len(r["step_s"])
        print(f"{mode:12}: peak RSS {r['peak_mb']:6.0f} MB (after loading {r['loaded_mb']:.0f} MB), "
              f"{step:.2f} s/step, losses {r['losses']}")  # fmt: skip
    before, after = out["model-loss"], out["sliced"]
    gap = max(abs(a - b) for a, b in zip(before["losses"], after["losses"], strict=True))
    print(
        f"ratio peak RSS sliced/model loss: {after['peak_mb'] / before['peak_mb']:.2f}x; "
        f"time per step {sum(after['step_s']) / sum(before['step_s']):.2f}x; "
        f"largest loss difference {gap:.4f}"
    )
    print(f"load average at end: {Path('/proc/loadavg').read_text().strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
