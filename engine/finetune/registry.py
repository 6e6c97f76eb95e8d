"""The adapters TA Lab trained: ``$TALAB_HOME/adapters/NAME.gguf`` plus ``NAME.json``, its manifest.

A persona refers to an adapter by name, so writing the pair *is* registering
it. The manifest records what the adapter was made from (base model sha256,
dataset hash, hyperparameters, seed, loss curve) so a class can tell two
checkpoints apart and a student can reproduce one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine import paths


def manifest_path(adapter: Path) -> Path:
    return adapter.with_suffix(".json")


def dataset_copy_path(adapter: Path) -> Path:
    return adapter.with_suffix(".dataset.jsonl")


def write_manifest(adapter: Path, manifest: dict[str, Any]) -> Path:
    out = manifest_path(adapter)
    tmp = out.with_name(out.name + ".partial")
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, out)
    return out


def read_manifest(adapter: Path) -> dict[str, Any] | None:
    """The manifest, or None when it is missing or unreadable (an adapter copied in by hand)."""
    try:
        data = json.loads(manifest_path(adapter).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class AdapterEntry:
    name: str
    path: Path
    size: int
    created: str
    manifest: dict[str, Any] | None

    @property
    def base_sha256(self) -> str | None:
        m = self.manifest or {}
        return (m.get("base_model") or {}).get("sha256")

    def summary(self) -> str:
        m = self.manifest
        if not m:
            return "no manifest (not trained by TA Lab)"
        hp = m.get("hyperparameters", {})
        ds = m.get("dataset", {})
        return (
            f"r={hp.get('rank')} α={hp.get('alpha')} lr={hp.get('lr')} · {hp.get('epochs')} epochs, "
            f"{m.get('steps')} steps · {ds.get('examples')} examples (replay {ds.get('replay_fraction', 0)}) "
            f"· loss {m.get('final_loss')} · {m.get('train_seconds')} s"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": str(self.path),
            "size_bytes": self.size,
            "created": self.created,
            "base_sha256": self.base_sha256,
            "summary": self.summary(),
            "manifest": self.manifest,
        }


def list_adapters(folder: Path | None = None) -> list[AdapterEntry]:
    folder = folder or paths.adapters_dir()
    out = []
    for path in sorted(folder.glob("*.gguf")) if folder.is_dir() else []:
        manifest = read_manifest(path)
        stat = path.stat()
        created = (manifest or {}).get("created") or datetime.fromtimestamp(stat.st_mtime, UTC).isoformat(
            timespec="seconds"
        )
        out.append(AdapterEntry(path.stem, path, stat.st_size, str(created), manifest))
    return out
