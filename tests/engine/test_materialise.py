"""A stacked or scaled persona becomes one PEFT adapter that vLLM (and PEFT) load, exactly."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.adapters import AdapterSpec
from engine.chat import Message
from engine.errors import AdapterError
from engine.paths import adapters_dir
from engine.remote.materialise import MANIFEST, materialise, module_name, unpermute_rows
from tests.stub_http import StubServer

TOKENS = [1, 4093, 314, 260, 1345, 2373, 30, 8263, 1074, 282, 1041, 28, 9433, 30, 2]


def _random_state(model_info: Any, modules: dict[str, str], r: int, seed: int) -> dict[str, np.ndarray]:
    """A PEFT state dict (Hugging Face row order) on every layer, with deltas that move the logits."""
    meta, arch = model_info.header.metadata, model_info.architecture
    shapes = {t.name: t.shape for t in model_info.header.tensors}
    rng = np.random.default_rng(seed)
    state = {}
    for layer in range(int(meta[f"{arch}.block_count"])):
        for module, block in modules.items():
            gguf = {"q_proj": "attn_q", "k_proj": "attn_k", "v_proj": "attn_v", "down_proj": "ffn_down"}
            n_in, n_out = shapes[f"blk.{layer}.{gguf[module]}.weight"][:2]
            key = f"base_model.model.model.layers.{layer}.{block}.{module}"
            state[f"{key}.lora_A.weight"] = rng.normal(0, 0.05, (r, n_in)).astype(np.float32)
            state[f"{key}.lora_B.weight"] = rng.normal(0, 0.05, (n_out, r)).astype(np.float32)
    return state


def _export(model_info: Any, state: dict[str, np.ndarray], path: Path, alpha: float) -> Path:
    """Through the trainer's own GGUF writer (which permutes llama's q/k rows)."""
    from engine.finetune.gguf_lora import write_adapter

    meta, arch = model_info.header.metadata, model_info.architecture
    return write_adapter(path, state, arch=arch, alpha=alpha, n_head=meta[f"{arch}.attention.head_count"],
                         n_head_kv=meta[f"{arch}.attention.head_count_kv"])  # fmt: skip


Term = tuple[dict[str, np.ndarray], float, int, float]  # HF state, persona weight, rank, alpha


@pytest.fixture(scope="module")
def stack(model_info: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Term]]:
    """Two adapters of different rank, alpha and targets (q/k included, so the row order matters)."""
    folder = tmp_path_factory.mktemp("stack")
    one = _random_state(
        model_info, {"q_proj": "self_attn", "k_proj": "self_attn", "v_proj": "self_attn"}, 4, 1
    )
    two = _random_state(model_info, {"q_proj": "self_attn", "down_proj": "mlp"}, 2, 2)
    _export(model_info, one, folder / "one.gguf", alpha=8.0)
    _export(model_info, two, folder / "two.gguf", alpha=16.0)
    return folder, [(one, 1.0, 4, 8.0), (two, -0.7, 2, 16.0)]


def _logits(model: Any) -> np.ndarray:
    import torch

    with torch.no_grad():
        return np.asarray(model(input_ids=torch.tensor([TOKENS])).logits[0].float().numpy())


def test_a_weighted_stack_with_a_negation_is_one_peft_adapter_with_the_same_logits(  # type: ignore[no-untyped-def]
    model_info, stack, tmp_path: Path
) -> None:
    """PEFT loading the materialised directory = the base weights plus Σ sᵢ·(αᵢ/rᵢ)·BᵢAᵢ in torch."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, GgufConfig

    folder, terms = stack
    specs = [AdapterSpec(folder / "one.gguf", 1.0), AdapterSpec(folder / "two.gguf", -0.7)]
    made = materialise(specs, model_info)
    config = json.loads((made.path / "adapter_config.json").read_text())
    assert made.rank == 6 and config["r"] == config["lora_alpha"] == 6  # scales live in B
    assert sorted(config["target_modules"]) == ["down_proj", "k_proj", "q_proj", "v_proj"]
    manifest = json.loads((made.path / MANIFEST).read_text())
    assert [(s["name"], s["scale"]) for s in manifest["sources"]] == [("one", 1.0), ("two", -0.7)]

    torch.set_num_threads(1)
    base = AutoModelForCausalLM.from_pretrained(
        str(model_info.path.parent), gguf_file=model_info.path.name, dtype=torch.float32,
        quantization_config=GgufConfig(dequantize=True),
    )  # fmt: skip
    peft_model = PeftModel.from_pretrained(base, str(made.path))
    peft_model.eval()
    served = _logits(peft_model)
    plain = peft_model.unload()
    before = _logits(plain)
    modules = dict(plain.named_modules())
    with torch.no_grad():
        for state, scale, rank, alpha in terms:
            for key, a in state.items():
                if key.endswith("lora_A.weight"):
                    b = state[key.replace("lora_A", "lora_B")]
                    name = key.removeprefix("base_model.model.").removesuffix(".lora_A.weight")
                    modules[name].weight += torch.from_numpy(scale * alpha / rank * (b @ a))
    expected = _logits(plain)
    moved = float(np.abs(expected - before).max())
    error = float(np.abs(served - expected).max())
    print(f"materialised vs torch stack: max |Δlogit| {error:.2e}, the stack moves logits by {moved:.2f}")
    assert moved > 1.0, f"the stack barely moves the logits ({moved}): the test would prove nothing"
    assert error < 2e-3 * moved, f"materialised adapter is off by {error} (the stack moves logits by {moved})"


