"""Edits in the adapter registry: list, disable, enable, delete, and their ``edit:NAME`` personas.

An edit is an adapter like any other (``$TALAB_HOME/adapters/NAME.gguf`` with
its manifest), marked ``"kind": "edit"``; its request (prompt, subject,
target) is kept beside it where a fine-tune keeps its dataset copy. Disabling
is a flag in the manifest, so the file stays and the persona is listed as
unavailable with the reason instead of disappearing from a class's columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine import paths
from engine.adapters import AdapterSpec
from engine.edit.spec import EditError
from engine.edit.worker import EDIT_KIND
from engine.finetune.registry import list_adapters, read_manifest, run_files, write_manifest

PERSONA_PREFIX = "edit:"


@dataclass(frozen=True)
class EditEntry:
    name: str
    path: Path
    enabled: bool
    prompt: str
    subject: str
    target: str
    layer: int | None
    created: str

    @property
    def persona_id(self) -> str:
        return f"{PERSONA_PREFIX}{self.name}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "persona": self.persona_id, "path": str(self.path), "enabled": self.enabled,
            "prompt": self.prompt, "subject": self.subject, "target": self.target, "layer": self.layer,
            "created": self.created,
        }  # fmt: skip


def is_edit(manifest: dict[str, Any] | None) -> bool:
    return (manifest or {}).get("kind") == EDIT_KIND


def list_edits(folder: Path | None = None) -> list[EditEntry]:
    out = []
    for a in list_adapters(folder):
        m = a.manifest or {}
        if not is_edit(m):
            continue
        req = m.get("request") or {}
        out.append(EditEntry(a.name, a.path, bool(m.get("enabled", True)), str(req.get("prompt", "")),
                             str(req.get("subject", "")), str(req.get("target", "")), m.get("layer"),
                             a.created))  # fmt: skip
    return out


def _find(name: str) -> tuple[Path, dict[str, Any]]:
    path = paths.adapters_dir() / f"{name}.gguf"
    manifest = read_manifest(path) if path.exists() else None
    if manifest is None or not is_edit(manifest):
        known = ", ".join(e.name for e in list_edits()) or "none yet"
        raise EditError(f"No edit named '{name}' (edits: {known})")
    return path, manifest


def set_enabled(name: str, enabled: bool) -> EditEntry:
    path, manifest = _find(name)
    write_manifest(path, {**manifest, "enabled": enabled})
    return next(e for e in list_edits() if e.name == name)


def delete_edit(name: str) -> None:
    """The adapter first: a manifest without its adapter is ignored, an adapter alone is not an edit."""
    path, _ = _find(name)
    for file in run_files(path):
        file.unlink(missing_ok=True)


def refuse_overwriting_other_adapters(out: Path) -> None:
    """``talab edit --name xiaojin`` must not replace the fine-tuned TA with an edit."""
    if out.exists() and not is_edit(read_manifest(out)):
        raise EditError(f"An adapter named '{out.stem}' exists and is not an edit; choose another name")


def edit_personas() -> dict[str, Any]:
    """``edit:NAME`` for every edit: the base model with that edit at scale 1, no system prompt."""
    from engine.personas import Persona

    out: dict[str, Any] = {}
    for e in list_edits():
        out[e.persona_id] = Persona(
            id=e.persona_id,
            name=f"Edited: {e.name}",
            role="model editing",
            description=f"ROME edit at layer {e.layer}: '{e.prompt}' → '{e.target}'",
            system_prompt=None,
            adapters=[AdapterSpec(e.path, 1.0)],
            unavailable_reason=None if e.enabled else f"the edit is disabled (talab edits enable {e.name})",
        )
    return out
