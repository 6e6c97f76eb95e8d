"""``talab serve``, ``talab export-runs`` and ``talab import``: the lab-server and class-pooling commands."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from engine.errors import TalabError


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    serve = sub.add_parser(
        "serve", parents=[common], help="print (or start) the server command for the current adapters"
    )
    serve.add_argument("--engine", choices=["llama", "vllm"], default="llama")
    serve.add_argument("--start", action="store_true", help="run the command instead of printing it")
    serve.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to serve the whole class")
    serve.add_argument("--port", type=int, help="default 8080 (llama) or 8000 (vllm)")
    serve.add_argument("--parallel", type=int, default=4, help="llama-server slots (concurrent students)")
    serve.add_argument(
        "--vllm-model",
        help="the Hugging Face model (id or directory) the adapters were trained from (vLLM only)",
    )
    serve.add_argument(
        "--personas",
        help="also serve these persona ids, comma-separated: merged:0.3,stack:a+b*-0.5 (vLLM only)",
    )
    exp = sub.add_parser("export-runs", help="write whole runs (answers + manifests) for pooling")
    exp.add_argument("run_ids", type=int, nargs="*", help="default: every run")
    exp.add_argument("--output", "-o", type=Path, required=True)
    imp = sub.add_parser("import", help="add exported runs to this database (once each)")
    imp.add_argument("files", type=Path, nargs="+")


def _personas(args: argparse.Namespace) -> list[Any]:
    from engine.kb import load_kb
    from engine.personas import load_personas, select

    defined = load_personas(load_kb(args.kb, lang=args.lang), args.personas_file)
    extra = select(defined, [p.strip() for p in args.personas.split(",")]) if args.personas else []
    return [*defined.values(), *extra]


def serve_command(args: argparse.Namespace) -> int:
    from engine.finetune.registry import list_adapters
    from engine.models import load_model_info
    from engine.remote.commands import llama_server_command, served_adapters, vllm_command

    personas = _personas(args)
    adapters = served_adapters([e.path for e in list_adapters()], personas)
    if args.engine == "vllm":
        info = load_model_info(args.model)  # the adapters' base: materialising checks them against it
        model = args.vllm_model or str(info.path)
        cmd = vllm_command(model, adapters, personas, info=info, host=args.host, port=args.port or 8000)
    else:
        info = load_model_info(args.model)
        binary = shutil.which("llama-server")
        cmd = llama_server_command(
            info.path, adapters, host=args.host, port=args.port or 8080, n_ctx=args.n_ctx,
            parallel=args.parallel, threads=args.threads,
        )  # fmt: skip
        if args.start and binary is None:  # llama.cpp's own server from the xllamacpp wheel
            cmd.argv = [sys.executable, "-m", "engine.remote.embedded", *cmd.argv[1:]]
    for note in cmd.notes:
        print(f"# not served: {note}", file=sys.stderr)
    if not args.start:
        print(cmd.line)
        return 0
    if args.engine == "vllm" and shutil.which("vllm") is None:
        raise TalabError("vllm is not installed here; run the printed command on the GPU machine")
    print(f"starting: {cmd.line}", file=sys.stderr, flush=True)
    try:
        return subprocess.call(cmd.argv)
    except KeyboardInterrupt:
        return 0


def export_runs_command(args: argparse.Namespace) -> int:
    from engine.pool import export_runs
    from engine.store import open_store

    n = export_runs(open_store(), args.run_ids, args.output)
    print(f"{n} run{'s' if n != 1 else ''} written to {args.output}")
    return 0


def import_command(args: argparse.Namespace) -> int:
    from engine.pool import import_runs
    from engine.store import open_store

    store = open_store()
    for file in args.files:
        result = import_runs(store, file)
        ids = ", ".join(map(str, result.imported)) or "none"
        print(f"{file}: {len(result.imported)} run(s) imported (ids {ids}), {result.skipped} already here")
    return 0


COMMANDS = {"serve": serve_command, "export-runs": export_runs_command, "import": import_command}
