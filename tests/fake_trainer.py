"""A scripted stand-in for ``python -m engine.finetune.train`` (GUI tests only).

Speaks the same JSON-lines protocol. The KB path in the spec chooses the
script: a path containing "fail" reports an error; otherwise it trains
``steps`` fake steps, ``0.2 s`` each, and writes a marker adapter file.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def emit(event: str, **fields: object) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def main() -> int:
    spec = json.loads(Path(sys.argv[-1]).read_text(encoding="utf-8"))
    emit("start", pairs=3, steps=spec["steps"])
    emit("loading")
    if "fail" in spec["kb_path"]:
        emit("error", message="the knowledge base is broken")
        return 2
    for step in range(1, spec["steps"] + 1):
        time.sleep(0.2)
        emit("step", step=step, steps=spec["steps"], loss=1.0 / step, elapsed_s=0.2 * step)
    emit("exporting")
    out = Path(spec["out_path"])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(b"GGUF fake adapter")
    emit("done", adapter=str(out), loss=0.1, seconds=0.2 * spec["steps"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
