"""``talab score``: the current scorer on answers produced anywhere (a labelled set, another tool)."""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from engine.errors import TalabError
from engine.sweep import CURVE, curve_points, sweep_persona_ids, sweep_scales


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

    sweep = sub.add_parser(
        "sweep", parents=[common], help="probe one adapter persona at scales 0..1: the adapter-scale curve"
    )
    sweep.add_argument("--persona", default="finetuned", help="a persona with an adapter (default finetuned)")
    sweep.add_argument("--points", type=int, default=6, help="scales from 0 to 1, evenly spaced (default 6)")
    sweep.add_argument("--probes", type=Path, help="probe set YAML (default: course_kb/probes/default.yaml)")
    sweep.add_argument("--limit", type=int, help="only the first N probes")
    sweep.add_argument(
        "--per-category",
        type=int,
        metavar="N",
        help="the first N probes of each category: every figure, quicker",
    )
    sweep.add_argument("--json", action="store_true", help="print the curve as one JSON object")
    sweep.set_defaults(handler=sweep_command)

    from engine.finetune.train import TARGETS, TrainSpec

    d = TrainSpec("", "")
    exp = sub.add_parser(
        "experiment",
        parents=[common],
        help="train with several seeds and replay fractions, probe, report mean ± CI",
    )
    exp.add_argument("--seeds", type=int, default=3, help="adapters per replay fraction (default 3)")
    exp.add_argument("--replay", default="0,0.3", help="replay fractions, comma-separated (default 0,0.3)")
    exp.add_argument("--probes", type=Path, help="probe set YAML (default: course_kb/probes/default.yaml)")
    exp.add_argument("--limit", type=int, help="only the first N probes")
    exp.add_argument(
        "--per-category", type=int, metavar="N", help="the first N probes of each category (quicker)"
    )
    exp.add_argument("--json", action="store_true")
    exp.set_defaults(
        handler=experiment_command, rank=d.rank, alpha=d.alpha, lr=d.lr, epochs=d.epochs,
        batch_size=d.batch_size, target_modules=",".join(TARGETS), max_seq_len=d.max_seq_len,
        langs="en,zh-TW", dataset=None,
    )  # fmt: skip


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


def sweep_command(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from engine.cli import _lab, _overrides
    from engine.scoring import format_interval, pct

    scales = sweep_scales(args.points)
    lab = _lab(args)
    try:
        result = lab.probe(
            sweep_persona_ids(args.persona, scales),
            probes_file=args.probes,
            limit=args.limit,
            per_category=args.per_category,
            overrides=_overrides(args),
        )
    finally:
        lab.close()
    points = curve_points(result.summary, scales)
    if args.json:
        print(json.dumps({"run_id": result.run_id, "persona": args.persona, "points": points}))
        return 0
    table = Table(title=f"Adapter scale sweep of {args.persona} (run {result.run_id})", title_justify="left")
    table.add_column("scale", justify="right")
    for _, _, label in CURVE:
        table.add_column(label, justify="right")
    for point in points:
        cells = [f"{pct(point[k]['value'])} {format_interval(k, point[k]['ci'])}" for k, _, _ in CURVE]
        table.add_row(f"{point['scale']:g}", *cells)
    table.caption = (
        "[brackets]: 95% Wilson interval. Is there a scale that keeps the identity and loses little?"
    )
    Console(highlight=False).print(table)
    return 0


def experiment_command(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from engine.experiment import run_experiment
    from engine.scoring import FIGURES, format_figure, format_interval

    report = run_experiment(args)
    if args.json:
        print(json.dumps(report))
        return 0
    table = Table(title=f"Experiment (run {report['run_id']}): mean across seeds [95% t interval]",
                  title_justify="left")  # fmt: skip
    table.add_column("figure")
    for row in report["by_replay"]:
        table.add_column(f"replay {row['replay']:g} ({len(row['seeds'])} seeds)", justify="right")
    for key, label in FIGURES:
        cells = []
        for row in report["by_replay"]:
            cell = row.get(key)
            cells.append(
                "–" if not cell else f"{format_figure(key, cell['mean'])} {format_interval(key, cell['ci'])}"
            )
        table.add_row(label, *cells)
    Console(highlight=False).print(table)
    return 0
