"""tests/fake_editor.py, then a real (small, random) LoRA in place of its fake adapter.

The one-fact experiment scores the edit with llama.cpp after the editor is done,
so its adapter must load; everything else (the protocol, the registry entry,
``TALAB_FAKE_EDITOR`` failures) is the scripted editor's.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fake_editor import main as fake_editor
from tests.ggufs import write_model_lora

if __name__ == "__main__":
    code = fake_editor()
    if code == 0:
        spec = json.loads(Path(sys.argv[-1]).read_text(encoding="utf-8"))
        write_model_lora(Path(spec["out_path"]), Path(spec["model_path"]), std=0.02)
    sys.exit(code)
