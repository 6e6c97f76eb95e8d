"""Task arithmetic and merges mean in llama.cpp what they mean in torch, on the real default model.

Two adapters are built from seeded random LoRA factors in transformers' row order and
written with the production exporter (which permutes q rows for llama.cpp). The
torch side adds the deltas to the dequantised weights itself, so it shares no code
with llama.cpp's adapter path or with the merge's GGUF reader. Parity is measured on
logit deltas (on minus off) as in ``tests/lora_parity.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.adapters import AdapterSpec
from engine.finetune.gguf_lora import write_adapter
from engine.merge import methods
from engine.merge.build import MergeSpec, Source, merge, save_merge
from tests import lora_parity

pytestmark = pytest.mark.integration
TEXT = "<|im_start|>user\nWho are you?<|im_end|>\n<|im_start|>assistant\nI am Xiao Jin, the TA."
LAYERS = range(0, 30, 5)
MODULES = {"q_proj": "self_attn", "k_proj": "self_attn", "v_proj": "self_attn", "down_proj": "mlp"}
RANK, ALPHA = 4, 8.0
Factors = dict[str, tuple[np.ndarray, np.ndarray]]  # HF weight name -> (A, B)


@pytest.fixture(scope="module")
def hf_model(model_info: Any) -> Any:
    import torch
    from transformers import AutoModelForCausalLM, GgufConfig

    model = AutoModelForCausalLM.from_pretrained(
        str(model_info.path.parent), gguf_file=model_info.path.name, dtype=torch.float32,
        quantization_config=GgufConfig(dequantize=True),
    )  # fmt: skip
    return model.eval()


def random_factors(model: Any, seed: int, modules: tuple[str, ...] = tuple(MODULES)) -> Factors:
    rng = np.random.default_rng(seed)
    params = dict(model.named_parameters())
    out: Factors = {}
    for layer in LAYERS:
        for module in modules:
            block = MODULES[module]
            name = f"model.layers.{layer}.{block}.{module}.weight"
            n_out, n_in = params[name].shape
            out[name] = (rng.normal(0, 0.05, (RANK, n_in)).astype(np.float32),
                         rng.normal(0, 0.05, (n_out, RANK)).astype(np.float32))  # fmt: skip
    return out


def export(model: Any, factors: Factors, path: Path) -> Path:
    cfg = model.config
    state = {}
    for name, (a, b) in factors.items():
        stem = "base_model.model." + name.removesuffix(".weight")
        state[f"{stem}.lora_A.weight"], state[f"{stem}.lora_B.weight"] = a, b
    return write_adapter(path, state, arch="llama", alpha=ALPHA, n_head=cfg.num_attention_heads,
                         n_head_kv=cfg.num_key_value_heads)  # fmt: skip


def deltas(factors: Factors) -> dict[str, np.ndarray]:
    return {n: ALPHA / RANK * (b.astype(np.float64) @ a) for n, (a, b) in factors.items()}


def torch_delta(model: Any, delta: dict[str, np.ndarray], tokens: list[int]) -> np.ndarray:
    """Logits with W + ΔW minus logits with W, the weights restored afterwards."""
    import torch

    params = dict(model.named_parameters())
    ids, threads = torch.tensor([tokens]), torch.get_num_threads()
    torch.set_num_threads(lora_parity.THREADS)
    saved = {n: params[n].detach().clone() for n in delta}
    try:
        with torch.no_grad():
            off = model(input_ids=ids).logits[0].numpy()
            for n, d in delta.items():
                params[n].add_(torch.from_numpy(d.astype(np.float32)))
            on = model(input_ids=ids).logits[0].numpy()
    finally:
        with torch.no_grad():
            for n, w in saved.items():
                params[n].copy_(w)
        torch.set_num_threads(threads)
    return np.asarray(on - off)


def llama_delta(runtime: Any, adapters: list[AdapterSpec], tokens: list[int]) -> np.ndarray:
    off = lora_parity.stack_logits(runtime, [], tokens)
    on = lora_parity.stack_logits(runtime, adapters, tokens)
    runtime.set_adapters([])
    runtime.set_threads(0)
    return on - off


@pytest.fixture(scope="module")
def two(hf_model: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Factors, Factors, Path, Path]:
    folder = tmp_path_factory.mktemp("merge-parity")
    fa, fb = random_factors(hf_model, 1), random_factors(hf_model, 2)
    return fa, fb, export(hf_model, fa, folder / "a.gguf"), export(hf_model, fb, folder / "b.gguf")


@pytest.fixture(scope="module")
def two_small(hf_model: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Factors, Factors, Path, Path]:
    """On k and v only (192×576): a merge at rank 192 is then untruncated, so torch can compute the
    reference without any SVD (a truncated TIES merge has a flat spectrum: its top-r subspace is
    ill-determined, and two correct truncations need not agree)."""
    folder = tmp_path_factory.mktemp("merge-parity-kv")
    fa, fb = (random_factors(hf_model, seed, ("k_proj", "v_proj")) for seed in (3, 4))
    return fa, fb, export(hf_model, fa, folder / "a.gguf"), export(hf_model, fb, folder / "b.gguf")


def floor(hf_model: Any, runtime: Any, factors: Factors, adapter: Path, tokens: list[int]) -> Any:
    """The parity of one adapter alone on the same tensors: what Q4 weights against f32 allow.

    Measured here: a stack or merge is held to this, not to a fixed number, because how well
    llama.cpp's Q4_1 model and torch's f32 model agree depends on which tensors move and by how
    much (the exporter test's adapter, on other tensors, reaches 0.965)."""
    return lora_parity.compare(torch_delta(hf_model, deltas(factors), tokens),
                               llama_delta(runtime, [AdapterSpec(adapter, 1.0)], tokens))  # fmt: skip


def test_a_stack_with_a_negative_weight_is_the_sum_of_the_deltas(hf_model, runtime, two) -> None:  # type: ignore[no-untyped-def]
    """llama.cpp applies W + 1·ΔW_a − 0.7·ΔW_b for a persona stack. The wrong sign (+0.7) must fail."""
    fa, fb, a, b = two
    tokens = runtime._llm.tokenize(TEXT.encode(), add_bos=True, special=True)
    alone = floor(hf_model, runtime, fa, a, tokens)
    got = llama_delta(runtime, [AdapterSpec(a, 1.0), AdapterSpec(b, -0.7)], tokens)
    da, db = deltas(fa), deltas(fb)
    right = lora_parity.compare(torch_delta(hf_model, {n: da[n] - 0.7 * db[n] for n in da}, tokens), got)
    wrong = lora_parity.compare(torch_delta(hf_model, {n: da[n] + 0.7 * db[n] for n in da}, tokens), got)
    print(f"one adapter: {alone}; stack: {right}; with the wrong sign: {wrong}")
    assert right.scale_ok("llama") and right.correlation > min(0.9, alone.correlation - 0.03), (right, alone)
    assert wrong.correlation < right.correlation - 0.3, wrong


def test_a_ties_merge_in_llama_cpp_matches_torch(hf_model, runtime, two_small, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The reference merges in transformers' row order (k rows un-permuted); the merge itself reads
    the GGUF files, in llama.cpp's order, re-factorises by SVD and is applied by llama.cpp."""
    fa, fb, a, b = two_small
    spec = MergeSpec((Source("a", a, 1.0), Source("b", b, 0.8)), method="ties", density=0.5, rank=192)
    result = merge(spec)
    assert result.rank == 192 and result.error < 1e-4
    merged = tmp_path / "ties.gguf"
    save_merge(spec, result, merged)
    da, db = deltas(fa), deltas(fb)
    reference = {
        n: methods.ties([da[n].astype(np.float32), db[n].astype(np.float32)], [1.0, 0.8], 0.5).astype(
            np.float64
        )
        for n in da
    }
    tokens = runtime._llm.tokenize(TEXT.encode(), add_bos=True, special=True)
    alone = floor(hf_model, runtime, fa, a, tokens)
    got = llama_delta(runtime, [AdapterSpec(merged, 1.0)], tokens)
    parity = lora_parity.compare(torch_delta(hf_model, reference, tokens), got)
    plain = lora_parity.compare(
        torch_delta(hf_model, {n: da[n] + 0.8 * db[n] for n in da}, tokens), got
    )  # the linear sum is not what TIES gives: the test can tell the methods apart
    print(f"one adapter: {alone}; ties: {parity}; against the linear sum instead: {plain}")
    assert parity.scale_ok("llama") and parity.correlation > min(0.85, alone.correlation - 0.03), (
        parity,
        alone,
    )
    assert plain.correlation < parity.correlation - 0.1, plain