def test_the_same_persona_materialises_once_and_another_scale_is_another_module(  # type: ignore[no-untyped-def]
    model_info, lora_file: Path, second_lora: Path
) -> None:
    specs = [AdapterSpec(lora_file, 1.0), AdapterSpec(second_lora, -0.5)]
    first = materialise(specs, model_info)
    written = (first.path / "adapter_model.safetensors").stat().st_mtime_ns
    again = materialise(list(specs), model_info)
    assert again.path == first.path and again.name == module_name(specs) == first.name
    assert (again.path / "adapter_model.safetensors").stat().st_mtime_ns == written
    other = materialise([AdapterSpec(lora_file, 1.0), AdapterSpec(second_lora, -0.25)], model_info)
    assert other.name != first.name and other.path.is_dir()


def _one_line(err: pytest.ExceptionInfo[AdapterError]) -> str:
    text = str(err.value)
    assert "\n" not in text and "Traceback" not in text
    return text


def test_another_base_model_a_missing_and_a_corrupt_adapter_each_get_one_line(  # type: ignore[no-untyped-def]
    model_info, lora_file: Path, tmp_path: Path
) -> None:
    foreign = tmp_path / "foreign.gguf"
    foreign.write_bytes(lora_file.read_bytes())
    foreign.with_suffix(".json").write_text(
        json.dumps({"base_model": {"file": "Llama-7B.gguf", "sha256": "ab" * 32}})
    )
    with pytest.raises(AdapterError) as err:
        materialise([AdapterSpec(lora_file), AdapterSpec(foreign, 0.5)], model_info)
    assert "foreign cannot be materialised for vLLM: foreign.gguf was trained on Llama-7B.gguf" in _one_line(
        err
    )
    with pytest.raises(AdapterError) as err:
        materialise([AdapterSpec(tmp_path / "gone.gguf", 0.5)], model_info)
    assert "gone: file not found" in _one_line(err)
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(lora_file.read_bytes()[:5000])
    with pytest.raises(AdapterError) as err:
        materialise([AdapterSpec(cut, 0.5)], model_info)
    assert "cut cannot be materialised for vLLM: cut.gguf is truncated" in _one_line(err)


def test_unpermute_is_the_inverse_of_the_exporters_permutation() -> None:
    from engine.finetune.gguf_lora import permute_rows

    w = np.arange(64 * 3, dtype=np.float32).reshape(64, 3)
    assert np.array_equal(unpermute_rows(permute_rows(w, 4), 4), w)
    assert not np.array_equal(permute_rows(w, 4), w)


def _register(src: Path, name: str) -> Path:
    folder = adapters_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.gguf").write_bytes(src.read_bytes())
    return folder / f"{name}.gguf"


