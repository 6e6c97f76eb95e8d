"""A scripted stand-in for ``python -m engine.edit.worker`` (job-runner, CLI and GUI tests).

Speaks the editor's JSON-line protocol and, on success, registers an edit the
way the real worker does (adapter, request copy and a ``kind: edit`` manifest,
through :func:`engine.finetune.registry.save_run`), so ``edit:NAME`` appears.
The adapter is not a real GGUF: the personas only need its path.

``TALAB_FAKE_EDITOR`` picks a failure: ``fail`` (reports an error), ``crash``
(stages a partial adapter and exits 3), ``hang`` (sleeps after the first step
until it is killed). ``TALAB_FAKE_EDITOR_READY=PATH`` is touched after the
first step; the ``start`` event carries the pid.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def emit(event: str, **fields: object) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def main() -> int:
    from engine.finetune.registry import save_run

    spec = json.loads(Path(sys.argv[-1]).read_text(encoding="utf-8"))
    mode = os.environ.get("TALAB_FAKE_EDITOR", "")
    out = Path(spec["out_path"])
    steps = 3
    emit("start", steps=steps, prefixes=spec["prefixes"], pid=os.getpid())
    emit("loading")
    if mode == "fail":
        emit("error", message="the model could not be loaded")
        return 2
    emit("keys", layer=4)
    for step in range(1, steps + 1):
        time.sleep(0.1)
        emit("step", step=step, steps=steps, loss=3.0 / step, peak_rss_mb=900.0)
        if step == 1 and os.environ.get("TALAB_FAKE_EDITOR_READY"):
            Path(os.environ["TALAB_FAKE_EDITOR_READY"]).touch()
        if mode == "crash":
            out.parent.mkdir(parents=True, exist_ok=True)
            out.with_name(out.name + ".partial").write_bytes(b"half an edit")
            print("Traceback (most recent call last):\nRuntimeError: fake crash", file=sys.stderr)
            return 3
        if mode == "hang":
            time.sleep(60)
    emit("exporting")
    request = {"prompt": spec["prompt"], "subject": spec["subject"], "target": spec["target"]}
    manifest = {
        "kind": "edit", "name": out.stem, "adapter": str(out), "enabled": True, "request": request,
        "layer": 4, "layer_source": "fake", "target_prob": 0.9, "steps": steps, "final_loss": 1.0,
        "loss_curve": [3.0, 1.5, 1.0], "seconds": {"total_s": 0.3},
    }  # fmt: skip
    manifest["manifest"] = str(
        save_run(
            out,
            lambda p: p.write_bytes(b"GGUF fake edit"),
            lambda p: p.write_text(json.dumps(request) + "\n", encoding="utf-8"),
            manifest,
        )
    )
    emit("done", **manifest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
