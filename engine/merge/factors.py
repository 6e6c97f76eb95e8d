"""Read a GGUF LoRA adapter back into its factors, and the full ΔW that llama.cpp adds.

llama.cpp computes ``W + scale · (alpha / rank) · B · A`` for every tensor pair, with
``rank`` read per tensor from ``lora_b`` and ``alpha == 0`` meaning "no alpha/rank
factor". Merges must reproduce exactly that product, so this module is the one place
that knows it. Shapes are numpy's (the reverse of GGUF's ``ne``): ``lora_a`` is
``(r, n_in)``, ``lora_b`` is ``(n_out, r)`` and ΔW is ``(n_out, n_in)``, rows in
llama.cpp's order (q/k already permuted), which every elementwise merge respects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import AdapterError, ModelError


@dataclass(frozen=True)
class LoraPair:
    a: np.ndarray  # (r, n_in)
    b: np.ndarray  # (n_out, r)

    @property
    def rank(self) -> int:
        return int(self.a.shape[0])

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.b.shape[0]), int(self.a.shape[1])


@dataclass
class LoraFile:
    """One adapter on disk: architecture, alpha and its ``lora_a``/``lora_b`` pairs by base tensor."""

    path: Path
    arch: str
    alpha: float
    pairs: dict[str, LoraPair] = field(default_factory=dict)
    metadata: dict[str, object] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def rank(self) -> int:
        return max((p.rank for p in self.pairs.values()), default=0)

    def factor(self, tensor: str) -> float:
        """llama.cpp's ``alpha / rank`` for one tensor (1 when alpha is 0)."""
        rank = self.pairs[tensor].rank
        return self.alpha / rank if self.alpha else 1.0

    def delta(self, tensor: str) -> np.ndarray:
        """ΔW of one tensor at scale 1, float32, as llama.cpp applies it."""
        pair = self.pairs[tensor]
        return (np.float32(self.factor(tensor)) * (pair.b @ pair.a)).astype(np.float32)


def read_lora(path: Path) -> LoraFile:
    """Load every pair, dequantised to float32; one clear line for anything that is not a LoRA."""
    import gguf

    from engine.gguf_file import read_header

    path = Path(path)
    try:
        header = read_header(path, what="adapter")
    except ModelError as exc:
        raise AdapterError(str(exc)) from None
    meta = header.metadata
    if header.file_type != "adapter" or meta.get("adapter.type") != "lora":
        raise AdapterError(f"{path.name} is not a LoRA adapter GGUF (general.type must be 'adapter')")
    reader = gguf.GGUFReader(str(path))
    raw: dict[str, np.ndarray] = {}
    for t in reader.tensors:
        shape = tuple(int(d) for d in reversed([int(x) for x in t.shape]))
        try:
            data = gguf.quants.dequantize(t.data, t.tensor_type)
        except NotImplementedError:
            raise AdapterError(f"{path.name}: tensor {t.name} has type {t.tensor_type.name}, "
                               "which TA Lab cannot read for merging") from None  # fmt: skip
        raw[t.name] = np.asarray(data, dtype=np.float32).reshape(shape)
    pairs: dict[str, LoraPair] = {}
    for name in sorted(raw):
        if not name.endswith(".lora_a"):
            continue
        base = name[: -len(".lora_a")]
        b = raw.get(base + ".lora_b")
        a = raw[name]
        if b is None or a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[1]:
            raise AdapterError(f"{path.name}: {base} has no matching lora_a/lora_b pair")
        pairs[base] = LoraPair(a, b)
    if not pairs:
        raise AdapterError(f"{path.name} contains no lora_a/lora_b tensors")
    alpha = meta.get("adapter.lora.alpha", 0.0)
    return LoraFile(
        path=path,
        arch=str(header.architecture),
        alpha=float(alpha) if isinstance(alpha, int | float) else 0.0,
        pairs=pairs,
        metadata={k: v for k, v in meta.items() if k.startswith("talab.")},
    )
