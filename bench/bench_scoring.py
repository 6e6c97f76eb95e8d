"""Agreement of the scorer with careful human grading, on the held-out labelled answers.

    .venv/bin/python bench/bench_scoring.py [--split heldout|tune|all]

The labels (tests/validation/*.jsonl) were given by reading each answer against
tests/validation/RUBRIC.md. The baseline in the same run is the assertions alone
(no relevance or spill-over check), which is what TA Lab scored before.
Targets: 95% overall, 90% in every category.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
VALIDATION = ROOT / "tests" / "validation"


def load(split: str) -> list[dict[str, Any]]:
    names = ["tune", "heldout"] if split == "all" else [split]
    rows = []
    for name in names:
        for line in (VALIDATION / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append(json.loads(line))
    return rows


def agreement(rows: list[dict[str, Any]], verdicts: list[bool]) -> dict[str, tuple[int, int]]:
    by: dict[str, list[bool]] = defaultdict(list)
    for row, verdict in zip(rows, verdicts, strict=True):
        by[row["category"]].append(verdict == row["label"])
        by["overall"].append(verdict == row["label"])
    return {k: (sum(v), len(v)) for k, v in by.items()}


def main() -> int:
    import os
    import tempfile

    os.environ.setdefault("TALAB_HOME", tempfile.mkdtemp())  # the shipped KB, not a user's edit
    from engine import scoring
    from engine.score_file import build_scorer
    from engine.stats import wilson

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split", choices=["heldout", "tune", "all"], default="heldout")
    parser.add_argument("--show", action="store_true", help="print each disagreement")
    args = parser.parse_args()
    rows = load(args.split)
    scorer = build_scorer()
    start = time.perf_counter()
    now = [scorer.score(r).passed for r in rows]
    elapsed = time.perf_counter() - start
    before = []
    for r in rows:
        probe = scorer.probe_for(r)
        rules = probe.assertions.model_dump(exclude_none=True) if probe else {}
        before.append(scoring.passed(scoring.check(rules, r["answer"])))
    new, old = agreement(rows, now), agreement(rows, before)
    print(f"{args.split}: {len(rows)} labelled answers, scored in {elapsed * 1000:.0f} ms")
    print(f"{'category':20} {'scorer':>8} {'95% interval':>14} {'assertions only':>16}   target")
    for key in ["overall", *[c for c in scoring.CATEGORIES if c in new]]:
        k, n = new[key]
        ci = wilson(k, n)
        target = "95%" if key == "overall" else "90%"
        assert ci is not None
        print(f"{key:20} {k / n:8.1%} {f'[{ci.lo:.0%}–{ci.hi:.0%}]':>14} {old[key][0] / n:16.1%}   "
              f"{target} ({k}/{n})")  # fmt: skip
    for lang in sorted({r["lang"] for r in rows}):
        mine = [(r, v, b) for r, v, b in zip(rows, now, before, strict=True) if r["lang"] == lang]
        k, n = sum(v == r["label"] for r, v, _ in mine), len(mine)
        ci = wilson(k, n)
        assert ci is not None
        print(f"{'language ' + lang:20} {k / n:8.1%} {f'[{ci.lo:.0%}–{ci.hi:.0%}]':>14} "
              f"{sum(b == r['label'] for r, _, b in mine) / n:16.1%}   ({k}/{n})")  # fmt: skip
    if args.show:
        for r, v in zip(rows, now, strict=True):
            if v != r["label"]:
                print(f"- {r['id']}: scorer {v}, label {r['label']} ({r.get('reason', '')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
