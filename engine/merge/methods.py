"""The merge rules, on full ΔW matrices of one target tensor (numpy, no torch).

* **linear** (task arithmetic): ``Σ wᵢ·ΔWᵢ``; a negative weight subtracts a skill.
* **TIES** (Yadav et al. 2023): trim each ΔWᵢ to its top-``density`` magnitudes, elect
  one sign per entry from the sum of the weighted, trimmed deltas, and average only the
  entries that agree with it (the "disjoint mean": an entry that one adapter alone
  touched keeps its full value). The mean is weighted by ``|wᵢ|`` so that a negative
  weight flips a delta's sign without making the divisor shrink or change sign.
* **DARE** (Yu et al. 2024): drop each entry with probability ``drop`` and rescale the
  survivors by ``1/(1−drop)`` (so the expectation is unchanged), then sum linearly.

These act on ΔW and not on the LoRA factors: PEFT's ``add_weighted_adapter`` with
``linear``/``ties``/``dare_*`` combines A and B separately, which adds cross terms.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

METHODS = ("linear", "ties", "dare")


def linear(deltas: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    out = np.zeros_like(deltas[0])
    for delta, w in zip(deltas, weights, strict=True):
        out += np.float32(w) * delta
    return out


def trim(delta: np.ndarray, density: float) -> np.ndarray:
    """Keep the ``round(density · size)`` entries of largest magnitude, zero the rest."""
    n = delta.size
    k = round(density * n)
    if k >= n:
        return delta.copy()
    out = np.zeros_like(delta)
    if k <= 0:
        return out
    flat = delta.ravel()
    keep = np.argpartition(np.abs(flat), n - k)[n - k :]
    out.ravel()[keep] = flat[keep]
    return out


def ties(deltas: Sequence[np.ndarray], weights: Sequence[float], density: float) -> np.ndarray:
    weighted = np.stack([np.float32(w) * trim(d, density) for d, w in zip(deltas, weights, strict=True)])
    elected = np.where(weighted.sum(axis=0) >= 0, 1.0, -1.0).astype(np.float32)
    agree = np.sign(weighted) == elected  # a trimmed (zero) entry never agrees
    mass = np.abs(np.asarray(weights, dtype=np.float32)).reshape(-1, *([1] * deltas[0].ndim))
    divisor = (mass * agree).sum(axis=0)
    total = (weighted * agree).sum(axis=0)
    return np.where(divisor > 0, total / np.where(divisor > 0, divisor, 1.0), 0.0).astype(np.float32)


def dare_rng(seed: int, tensor: str, source: int) -> np.random.Generator:
    """One stream per (seed, tensor, source): a merge is reproducible whatever order it runs in."""
    return np.random.default_rng([seed, zlib.crc32(tensor.encode()), source])


def dare_keep(shape: tuple[int, ...], drop: float, rng: np.random.Generator) -> np.ndarray:
    """The entries DARE keeps: each one independently with probability ``1 − drop``."""
    return rng.random(shape) >= drop


def dare(
    deltas: Sequence[np.ndarray], weights: Sequence[float], drop: float, *, seed: int, tensor: str
) -> np.ndarray:
    rescale = np.float32(1.0 / (1.0 - drop))
    kept = [
        np.where(dare_keep(d.shape, drop, dare_rng(seed, tensor, i)), d * rescale, np.float32(0))
        for i, d in enumerate(deltas)
    ]
    return linear(kept, weights)


def combine(
    method: str,
    deltas: Sequence[np.ndarray],
    weights: Sequence[float],
    *,
    density: float = 1.0,
    drop: float = 0.0,
    seed: int = 0,
    tensor: str = "",
) -> np.ndarray:
    if method == "linear":
        return linear(deltas, weights)
    if method == "ties":
        return ties(deltas, weights, density)
    if method == "dare":
        return dare(deltas, weights, drop, seed=seed, tensor=tensor)
    raise ValueError(f"unknown merge method {method!r}")


def truncate(delta: np.ndarray, rank: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """The best rank-``rank`` factors ``(A, B)`` with ``B @ A ≈ delta``, and the squared error.

    A full SVD of every 1536×576 matrix of the default model took about 0.5 s each here
    (a minute per merge), so large matrices use a randomised range finder with power
    iterations (Halko et al. 2011). When ``delta`` has rank ≤ ``rank`` (a linear merge at
    the sum of the source ranks) the range is captured exactly and so is the product.
    The squared error is measured on the result, not estimated.
    """
    m, n = delta.shape
    k = min(rank, m, n)
    work = np.asarray(delta, dtype=np.float32)
    if 2 * (k + 10) >= min(m, n):
        u, s, vt = np.linalg.svd(work.astype(np.float64), full_matrices=False)
    else:  # float32 products (a third of float64's time here); the small SVD in float64
        rng = np.random.default_rng(seed)
        q, _ = np.linalg.qr(work @ rng.standard_normal((n, k + 10), dtype=np.float32))
        for _ in range(2):
            q, _ = np.linalg.qr(work.T @ q)
            q, _ = np.linalg.qr(work @ q)
        small_u, s, vt = np.linalg.svd((q.T @ work).astype(np.float64), full_matrices=False)
        u = q @ small_u
    root = np.sqrt(s[:k])
    b = (u[:, :k] * root).astype(np.float32)
    a = (root[:, None] * vt[:k]).astype(np.float32)
    residual = work - b @ a
    return a, b, float(np.sum(residual.astype(np.float64) ** 2))
