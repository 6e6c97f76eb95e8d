"""House rules that keep the app layered and quick to start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ENGINE_MODULES = sorted(
    ".".join(p.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
    for p in (REPO / "engine").rglob("*.py")
)


def _imported_after(modules: list[str]) -> set[str]:
    code = (
        "import sys, importlib\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print('\\n'.join(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    return set(out.stdout.split())


def test_engine_never_imports_qt() -> None:
    """Enforced by import-linter (pyproject) too; this catches dynamic imports it cannot see."""
    loaded = _imported_after(ENGINE_MODULES)
    assert not {m for m in loaded if m.split(".")[0] in {"PySide6", "shiboken6", "PyQt5", "PyQt6"}}


def test_import_linter_contract_holds() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint)], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "engine never imports Qt" in out.stdout


def test_heavy_libraries_are_not_imported_at_startup() -> None:
    """`talab --help` and the GUI's first paint must not wait for llama.cpp or torch."""
    loaded = _imported_after(ENGINE_MODULES)
    assert "llama_cpp" not in loaded
    assert "torch" not in loaded
    assert "transformers" not in loaded
