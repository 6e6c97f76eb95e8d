"""``talab fact-experiment``: one new fact taught four ways, scored CounterFact-style."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

EXIT_CANCELLED = 130


def add_parser(sub: Any) -> None:
    from engine.factexp.spec import FactSpec

    d = FactSpec()
    ex = sub.add_parser(
        "fact-experiment",
        help="teach one fact by a prompt line, a fine-tune and a ROME edit; score them against Base",
    )
    ex.add_argument("--prompt", default=d.prompt, help=f'completion prompt (default "{d.prompt}")')
    ex.add_argument("--subject", default=d.subject, help=f'the subject in it (default "{d.subject}")')
    ex.add_argument("--target", default=d.target, help=f'the new answer (default "{d.target}")')
    ex.add_argument("--old", help="the answer it must beat (default: the base model's own greedy answer)")
    ex.add_argument("--model", default=d.model, help="'default' or a llama-architecture GGUF path")
    ex.add_argument(
        "--epochs",
        type=int,
        default=d.epochs,
        help=f"fine-tuning steps: one per epoch over the small data set (default {d.epochs})",
    )
    ex.add_argument(
        "--edit-steps", type=int, default=d.edit_steps, help=f"ROME steps (default {d.edit_steps})"
    )
    ex.add_argument("--layer", type=int, help="layer of the edit (default: the editor's)")
    ex.add_argument(
        "--covariance",
        choices=("identity", "self", "both"),
        default=d.covariance,
        help="the edit's key covariance; both: a second edit with C from self-written text",
    )
    ex.add_argument(
        "--max-tokens",
        type=int,
        default=d.max_tokens,
        help=f"length of general-skill answers and fluency generations (default {d.max_tokens})",
    )
    ex.add_argument("--general-limit", type=int, help="only the first N general-skill probes")
    ex.add_argument("--seed", type=int, default=d.seed)
    ex.add_argument(
        "--threads",
        type=int,
        default=d.threads,
        help=f"llama.cpp threads for the scoring (default {d.threads}: robust on a busy machine)",
    )
    ex.add_argument("--no-train", action="store_true", help="reuse the adapters of an earlier run")
    ex.add_argument("--json", action="store_true", help="print the result as one JSON object")
    ex.add_argument("--html", type=Path, metavar="FILE", help="also write a self-contained HTML report")
    ex.add_argument("--progress-json", action="store_true", help=argparse.SUPPRESS)  # the window's worker
    ex.add_argument("--spec", type=Path, help=argparse.SUPPRESS)  # the window's request, as FactSpec JSON
    ex.set_defaults(handler=command)


def spec_from(args: argparse.Namespace) -> Any:
    from engine.factexp.spec import FactError, FactSpec

    if args.spec is not None:
        try:
            spec = FactSpec.from_json(args.spec.read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError) as exc:
            raise FactError(f"Cannot read the experiment's settings {args.spec}: {exc}") from None
        spec.check()
        return spec
    spec = FactSpec(
        prompt=args.prompt,
        subject=args.subject,
        target=args.target,
        old=args.old,
        model=args.model,
        epochs=args.epochs,
        edit_steps=args.edit_steps,
        layer=args.layer,
        covariance=args.covariance,
        max_tokens=args.max_tokens,
        general_limit=args.general_limit,
        train=not args.no_train,
        seed=args.seed,
        threads=args.threads,
    )
    spec.check()
    return spec


def print_table(result: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    from engine.factexp.report import COLUMNS, cell, notes

    table = Table(title="One-fact experiment", title_justify="left")
    table.add_column("persona", no_wrap=True)
    for _, header in COLUMNS:
        table.add_column(header, justify="right")
    for r in result.rows:
        table.add_row(f"{r.label} ({r.persona})", *(cell(k, getattr(r, k)) for k, _ in COLUMNS))
    for method, ref in result.reference.items():
        table.add_row(f"{method}, paper", *(f"{ref[k]:g}%" if k in ref else "–" for k, _ in COLUMNS))
    Console(highlight=False, width=max(Console().width, 110)).print(table)
    for r in result.rows:
        print(f"{r.label}: {result.request['prompt']} … {r.completion[:90]!r}")
    for line in notes(result):
        print(line)


def command(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from engine.cli.output import err_console
    from engine.errors import Cancelled
    from engine.factexp.experiment import FactEvent, run

    spec = spec_from(args)
    cancel = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())
    if args.progress_json:  # the window stops its worker with SIGTERM: a cancel, children included
        signal.signal(signal.SIGTERM, lambda *_: cancel.set())
    console = err_console()
    last = {"phase": ""}

    def on_event(e: FactEvent) -> None:
        if args.progress_json:
            print(json.dumps({"event": "progress", **asdict(e)}), flush=True)
            return
        if e.phase != last["phase"] or not e.steps or e.step in (1, e.steps) or e.step % 10 == 0:
            step = f" {e.step}/{e.steps}" if e.steps else ""
            loss = f" loss {e.loss:.3f}" if e.loss is not None else ""
            console.print(f"{e.phase}{step} {e.detail}{loss}".rstrip())
        last["phase"] = e.phase

    try:
        result = run(spec, on_event, cancel.is_set)
    except Cancelled as exc:
        if args.progress_json:
            print(json.dumps({"event": "cancelled", "message": str(exc)}), flush=True)
        console.print(str(exc))
        return EXIT_CANCELLED
    finally:
        signal.signal(signal.SIGINT, previous)
    if args.html:
        from engine.factexp.report import to_html

        args.html.write_text(to_html(result), encoding="utf-8")
    if args.progress_json:
        print(json.dumps({"event": "done", "seconds": result.seconds}), flush=True)
    elif args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
    else:
        print_table(result)
        if args.html:
            print(f"HTML report: {args.html}")
    sys.stdout.flush()
    return 0
