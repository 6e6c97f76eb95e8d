"""`talab serve` prints the exact server command for the adapters and personas there are."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from engine.cli import main
from engine.paths import adapters_dir


@pytest.fixture()
def registered(lora_file: Path, second_lora: Path) -> list[Path]:
    folder = adapters_dir()
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, src in (("xiaojin", lora_file), ("other", second_lora)):
        dst = folder / f"{name}.gguf"
        dst.write_bytes(src.read_bytes())
        out.append(dst)
    return out


def test_llama_server_command_names_every_adapter_unapplied_and_no_prompt_cache(  # type: ignore[no-untyped-def]
    registered: list[Path], model_info, capsys
) -> None:
    assert main(["serve", "--port", "9090", "--parallel", "3", "--n-ctx", "2048"]) == 0
    argv = shlex.split(capsys.readouterr().out)
    assert argv[:3] == ["llama-server", "-m", str(model_info.path)]
    loras = [argv[i + 1] for i, a in enumerate(argv) if a == "--lora"]
    assert sorted(Path(p).name for p in loras) == ["other.gguf", "xiaojin.gguf"]
    assert "--lora-init-without-apply" in argv and argv[argv.index("--cache-ram") + 1] == "0"
    assert argv[argv.index("-c") + 1] == "6144" and argv[argv.index("-np") + 1] == "3"  # 2048 per slot
    assert argv[argv.index("--port") + 1] == "9090"


def test_start_without_llama_server_runs_llama_cpp_from_the_wheel(  # type: ignore[no-untyped-def]
    registered: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import engine.cli.serve as cli_serve

    ran: list[list[str]] = []
    monkeypatch.setattr(cli_serve.shutil, "which", lambda name: None)
    monkeypatch.setattr(cli_serve.subprocess, "call", lambda argv: ran.append(argv) or 0)
    assert main(["serve", "--start"]) == 0
    assert ran[0][1:3] == ["-m", "engine.remote.embedded"] and "--lora-init-without-apply" in ran[0]
    from engine.remote.embedded import parser

    parsed = parser().parse_args(ran[0][3:])  # the wheel's launcher takes exactly these flags
    assert len(parsed.lora) == 2 and parsed.cache_ram == 0 and parsed.lora_init_without_apply


def test_vllm_command_serves_peft_directories_and_materialises_the_rest(  # type: ignore[no-untyped-def]
    registered: list[Path], capsys
) -> None:
    (registered[0].with_suffix(".peft")).mkdir()
    assert main(["serve", "--engine", "vllm", "--vllm-model", "HuggingFaceTB/SmolLM2-135M-Instruct"]) == 0
    out, err = capsys.readouterr()
    argv = shlex.split(out)
    assert argv[:3] == ["vllm", "serve", "HuggingFaceTB/SmolLM2-135M-Instruct"] and "--enable-lora" in argv
    listed = argv[argv.index("--lora-modules") + 1 : argv.index("--max-lora-rank")]
    modules = dict(m.split("=", 1) for m in listed)
    assert len(listed) == len(modules) == 3
    assert modules.pop("xiaojin") == str(registered[0].with_suffix(".peft"))
    assert Path(modules.pop("other"), "adapter_config.json").is_file()  # no PEFT directory: materialised
    [(merged, path)] = modules.items()  # the built-in Merged: xiaojin at 0.5
    assert merged.startswith("talab-") and Path(path).name == merged
    assert err == ""
