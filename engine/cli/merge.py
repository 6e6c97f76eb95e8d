"""``talab merge``: combine trained adapters into a new one (linear, TIES or DARE)."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from engine import paths
from engine.errors import MergeError
from engine.finetune.events import Start, TrainEvent

DEFAULT_DENSITY = 0.5
DEFAULT_DROP = 0.3
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    from engine.merge.methods import METHODS

    mp = sub.add_parser(
        "merge", parents=[common], help="merge adapters into a new adapter (linear, TIES, DARE)"
    )
    mp.add_argument(
        "--method",
        choices=METHODS,
        default="linear",
        help="linear: Σ wᵢ·ΔWᵢ; ties: trim, elect signs, disjoint mean; dare: drop, rescale, sum",
    )
    mp.add_argument(
        "--adapters",
        required=True,
        metavar="A:W,B:W",
        help="adapter names with weights, e.g. identity:1,facts:0.5 (negative subtracts)",
    )
    mp.add_argument("--name", required=True, help="name of the merged adapter")
    mp.add_argument(
        "--density",
        type=float,
        help=f"ties: fraction of each ΔW kept, by magnitude (default {DEFAULT_DENSITY})",
    )
    mp.add_argument(
        "--drop", type=float, help=f"dare: probability of dropping each entry (default {DEFAULT_DROP})"
    )
    mp.add_argument(
        "--rank", type=int, help="rank of the merged LoRA (default: the sum of the sources' ranks)"
    )
    mp.add_argument("--force", action="store_true", help="replace an existing adapter of that name")
    mp.add_argument("--json", action="store_true", help="print the manifest as JSON")
    add_experiment_parser(sub)


def build_spec(args: argparse.Namespace) -> Any:
    """The merge as asked, or one line saying what is wrong with the request."""
    from engine.merge.build import MergeSpec, parse_sources

    if not _NAME.match(args.name):
        raise MergeError(f"Adapter name '{args.name}' may only use letters, digits, - and _")
    if args.density is not None and args.method != "ties":
        raise MergeError("--density applies to --method ties only")
    if args.drop is not None and args.method != "dare":
        raise MergeError("--drop applies to --method dare only")
    folder = paths.adapters_dir()
    sources = parse_sources(args.adapters, lambda name: folder / f"{name}.gguf")
    for s in sources:
        if not _NAME.match(s.name) or not s.path.exists():
            known = ", ".join(sorted(p.stem for p in folder.glob("*.gguf"))) or "none yet"
            raise MergeError(f"Unknown adapter '{s.name}' (known: {known})")
    spec = MergeSpec(
        sources=sources,
        method=args.method,
        density=args.density
        if args.density is not None
        else (DEFAULT_DENSITY if args.method == "ties" else 1.0),
        drop=args.drop if args.drop is not None else (DEFAULT_DROP if args.method == "dare" else 0.0),
        rank=args.rank,
        seed=args.seed if args.seed is not None else 42,
    )
    spec.check()
    out = folder / f"{args.name}.gguf"
    if out.exists() and not args.force:
        raise MergeError(
            f"An adapter named '{args.name}' exists already; choose another --name or pass --force"
        )
    return spec


def check_against_model(spec: Any, model_spec: str | Path) -> dict[str, Any]:
    """Every source must fit the model the merge is for; returns that model's identity."""
    from engine.adapters import validate_adapter
    from engine.errors import AdapterError
    from engine.models import load_model_info

    info = load_model_info(model_spec)
    for s in spec.sources:
        try:
            validate_adapter(s.path, info.header)
        except AdapterError as exc:
            raise MergeError(f"'{s.name}' does not fit {info.display_name}: {exc}") from None
    return {"file": info.path.name, "sha256": info.sha256, "architecture": info.architecture}


