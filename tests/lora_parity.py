"""Exporter parity: the logit change a LoRA causes in torch must be the change llama.cpp applies.

Both sides see the same token ids (llama.cpp's tokenizer), so any disagreement
is the exported adapter's fault or quantisation noise, never tokenization.
The comparison is the correlation of the two logit *deltas* (adapter on minus
off) over every position and vocabulary entry: the base weights are Q4 in
llama.cpp and f32 in torch, so absolute logits differ, but the delta must not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def random_peft(model_info: Any, targets: list[str], r: int = 4, alpha: int = 8) -> Any:
    """A PEFT LoRA with small random weights (not trained: any values do for parity)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, GgufConfig

    model = AutoModelForCausalLM.from_pretrained(
        str(model_info.path.parent), gguf_file=model_info.path.name, dtype=torch.float32,
        quantization_config=GgufConfig(dequantize=True),
    )  # fmt: skip
    pm = get_peft_model(model, LoraConfig(r=r, lora_alpha=alpha, target_modules=targets))
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for pname, param in pm.named_parameters():
            if "lora_" in pname:
                param.copy_(torch.randn(param.shape, generator=gen) * 0.05)
    pm.eval()
    return pm


def llama_logits(model_path: Path, lora: Path | None, text: str) -> tuple[list[int], np.ndarray]:
    from llama_cpp import Llama

    llm = Llama(model_path=str(model_path), n_ctx=256, logits_all=True, verbose=False,
                lora_path=str(lora) if lora else None)  # fmt: skip
    tokens = llm.tokenize(text.encode(), add_bos=True, special=True)
    llm.eval(tokens)
    scores = np.array(llm.scores[: len(tokens)])
    llm.close()
    return tokens, scores


def torch_delta(pm: Any, tokens: list[int]) -> np.ndarray:
    import torch

    ids = torch.tensor([tokens])
    with torch.no_grad():
        on = pm(input_ids=ids).logits[0].numpy()
        with pm.disable_adapter():
            off = pm(input_ids=ids).logits[0].numpy()
    return on - off


def export(pm: Any, path: Path, arch: str, *, permute: bool = True) -> Path:
    """Through the production writer; ``permute=False`` writes the same tensors without the q/k fix."""
    from peft import get_peft_model_state_dict

    from engine.finetune.gguf_lora import gguf_tensors, write_adapter
    from tests.ggufs import write_gguf

    cfg = pm.base_model.model.config
    alpha = float(pm.peft_config["default"].lora_alpha)
    heads = {"n_head": cfg.num_attention_heads, "n_head_kv": cfg.num_key_value_heads}
    state = {k: v.detach().numpy() for k, v in get_peft_model_state_dict(pm).items()}
    if permute:
        return write_adapter(path, state, arch=arch, alpha=alpha, **heads)
    tensors = gguf_tensors(state, arch="unpermuted", **heads)
    return write_gguf(path, arch, tensors, general_type="adapter",
                      kv={"adapter.type": "lora", "adapter.lora.alpha": alpha})  # fmt: skip


def delta_correlation(pm: Any, model_info: Any, adapter: Path, text: str) -> float:
    tokens, off = llama_logits(model_info.path, None, text)
    _, on = llama_logits(model_info.path, adapter, text)
    reference = torch_delta(pm, tokens)
    assert reference.shape == on.shape
    return float(np.corrcoef(reference.ravel(), (on - off).ravel())[0, 1])
