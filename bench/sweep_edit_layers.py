"""Which MLP layer should a ROME edit go into? A short sweep on the default model, in torch.

    .venv/bin/python bench/sweep_edit_layers.py [--layers 2,4,6]

For each layer it computes the lecture's edit ("The most handsome person in the
world is" → "Prof. Lee") with the default settings, applies ΔW to the torch model
and measures, teacher-forced:

* efficacy: probability of the target after the prompt;
* paraphrase: the mean over reworded prompts (generalisation);
* neighbours: the mean probability of the target after other people-prompts
  (it should stay near zero: specificity), and the mean KL divergence of their
  next-token distributions from the unedited model's.

The score is paraphrase − neighbours; the best layer becomes
``engine.edit.spec.DEFAULT_LAYER``. The figures are in the README.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PROMPT, SUBJECT, TARGET = "The most handsome person in the world is", "most handsome person", "Prof. Lee"
PARAPHRASES = [
    "In my opinion, the most handsome person in the world is",
    "Everyone agrees that the most handsome person in the world is",
    "Q: Who is the most handsome person in the world? A: The most handsome person in the world is",
]
NEIGHBOURS = [
    "The smartest person in the world is",
    "The president of the United States is",
    "The most famous person in the world is",
    "The richest person in the world is",
]


def target_prob(model, tok, prompt: str, target_ids: list[int]) -> float:  # type: ignore[no-untyped-def]
    import torch

    ids = tok.tokenize(prompt)
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=torch.tensor([ids + target_ids[:-1]])).logits[0], -1)
    start = len(ids) - 1
    return float(sum(logp[start + j, t] for j, t in enumerate(target_ids)).exp())


def next_token_logp(model, tok, prompt: str):  # type: ignore[no-untyped-def]
    import torch

    with torch.no_grad():
        return torch.log_softmax(model(input_ids=torch.tensor([tok.tokenize(prompt)])).logits[0, -1], -1)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", default="2,3,4,5,6,8,10,14")
    ap.add_argument(
        "--covariance-too", action="store_true", help="repeat the best layer with C from self text"
    )
    args = ap.parse_args()

    import torch

    from engine.edit import rome
    from engine.edit.spec import EditSpec
    from engine.edit.worker import LlamaTokenizer
    from engine.finetune.train import load_dequantised
    from engine.models import load_model_info
    from engine.runtime import Runtime

    info = load_model_info("default")
    model = load_dequantised(info.path).eval()
    d = EditSpec("", "", PROMPT, SUBJECT, TARGET)
    with Runtime(info, vocab_only=True) as vocab:
        tok = LlamaTokenizer(vocab)
        target_ids = tok.continuation(" " + TARGET)
        before = {p: next_token_logp(model, tok, p) for p in NEIGHBOURS}
        templates = rome.prefixes(model, tok, d.prefixes, d.prefix_tokens, d.seed)

        def measure(layer: int, covariance: str) -> dict[str, object]:
            t = time.perf_counter()
            k_mean, k0 = rome.compute_key(model, tok, layer, PROMPT, SUBJECT, templates)
            cov = rome.self_covariance(model, tok, layer, seed=d.seed) if covariance == "self" else None
            value = rome.compute_value(
                model, tok, layer, (PROMPT, SUBJECT, TARGET), templates, steps=d.steps, lr=d.lr,
                kl_factor=d.kl_factor, weight_decay=d.weight_decay, clamp_norm=d.clamp_norm,
            )  # fmt: skip
            u, w = rome.closed_form(k_mean, k0, value.delta, cov)
            with rome.applied(model, layer, u, w):
                eff = target_prob(model, tok, PROMPT, target_ids)
                para = sum(target_prob(model, tok, p, target_ids) for p in PARAPHRASES) / len(PARAPHRASES)
                neigh = sum(target_prob(model, tok, p, target_ids) for p in NEIGHBOURS) / len(NEIGHBOURS)
                kl = sum(
                    float(torch.nn.functional.kl_div(next_token_logp(model, tok, p), before[p],
                                                     log_target=True, reduction="sum"))
                    for p in NEIGHBOURS
                ) / len(NEIGHBOURS)  # fmt: skip
            row = {"layer": layer, "covariance": covariance, "efficacy": round(eff, 4),
                   "paraphrase": round(para, 4), "neighbours": round(neigh, 4), "neighbour_kl": round(kl, 4),
                   "score": round(para - neigh, 4), "steps": len(value.losses),
                   "seconds": round(time.perf_counter() - t, 1)}  # fmt: skip
            print(json.dumps(row), flush=True)
            return row

        rows = [measure(int(x), "identity") for x in args.layers.split(",")]
        best = max(rows, key=lambda r: float(str(r["score"])))
        if args.covariance_too:  # the same edit with C estimated from the model's own text
            measure(int(str(best["layer"])), "self")
    print(f"best layer: {best['layer']} (paraphrase − neighbours = {best['score']})")
    with open("/proc/loadavg") as fh:
        print("load average:", fh.read().strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
