"""``talab``: the command line, a thin layer over the engine.

Every user mistake ends as one ``error:`` line and a non-zero exit, never a
traceback; unexpected failures are logged to ``$TALAB_HOME/talab.log`` and
reported in one line that points there.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine import __version__
from engine.batch import DEFAULT_SLOTS
from engine.cli import serve as cli_serve
from engine.errors import TalabError
from engine.scoring import CATEGORIES

if TYPE_CHECKING:
    from engine.lab import Lab

EXIT_USER_ERROR = 2
EXIT_CANCELLED = 130


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="talab", description="TA Lab: prompting vs fine-tuning, side by side, with evidence."
    )
    parser.add_argument("--version", action="version", version=f"talab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--model", default="default", help="'default' (SmolLM2-135M-Instruct), 'gemma3-270m' or a GGUF path"
    )
    common.add_argument(
        "--kb", type=Path, help="course knowledge base YAML (default: course_kb/ml2025/LANG.yaml)"
    )
    common.add_argument("--lang", default="en", choices=["en", "zh-TW"], help="question and KB language")
    common.add_argument("--personas-file", type=Path, help="extra persona definitions (YAML)")
    common.add_argument("--seed", type=int, help="sampling seed (default 42)")
    common.add_argument("--max-tokens", type=int, help="answer length limit (default 128)")
    common.add_argument("--temperature", type=float, help="0 = greedy and reproducible (default)")
    common.add_argument("--n-ctx", type=int, default=4096, help="context window in tokens")
    common.add_argument(
        "--threads", type=int, metavar="N",
        help="llama.cpp threads (default: the physical cores; 1 is faster while other jobs share the CPU)",
    )  # fmt: skip
    common.add_argument(
        "--server",
        metavar="URL",
        help="answer on a llama-server or vLLM at URL (e.g. http://127.0.0.1:8080) instead of in-process",
    )
    common.add_argument(
        "--server-timeout", type=float, default=120.0, metavar="S", help="seconds to wait for the server"
    )

    ask = sub.add_parser("ask", parents=[common], help="ask one question, streamed")
    ask.add_argument("question")
    ask.add_argument(
        "--batch", type=int, default=1, metavar="N",
        help="decode personas that share adapters together (default 1: one stream at a time, readable)",
    )  # fmt: skip
    ask.add_argument(
        "--persona",
        "--personas",
        dest="personas",
        type=_csv,
        default=["prompted"],
        help="persona id, or several separated by commas (default: prompted)",
    )

    probe = sub.add_parser("probe", parents=[common], help="run a probe suite and score it")
    probe.add_argument(
        "--personas",
        "--persona",
        dest="personas",
        type=_csv,
        default=["base", "prompted"],
        help="comma-separated persona ids",
    )
    probe.add_argument("--probes", type=Path, help="probe set YAML (default: course_kb/probes/default.yaml)")
    probe.add_argument("--limit", type=int, help="only the first N probes")
    probe.add_argument(
        "--batch", type=int, default=DEFAULT_SLOTS, metavar="N",
        help=f"answers decoded at once (default {DEFAULT_SLOTS}; 1: one after another, the old path)",
    )  # fmt: skip
    probe.add_argument("--category", choices=CATEGORIES, help="only this category")
    again = probe.add_mutually_exclusive_group()
    again.add_argument("--resume", type=int, metavar="RUN_ID", help="finish an interrupted run")
    again.add_argument(
        "--replay",
        type=int,
        metavar="RUN_ID",
        help="run again with a past run's model, KB, probes, personas, seed and "
        "parameters, and report which answers differ",
    )
    probe.add_argument("--json", action="store_true", help="print one JSON object on stdout")

    runs = sub.add_parser("runs", help="list past runs")
    runs.add_argument("--limit", type=int, default=20)
    runs.add_argument("--json", action="store_true")

    export = sub.add_parser("export", help="write a run to CSV or JSONL")
    export.add_argument("run_id", type=int)
    export.add_argument(
        "--format",
        choices=["csv", "jsonl", "html"],
        default="csv",
        help="html: a self-contained report with charts",
    )
    export.add_argument("--output", "-o", type=Path)

    kb = sub.add_parser("kb", parents=[common], help="validate a knowledge base and show its prompt size")
    kb.add_argument("--show", action="store_true", help="print the rendered system prompt")

    sub.add_parser("personas", parents=[common], help="list personas and whether they are available")

    from engine.cli.edit import add_parsers as add_edit_parsers
    from engine.cli.train import add_parsers

    add_parsers(sub, common)
    add_edit_parsers(sub, common)
    from engine.cli.evidence import add_parsers as add_evidence_parsers

    add_evidence_parsers(sub, common)
    cli_serve.add_parsers(sub, common)
    from engine.cli.merge import add_parsers as add_merge_parsers

    add_merge_parsers(sub, common)
    from engine.cli.factexp import add_parser as add_fact_parser

    add_fact_parser(sub)
    sub.add_parser("gui", help="open the desktop app")
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if args.seed is not None:
        out["seed"] = args.seed
    if args.max_tokens is not None:
        if args.max_tokens < 1:
            raise TalabError("--max-tokens must be at least 1")
        out["max_tokens"] = args.max_tokens
    if args.temperature is not None:
        if args.temperature < 0:
            raise TalabError("--temperature must be 0 or more")
        out["temperature"] = args.temperature
    return out


def _lab(args: argparse.Namespace) -> Lab:
    from engine.lab import Lab, LabConfig

    return Lab(
        LabConfig(
            model=args.model,
            kb=args.kb,
            lang=args.lang,
            personas_file=args.personas_file,
            n_ctx=args.n_ctx,
            n_threads=getattr(args, "threads", None),
            server=getattr(args, "server", None),
            server_timeout_s=getattr(args, "server_timeout", 120.0),
        )
    )


def cmd_ask(args: argparse.Namespace) -> int:
    overrides = _overrides(args)
    lab = _lab(args)
    many = len(args.personas) > 1
    try:
        lab.ask(
            args.question,
            args.personas,
            overrides,
            on_start=lambda p: print(f"\n── {p.name} ──", flush=True) if many else None,
            on_token=lambda _p, s: print(s, end="", flush=True),
            on_answer=lambda _p, _g: print(flush=True),
            batch=args.batch,
        )
    finally:
        lab.close()
    return 0


def cmd_probe(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from engine.cli.output import err_console, summary_table
    from engine.store import open_store

    overrides = _overrides(args)
    selection: dict[str, Any] = {"category": args.category, "limit": args.limit}
    past = args.resume if args.resume is not None else args.replay
    if args.resume is not None:  # refused in one line before the model loads
        from engine.runs import resumable_probe_run

        run = resumable_probe_run(open_store(read_only=True), args.resume)
    elif past is not None:
        run = open_store(read_only=True).get_run(past)
        if run.get("kind") != "probe":
            raise TalabError(f"Run {past} is not a probe run")
    if past is not None:
        params = run.get("params") or {}
        args.personas, args.lang = run["personas"], run["lang"]
        args.probes, args.kb = Path(run["probe_set"]), Path(run["kb_path"])
        args.model, args.n_ctx = run["model_path"], run["n_ctx"] or args.n_ctx
        if args.server is None:  # a server run resumes on the server it ran on
            args.server = (run.get("origin") or {}).get("server")
        overrides = params.get("overrides", {})
        selection = {k: params.get(k) for k in ("category", "limit", "per_category")}
        args.batch = int(params.get("batch", 1))  # a replay decodes in the layout the run used
    lab = _lab(args)
    # fail on bad personas or probes before drawing a progress bar
    from engine.personas import select
    from engine.probes import load_probe_set

    try:
        if past is not None and lab.model.sha256 != run["model_sha256"]:
            raise TalabError(
                f"Run {past} used another model file than {lab.model.path} "
                f"(sha256 {run['model_sha256'][:12]}…); it cannot be replayed exactly"
            )
        select(lab.personas, args.personas)
        load_probe_set(args.probes).select(lang=args.lang, **selection)
    except TalabError:
        lab.close()
        raise
    cancel = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())
    console = err_console()
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=args.json and not console.is_terminal,
    )
    try:
        with progress:
            task = progress.add_task("loading", total=None)

            def on_progress(p: Any) -> None:
                mark = "" if p.passed is None else (" ✓" if p.passed else " ✗")
                progress.update(
                    task, completed=p.done, total=p.total, description=f"{p.persona_id}: {p.probe_id}{mark}"
                )

            if args.resume is not None:
                result = lab.resume_probe(args.resume, on_progress=on_progress, should_cancel=cancel.is_set)
            else:
                result = lab.probe(
                    args.personas,
                    probes_file=args.probes,
                    overrides=overrides,
                    on_progress=on_progress,
                    should_cancel=cancel.is_set,
                    batch=args.batch,
                    **selection,
                )
    finally:
        signal.signal(signal.SIGINT, previous)
        lab.close()
    extra: dict[str, Any] = {}
    if args.replay is not None:
        from engine.runs import compare_runs

        extra["replay"] = compare_runs(lab.store, args.replay, result.run_id)
    if args.json:
        print(json.dumps({"run_id": result.run_id, "status": result.status, **result.summary, **extra}))
    else:
        from rich.console import Console

        names = {p.id: p.name for p in select(lab.personas, args.personas)}
        Console(highlight=False).print(summary_table(result.summary, names))
        print(f"Run {result.run_id} stored in {lab.store.path}")
        if "replay" in extra:
            rep = extra["replay"]
            print(
                f"Replay of run {args.replay}: {rep['identical']}/{rep['compared']} answers identical"
                + (f"; differing: {', '.join(rep['differing'][:10])}" if rep["differing"] else "")
            )
    if result.status == "cancelled":
        console.print(
            f"Cancelled: finished answers are kept. Resume with: talab probe --resume {result.run_id}"
        )
        return EXIT_CANCELLED
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from rich.console import Console

    from engine.cli.output import runs_table
    from engine.store import open_store

    runs = open_store(read_only=True).list_runs(args.limit)
    if args.json:
        print(json.dumps(runs, ensure_ascii=False))
    elif not runs:
        print("No runs yet. Start one with: talab probe")
    else:
        Console(highlight=False).print(runs_table(runs))
        stuck = [r["id"] for r in runs if r.get("status") == "interrupted" and r.get("kind") == "probe"]
        if stuck:
            print(f"Interrupted runs keep their answers; finish one with: talab probe --resume {stuck[0]}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from engine.reports import export_run
    from engine.store import open_store

    out = export_run(open_store(read_only=True), args.run_id, args.format, args.output)
    print(out)
    return 0


def cmd_kb(args: argparse.Namespace) -> int:
    from engine.kb import load_kb
    from engine.models import load_model_info
    from engine.runtime import Runtime

    kb = load_kb(args.kb, lang=args.lang)
    rt = Runtime(load_model_info(args.model), n_ctx=args.n_ctx)
    n = rt.count_tokens(kb.system_prompt)
    rt.close()
    if args.show:
        print(kb.system_prompt)
    print(
        f"{kb.path}: valid ({kb.data.course.title}, {kb.language}"
        f"{', sample data' if kb.data.sample else ''}); system prompt {n} tokens "
        f"of a {rt.n_ctx}-token context ({n / rt.n_ctx:.0%})"
    )
    return 0


def cmd_personas(args: argparse.Namespace) -> int:
    from engine.kb import load_kb
    from engine.models import load_model_info
    from engine.personas import load_personas

    kb = load_kb(args.kb, lang=args.lang)
    for p in load_personas(kb, args.personas_file, load_model_info(args.model)).values():
        state = "available" if p.available else f"unavailable: {p.unavailable_reason}"
        print(f"{p.id:20} {p.name:22} {state}")
    return 0


def cmd_finetune(args: argparse.Namespace) -> int:
    from engine.cli.train import finetune_command

    return finetune_command(args)


def cmd_adapters(args: argparse.Namespace) -> int:
    from engine.cli.train import adapters_command

    return adapters_command(args)


def cmd_merge(args: argparse.Namespace) -> int:
    from engine.cli.merge import experiment_command, merge_command

    return experiment_command(args) if args.command == "merge-experiment" else merge_command(args)


def cmd_gui(args: argparse.Namespace) -> int:
    """Replaced by desktop.launcher, which owns the Qt side; the engine never imports it."""
    raise TalabError("The desktop app is not part of this installation (run packaging/setup.sh)")


COMMANDS = {
    "ask": cmd_ask, "probe": cmd_probe, "runs": cmd_runs, "export": cmd_export,
    "kb": cmd_kb, "personas": cmd_personas, "finetune": cmd_finetune, "train": cmd_finetune,
    "adapters": cmd_adapters, "merge": cmd_merge, "merge-experiment": cmd_merge, "gui": cmd_gui,
}  # fmt: skip
COMMANDS.update(cli_serve.COMMANDS)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        handler = getattr(args, "handler", None) or COMMANDS[args.command]
        return int(handler(args))
    except TalabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except Exception as exc:  # last line of defence: log, then one line for the user
        from engine.log import log_current_exception

        where = log_current_exception()
        print(f"error: unexpected {type(exc).__name__}: {exc} (details in {where})", file=sys.stderr)
        return 1
