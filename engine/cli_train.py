"""``talab train``: fine-tune the adapter from the command line, with progress and Ctrl+C."""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

from engine import paths
from engine.errors import TalabError

EXIT_CANCELLED = 130


def train_command(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from engine.cli_output import err_console
    from engine.errors import Cancelled
    from engine.finetune.jobs import run_training
    from engine.finetune.train import TrainSpec
    from engine.kb import load_kb
    from engine.models import load_model_info

    if args.steps < 1 or args.rank < 1 or args.lr <= 0:
        raise TalabError("--steps and --rank must be at least 1 and --lr above 0")
    if not args.name.replace("-", "").replace("_", "").isalnum():
        raise TalabError(f"Adapter name '{args.name}' may only use letters, digits, - and _")
    kb = load_kb(args.kb, lang=args.lang)
    model = load_model_info(args.model)
    out = paths.adapters_dir() / f"{args.name}.gguf"
    spec = TrainSpec(
        model_path=str(model.path), kb_path=str(kb.path), out_path=str(out), steps=args.steps,
        rank=args.rank, lr=args.lr, mix_general=args.mix_general, seed=args.seed or 42,
    )  # fmt: skip
    cancel = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())
    console = err_console()
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, transient=True)  # fmt: skip
    try:
        with progress:
            task = progress.add_task("preparing", total=args.steps)

            def on_event(e: dict[str, Any]) -> None:
                if e["event"] == "loading":
                    progress.update(task, description="loading the model into torch")
                elif e["event"] == "step":
                    progress.update(task, completed=e["step"], description=f"training · loss {e['loss']:.3f}")
                elif e["event"] == "exporting":
                    progress.update(task, description="writing the GGUF adapter")

            done = run_training(spec, on_event, cancel.is_set)
    except Cancelled as exc:
        console.print(str(exc))
        return EXIT_CANCELLED
    finally:
        signal.signal(signal.SIGINT, previous)
    print(
        f"Adapter '{args.name}' written to {done['adapter']} "
        f"(final loss {done['loss']}, {done['seconds']} s)."
    )
    print("Compare it: talab probe --personas base,prompted,finetuned,merged")
    return 0
