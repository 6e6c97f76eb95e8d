"""Materialise a merge of several adapters into one new adapter, and register it.

For every target tensor the full ΔW of each source is combined by the chosen rule
(:mod:`engine.merge.methods`), then factorised back to rank ``r`` by truncated SVD.
The truncation is the only loss a linear merge has, so its relative Frobenius error
is measured and recorded. The result is written with the project's GGUF exporter as
``$TALAB_HOME/adapters/NAME.gguf`` with a ``NAME.json`` manifest naming the sources,
method, density/drop, weights, seed, rank and error, so a persona uses it like any
trained adapter.
"""

from __future__ import annotations

import json
import math
import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import MergeError
from engine.merge.blas import one_blas_thread
from engine.merge.factors import LoraFile, read_lora
from engine.merge.methods import METHODS, combine, truncate

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Source:
    name: str
    path: Path
    weight: float


@dataclass(frozen=True)
class MergeSpec:
    sources: tuple[Source, ...]
    method: str = "linear"
    density: float = 1.0  # TIES: fraction of each ΔW kept
    drop: float = 0.0  # DARE: probability of dropping an entry
    rank: int | None = None  # default: the sum of the sources' ranks (exact for linear)
    seed: int = 42

    def check(self) -> None:
        """One line per mistake, before any file is read."""
        if self.method not in METHODS:
            raise MergeError(f"Unknown merge method '{self.method}' (choose {', '.join(METHODS)})")
        if len(self.sources) < 2:
            raise MergeError("A merge needs at least two adapters, e.g. --adapters a:1,b:0.5")
        names = [s.name for s in self.sources]
        if len(set(names)) != len(names):
            raise MergeError(f"An adapter is listed twice: {', '.join(names)}")
        for s in self.sources:
            if not math.isfinite(s.weight):
                raise MergeError(f"Adapter '{s.name}' has weight {s.weight}; weights must be numbers")
        if all(s.weight == 0 for s in self.sources):
            raise MergeError("Every weight is 0: the merge would be the base model")
        if not 0.0 < self.density <= 1.0:
            raise MergeError(
                f"--density {self.density} must be above 0 and at most 1 (TIES keeps that fraction)"
            )
        if not 0.0 <= self.drop < 1.0:
            raise MergeError(f"--drop {self.drop} must be at least 0 and below 1 (DARE drops that fraction)")
        if self.rank is not None and not 1 <= self.rank <= 1024:
            raise MergeError(f"--rank {self.rank} must be between 1 and 1024")


@dataclass
class MergeResult:
    tensors: dict[str, np.ndarray]
    arch: str
    rank: int
    error: float  # relative Frobenius error of the truncation, over all tensors
    worst_tensor: str
    worst_error: float
    seconds: float
    base_model: dict[str, Any] = field(default_factory=dict)


def load_sources(spec: MergeSpec) -> list[LoraFile]:
    """Read every source and refuse adapters that cannot be added together."""
    from engine.finetune.registry import read_manifest

    spec.check()
    files = []
    for s in spec.sources:
        if not Path(s.path).exists():
            raise MergeError(f"Unknown adapter '{s.name}': {s.path} does not exist (see `talab adapters`)")
        files.append(read_lora(Path(s.path)))
    first = files[0]
    for f in files[1:]:
        if f.arch != first.arch:
            raise MergeError(f"Adapters for different base models: '{first.name}' is {first.arch}, "
                             f"'{f.name}' is {f.arch}")  # fmt: skip
        for tensor in sorted(set(f.pairs) & set(first.pairs)):
            if f.pairs[tensor].shape != first.pairs[tensor].shape:
                a, b = first.pairs[tensor].shape, f.pairs[tensor].shape
                raise MergeError(
                    f"Adapters for different model shapes: {tensor} is {a[0]}×{a[1]} in '{first.name}' "
                    f"but {b[0]}×{b[1]} in '{f.name}'"
                )
    bases = {}
    for f in files:
        base = (read_manifest(f.path) or {}).get("base_model") or {}
        if base.get("sha256"):
            bases[f.name] = base
    if len({b["sha256"] for b in bases.values()}) > 1:
        listing = ", ".join(f"'{n}' on {b.get('file') or b['sha256'][:12]}" for n, b in bases.items())
        raise MergeError(f"Adapters for different base models: {listing}")
    return files


