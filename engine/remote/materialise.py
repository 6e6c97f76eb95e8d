"""One PEFT adapter directory for a persona that vLLM cannot serve as it is.

vLLM applies one LoRA per request at scale 1. A weighted stack is still one LoRA:
``Σ sᵢ·(αᵢ/rᵢ)·BᵢAᵢ = [s₁(α₁/r₁)B₁ | s₂(α₂/r₂)B₂ | …] · [A₁; A₂; …]``, rank ``Σ rᵢ``,
exactly, with no SVD and no cross terms (PEFT's ``cat`` combination). Each ``sᵢ·αᵢ/rᵢ``
is folded into B, and the written config says ``lora_alpha == r``, so PEFT's and vLLM's
``alpha / r`` is 1 whatever the combined rank. Modules that fewer adapters touch are padded
with zero rows to the one rank the config can name.

The factors come from the GGUF adapters, the files the local personas run, so the server
serves the same weights the laptop's columns showed (edits and merges have no PEFT directory
at all). GGUF keeps ``llama`` q/k rows in llama.cpp's rotary order: they are put back into
Hugging Face's order here, the inverse of :mod:`engine.finetune.gguf_lora`.

A directory is named by the content of its sources (each file's sha256 and scale), so the
same persona is materialised once, and a vLLM client finds the module by the same name
without reading the base model.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from engine import paths
from engine.adapters import AdapterSpec, adapter_status
from engine.errors import AdapterError
from engine.finetune.gguf_lora import HF_TO_GGUF, PERMUTED_ARCHS
from engine.finetune.registry import peft_dir
from engine.models import ModelInfo, file_sha256

#: Bump when the written layout changes: the name then changes and old directories are not reused.
FORMAT = 1
PREFIX = "talab-"
MANIFEST = "talab_materialised.json"
#: The ``--max-lora-rank`` values vLLM accepts.
VLLM_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)
_GGUF_TO_HF = {v: k for k, v in HF_TO_GGUF.items()}
_ATTENTION = ("q_proj", "k_proj", "v_proj", "o_proj")
_BASE = re.compile(r"^blk\.(\d+)\.(\w+)\.weight$")


@dataclass(frozen=True)
class Source:
    name: str
    path: str
    sha256: str
    scale: float
    rank: int
    alpha: float


@dataclass(frozen=True)
class Materialised:
    name: str  # the vLLM module name, content-derived
    path: Path
    rank: int
    sources: tuple[Source, ...]

    @property
    def module(self) -> str:
        return f"{self.name}={self.path}"


def materialised_root() -> Path:
    return paths.data_dir() / "vllm-adapters"


def describe(adapters: Sequence[AdapterSpec]) -> str:
    return " + ".join(a.path.stem if a.scale == 1.0 else f"{a.scale:g}·{a.path.stem}" for a in adapters)


def needs_materialising(adapters: Sequence[AdapterSpec]) -> bool:
    """Everything but no adapter, or one at scale 1 whose trainer kept its PEFT directory."""
    if not adapters:
        return False
    return not (len(adapters) == 1 and adapters[0].scale == 1.0 and peft_dir(adapters[0].path).is_dir())


def _require_files(adapters: Sequence[AdapterSpec]) -> None:
    for a in adapters:
        if not Path(a.path).is_file():
            raise AdapterError(f"Adapter {a.path.stem}: file not found at {a.path}")


def module_name(adapters: Sequence[AdapterSpec]) -> str:
    """The module name of the stack: a hash of each file's content and its scale, in order."""
    _require_files(adapters)
    key = json.dumps([FORMAT, [[file_sha256(a.path), repr(float(a.scale))] for a in adapters]])
    return PREFIX + hashlib.sha256(key.encode()).hexdigest()[:16]