def test_serve_vllm_names_a_module_for_every_persona_that_needs_one(  # type: ignore[no-untyped-def]
    lora_file: Path, second_lora: Path, tmp_path: Path, capsys
) -> None:
    """The built-in Merged (xiaojin at 0.5), a stack with a negation, an adapter with no PEFT directory;
    personas on a corrupt adapter or one trained on another model are named on stderr, one line each,
    and the rest is still served."""
    from engine.cli import main

    xiaojin = _register(lora_file, "xiaojin")
    xiaojin.with_suffix(".peft").mkdir()  # as the trainer keeps it (a rank-96 run: vLLM must allow it)
    (xiaojin.with_suffix(".peft") / "adapter_config.json").write_text(json.dumps({"r": 96}))
    other = _register(second_lora, "other")  # an edit or merge: GGUF only
    (tmp_path / "broken.gguf").write_bytes(b"GGUF\x03\x00")
    foreign = _register(second_lora, "foreign")
    foreign.with_suffix(".json").write_text(
        json.dumps({"base_model": {"file": "Qwen-7B.gguf", "sha256": "cd" * 32}})
    )
    personas = tmp_path / "personas.yaml"
    personas.write_text(
        "personas:\n"
        "  - {id: negated, name: Negated, adapters: [{name: xiaojin}, {name: other, scale: -0.5}]}\n"
        f"  - {{id: broken, name: Broken, adapters: [{{path: {tmp_path / 'broken.gguf'}, scale: 0.5}}]}}\n"
        "  - {id: alien, name: Alien, adapters: [{name: xiaojin}, {name: foreign, scale: 0.5}]}\n"
    )
    extra = "merged:0.3,stack:xiaojin+other*-0.25"  # asked for by id, as `talab ask --personas` takes them
    assert main(["serve", "--engine", "vllm", "--personas-file", str(personas), "--personas", extra]) == 0
    out, err = capsys.readouterr()
    argv = shlex.split(out)
    modules = dict(
        m.split("=", 1) for m in argv[argv.index("--lora-modules") + 1 : argv.index("--max-lora-rank")]
    )
    assert modules.pop("xiaojin") == str(xiaojin.with_suffix(".peft"))
    assert Path(modules.pop("other")).joinpath("adapter_model.safetensors").is_file()
    merged = module_name([AdapterSpec(xiaojin, 0.5)])
    negated = module_name([AdapterSpec(xiaojin), AdapterSpec(other, -0.5)])
    asked = [
        module_name([AdapterSpec(xiaojin, 0.3)]),
        module_name([AdapterSpec(xiaojin), AdapterSpec(other, -0.25)]),
    ]
    assert sorted(modules) == sorted([merged, negated, *asked])
    assert all(
        Path(p).name == name and Path(p, "adapter_config.json").is_file() for name, p in modules.items()
    )
    assert argv[argv.index("--max-lora-rank") + 1] == "128"
    lines = err.splitlines()
    assert len(lines) == 3 and all(line.startswith("# not served: ") for line in lines), err
    assert (
        "foreign: Adapter foreign cannot be materialised for vLLM: foreign.gguf was trained on Qwen-7B" in err
    )
    assert "persona alien: Adapter foreign cannot be materialised" in err
    assert "persona broken: adapter " in err and "broken.gguf is truncated" in err


def test_the_vllm_request_names_the_materialised_module(lora_file: Path, second_lora: Path) -> None:
    """The server's paths are another machine's: the module is found by its content name."""
    from engine.remote import connect
    from engine.runtime import SamplingParams
    from tests.engine.test_remote_errors import BASE, _vllm_routes

    one, two = _register(lora_file, "one"), _register(second_lora, "two")
    stacked = [AdapterSpec(one), AdapterSpec(two, -0.5)]
    name = module_name(stacked)
    routes = _vllm_routes(Path("/srv/lab/adapters"))
    models = routes["GET /v1/models"][1]
    models["data"].append(
        {"id": name, "object": "model", "root": f"/srv/lab/vllm-adapters/{name}", "parent": BASE}
    )  # type: ignore[index]
    with StubServer(routes) as stub:
        rt = connect(stub.url, engine="vllm")
        rt.set_adapters(stacked)
        rt.generate([Message("user", "Who are you?")], SamplingParams(max_tokens=4))
        assert stub.requests[-1][2]["model"] == name
        with pytest.raises(AdapterError, match=r"no LoRA module for one \(expected one\)"):
            rt.set_adapters([AdapterSpec(one)])
        with pytest.raises(AdapterError) as err:
            rt.set_adapters([AdapterSpec(one, 0.5)])
        line = _one_line(err)
        assert f"no LoRA module for 0.5·one (expected {module_name([AdapterSpec(one, 0.5)])})" in line
        assert f"it serves: ta-finetuned, {name}" in line and "talab serve --engine vllm" in line
        with pytest.raises(AdapterError, match="no LoRA module for gone; it serves"):
            rt.set_adapters([AdapterSpec(one.with_name("gone.gguf"))])
