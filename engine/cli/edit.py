"""``talab edit`` and ``talab edits``: change one fact with ROME, and manage the edits made."""

from __future__ import annotations

import argparse
import json
import signal
import threading
from pathlib import Path
from typing import Any

from engine import paths

EXIT_CANCELLED = 130


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    from engine.edit.spec import COVARIANCES, EditSpec

    d = EditSpec("", "", "", "", "")
    ed = sub.add_parser("edit", parents=[common], help="change one fact in the model (ROME rank-one edit)")
    ed.add_argument("--prompt", required=True, help='e.g. "The most handsome person in the world is"')
    ed.add_argument("--subject", required=True, help='a part of the prompt, e.g. "most handsome person"')
    ed.add_argument("--target", required=True, help='the new completion, e.g. "Prof. Lee"')
    ed.add_argument("--name", required=True, help="adapter name; the persona is edit:NAME")
    ed.add_argument("--layer", type=int, help="MLP layer to edit (default: the sweep's choice)")
    ed.add_argument("--steps", type=int, default=d.steps, help=f"optimisation steps (default {d.steps})")
    ed.add_argument("--prefixes", type=int, default=d.prefixes,
                    help=f"self-generated context prefixes for the key (default {d.prefixes})")  # fmt: skip
    ed.add_argument("--covariance", choices=COVARIANCES, default=d.covariance,
                    help="key covariance C: identity (EasyEdit's Llama setting) or estimated from "
                    "text the model writes itself")  # fmt: skip
    ed.set_defaults(handler=edit_command)
    eds = sub.add_parser("edits", help="list, disable, enable or delete model edits")
    eds.add_argument("action", nargs="?", default="list", choices=["list", "disable", "enable", "delete"])
    eds.add_argument("name", nargs="?", help="the edit (for disable, enable, delete)")
    eds.add_argument("--json", action="store_true")
    eds.set_defaults(handler=edits_command)


def edit_spec(args: argparse.Namespace) -> Any:
    """Every check that needs no torch, so bad input costs no model load."""
    from engine.edit.registry import refuse_overwriting_other_adapters
    from engine.edit.spec import EditSpec, check_architecture, check_name
    from engine.models import load_model_info

    check_name(args.name)
    info = load_model_info(args.model)
    spec = EditSpec(
        model_path=str(info.path), out_path=str(paths.adapters_dir() / f"{args.name}.gguf"),
        prompt=args.prompt, subject=args.subject, target=args.target, layer=args.layer,
        layer_source="user" if args.layer is not None else "default", steps=args.steps,
        prefixes=args.prefixes, covariance=args.covariance, seed=args.seed if args.seed is not None else 42,
    )  # fmt: skip
    spec.check()
    check_architecture(info.architecture, info.path.name)
    refuse_overwriting_other_adapters(Path(spec.out_path))
    return spec


def edit_command(args: argparse.Namespace, program: list[str] | None = None) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from engine.cli.output import err_console
    from engine.edit.worker import EDIT_JOB
    from engine.errors import Cancelled
    from engine.finetune.process import run_job

    spec = edit_spec(args)
    cancel = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())
    console = err_console()
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, transient=True)  # fmt: skip
    try:
        with progress:
            task = progress.add_task("starting", total=None)

            def on_event(e: dict[str, Any]) -> None:
                kind = e["event"]
                if kind == "loading":
                    progress.update(task, description="loading the model into torch")
                elif kind == "keys":
                    progress.update(task, description=f"layer {e['layer']}: keys over self-written prefixes")
                elif kind == "step":
                    progress.update(task, completed=e["step"], total=e["steps"],
                                    description=f"optimising the value · loss {e['loss']:.3f}")  # fmt: skip
                elif kind == "exporting":
                    progress.update(task, description="writing the GGUF adapter")

            done = run_job(EDIT_JOB, spec.to_json(), Path(spec.out_path), on_event, cancel.is_set,
                           program=program)  # fmt: skip
    except Cancelled as exc:
        console.print(str(exc))
        return EXIT_CANCELLED
    finally:
        signal.signal(signal.SIGINT, previous)
    secs = done.get("seconds") or {}
    print(
        f"Edit '{done['name']}' written to {done['adapter']}: layer {done['layer']}, target probability "
        f"{done['target_prob']} after {done['steps']} steps, {secs.get('total_s')} s. "
        f"Manifest: {done['manifest']}"
    )
    print(f'Ask it: talab ask "{spec.prompt}" --personas base,edit:{done["name"]}')
    return 0


def edits_command(args: argparse.Namespace) -> int:
    from engine.edit.registry import delete_edit, list_edits, set_enabled
    from engine.errors import TalabError

    if args.action != "list":
        if not args.name:
            raise TalabError(f"talab edits {args.action} needs the edit's name")
        if args.action == "delete":
            delete_edit(args.name)
            print(f"Deleted the edit '{args.name}'")
        else:
            entry = set_enabled(args.name, args.action == "enable")
            print(f"Edit '{entry.name}' is now {'enabled' if entry.enabled else 'disabled'}")
        return 0
    entries = list_edits()
    if args.json:
        print(json.dumps([e.as_dict() for e in entries], indent=2, ensure_ascii=False))
        return 0
    if not entries:
        print("No edits yet. Make one: talab edit --prompt TEXT --subject TEXT --target TEXT --name NAME")
        return 0
    for e in entries:
        state = "enabled " if e.enabled else "disabled"
        print(f"{e.persona_id:24} {state}  layer {e.layer}  '{e.prompt}' → '{e.target}'  ({e.created})")
    return 0
