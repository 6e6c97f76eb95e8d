"""Exporter parity: the logit change a LoRA causes in torch must be the change llama.cpp applies.

Both sides see the same token ids (llama.cpp's tokenizer), so any disagreement
is the exported adapter's fault or quantisation noise, never tokenization.
Two numbers compare the logit *deltas* (adapter on minus off) over every
position and vocabulary entry: the base weights are Q4 in llama.cpp and f32 in
torch, so absolute logits differ, but the delta must not.

* the correlation catches a wrong layout (a missing q/k permutation, swapped
  A/B), but it ignores magnitude;
* the least-squares slope of the llama.cpp delta against the torch delta
  catches a wrong scale: llama.cpp applies ``scale * alpha / rank``, so a wrong
  ``adapter.lora.alpha`` (or rank) multiplies the whole delta and moves the
  slope by that factor while the correlation stays put.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: One thread for llama.cpp and torch: on a busy two-core machine their spinning threads made one
#: 22-token evaluation take 8 s instead of 0.4 s. The parity numbers came out identical.
THREADS = 1
#: Allowed |slope - 1|, per architecture. Measured slopes (this machine, the texts of the tests):
#: llama (SmolLM2, Q4_1) 0.995 through ``Llama(lora_path=)`` and 0.995 hot-swapped;
#: gemma3 (270M, Q4_K_M) 0.955. Each bound leaves about 0.1-0.15 beyond what was measured for
#: quantisation noise on other CPUs' kernels, while any alpha/rank mistake worth the name
#: (a factor of 2, or alpha/rank vs alpha) is far outside it. Gemma's is wider because its
#: Q4_K_M weights are noisier (its correlation is 0.92 against SmolLM2's 0.97) and its random
#: deltas are ten times larger, so the response is less linear.
SLOPE_TOLERANCE = {"llama": 0.15, "gemma3": 0.2}


@dataclass(frozen=True)
class Parity:
    correlation: float
    slope: float

    def scale_ok(self, arch: str, expected: float = 1.0) -> bool:
        return abs(self.slope - expected) <= SLOPE_TOLERANCE[arch] * expected


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


_BASE_LOGITS: dict[tuple[str, str], tuple[list[int], np.ndarray]] = {}


def llama_logits(model_path: Path, lora: Path | None, text: str) -> tuple[list[int], np.ndarray]:
    """Logits at every position; the base model's are cached (several tests compare against them)."""
    from llama_cpp import Llama

    key = (str(model_path), text)
    if lora is None and key in _BASE_LOGITS:
        return _BASE_LOGITS[key]
    llm = Llama(model_path=str(model_path), n_ctx=256, logits_all=True, verbose=False, n_threads=THREADS,
                n_threads_batch=THREADS, lora_path=str(lora) if lora else None)  # fmt: skip
    tokens = llm.tokenize(text.encode(), add_bos=True, special=True)
    llm.eval(tokens)
    scores = np.array(llm.scores[: len(tokens)])
    llm.close()
    if lora is None:
        _BASE_LOGITS[key] = (tokens, scores)
    return tokens, scores


def runtime_logits(runtime: Any, adapter: Path | None, tokens: list[int], scale: float = 1.0) -> np.ndarray:
    """Logits at every position with the adapter attached the way personas attach it (hot swap)."""
    from engine.adapters import AdapterSpec

    return stack_logits(runtime, [AdapterSpec(adapter, scale)] if adapter else [], tokens)


def stack_logits(runtime: Any, adapters: list[Any], tokens: list[int]) -> np.ndarray:
    """Logits at every position with several adapters attached at once (a persona's stack)."""
    runtime.set_threads(THREADS)
    runtime.set_adapters(adapters)
    llm = runtime._llm  # one batch with every position's logits, as Llama(logits_all=True) evaluates
    llm._ctx.kv_cache_seq_rm(-1, 0, -1)
    llm._batch.set_batch(batch=tokens, n_past=0, logits_all=True)
    llm._ctx.decode(llm._batch)
    logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(len(tokens), llm.n_vocab())).copy()
    runtime.reset_cache()
    return logits


