"""Training subprocess: ``python -m engine.finetune.train --spec SPEC.json``.

Reports on stdout as JSON lines (``start``, ``loading``, ``step``, ``exporting``,
``done`` or ``error``) so any front end can show progress. It writes the
adapter atomically at the very end: cancelling (terminate) or a crash leaves
any earlier adapter untouched.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SUPPORTED = ("llama",)


@dataclass
class TrainSpec:
    model_path: str
    kb_path: str
    out_path: str
    steps: int = 15
    rank: int = 8
    alpha: int = 16
    lr: float = 2e-3
    mix_general: bool = False
    seed: int = 42

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def _batch(tok: Any, pairs: list[Any]) -> tuple[Any, Any, Any]:
    """Chat-formatted examples; loss only on the answer tokens."""
    import torch

    rows, labels = [], []
    for p in pairs:
        prompt = tok.apply_chat_template([{"role": "user", "content": p.question}], tokenize=False,
                                         add_generation_prompt=True)  # fmt: skip
        prompt_ids = tok(prompt, add_special_tokens=False)["input_ids"]
        answer_ids = tok(p.answer + (tok.eos_token or ""), add_special_tokens=False)["input_ids"]
        rows.append(prompt_ids + answer_ids)
        labels.append([-100] * len(prompt_ids) + answer_ids)
    width = max(len(r) for r in rows)
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
    lab = torch.tensor([r + [-100] * (width - len(r)) for r in labels])
    return ids, mask, lab


def train(spec: TrainSpec) -> dict[str, Any]:
    from engine.finetune.dataset import build_pairs
    from engine.finetune.gguf_lora import HF_TO_GGUF, write_adapter
    from engine.kb import load_kb
    from engine.models import file_sha256, validate_model

    info = validate_model(Path(spec.model_path))
    if info.architecture not in SUPPORTED:
        raise ValueError(
            f"Fine-tuning supports the {', '.join(SUPPORTED)} architecture for now; "
            f"{info.path.name} is '{info.architecture}'"
        )
    kb = load_kb(spec.kb_path)
    pairs = build_pairs(kb, mix_general=spec.mix_general)
    emit("start", pairs=len(pairs), steps=spec.steps)

    t0 = time.perf_counter()
    emit("loading")
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    warnings.filterwarnings("ignore", module="peft")  # "no config file": GGUF models have none
    from engine.runtime import physical_cores

    torch.set_num_threads(physical_cores())
    torch.manual_seed(spec.seed)
    folder, name = str(info.path.parent), info.path.name
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    config = LoraConfig(r=spec.rank, lora_alpha=spec.alpha, lora_dropout=0.0, task_type="CAUSAL_LM",
                        target_modules=list(HF_TO_GGUF))  # fmt: skip
    peft_model = get_peft_model(model, config)
    ids, mask, labels = _batch(tok, pairs)
    optim = torch.optim.AdamW([p for p in peft_model.parameters() if p.requires_grad], lr=spec.lr)
    peft_model.train()
    loss_value = float("nan")
    for step in range(1, spec.steps + 1):
        loss = peft_model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        optim.step()
        optim.zero_grad()
        loss_value = float(loss.item())
        emit("step", step=step, steps=spec.steps, loss=round(loss_value, 4),
             elapsed_s=round(time.perf_counter() - t0, 1))  # fmt: skip

    emit("exporting")
    from peft import get_peft_model_state_dict

    state = {k: v.detach().cpu().numpy() for k, v in get_peft_model_state_dict(peft_model).items()}
    cfg = model.config
    out = write_adapter(
        Path(spec.out_path), state, arch=info.architecture, alpha=spec.alpha,
        n_head=cfg.num_attention_heads, n_head_kv=cfg.num_key_value_heads,
        metadata={"base_sha256": file_sha256(info.path), "kb_sha256": kb.sha256, "steps": str(spec.steps),
                  "final_loss": f"{loss_value:.4f}", "pairs": str(len(pairs))},
    )  # fmt: skip
    return {"adapter": str(out), "loss": round(loss_value, 4), "seconds": round(time.perf_counter() - t0, 1)}


def main(argv: list[str] | None = None) -> int:
    from engine.errors import TalabError

    ap = argparse.ArgumentParser(prog="python -m engine.finetune.train")
    ap.add_argument("--spec", required=True, type=Path)
    args = ap.parse_args(argv)
    try:
        spec = TrainSpec(**json.loads(args.spec.read_text(encoding="utf-8")))
        emit("done", **train(spec))
        return 0
    except (TalabError, ValueError, OSError) as exc:
        emit("error", message=str(exc))
        return 2
    except Exception as exc:  # reported, never a bare traceback on the pipe
        emit("error", message=f"unexpected {type(exc).__name__}: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
