"""A scripted stand-in for ``python -m engine.finetune.train`` (GUI tests only).

Speaks the same JSON-lines protocol. The first KB path in the spec chooses
the script: a path containing "fail" reports an error; otherwise it trains
one fake step per epoch, ``0.2 s`` each, and writes a marker adapter file.
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
    steps = spec["epochs"]
    emit("start", examples=3, kinds="3 identity", skipped=0, steps=steps, epochs=steps)
    emit("loading")
    if any("fail" in p for p in spec["kb_paths"]):
        emit("error", message="the knowledge base is broken")
        return 2
    for step in range(1, steps + 1):
        time.sleep(0.2)
        emit("step", step=step, steps=steps, epoch=step, loss=1.0 / step, elapsed_s=0.2 * step,
             eta_s=0.2 * (steps - step), peak_rss_mb=1024.0)  # fmt: skip
    emit("exporting")
    out = Path(spec["out_path"])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(b"GGUF fake adapter")
    dataset = spec.get("dataset_path")
    emit("done", adapter=str(out), final_loss=0.1, seconds=0.2 * steps, peak_rss_mb=1024.0,
         trained_on=dataset or "kb")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
