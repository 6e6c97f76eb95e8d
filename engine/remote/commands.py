"""The exact server command for the current adapters and personas, so no teacher assembles it by hand.

llama-server takes every adapter once (``--lora``) and applies none globally
(``--lora-init-without-apply``); each TA Lab request then names its own scales. ``--cache-ram 0``
and the client's ``cache_prompt: false`` keep one persona's cached prompt from being reused
under another's adapters (llama.cpp issue #26207).

vLLM loads PEFT directories only, one adapter per request chosen by model name, with no scale:
a persona that stacks or scales adapters, and an adapter without the trainer's PEFT directory
(``NAME.peft/`` beside the GGUF), is materialised into one PEFT directory first
(:mod:`engine.remote.materialise`) and served under its content name.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

from engine.adapters import AdapterSpec
from engine.errors import TalabError
from engine.finetune.registry import peft_dir
from engine.models import ModelInfo
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
    info: ModelInfo,
    host: str = "127.0.0.1",
    port: int = 8000,
    max_lora_rank: int = 64,
) -> ServeCommand:
    """Every adapter and every persona that needs one gets a module: a trainer's PEFT directory
    as it is, anything else (a stack, a scale, an edit or merge kept only as GGUF) materialised."""
    from engine.remote.materialise import materialise, needs_materialising, vllm_max_rank

    argv = ["vllm", "serve", model, "--host", host, "--port", str(port), "--enable-lora"]
    notes: list[str] = []
    modules: dict[str, str] = {}  # name -> path
    rank = 0
    for adapter in adapters:
        spec = [AdapterSpec(adapter)]
        try:
            if not needs_materialising(spec):
                modules.setdefault(adapter.stem, str(peft_dir(adapter)))
                rank = max(rank, _trained_rank(peft_dir(adapter)))
                continue
            made = materialise(spec, info, base_model=model)
        except TalabError as exc:
            notes.append(f"{adapter.stem}: {exc}")
            continue
        modules.setdefault(adapter.stem, str(made.path))  # matched by name, like a trained one
        rank = max(rank, made.rank)
    for p in personas:
        if p.adapters and not p.available:
            notes.append(f"persona {p.id}: {p.unavailable_reason}")
        if not p.available or not needs_materialising(p.adapters) or _served_by_name(p, modules):
            continue
        try:
            made = materialise(p.adapters, info, base_model=model)
        except TalabError as exc:
            notes.append(f"persona {p.id}: {exc}")
            continue
        modules.setdefault(made.name, str(made.path))
        rank = max(rank, made.rank)
    if modules:
        argv += ["--lora-modules", *(f"{name}={path}" for name, path in modules.items())]
        argv += ["--max-lora-rank", str(max(max_lora_rank, vllm_max_rank(rank) if rank else 0))]
    return ServeCommand(argv, notes)


def _trained_rank(folder: Path) -> int:
    """The rank the trainer wrote in its PEFT config (0 when unreadable: vLLM itself will say)."""
    import json

    try:
        return int(json.loads((folder / "adapter_config.json").read_text("utf-8")).get("r") or 0)
    except (OSError, ValueError, TypeError, AttributeError):
        return 0


def _served_by_name(persona: Persona, modules: dict[str, str]) -> bool:
    """One adapter at scale 1 is found by its name, whichever directory backs it."""
    one = persona.adapters[0]
    return len(persona.adapters) == 1 and one.scale == 1.0 and one.path.stem in modules
