"""The adapters TA Lab trained: ``$TALAB_HOME/adapters/NAME.gguf`` plus ``NAME.json``, its manifest.

A persona refers to an adapter by name, so writing the pair *is* registering
it. The manifest records what the adapter was made from (base model sha256,
dataset hash, hyperparameters, seed, loss curve) so a class can tell two
checkpoints apart and a student can reproduce one.

Saving a run is three files (adapter, dataset copy, manifest) and no file
system renames three files at once, so :func:`save_run` stages all three under
``.partial`` names and only then renames them, manifest last. A kill while
staging leaves the previous trio untouched. A kill between the renames can
leave a new adapter beside the previous manifest; the adapter's GGUF header and
the manifest both carry the run id, so :func:`read_manifest` notices and
answers from the adapter's own header (base model and dataset hash) instead of
vouching for it with a stale manifest: a persona is never judged compatible on
the word of another run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine import paths
from engine.errors import ModelError
from engine.gguf_file import read_header

#: GGUF metadata key (without the writer's ``talab.`` prefix) that ties an adapter to its manifest.
RUN_ID = "run_id"
STALE = "stale_manifest"


#: Where the trainer keeps the PEFT adapter that vLLM loads, beside ``NAME.gguf``.
PEFT_SUFFIX = ".peft"


def peft_dir(adapter: Path) -> Path:
    return adapter.with_suffix(PEFT_SUFFIX)


def manifest_path(adapter: Path) -> Path:
    return adapter.with_suffix(".json")


def dataset_copy_path(adapter: Path) -> Path:
    return adapter.with_suffix(".dataset.jsonl")


def staged_path(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


def run_files(adapter: Path) -> tuple[Path, Path, Path]:
    """The trio in the order :func:`save_run` renames it: the manifest, which vouches for the rest, last."""
    return adapter, dataset_copy_path(adapter), manifest_path(adapter)


def _write_json(path: Path, manifest: dict[str, Any]) -> None:
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_manifest(adapter: Path, manifest: dict[str, Any]) -> Path:
    out = manifest_path(adapter)
    tmp = staged_path(out)
    _write_json(tmp, manifest)
    os.replace(tmp, out)
    return out


def discard_staged(adapter: Path) -> None:
    """Remove what an interrupted save left behind (the writers' own ``.partial.partial`` too)."""
    for path in run_files(adapter):
        for leftover in (staged_path(path), staged_path(staged_path(path))):
            leftover.unlink(missing_ok=True)


def save_run(
    adapter: Path,
    write_adapter: Callable[[Path], object],
    write_dataset: Callable[[Path], object],
    manifest: dict[str, Any],
) -> Path:
    """Stage adapter, dataset copy and manifest, then rename them in :func:`run_files` order.

    ``manifest`` and the adapter written by ``write_adapter`` must carry the same run id (see
    the module docstring). Returns the manifest's path.
    """
    adapter.parent.mkdir(parents=True, exist_ok=True)
    files = run_files(adapter)
    staged = [staged_path(p) for p in files]
    try:
        write_adapter(staged[0])
        write_dataset(staged[1])
        _write_json(staged[2], manifest)
        for tmp, final in zip(staged, files, strict=True):
            os.replace(tmp, final)
    finally:
        discard_staged(adapter)
    return files[2]


def _header_manifest(meta: dict[str, Any]) -> dict[str, Any]:
    """What the adapter's own header says about it, for when its manifest is from another run."""
    return {
        STALE: True,
        RUN_ID: meta.get(f"talab.{RUN_ID}"),
        "base_model": {"sha256": meta.get("talab.base_sha256")},
        "dataset": {"sha256": meta.get("talab.dataset_sha256")},
        "final_loss": meta.get("talab.final_loss"),
        "steps": meta.get("talab.steps"),
    }


def read_manifest(adapter: Path) -> dict[str, Any] | None:
    """The manifest, or None when it is missing or unreadable (an adapter copied in by hand).

    A manifest that names a run id the adapter's header does not carry belongs to an earlier
    run (a save interrupted between its renames): the header's own facts are returned instead,
    marked ``stale_manifest``. Manifests without a run id (older TA Lab) are taken as they are.
    """
    try:
        data = json.loads(manifest_path(adapter).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    if data.get(RUN_ID) is None:
        return data
    try:
        meta = read_header(adapter, what="adapter").metadata
    except ModelError:
        return data  # not a readable GGUF: the adapter itself is reported unusable elsewhere
    if meta.get(f"talab.{RUN_ID}") != data[RUN_ID]:
        return _header_manifest(meta)
    return data


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
        if m.get("kind") == "merge" and not m.get(STALE):
            from engine.merge.build import merge_summary

            return merge_summary(m)
        if m.get(STALE):
            return "the manifest is from an earlier run (saving was interrupted): train again to rewrite it"
        if m.get("kind") == "edit":  # a model edit (engine/edit): its request, not hyperparameters
            req, off = m.get("request") or {}, "" if m.get("enabled", True) else " · disabled"
            return f"edit at layer {m.get('layer')}: '{req.get('prompt')}' → '{req.get('target')}'{off}"
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
