"""Build small GGUF files for tests: broken models and real (random) LoRA adapters.

The adapters are genuine llama.cpp LoRA files with the default model's tensor
names and shapes, filled with seeded random values: llama.cpp loads and
applies them, which is what hot-swap and KV-cache tests need. Trained adapters
come from the fine-tuning pipeline, not from here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_gguf(
    path: Path,
    arch: str,
    tensors: dict[str, np.ndarray],
    *,
    general_type: str | None = None,
    kv: dict[str, object] | None = None,
) -> Path:
    import gguf

    writer = gguf.GGUFWriter(str(path), arch)
    if general_type:
        writer.add_type(general_type)
    for key, value in (kv or {}).items():
        if isinstance(value, str):
            writer.add_string(key, value)
        elif isinstance(value, float):
            writer.add_float32(key, value)
        else:
            writer.add_uint32(key, int(value))
    for name, array in tensors.items():
        writer.add_tensor(name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def write_lora(
    path: Path,
    model_tensors: dict[str, tuple[int, ...]],
    *,
    arch: str = "llama",
    rank: int = 4,
    std: float = 0.05,
    seed: int = 0,
    targets: tuple[str, ...] = ("attn_q", "attn_v"),
) -> Path:
    """A LoRA for every ``blk.N.<target>.weight`` in ``model_tensors`` (GGUF ne order)."""
    rng = np.random.default_rng(seed)
    tensors: dict[str, np.ndarray] = {}
    for name, shape in sorted(model_tensors.items()):
        if not any(f".{t}.weight" in name for t in targets):
            continue
        n_in, n_out = shape[0], shape[1]
        tensors[f"{name}.lora_a"] = rng.normal(0, std, (rank, n_in)).astype(np.float32)
        tensors[f"{name}.lora_b"] = rng.normal(0, std, (n_out, rank)).astype(np.float32)
    return write_gguf(
        path,
        arch,
        tensors,
        general_type="adapter",
        kv={"adapter.type": "lora", "adapter.lora.alpha": float(rank)},
    )


def write_model_lora(path: Path, model_path: Path | None = None, **kw: object) -> Path:
    """A small valid LoRA for the default model (or ``model_path``), where a test needs a trained adapter."""
    from engine.models import load_model_info

    info = load_model_info(str(model_path) if model_path else "default")
    return write_lora(path, {t.name: t.shape for t in info.header.tensors}, **kw)  # type: ignore[arg-type]
