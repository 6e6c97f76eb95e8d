"""Dump the answers of probe runs as JSONL lines for labelling (tests/validation/RUBRIC.md).

    TALAB_HOME=... .venv/bin/python bench/collect_answers.py RUN_ID [RUN_ID ...] -o answers.jsonl

Each line: id, persona_id, lang, probe_id, category, question, answer. Add ``label`` (true/false)
and ``reason`` by reading each answer against the rubric; ``talab score`` and
bench/bench_scoring.py read the same format.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    from engine.store import open_store

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("runs", type=int, nargs="+")
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    store = open_store()
    lines = []
    for run_id in args.runs:
        lang = store.get_run(run_id)["lang"]
        for a in store.answers(run_id):
            record = {
                "id": f"{a['persona_id']}/{lang}/{a['probe_id']}",
                "persona_id": a["persona_id"],
                "lang": lang,
                "probe_id": a["probe_id"],
                "category": a["category"],
                "question": a["question"],
                "answer": a["answer"],
            }
            lines.append(json.dumps(record, ensure_ascii=False))
    args.output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} answers → {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
