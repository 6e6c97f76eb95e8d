"""A scripted stand-in for ``python -m engine.factexp.worker`` (the window's one-fact experiment).

Speaks the CLI's ``--progress-json`` lines and saves a result where the real run
does, with the spec's fact and made-up scores. ``TALAB_FAKE_FACT``: ``fail`` ends
with the CLI's one ``error:`` line, ``hang`` sleeps after the first step until killed.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def main() -> int:
    from engine.factexp.experiment import FactResult, save
    from engine.factexp.metrics import PersonaScore
    from engine.factexp.spec import FactSpec

    spec = FactSpec.from_json(Path(sys.argv[-1]).read_text(encoding="utf-8"))
    mode = os.environ.get("TALAB_FAKE_FACT", "")
    for step in (1, 2, 3):
        emit(event="progress", phase="train", detail="", step=step, steps=3, loss=1.0 / step)
        time.sleep(0.05)
        if mode == "hang":
            time.sleep(60)
    if mode == "fail":
        print(
            "error: The subject's key is orthogonal to the update direction; try another layer",
            file=sys.stderr,
        )
        return 2
    emit(event="progress", phase="score", detail="base", step=1, steps=2, loss=None)
    rows = [
        PersonaScore("base", "Base", "control", 0.0, 0.25, 1.0, 0.0, 0.5, 4, 3.1, "a man who"),
        PersonaScore("edit:fact-rome", "ROME edit", "edit", 1.0, 0.5, 0.75, 9.0, 0.25, 4, 2.9, spec.target),
    ]
    result = FactResult(
        {"prompt": spec.prompt, "target": spec.target, "model": "m.gguf", "max_tokens": 8},
        rows,
        seconds={"total_s": 1.5},
        edits={"identity": {"layer": 4}},
        load_average={"start": "1.00 1.00 1.00"},
        created="2026-12-04T20:00:00+00:00",
    )
    save(result)
    emit(event="done", seconds=result.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
