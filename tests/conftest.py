"""Shared fixtures: every test gets its own TALAB_HOME; the real model loads once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def talab_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """All user data goes to tmp: tests never touch a real user's database."""
    home = tmp_path / "talab-home"
    monkeypatch.setenv("TALAB_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def model_info():  # type: ignore[no-untyped-def]
    from engine.models import load_model_info

    return load_model_info("default")


@pytest.fixture(scope="session")
def runtime(model_info, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """One real llama.cpp instance for the whole session (98 MB, ~0.3 s to load)."""
    from engine.runtime import Runtime

    os.environ["TALAB_HOME"] = str(tmp_path_factory.mktemp("rt-home"))
    rt = Runtime(model_info, n_ctx=2048)
    yield rt
    rt.close()


@pytest.fixture(scope="session")
def lora_file(model_info, tmp_path_factory: pytest.TempPathFactory) -> Path:  # type: ignore[no-untyped-def]
    from tests.ggufs import write_lora

    shapes = {t.name: t.shape for t in model_info.header.tensors}
    return write_lora(tmp_path_factory.mktemp("lora") / "random.gguf", shapes, std=0.08)


@pytest.fixture(scope="session")
def second_lora(model_info, tmp_path_factory: pytest.TempPathFactory) -> Path:  # type: ignore[no-untyped-def]
    from tests.ggufs import write_lora

    shapes = {t.name: t.shape for t in model_info.header.tensors}
    return write_lora(tmp_path_factory.mktemp("lora2") / "other.gguf", shapes, std=0.08, seed=7)


@pytest.fixture(scope="session")
def llama_server(model_info, lora_file: Path, second_lora: Path) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """One real llama.cpp server (xllamacpp) on 127.0.0.1 with two adapters, 1 thread, 2 slots."""
    pytest.importorskip("xllamacpp")
    from tests.remote_server import ServerProcess

    server = ServerProcess(model_info.path, [lora_file, second_lora], parallel=2).start()
    yield server
    server.stop()