def unpermute_rows(w: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's rotary row order back to Hugging Face's (inverse of ``permute_rows``)."""
    rows = w.shape[0]
    return w.reshape(n_head, rows // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def hf_module(gguf_base: str, source: str) -> str:
    """``blk.3.attn_q.weight`` → ``base_model.model.model.layers.3.self_attn.q_proj``."""
    m = _BASE.match(gguf_base)
    module = _GGUF_TO_HF.get(m.group(2), "") if m else ""
    if not m or not module:
        raise AdapterError(f"{source}: LoRA on '{gguf_base}' has no PEFT equivalent TA Lab knows")
    block = "self_attn" if module in _ATTENTION else "mlp"
    return f"base_model.model.model.layers.{m.group(1)}.{block}.{module}"


def _check(adapters: Sequence[AdapterSpec], model: ModelInfo) -> None:
    """The same verdict the local personas get: missing, corrupt, not a LoRA, another base model."""
    _require_files(adapters)
    for a in adapters:
        status = adapter_status(a.path, model)
        if status.state != "ready":
            raise AdapterError(f"Adapter {a.path.stem} cannot be materialised for vLLM: {status.error}")


def _factors(
    adapters: Sequence[AdapterSpec], model: ModelInfo
) -> tuple[dict[str, list[tuple[np.ndarray, np.ndarray]]], list[Source]]:
    """Per HF module, each adapter's ``(A, s·α/r·B)`` in Hugging Face's row order."""
    from engine.merge.factors import read_lora

    arch = model.architecture
    meta = model.header.metadata
    heads = {"q_proj": meta.get(f"{arch}.attention.head_count"),
             "k_proj": meta.get(f"{arch}.attention.head_count_kv")}  # fmt: skip
    terms: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    sources = []
    for spec in adapters:
        lora = read_lora(spec.path)
        for base, pair in lora.pairs.items():
            module = hf_module(base, lora.path.name)
            b = pair.b * np.float32(spec.scale * lora.factor(base))
            short = module.rsplit(".", 1)[1]
            if arch in PERMUTED_ARCHS and short in heads:
                n_head = heads[short]
                if not isinstance(n_head, int) or n_head <= 0:
                    raise AdapterError(f"{model.display_name} does not say its {short} head count")
                b = unpermute_rows(b, n_head)
            terms.setdefault(module, []).append((pair.a, b))
        sources.append(Source(spec.path.stem, str(spec.path), file_sha256(spec.path), float(spec.scale),
                              lora.rank, lora.alpha))  # fmt: skip
    return terms, sources


def _concatenate(
    terms: dict[str, list[tuple[np.ndarray, np.ndarray]]],
) -> tuple[dict[str, np.ndarray], int]:
    rank = max(sum(a.shape[0] for a, _ in pairs) for pairs in terms.values())
    tensors = {}
    for module, pairs in terms.items():
        a = np.concatenate([a for a, _ in pairs], axis=0)
        b = np.concatenate([b for _, b in pairs], axis=1)
        pad = rank - a.shape[0]
        a = np.pad(a, ((0, pad), (0, 0)))
        b = np.pad(b, ((0, 0), (0, pad)))
        tensors[f"{module}.lora_A.weight"] = np.ascontiguousarray(a, dtype=np.float32)
        tensors[f"{module}.lora_B.weight"] = np.ascontiguousarray(b, dtype=np.float32)
    return tensors, rank


def peft_config(rank: int, modules: list[str], base_model: str) -> dict[str, object]:
    """``lora_alpha == r``: the scales already sit in B, so the loader's ``alpha / r`` must be 1."""
    return {
        "peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": base_model,
        "r": rank, "lora_alpha": rank, "lora_dropout": 0.0, "target_modules": modules,
        "bias": "none", "fan_in_fan_out": False, "use_rslora": False, "use_dora": False,
        "modules_to_save": None, "inference_mode": True, "init_lora_weights": True,
        "rank_pattern": {}, "alpha_pattern": {},
    }  # fmt: skip


def _read_existing(folder: Path) -> Materialised | None:
    try:
        data = json.loads((folder / MANIFEST).read_text("utf-8"))
        sources = tuple(Source(**s) for s in data["sources"])
        rank = int(data["rank"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not (folder / "adapter_model.safetensors").is_file():
        return None
    return Materialised(folder.name, folder, rank, sources)


def materialise(
    adapters: Sequence[AdapterSpec], model: ModelInfo, *, base_model: str | None = None
) -> Materialised:
    """The PEFT directory for ``adapters`` on ``model``; written once, then reused by content name.

    ``base_model``: what the config names as the base (vLLM's model id); informational only.
    """
    from safetensors.numpy import save_file

    if not adapters:
        raise AdapterError("A persona without adapters needs no LoRA module")
    _check(adapters, model)
    name = module_name(adapters)
    folder = materialised_root() / name
    existing = _read_existing(folder)
    if existing is not None:
        return existing
    terms, sources = _factors(adapters, model)
    tensors, rank = _concatenate(terms)
    modules = sorted({m.rsplit(".", 1)[1] for m in terms})
    staged = folder.with_name(f"{name}.partial-{os.getpid()}")
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    try:
        save_file(tensors, str(staged / "adapter_model.safetensors"))
        config = peft_config(rank, modules, base_model or str(model.path.parent))
        (staged / "adapter_config.json").write_text(json.dumps(config, indent=2) + "\n", "utf-8")
        manifest = {
            "format": FORMAT, "name": name, "rank": rank, "persona": describe(adapters),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "base_model": {"file": model.path.name, "sha256": model.sha256},
            "sources": [asdict(s) for s in sources],
        }  # fmt: skip
        (staged / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", "utf-8")
        if folder.exists():  # a half-written or foreign folder under our name: ours replaces it
            shutil.rmtree(folder)
        os.replace(staged, folder)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return Materialised(name, folder, rank, tuple(sources))


def vllm_max_rank(rank: int) -> int:
    """The smallest ``--max-lora-rank`` vLLM accepts that holds ``rank``."""
    for allowed in VLLM_RANKS:
        if rank <= allowed:
            return allowed
    raise AdapterError(f"A combined LoRA rank of {rank} exceeds vLLM's largest, {VLLM_RANKS[-1]}")