def torch_delta(pm: Any, tokens: list[int]) -> np.ndarray:
    import torch

    cache = pm.__dict__.setdefault("_talab_deltas", {})
    if tuple(tokens) not in cache:
        ids, threads = torch.tensor([tokens]), torch.get_num_threads()
        torch.set_num_threads(THREADS)  # 13 s -> 0.7 s on a busy two-core machine, same numbers
        try:
            with torch.no_grad():
                on = pm(input_ids=ids).logits[0].numpy()
                with pm.disable_adapter():
                    off = pm(input_ids=ids).logits[0].numpy()
        finally:
            torch.set_num_threads(threads)
        cache[tuple(tokens)] = on - off
    return np.asarray(cache[tuple(tokens)])


def export(pm: Any, path: Path, arch: str, *, permute: bool = True, alpha_factor: float = 1.0) -> Path:
    """Through the production writer; ``permute=False`` writes the same tensors without the q/k fix,
    ``alpha_factor`` writes a wrong ``adapter.lora.alpha`` (the scale bug the slope must catch)."""
    from peft import get_peft_model_state_dict

    from engine.finetune.gguf_lora import gguf_tensors, write_adapter
    from tests.ggufs import write_gguf

    cfg = pm.base_model.model.config
    alpha = float(pm.peft_config["default"].lora_alpha) * alpha_factor
    heads = {"n_head": cfg.num_attention_heads, "n_head_kv": cfg.num_key_value_heads}
    state = {k: v.detach().numpy() for k, v in get_peft_model_state_dict(pm).items()}
    if permute:
        return write_adapter(path, state, arch=arch, alpha=alpha, **heads)
    tensors = gguf_tensors(state, arch="unpermuted", **heads)
    return write_gguf(path, arch, tensors, general_type="adapter",
                      kv={"adapter.type": "lora", "adapter.lora.alpha": alpha})  # fmt: skip


def compare(reference: np.ndarray, delta: np.ndarray) -> Parity:
    assert reference.shape == delta.shape
    x, y = reference.ravel().astype(np.float64), delta.ravel().astype(np.float64)
    return Parity(float(np.corrcoef(x, y)[0, 1]), float(np.polyfit(x, y, 1)[0]))


def parity(pm: Any, model_info: Any, adapter: Path, text: str) -> Parity:
    """Through ``Llama(lora_path=)``: the adapter baked in at load time."""
    tokens, off = llama_logits(model_info.path, None, text)
    _, on = llama_logits(model_info.path, adapter, text)
    return compare(torch_delta(pm, tokens), on - off)


def hot_swap_parity(pm: Any, runtime: Any, adapter: Path, text: str, scale: float = 1.0) -> Parity:
    """Through ``Runtime.set_adapters``, the path personas use, at a persona's scale."""
    tokens = runtime._llm.tokenize(text.encode(), add_bos=True, special=True)
    off = runtime_logits(runtime, None, tokens)
    on = runtime_logits(runtime, adapter, tokens, scale)
    runtime.set_adapters([])
    runtime.set_threads(0)
    return compare(torch_delta(pm, tokens), on - off)


def delta_correlation(
    pm: Any, model_info: Any, adapter: Path, text: str, *, check_scale: bool = True
) -> float:
    """The correlation, after asserting the magnitude too (unless ``check_scale=False``, for an
    adapter that is meant to be wrong): callers that only look at the correlation still get the
    scale checked, with the tolerance of ``SLOPE_TOLERANCE``."""
    result = parity(pm, model_info, adapter, text)
    if check_scale:
        arch = model_info.architecture
        assert result.scale_ok(arch), (
            f"{arch}: logit delta slope {result.slope:.3f}, expected 1 ± {SLOPE_TOLERANCE[arch]}"
        )
    return result.correlation
