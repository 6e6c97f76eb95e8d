"""A scripted stand-in for ``python -m engine.finetune.train`` (GUI and job-runner tests).

Speaks the same JSON-lines protocol. The first KB path in the spec chooses
the script: a path containing "fail" reports an error; otherwise it trains
one fake step per epoch, ``0.2 s`` each, and writes a small random LoRA for the
spec's model (a marker file when there is no model).

``TALAB_FAKE_TRAINER`` (comma-separated) adds the failures a real trainer can
have, since the spec file only carries TrainSpec's fields:

* ``noisy``: writes 200 KB to stderr before training (more than a pipe holds);
* ``crash``: after the first step, stages a partial adapter as an export would,
  prints a traceback and exits 3;
* ``hang``: after the first step, sleeps until it is killed.

``TALAB_FAKE_TRAINER_READY=PATH`` touches PATH after the first step, so a test
in another process knows training is under way. The ``start`` event carries the
pid so a test can kill the trainer.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: the repo's engine

from engine.finetune import events as ev

NOISE_BYTES = 200_000


def main() -> int:
    spec = json.loads(Path(sys.argv[-1]).read_text(encoding="utf-8"))
    modes = set(os.environ.get("TALAB_FAKE_TRAINER", "").split(","))
    steps = spec["epochs"]
    out = Path(spec["out_path"])
    ev.emit(
        ev.Start(examples=3, kinds={"identity": 3}, skipped=0, steps=steps, epochs=steps, pid=os.getpid())
    )
    if "noisy" in modes:
        line = "warning: a library is being chatty on stderr\n"
        sys.stderr.write(line * (NOISE_BYTES // len(line) + 1))
        sys.stderr.flush()
    ev.emit(ev.Loading())
    if any("fail" in p for p in spec["kb_paths"]):
        ev.emit(ev.Error(message="the knowledge base is broken"))
        return 2
    for step in range(1, steps + 1):
        time.sleep(0.2)
        ev.emit(ev.Step(step=step, steps=steps, epoch=step, loss=1.0 / step, elapsed_s=0.2 * step,
                        eta_s=0.2 * (steps - step), peak_rss_mb=1024.0))  # fmt: skip
        if step == 1 and os.environ.get("TALAB_FAKE_TRAINER_READY"):
            Path(os.environ["TALAB_FAKE_TRAINER_READY"]).touch()
        if "crash" in modes:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.with_name(out.name + ".partial").write_bytes(b"half an adapter")
            print("Traceback (most recent call last):\n  File ...\nRuntimeError: fake crash", file=sys.stderr)
            return 3
        if "hang" in modes:
            time.sleep(60)
    ev.emit(ev.Exporting())
    out.parent.mkdir(parents=True, exist_ok=True)
    if Path(spec["model_path"]).is_file():  # a real LoRA for that model: the personas read its header
        from tests.ggufs import write_model_lora

        write_model_lora(out, Path(spec["model_path"]))
    else:
        out.write_bytes(b"GGUF fake adapter")
    dataset = spec.get("dataset_path")
    ev.emit(ev.Done(adapter=str(out), final_loss=0.1, seconds=0.2 * steps, peak_rss_mb=1024.0,
                    trained_on=dataset or "kb"))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