def merge_command(args: argparse.Namespace) -> int:
    from engine.cli.output import err_console
    from engine.merge.build import describe, merge, save_merge

    spec = build_spec(args)
    model = check_against_model(spec, args.model)
    console = err_console()
    with console.status(f"merging {describe(spec.sources)} ({spec.method})") as status:
        result = merge(spec, lambda done, total: status.update(f"merging: tensor {done}/{total}"))
    if result.base_model.get("sha256") and result.base_model["sha256"] != model["sha256"]:
        raise MergeError(f"The adapters were trained on {result.base_model.get('file')}, not on "
                         f"{model['file']}: pass that model with --model")  # fmt: skip
    result.base_model = result.base_model or model
    manifest_file = save_merge(spec, result, paths.adapters_dir() / f"{args.name}.gguf")
    if args.json:
        print(manifest_file.read_text(encoding="utf-8"), end="")
        return 0
    how = {"ties": f", density {spec.density:g}", "dare": f", drop {spec.drop:g}, seed {spec.seed}"}
    print(
        f"Merged adapter '{args.name}' ({spec.method}{how.get(spec.method, '')}) = {describe(spec.sources)}: "
        f"rank {result.rank}, truncation error {result.error:.2%} of ‖ΔW‖ (worst {result.worst_tensor} "
        f"{result.worst_error:.2%}), {result.seconds:.1f} s. Manifest: {manifest_file}"
    )
    print(f'Try it: talab ask --persona stack:{args.name} "Who are you?"')
    return 0


def add_experiment_parser(sub: Any) -> None:
    from engine.merge.experiment import ExperimentSpec

    d = ExperimentSpec()
    ex = sub.add_parser(
        "merge-experiment", help="train two specialists, merge them three ways, probe them all"
    )
    ex.add_argument("--model", default=d.model, help="'default' or a GGUF path")
    ex.add_argument("--epochs", type=int, default=d.epochs, help=f"training passes (default {d.epochs})")
    ex.add_argument("--rank", type=int, default=d.rank, help=f"LoRA rank of each adapter (default {d.rank})")
    ex.add_argument("--density", type=float, default=d.density, help=f"TIES density (default {d.density})")
    ex.add_argument("--drop", type=float, default=d.drop, help=f"DARE drop (default {d.drop})")
    ex.add_argument("--seed", type=int, default=d.seed, help=f"training and DARE seed (default {d.seed})")
    ex.add_argument("--no-train", action="store_true", help="reuse the adapters of an earlier run")
    ex.add_argument("--per-category", type=int, default=d.per_category,
                    help=f"probes per category (default {d.per_category})")  # fmt: skip
    ex.add_argument("--json", action="store_true", help="print the results as JSON")


def experiment_command(args: argparse.Namespace) -> int:
    import dataclasses

    from rich.console import Console
    from rich.table import Table

    from engine.cli.output import err_console
    from engine.merge.experiment import CATEGORIES, ExperimentSpec, run, verdicts

    spec = ExperimentSpec(
        model=args.model,
        epochs=args.epochs,
        rank=args.rank,
        density=args.density,
        drop=args.drop,
        seed=args.seed,
        train=not args.no_train,
        per_category=args.per_category,
    )
    console = err_console()

    def on_event(what: str, e: TrainEvent | None) -> None:
        if isinstance(e, Start):
            console.print(f"training {spec.name(what)}: {e.examples} examples, {e.steps} steps")
        elif e is None:
            console.print("merging: linear, TIES, DARE")

    def on_progress(p: Any) -> None:
        if p.done % 10 == 0 or p.done == p.total:
            console.print(f"probes {p.done}/{p.total}")

    result = run(spec, on_event, on_progress)
    if args.json:
        print(json.dumps(dataclasses.asdict(result), ensure_ascii=False))
        return 0
    table = Table(title=f"Merge experiment (probe run {result.run_id}): pass rate", title_justify="left")
    for col in ("persona", "what", *CATEGORIES):
        table.add_column(col, justify="left" if col in ("persona", "what") else "right", no_wrap=True)
    for row in result.rows:
        cells = ["–" if row[c] is None else f"{row[c]:.0%}" for c in CATEGORIES]
        table.add_row(row["persona"], row["what"], *cells)
    Console(highlight=False, width=max(Console().width, 100)).print(table)  # one line per persona
    for method, m in result.merges.items():
        print(f"{method}: rank {m['rank']}, truncation error {m['truncation_error']:.2%}, {m['seconds']} s")
    for line in verdicts(result, spec):
        print(line)
    return 0
