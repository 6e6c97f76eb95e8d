"""``talab finetune`` and ``talab adapters``: train the TA checkpoint and list what was trained."""

from __future__ import annotations

import argparse
import json
import signal
import threading
from pathlib import Path
from typing import Any

from engine import paths
from engine.errors import TalabError

EXIT_CANCELLED = 130
DEFAULT_NAME = paths.DEFAULT_ADAPTER


def _fraction(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value}") from None


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    from engine.finetune.train import TARGETS, TrainSpec

    d = TrainSpec("", "")
    ft = sub.add_parser(
        "finetune", aliases=["train"], parents=[common], help="fine-tune the TA adapter from the course KB"
    )
    ft.add_argument("--name", default=DEFAULT_NAME, help=f"adapter name (default {DEFAULT_NAME}: the one "
                    "the Fine-tuned personas use)")  # fmt: skip
    ft.add_argument("--rank", type=int, default=d.rank, help=f"LoRA rank (default {d.rank})")
    ft.add_argument("--alpha", type=int, default=d.alpha, help=f"LoRA alpha (default {d.alpha})")
    ft.add_argument("--lr", type=float, default=d.lr, help=f"learning rate (default {d.lr})")
    ft.add_argument("--epochs", type=int, default=d.epochs, help=f"passes over the data (default {d.epochs})")
    ft.add_argument("--batch-size", type=int, default=d.batch_size, help=f"default {d.batch_size}")
    ft.add_argument("--target-modules", default=",".join(TARGETS),
                    help="comma-separated projections to adapt (default: all seven)")  # fmt: skip
    ft.add_argument("--max-seq-len", type=int, default=d.max_seq_len,
                    help=f"longer examples are left out (default {d.max_seq_len} tokens)")  # fmt: skip
    ft.add_argument("--dataset", type=Path, help="train on this JSONL (e.g. an edited --dataset-only file)")
    ft.add_argument("--replay", type=_fraction, default=0.0, metavar="FRACTION",
                    help="mix in this fraction of general examples answered by the base model itself "
                    "(counter-measure to forgetting; e.g. 0.3)")  # fmt: skip
    ft.add_argument("--langs", default="en,zh-TW",
                    help="KB languages to build the data from (default en,zh-TW)")  # fmt: skip
    ft.add_argument("--dataset-only", action="store_true", help="write the dataset as JSONL and stop")
    ft.add_argument("--output", "-o", type=Path, help="where --dataset-only writes (default: data dir)")
    ads = sub.add_parser("adapters", help="list the trained adapters and their manifests")
    ads.add_argument("--json", action="store_true")


def _spec(args: argparse.Namespace) -> Any:
    from engine.finetune.train import TrainSpec
    from engine.kb import kb_path, load_kb
    from engine.models import load_model_info

    if not args.name.replace("-", "").replace("_", "").isalnum():
        raise TalabError(f"Adapter name '{args.name}' may only use letters, digits, - and _")
    kbs = []
    for lang in [x.strip() for x in args.langs.split(",") if x.strip()]:
        path = args.kb if (args.kb is not None and lang == args.lang) else kb_path(lang=lang)
        kbs.append(str(load_kb(path, lang=lang).path))  # validates now, with file:line errors
    if args.dataset is not None and not Path(args.dataset).is_file():
        raise TalabError(f"Dataset file not found: {args.dataset}")
    spec = TrainSpec(
        model_path=str(load_model_info(args.model).path),
        out_path=str(paths.adapters_dir() / f"{args.name}.gguf"),
        kb_paths=kbs, dataset_path=str(args.dataset) if args.dataset else None,
        rank=args.rank, alpha=args.alpha, lr=args.lr, epochs=args.epochs, batch_size=args.batch_size,
        seed=args.seed if args.seed is not None else 42,
        target_modules=[m.strip() for m in args.target_modules.split(",") if m.strip()],
        max_seq_len=args.max_seq_len, replay=args.replay,
    )  # fmt: skip
    spec.check()
    return spec


def _dataset_only(spec: Any, args: argparse.Namespace) -> int:
    from engine.finetune.dataset import describe, write_jsonl
    from engine.finetune.train import load_examples

    examples = load_examples(spec)
    out = write_jsonl(examples, args.output or paths.data_dir() / "datasets" / f"{args.name}.jsonl")
    print(f"Wrote {len(examples)} examples ({describe(examples)}) to {out}")
    print(f"Edit it, then train on it: talab finetune --dataset {out}")
    return 0


def finetune_command(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from engine.cli.output import err_console
    from engine.errors import Cancelled
    from engine.finetune import events as ev
    from engine.finetune.process import run_training

    spec = _spec(args)
    if args.dataset_only:
        return _dataset_only(spec, args)
    cancel = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())
    console = err_console()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("ETA"),
               TimeRemainingColumn())  # fmt: skip
    progress = Progress(*columns, console=console, transient=True)
    try:
        with progress:
            task = progress.add_task("preparing the dataset", total=None)

            def on_event(e: ev.TrainEvent) -> None:
                if isinstance(e, ev.Replay):
                    progress.update(task, completed=e.done, total=e.total,
                                    description="base model answers replay prompts")  # fmt: skip
                elif isinstance(e, ev.Start):
                    kinds = ", ".join(f"{n} {k}" for k, n in e.kinds.items())
                    console.print(f"{e.examples} examples ({kinds}), {e.steps} steps")
                    progress.update(task, completed=0, total=e.steps)
                elif isinstance(e, ev.Loading):
                    progress.update(task, description="loading the model into torch")
                elif isinstance(e, ev.Step):
                    progress.update(task, completed=e.step, description=f"epoch {e.epoch} · loss "
                                    f"{e.loss:.3f} · {e.peak_rss_mb:.0f} MB")  # fmt: skip
                elif isinstance(e, ev.Exporting):
                    progress.update(task, description="writing the GGUF adapter")

            done = run_training(spec, on_event, cancel.is_set)
    except Cancelled as exc:
        console.print(str(exc))
        return EXIT_CANCELLED
    finally:
        signal.signal(signal.SIGINT, previous)
    print(
        f"Adapter '{done.name}' written to {done.adapter}: final loss {done.final_loss}, "
        f"{done.steps} steps in {done.train_seconds} s ({done.tokens_per_s} tokens/s), "
        f"peak memory {done.peak_rss_mb:.0f} MB. Manifest: {done.manifest}"
    )
    print("Compare: talab probe --personas base,prompted,finetuned,finetuned-prompted,merged:0.5")
    return 0


def adapters_command(args: argparse.Namespace) -> int:
    from engine.finetune.registry import list_adapters

    entries = list_adapters()
    if args.json:
        print(json.dumps([e.as_dict() for e in entries], indent=2, ensure_ascii=False))
        return 0
    if not entries:
        print(f"No adapters yet in {paths.adapters_dir()}. Train one: talab finetune")
        return 0
    for e in entries:
        base = (e.base_sha256 or "unknown")[:12]
        print(f"{e.name}  {e.size / 1e6:.1f} MB  {e.created}  base {base}…  {e.path}")
        print(f"    {e.summary()}")
    return 0
