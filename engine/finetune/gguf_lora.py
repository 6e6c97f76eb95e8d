"""Write a PEFT LoRA as a GGUF adapter that llama.cpp loads.

Layout (checked against llama.cpp by loading and by comparing logits, see
tests/engine/test_finetune.py): tensors are named after the base tensor plus
``.lora_a``/``.lora_b``; PEFT's ``lora_A.weight`` (r × n_in) and
``lora_B.weight`` (n_out × r) are stored as they are, which GGUF reads as
``[n_in, r]`` and ``[r, n_out]``; ``adapter.lora.alpha`` carries alpha.

For the ``llama`` architecture llama.cpp keeps q/k projection rows in a
permuted order (its RoPE layout), and transformers un-permutes them when it
loads a GGUF. The output rows of q/k, i.e. ``lora_B``, must therefore be
permuted back the same way, or the adapter silently does something else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from engine.errors import AdapterError

HF_TO_GGUF = {
    "q_proj": "attn_q",
    "k_proj": "attn_k",
    "v_proj": "attn_v",
    "o_proj": "attn_output",
    "gate_proj": "ffn_gate",
    "up_proj": "ffn_up",
    "down_proj": "ffn_down",
}
_KEY = re.compile(r"layers\.(\d+)\.(?:self_attn|mlp)\.(\w+)\.lora_([AB])(?:\.default)?\.weight$")
#: Architectures whose q/k rows llama.cpp permutes at conversion time.
PERMUTED_ARCHS = ("llama",)


def permute_rows(w: np.ndarray, n_head: int) -> np.ndarray:
    """Reorder output rows from HF's rotary layout into llama.cpp's (per head: halves interleaved)."""
    rows = w.shape[0]
    return w.reshape(n_head, 2, rows // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def gguf_tensors(
    state: Mapping[str, np.ndarray], *, arch: str, n_head: int, n_head_kv: int
) -> dict[str, np.ndarray]:
    """Map PEFT state-dict entries to GGUF adapter tensors (float32)."""
    out: dict[str, np.ndarray] = {}
    for key, value in state.items():
        m = _KEY.search(key)
        if not m:
            continue
        layer, module, ab = int(m.group(1)), m.group(2), m.group(3)
        if module not in HF_TO_GGUF:
            raise AdapterError(f"LoRA on '{module}' cannot be exported (supported: {', '.join(HF_TO_GGUF)})")
        w = np.ascontiguousarray(np.asarray(value, dtype=np.float32))
        if ab == "B" and arch in PERMUTED_ARCHS and module in ("q_proj", "k_proj"):
            w = np.ascontiguousarray(permute_rows(w, n_head if module == "q_proj" else n_head_kv))
        out[f"blk.{layer}.{HF_TO_GGUF[module]}.weight.lora_{ab.lower()}"] = w
    if not out:
        raise AdapterError("The trained model has no LoRA weights to export")
    return out


def write_adapter(
    path: Path,
    state: Mapping[str, np.ndarray],
    *,
    arch: str,
    alpha: float,
    n_head: int,
    n_head_kv: int,
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Write atomically: a cancelled or failed export never replaces a good adapter."""
    tensors = gguf_tensors(state, arch=arch, n_head=n_head, n_head_kv=n_head_kv)
    return write_gguf_adapter(path, tensors, arch=arch, alpha=alpha, metadata=metadata)


def write_gguf_adapter(
    path: Path,
    tensors: Mapping[str, np.ndarray],
    *,
    arch: str,
    alpha: float,
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Write tensors already in llama.cpp's names and row order (``blk.N.attn_q.weight.lora_a`` …).

    Merges come here directly: they are computed from GGUF adapters, whose q/k rows are
    already permuted, so permuting again would be wrong.
    """
    import gguf

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    writer = gguf.GGUFWriter(str(tmp), arch)
    writer.add_type("adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(alpha))
    for key, value in (metadata or {}).items():
        writer.add_string(f"talab.{key}", value)
    for name, array in sorted(tensors.items()):
        writer.add_tensor(name, np.ascontiguousarray(array, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    tmp.replace(path)
    return path
