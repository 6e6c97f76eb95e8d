"""Saving a run (adapter, dataset copy, manifest) as a unit, and reading back a save that was cut short.

The adapters here are real GGUF LoRA files written by the production writer from
a tiny PEFT-like state dict, so the run id really travels in the GGUF header.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.finetune import registry
from engine.finetune.gguf_lora import write_adapter
from engine.finetune.registry import dataset_copy_path, list_adapters, manifest_path, read_manifest, save_run

STATE = {
    "base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight": np.full((2, 8), 0.1, np.float32),
    "base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight": np.full((8, 2), 0.2, np.float32),
}


def _adapter_writer(run_id: str, base: str) -> Callable[[Path], object]:
    def write(path: Path) -> object:
        meta = {"base_sha256": base, "dataset_sha256": f"data-{run_id}", "steps": "6", "final_loss": "0.25",
                registry.RUN_ID: run_id}  # fmt: skip
        return write_adapter(path, STATE, arch="llama", alpha=8, n_head=2, n_head_kv=2, metadata=meta)

    return write


def _dataset_writer(text: str) -> Callable[[Path], object]:
    return lambda path: path.write_text(text, encoding="utf-8")


def _manifest(run_id: str, base: str) -> dict[str, Any]:
    return {
        registry.RUN_ID: run_id,
        "base_model": {"sha256": base, "file": "model.gguf"},
        "loss_curve": [1.0],
    }


def _save(adapter: Path, run_id: str, base: str) -> Path:
    return save_run(
        adapter, _adapter_writer(run_id, base), _dataset_writer(f"{run_id}\n"), _manifest(run_id, base)
    )


def _trio(adapter: Path) -> tuple[bytes, bytes, bytes]:
    return adapter.read_bytes(), dataset_copy_path(adapter).read_bytes(), manifest_path(adapter).read_bytes()


@pytest.fixture
def adapter(tmp_path: Path) -> Path:
    path = tmp_path / "adapters" / "xiaojin.gguf"
    _save(path, "old", "base-a")
    return path


def test_a_saved_run_reads_back_as_one_consistent_trio(adapter: Path) -> None:
    assert read_manifest(adapter) == _manifest("old", "base-a")
    assert dataset_copy_path(adapter).read_text(encoding="utf-8") == "old\n"
    assert not list(adapter.parent.glob("*.partial*"))


@pytest.mark.parametrize("failing", ["adapter", "dataset"])
def test_a_failure_while_staging_leaves_the_previous_trio_byte_for_byte(adapter: Path, failing: str) -> None:
    before = _trio(adapter)

    def broken(path: Path) -> object:
        path.write_bytes(b"half")  # a kill or a full disk mid-write
        raise OSError("No space left on device")

    write_a = broken if failing == "adapter" else _adapter_writer("new", "base-b")
    write_d = broken if failing == "dataset" else _dataset_writer("new\n")
    with pytest.raises(OSError, match="No space"):
        save_run(adapter, write_a, write_d, _manifest("new", "base-b"))
    assert _trio(adapter) == before
    assert not list(adapter.parent.glob("*.partial*"))


def test_an_interrupted_rename_never_lets_the_old_manifest_vouch_for_the_new_adapter(
    adapter: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The adapter is renamed first and the manifest last, so this is the worst a kill can leave."""
    real_replace = os.replace

    def replace(src: Any, dst: Any) -> None:
        if Path(dst) == dataset_copy_path(adapter):
            raise OSError("killed between renames")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="killed"):
        _save(adapter, "new", "base-b")
    monkeypatch.undo()
    assert json.loads(manifest_path(adapter).read_text(encoding="utf-8"))[registry.RUN_ID] == "old"
    seen = read_manifest(adapter)
    assert seen is not None and seen[registry.STALE] and seen[registry.RUN_ID] == "new"
    assert seen["base_model"]["sha256"] == "base-b"  # what the persona check compares: the adapter's truth
    assert "loss_curve" not in seen  # the old run's curve is not shown for the new adapter
    assert "earlier run" in list_adapters(adapter.parent)[0].summary()
    assert not list(adapter.parent.glob("*.partial*"))

    _save(adapter, "newer", "base-b")  # the next complete save repairs it
    assert read_manifest(adapter) == _manifest("newer", "base-b")


def test_a_manifest_without_a_run_id_is_taken_as_written(tmp_path: Path) -> None:
    """Adapters trained before run ids existed keep their manifests (and hand-made test fixtures too)."""
    adapter = tmp_path / "xiaojin.gguf"
    adapter.write_bytes(b"not even a GGUF")
    registry.write_manifest(adapter, {"final_loss": 0.5})
    assert read_manifest(adapter) == {"final_loss": 0.5}
