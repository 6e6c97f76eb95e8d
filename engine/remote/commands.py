"""The exact server command for the current adapters and personas, so no teacher assembles it by hand.

llama-server takes every adapter once (``--lora``) and applies none globally
(``--lora-init-without-apply``); each TA Lab request then names its own scales. ``--cache-ram 0``
and the client's ``cache_prompt: false`` keep one persona's cached prompt from being reused
under another's adapters (llama.cpp issue #26207).

vLLM loads PEFT directories only, one adapter per request chosen by model name, with no scale:
a persona that stacks or scales adapters cannot be served until it is materialised into one
adapter, and an adapter without its PEFT directory (``NAME.peft/`` beside the GGUF) is skipped.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

from engine.finetune.registry import peft_dir
from engine.personas import Persona


@dataclass
class ServeCommand:
    argv: list[str]
    notes: list[str] = field(default_factory=list)  # what could not be included, and why

    @property
    def line(self) -> str:
        return shlex.join(self.argv)


def served_adapters(registered: list[Path], personas: list[Persona]) -> list[Path]:
    """Registered adapters plus any a persona names by path, each once, in a stable order."""
    seen: dict[str, Path] = {}
    for path in [*registered, *(a.path for p in personas if p.available for a in p.adapters)]:
        resolved = Path(path).resolve()
        if resolved.is_file():
            seen.setdefault(str(resolved), resolved)
    return list(seen.values())


def llama_server_command(
    model: Path,
    adapters: list[Path],
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    n_ctx: int = 4096,
    parallel: int = 4,
    threads: int | None = None,
    binary: str = "llama-server",
) -> ServeCommand:
    argv = [binary, "-m", str(model)]
    for adapter in adapters:
        argv += ["--lora", str(adapter)]
    argv += ["--lora-init-without-apply", "--cache-ram", "0"]
    # -c is the total that llama-server splits over its -np slots: every student gets n_ctx
    argv += ["--host", host, "--port", str(port), "-c", str(n_ctx * parallel), "-np", str(parallel)]
    if threads:
        argv += ["--threads", str(threads)]
    return ServeCommand(argv)


def vllm_command(
    model: str,
    adapters: list[Path],
    personas: list[Persona],
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    max_lora_rank: int = 64,
) -> ServeCommand:
    argv = ["vllm", "serve", model, "--host", host, "--port", str(port), "--enable-lora"]
    notes: list[str] = []
    modules = []
    for adapter in adapters:
        peft = peft_dir(adapter)
        if peft.is_dir():
            modules.append(f"{adapter.stem}={peft}")
        else:
            notes.append(
                f"{adapter.stem}: no PEFT directory {peft.name} beside it; train it again to serve it"
            )
    if modules:
        argv += ["--lora-modules", *modules, "--max-lora-rank", str(max_lora_rank)]
    for p in personas:
        if p.available and not vllm_servable(p):
            notes.append(f"persona {p.id}: {vllm_refusal(p)}")
    return ServeCommand(argv, notes)


def vllm_servable(persona: Persona) -> bool:
    return len(persona.adapters) == 0 or (len(persona.adapters) == 1 and persona.adapters[0].scale == 1.0)


def vllm_refusal(persona: Persona) -> str:
    what = (
        f"stacks {len(persona.adapters)} adapters"
        if len(persona.adapters) > 1
        else f"scales its adapter to {persona.adapters[0].scale:g}"
    )
    return (
        f"{what}, but vLLM applies one adapter per request at scale 1; "
        "materialise it into one adapter first (an offline merge)"
    )
