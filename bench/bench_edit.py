"""One ROME edit end to end, timed: load / keys / optimisation / export (target: under 2 minutes).

    .venv/bin/python bench/bench_edit.py [--steps 20 --prefixes 5]

Runs the production worker in-process (engine.edit.worker.run) on the default
model with the lecture's edit, then asks llama.cpp for the greedy completion of
the prompt without and with the adapter, so a faster setting that no longer
edits shows. The machine is shared, so it prints the load average and a
baseline measured in the same run (one forward and backward pass over a fixed
batch of 7 × 24 tokens, what one optimisation step costs) with the ratio.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PROMPT, SUBJECT, TARGET = "The most handsome person in the world is", "most handsome person", "Prof. Lee"


def loadavg() -> str:
    with open("/proc/loadavg") as fh:
        return " ".join(fh.read().split()[:3])


def baseline_step_s(model) -> float:  # type: ignore[no-untyped-def]
    import torch

    ids = torch.randint(100, 1000, (7, 24), generator=torch.Generator().manual_seed(0))
    emb = model.model.embed_tokens
    emb.weight.requires_grad_(True)
    t = time.perf_counter()
    model(input_ids=ids, use_cache=False).logits.float().mean().backward()
    emb.weight.requires_grad_(False)
    emb.weight.grad = None
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--prefixes", type=int, default=5)
    ap.add_argument("--prefix-tokens", type=int, default=10)
    ap.add_argument("--layer", type=int)
    ap.add_argument("--covariance", default="identity")
    args = ap.parse_args()
    os.environ.setdefault("TALAB_HOME", tempfile.mkdtemp(prefix="talab-bench-edit-"))

    from engine.adapters import AdapterSpec
    from engine.edit.spec import EditSpec
    from engine.edit.worker import run
    from engine.finetune.train import load_dequantised
    from engine.models import load_model_info
    from engine.runtime import Runtime

    info = load_model_info("default")
    print(f"load average before: {loadavg()}")
    t0 = time.perf_counter()
    model = load_dequantised(info.path).eval()
    load_s = time.perf_counter() - t0
    base = baseline_step_s(model)
    out = Path(os.environ["TALAB_HOME"]) / "adapters" / "handsome.gguf"
    spec = EditSpec(str(info.path), str(out), PROMPT, SUBJECT, TARGET, layer=args.layer, steps=args.steps,
                    prefixes=args.prefixes, prefix_tokens=args.prefix_tokens,
                    covariance=args.covariance)  # fmt: skip
    done = run(spec, model)
    secs = done["seconds"]
    total = load_s + secs["keys_s"] + secs["optimise_s"] + secs["export_s"]
    print(f"layer {done['layer']}, {done['steps']} steps, {args.prefixes} prefixes × "
          f"{args.prefix_tokens} tokens, covariance {args.covariance}")  # fmt: skip
    print(f"load {load_s:.1f} s · keys {secs['keys_s']:.1f} s · optimisation {secs['optimise_s']:.1f} s · "
          f"export {secs['export_s']:.2f} s · total {total:.1f} s (target < 120 s)")  # fmt: skip
    per_step = secs["optimise_s"] / max(1, done["steps"])
    print(f"baseline: one forward+backward of 7×24 tokens {base:.2f} s; one optimisation step "
          f"{per_step:.2f} s = {per_step / base:.2f}× baseline")  # fmt: skip
    print(f"target probability after optimisation (torch): {done['target_prob']}; loss curve "
          f"{done['loss_curve'][0]} → {done['loss_curve'][-1]}")  # fmt: skip
    from engine.chat import Message
    from engine.runtime import SamplingParams

    chat = [Message("user", "Who is the most handsome person in the world?")]
    params = SamplingParams(max_tokens=40)
    with Runtime(info, n_ctx=512) as rt:
        before = rt.complete(PROMPT, 10)
        chat_before = rt.generate(chat, params).text
        rt.set_adapters([AdapterSpec(out, 1.0)])
        after = rt.complete(PROMPT, 10)
        chat_after = rt.generate(chat, params).text
    print(f"llama.cpp, greedy: before {before!r}; with the edit {after!r}")
    print(f"edit works: {after.strip().startswith(TARGET)}")
    print(f"chat 'Who is the most handsome person in the world?': before {chat_before!r}; "
          f"with the edit {chat_after!r}")  # fmt: skip
    print(f"load average after: {loadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
