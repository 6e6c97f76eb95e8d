"""``talab score``: the current scorer on answers produced anywhere (a labelled set, another tool)."""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from engine.errors import TalabError


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    score = sub.add_parser(
        "score",
        help="score answers from a JSONL file (question, answer, category; optional probe_id, persona_id)",
    )
    score.add_argument("answers", type=Path, metavar="ANSWERS.jsonl")
    score.add_argument(
        "--adapter",
        help="adapter name (or .gguf path) whose training data the spill-over check compares with",
    )
    score.add_argument("--probes", type=Path, help="probe set whose assertions apply to matching lines")
    score.add_argument("--output", "-o", type=Path, metavar="VERDICTS.jsonl", help="default: stdout")
    score.set_defaults(handler=score_command)


def score_command(args: argparse.Namespace) -> int:
    from engine.score_file import build_scorer, read_answers, score_records
    from engine.scoring import CATEGORIES, pct

    records = list(read_answers(args.answers))  # every line checked before any is scored
    scorer = build_scorer(args.adapter, args.probes)
    verdicts = list(score_records(scorer, records))
    text = "".join(json.dumps(v, ensure_ascii=False) + "\n" for v in verdicts)
    if args.output:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise TalabError(f"Cannot write {args.output}: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(text)
    by: dict[str, list[bool]] = defaultdict(list)
    for v in verdicts:
        by[v["category"]].append(v["passed"])
    parts = [f"{c} {pct(sum(by[c]) / len(by[c]))} ({len(by[c])})" for c in CATEGORIES if by.get(c)]
    print(f"Scored {len(verdicts)} answers: " + ", ".join(parts), file=sys.stderr)
    return 0
