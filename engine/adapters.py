"""Check a LoRA adapter GGUF against the loaded model before llama.cpp sees it.

llama.cpp's own loader only logs a generic failure, so a teacher who picks
an adapter trained for another model would get no useful message. We compare
architecture, tensor names and shapes ourselves and say exactly what differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from engine.errors import AdapterError, ModelError
from engine.gguf_file import GGUFHeader, read_header
from engine.models import ModelInfo


@dataclass(frozen=True)
class AdapterSpec:
    """An adapter file and the scale to apply it at (0 = off, 1 = as trained)."""

    path: Path
    scale: float = 1.0


def _read_lora(path: Path) -> GGUFHeader:
    try:
        header = read_header(path, what="adapter")
    except ModelError as exc:
        raise AdapterError(str(exc)) from None
    if header.file_type != "adapter" or header.metadata.get("adapter.type") != "lora":
        raise AdapterError(f"{path.name} is not a LoRA adapter GGUF (general.type must be 'adapter')")
    return header


def _trained_on_another_model(path: Path, model: ModelInfo) -> str | None:
    """The manifest names the base model's sha256: an adapter of the same shape would otherwise load
    silently onto the wrong model, and the class would see nonsense."""
    from engine.finetune.registry import read_manifest

    base = (read_manifest(path) or {}).get("base_model") or {}
    # a server's model is known by its file hash only when the file is on this machine
    model_sha = getattr(model, "local_sha256", model.sha256)
    if base.get("sha256") and model_sha and base["sha256"] != model_sha:
        return (
            f"{path.name} was trained on {base.get('file', 'another model')}, "
            f"not on {model.display_name}: train it again for this model"
        )
    return None


def validate_adapter(path: Path, model: GGUFHeader) -> GGUFHeader:
    """Raise :class:`AdapterError` unless ``path`` is a LoRA that fits ``model``."""
    path = Path(path)
    header = _read_lora(path)
    arch, model_arch = header.architecture, model.architecture
    if arch != model_arch:
        raise AdapterError(
            f"{path.name} was made for architecture '{arch}' but the loaded model is "
            f"'{model_arch}'; train the adapter on this model"
        )
    model_shapes = {t.name: t.shape for t in model.tensors}
    pairs: dict[str, dict[str, tuple[int, ...]]] = {}
    for t in header.tensors:
        for suffix in (".lora_a", ".lora_b"):
            if t.name.endswith(suffix):
                pairs.setdefault(t.name[: -len(suffix)], {})[suffix] = t.shape
    if not pairs:
        raise AdapterError(f"{path.name} contains no lora_a/lora_b tensors")
    for base, ab in sorted(pairs.items()):
        if len(ab) != 2:
            raise AdapterError(f"{path.name}: {base} has only one of lora_a/lora_b")
        if base not in model_shapes:
            raise AdapterError(
                f"{path.name} targets tensor '{base}', which the loaded model does not have; "
                f"it was made for a different model"
            )
        a, b = ab[".lora_a"], ab[".lora_b"]
        target = model_shapes[base]
        if len(a) != 2 or len(b) != 2 or a[0] != target[0] or b[1] != target[1] or a[1] != b[0]:
            raise AdapterError(
                f"{path.name}: {base} has LoRA shapes a={list(a)} b={list(b)} that do not fit "
                f"the model's {list(target)}; it was made for a different model size"
            )
    return header


@dataclass(frozen=True)
class AdapterStatus:
    """What is at an adapter path, as facts: the window words them in its own language."""

    path: Path
    state: Literal["missing", "unusable", "ready"]
    error: str = ""
    saved: str = ""  # local time, to the minute
    steps: str | None = None  # from TA Lab's talab.* keys; None for an adapter made elsewhere
    final_loss: str | None = None


def adapter_status(path: Path, model: ModelInfo | None = None) -> AdapterStatus:
    """Whether an adapter is there and usable (on ``model``, when given), and how it was trained.

    The one place that decides it: personas, the CLI and the Train tab all ask here, so that a
    4-byte, half-copied, not-LoRA or other-model file is unavailable, with its reason, before a
    question is asked rather than failing in the middle of a probe run.
    """
    import datetime as dt

    path = Path(path)
    if not path.exists():
        return AdapterStatus(path, "missing")
    try:
        header = getattr(model, "header", None)  # a server's model has none: only the hash can tell
        meta = (validate_adapter(path, header) if header is not None else _read_lora(path)).metadata
    except AdapterError as exc:
        return AdapterStatus(path, "unusable", error=str(exc))
    other = _trained_on_another_model(path, model) if model else None
    if other:
        return AdapterStatus(path, "unusable", error=other)
    saved = dt.datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
    steps, loss = meta.get("talab.steps"), meta.get("talab.final_loss")
    return AdapterStatus(
        path,
        "ready",
        saved=saved,
        steps=str(steps) if steps else None,
        final_loss=str(loss) if loss else None,
    )
