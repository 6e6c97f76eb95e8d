"""llama.cpp's own server, started from the ``xllamacpp`` wheel where no ``llama-server`` binary exists.

``python -m engine.remote.embedded`` takes the llama-server flags that ``talab serve`` prints
(``-m``, ``--lora``, ``--lora-init-without-apply``, ``--cache-ram``, ``--host``, ``--port``,
``--threads``, ``-c``, ``--parallel``), starts the same C++ server in this process, prints one
line ``listening URL`` and serves until it is terminated. The tests use it to run a real
llama.cpp server on 127.0.0.1 without compiling llama.cpp.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from engine.errors import ServerError


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m engine.remote.embedded")
    p.add_argument("-m", "--model", required=True)
    p.add_argument("--lora", action="append", default=[])
    p.add_argument("--lora-init-without-apply", action="store_true")
    p.add_argument("--cache-ram", type=int, default=0, help="MiB of prompt cache (0: none; #26207)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    p.add_argument("-t", "--threads", type=int, default=1)
    p.add_argument("-c", "--ctx-size", type=int, default=2048)
    p.add_argument("-np", "--parallel", type=int, default=1)
    p.add_argument("-a", "--alias", default="")
    return p


def start(args: argparse.Namespace) -> Any:
    try:
        import xllamacpp as xlc
    except ImportError:
        raise ServerError(
            "Neither llama-server nor the xllamacpp package is installed; install llama.cpp "
            "(it provides llama-server) or pip install xllamacpp"
        ) from None
    params = xlc.CommonParams()
    params.model.path = args.model
    params.n_ctx = args.ctx_size  # the total, as in llama-server: each of the --parallel slots gets a share
    params.n_parallel = args.parallel
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.hostnames = [args.host]
    params.port = args.port
    params.endpoint_props = True
    params.cache_ram_mib = args.cache_ram
    params.warmup = False
    if args.alias:
        params.model_alias = [args.alias] if isinstance(params.model_alias, list) else args.alias
    params.lora_adapters = [xlc.CommonAdapterLoraInfo(path, 0.0 if args.lora_init_without_apply else 1.0)
                            for path in args.lora]  # fmt: skip
    params.lora_init_without_apply = args.lora_init_without_apply
    return xlc.Server(params)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        server = start(args)
    except ServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"listening {server.listening_address}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    del server
    return 0


if __name__ == "__main__":
    sys.exit(main())
