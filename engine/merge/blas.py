"""Run numpy's BLAS on one thread while merging.

A merge is hundreds of small QR/SVD/GEMM calls. On a busy two-core machine
OpenBLAS's spinning worker threads made a 90-tensor merge take 38 s instead of
2.9 s with one thread (same result). ``OPENBLAS_NUM_THREADS`` only works before
numpy is imported, so the thread count is set through OpenBLAS's own C entry
points, found in the library numpy loaded. Without OpenBLAS (another BLAS) this
does nothing.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_PAIRS = (
    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
    ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
    ("openblas_get_num_threads", "openblas_set_num_threads"),
)


def _openblas() -> tuple[Any, Any] | None:
    import numpy as np

    libs = Path(np.__file__).resolve().parent.parent / "numpy.libs"
    for path in sorted(libs.glob("*openblas*")) if libs.is_dir() else []:
        try:
            lib = ctypes.CDLL(str(path))
        except OSError:
            continue
        for get, put in _PAIRS:
            if hasattr(lib, get) and hasattr(lib, put):
                return getattr(lib, get), getattr(lib, put)
    return None


@contextmanager
def one_blas_thread() -> Iterator[None]:
    fns = _openblas()
    if fns is None:
        yield
        return
    get, put = fns
    before = int(get())
    put(1)
    try:
        yield
    finally:
        put(before)
