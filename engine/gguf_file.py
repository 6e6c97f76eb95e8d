"""A small, strict GGUF header reader.

llama.cpp reports a corrupt file with a generic "failed to load model" (or,
worse, aborts the process), so TA Lab reads the header itself first and turns
every defect into a specific message: wrong magic, unknown version, a header
cut short, tensor data that extends past the end of the file.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from engine.errors import ModelError

GGUF_MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
DEFAULT_ALIGNMENT = 32
# Arrays longer than this (tokenizer vocabularies) are skipped, not kept.
_MAX_KEPT_ARRAY = 64
# Anything larger than these cannot be a real header: the file is corrupt.
_MAX_STRING = 64 * 1024 * 1024
_MAX_COUNT = 1 << 32

_SCALAR = {
    0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i",
    6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d",
}  # fmt: skip
_STRING, _ARRAY = 8, 9


class _Truncated(Exception):
    pass


@dataclass
class TensorInfo:
    name: str
    shape: tuple[int, ...]
    ggml_type: int
    offset: int


@dataclass
class GGUFHeader:
    path: Path
    version: int
    metadata: dict[str, Any]
    tensors: list[TensorInfo] = field(default_factory=list)
    data_offset: int = 0

    @property
    def architecture(self) -> str | None:
        arch = self.metadata.get("general.architecture")
        return arch if isinstance(arch, str) else None

    @property
    def file_type(self) -> str | None:
        kind = self.metadata.get("general.type")
        return kind if isinstance(kind, str) else None


class _Reader:
    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh

    def read(self, n: int) -> bytes:
        data = self.fh.read(n)
        if len(data) != n:
            raise _Truncated
        return data

    def scalar(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.read(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        n = self.scalar("<Q")
        if n > _MAX_STRING:
            raise ValueError(f"string length {n} is implausible")
        return self.read(n).decode("utf-8", errors="replace")

    def value(self, vtype: int) -> Any:
        if vtype in _SCALAR:
            return self.scalar(_SCALAR[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            item_type = self.scalar("<I")
            count = self.scalar("<Q")
            if count > _MAX_COUNT:
                raise ValueError(f"array length {count} is implausible")
            if item_type in _SCALAR and count > _MAX_KEPT_ARRAY:
                self.read(count * struct.calcsize(_SCALAR[item_type]))
                return _SkippedArray(count)
            items = [self.value(item_type) for _ in range(count)]
            return items if count <= _MAX_KEPT_ARRAY else _SkippedArray(count)
        raise ValueError(f"unknown metadata value type {vtype}")


class _SkippedArray(list[Any]):
    """Stands in for a long array: keeps its length, not its items."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.length = count

    def __len__(self) -> int:
        return self.length


def _tensor_nbytes(info: TensorInfo) -> int:
    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

    try:
        block, type_size = GGML_QUANT_SIZES[GGMLQuantizationType(info.ggml_type)]
    except (ValueError, KeyError) as exc:
        raise ValueError(f"tensor {info.name!r} has unknown type {info.ggml_type}") from exc
    n = 1
    for dim in info.shape:
        n *= dim
    return n // block * type_size


def read_header(path: str | Path, *, what: str = "model") -> GGUFHeader:
    """Parse and sanity-check a GGUF file, raising :class:`ModelError` on any defect."""
    path = Path(path)
    if not path.exists():
        raise ModelError(f"{what.capitalize()} file not found: {path}")
    if path.is_dir():
        raise ModelError(f"{what.capitalize()} path is a directory, not a GGUF file: {path}")
    size = path.stat().st_size
    try:
        with path.open("rb") as fh:
            reader = _Reader(fh)
            magic = fh.read(4)
            if magic != GGUF_MAGIC:
                raise ModelError(
                    f"{path.name} is not a GGUF file (it starts with {magic!r}, expected b'GGUF')"
                )
            version = reader.scalar("<I")
            if version not in SUPPORTED_VERSIONS:
                raise ModelError(
                    f"{path.name} is GGUF version {version}; TA Lab reads versions "
                    f"{', '.join(map(str, SUPPORTED_VERSIONS))}"
                )
            n_tensors = reader.scalar("<Q")
            n_kv = reader.scalar("<Q")
            if n_tensors > _MAX_COUNT or n_kv > _MAX_COUNT:
                raise ValueError("tensor or metadata count is implausible")
            metadata: dict[str, Any] = {}
            for _ in range(n_kv):
                key = reader.string()
                metadata[key] = reader.value(reader.scalar("<I"))
            tensors = []
            for _ in range(n_tensors):
                name = reader.string()
                n_dims = reader.scalar("<I")
                if n_dims > 8:
                    raise ValueError(f"tensor {name!r} has {n_dims} dimensions")
                shape = tuple(reader.scalar("<Q") for _ in range(n_dims))
                tensors.append(TensorInfo(name, shape, reader.scalar("<I"), reader.scalar("<Q")))
            alignment = int(metadata.get("general.alignment", DEFAULT_ALIGNMENT) or 1)
            pos = fh.tell()
            data_offset = (pos + alignment - 1) // alignment * alignment
    except _Truncated:
        raise ModelError(f"{path.name} is truncated: its header ends early ({size} bytes on disk)") from None
    except (ValueError, UnicodeDecodeError, struct.error) as exc:
        raise ModelError(f"{path.name} has a corrupt GGUF header: {exc}") from None

    header = GGUFHeader(path, version, metadata, tensors, data_offset)
    try:
        needed = max((data_offset + t.offset + _tensor_nbytes(t) for t in tensors), default=0)
    except ValueError as exc:
        raise ModelError(f"{path.name} has a corrupt GGUF header: {exc}") from None
    if needed > size:
        raise ModelError(
            f"{path.name} is truncated: its tensors need {needed} bytes but the file has "
            f"{size} (an interrupted copy or download?)"
        )
    return header