def merge(spec: MergeSpec, progress: Progress | None = None) -> MergeResult:
    """Combine the sources tensor by tensor; ``progress(done, total)`` after each tensor."""
    from engine.finetune.registry import read_manifest

    start = time.perf_counter()
    files = load_sources(spec)
    weights = [s.weight for s in spec.sources]
    tensors = sorted(set().union(*(f.pairs for f in files)))
    shapes = {t: next(f.pairs[t].shape for f in files if t in f.pairs) for t in tensors}
    wanted = spec.rank or sum(f.rank for f in files)
    rank = min(wanted, max(min(s) for s in shapes.values()))
    out: dict[str, np.ndarray] = {}
    errors: dict[str, tuple[float, float]] = {}  # tensor -> (squared error, squared norm)
    with one_blas_thread():
        for i, tensor in enumerate(tensors):
            zero = np.zeros(shapes[tensor], np.float32)
            deltas = [f.delta(tensor) if tensor in f.pairs else zero for f in files]
            merged = combine(spec.method, deltas, weights, density=spec.density, drop=spec.drop,
                             seed=spec.seed, tensor=tensor)  # fmt: skip
            a, b, err = truncate(merged, rank, seed=spec.seed)
            errors[tensor] = (err, float(np.sum(np.square(merged, dtype=np.float64))))
            pad = rank - a.shape[0]  # a tensor smaller than the rank: zero rows keep one rank (alpha = rank)
            out[f"{tensor}.lora_a"] = np.pad(a, ((0, pad), (0, 0)))
            out[f"{tensor}.lora_b"] = np.pad(b, ((0, 0), (0, pad)))
            if progress:
                progress(i + 1, len(tensors))
    err_sq, total_sq = (sum(x) for x in zip(*errors.values(), strict=True))
    relative = {t: math.sqrt(e / n) if n > 0 else 0.0 for t, (e, n) in errors.items()}
    worst = max(relative, key=lambda t: relative[t])
    base = next(((read_manifest(f.path) or {}).get("base_model") for f in files), None) or {}
    return MergeResult(
        tensors=out,
        arch=files[0].arch,
        rank=rank,
        error=math.sqrt(err_sq / total_sq) if total_sq > 0 else 0.0,
        worst_tensor=worst,
        worst_error=relative[worst],
        seconds=time.perf_counter() - start,
        base_model=dict(base),
    )


def manifest_for(spec: MergeSpec, result: MergeResult, run_id: str) -> dict[str, Any]:
    from engine.finetune.registry import RUN_ID

    return {
        "kind": "merge",
        RUN_ID: run_id,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "method": spec.method,
        "sources": [{"name": s.name, "path": str(s.path), "weight": s.weight} for s in spec.sources],
        "density": spec.density if spec.method == "ties" else None,
        "drop": spec.drop if spec.method == "dare" else None,
        "seed": spec.seed if spec.method == "dare" else None,
        "rank": result.rank,
        "alpha": result.rank,
        "truncation_error": {
            "relative_frobenius": round(result.error, 6),
            "worst_tensor": result.worst_tensor,
            "worst_relative": round(result.worst_error, 6),
        },
        "base_model": result.base_model,
        "merge_seconds": round(result.seconds, 2),
    }


def save_merge(spec: MergeSpec, result: MergeResult, out: Path) -> Path:
    """Write adapter and manifest, staged then renamed (manifest last), like a training run."""
    from engine.finetune.gguf_lora import write_gguf_adapter
    from engine.finetune.registry import RUN_ID, dataset_copy_path, discard_staged, manifest_path, staged_path

    run_id = uuid.uuid4().hex
    manifest = manifest_for(spec, result, run_id)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        write_gguf_adapter(staged_path(out), result.tensors, arch=result.arch, alpha=float(result.rank),
                           metadata={RUN_ID: run_id, "merge_method": spec.method})  # fmt: skip
        staged_manifest = staged_path(manifest_path(out))
        staged_manifest.write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        os.replace(staged_path(out), out)
        os.replace(staged_manifest, manifest_path(out))
        dataset_copy_path(out).unlink(missing_ok=True)  # a trained adapter's data no longer describes it
    finally:
        discard_staged(out)
    return manifest_path(out)


def parse_sources(text: str, resolve: Callable[[str], Path]) -> tuple[Source, ...]:
    """``a:1,b:0.5,c:-0.3`` (a missing weight is 1)."""
    out = []
    for item in [x.strip() for x in text.split(",") if x.strip()]:
        name, sep, weight = item.rpartition(":")
        if not sep:
            name, weight = item, "1"
        try:
            value = float(weight)
        except ValueError:
            raise MergeError(f"'{item}': the weight after ':' must be a number, e.g. {name}:0.5") from None
        out.append(Source(name, resolve(name), value))
    return tuple(out)


def describe(sources: Sequence[Source]) -> str:
    return " + ".join(f"{s.weight:g}·{s.name}" for s in sources)


def merge_summary(manifest: dict[str, Any]) -> str:
    """The one line ``talab adapters`` and the window show for a merged adapter."""
    sources = " + ".join(f"{s.get('weight'):g}·{s.get('name')}" for s in manifest.get("sources", []))
    extra = {"ties": f" density {manifest.get('density')}",
             "dare": f" drop {manifest.get('drop')} seed {manifest.get('seed')}"}  # fmt: skip
    err = (manifest.get("truncation_error") or {}).get("relative_frobenius")
    return (f"merge {manifest.get('method')}{extra.get(str(manifest.get('method')), '')} of {sources} "
            f"· rank {manifest.get('rank')} · truncation error {err}")  # fmt: skip
