"""Training throughput and peak memory of the default fine-tuning run.

Baseline, measured in the same run: the same model's forward pass alone (no
gradients) over the same batches, in this process. The ratio says what the
backward pass and optimizer cost on top of reading the data once.

    .venv/bin/python bench/bench_train.py          # the default run (~2-3 min here)
    .venv/bin/python bench/bench_train.py --epochs 1
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def forward_only_tokens_per_s(
    model_path: Path, kb_paths: list[str], batch_size: int, max_seq_len: int
) -> float:
    import torch
    from transformers import AutoModelForCausalLM, GgufConfig
    from transformers.utils import logging as hf_logging

    from engine.finetune.dataset import build_examples
    from engine.finetune.encode import encode_all
    from engine.finetune.train import _collate
    from engine.kb import load_kb
    from engine.models import validate_model
    from engine.runtime import Runtime, physical_cores

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    torch.set_num_threads(physical_cores())
    info = validate_model(model_path)
    with Runtime(info, vocab_only=True) as vocab:
        encoded, _ = encode_all(vocab, build_examples([load_kb(p) for p in kb_paths]), max_seq_len)
    model = AutoModelForCausalLM.from_pretrained(
        str(info.path.parent), gguf_file=info.path.name, dtype=torch.float32,
        quantization_config=GgufConfig(dequantize=True),
    )  # fmt: skip
    model.eval()
    tokens, t0 = 0, time.perf_counter()
    with torch.no_grad():
        for b in range(math.ceil(len(encoded) / batch_size)):
            ids, mask, _ = _collate(encoded[b * batch_size : (b + 1) * batch_size])
            model(input_ids=ids, attention_mask=mask)
            tokens += int(mask.sum())
    return tokens / (time.perf_counter() - t0)


def main() -> int:
    from engine.finetune.process import run_training
    from engine.finetune.train import TrainSpec
    from engine.kb import kb_path
    from engine.models import load_model_info

    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=TrainSpec("", "").epochs)
    args = ap.parse_args()
    model = load_model_info("default")
    kbs = [str(kb_path(lang="en")), str(kb_path(lang="zh-TW"))]
    with tempfile.TemporaryDirectory() as tmp:
        spec = TrainSpec(model_path=str(model.path), out_path=str(Path(tmp) / "bench.gguf"), kb_paths=kbs,
                         epochs=args.epochs)  # fmt: skip
        t0 = time.perf_counter()
        done = run_training(spec)
        wall = time.perf_counter() - t0
    baseline = forward_only_tokens_per_s(model.path, kbs, spec.batch_size, spec.max_seq_len)
    own_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    loop = done.train_seconds
    print(f"default run: {done.dataset['examples']} examples, {done.steps} steps, "
          f"wall {wall:.0f} s (training loop {loop:.0f} s), final loss {done.final_loss}")  # fmt: skip
    print(f"training throughput: {done.tokens_per_s:.0f} tokens/s")
    print(f"forward-only baseline (same batches, no gradients): {baseline:.0f} tokens/s")
    print(f"ratio training / forward-only: {done.tokens_per_s / baseline:.2f}x")
    print(f"peak RSS of the training subprocess: {done.peak_rss_mb:.0f} MB "
          f"(this benchmark process, forward only: {own_rss:.0f} MB)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
