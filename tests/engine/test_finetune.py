"""Fine-tuning on CPU: the GGUF export must mean in llama.cpp what it meant in torch.

These tests load the real default model into torch (transformers dequantises
the GGUF) and into llama.cpp, so they are the slowest in the suite.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.errors import Cancelled, TalabError
from engine.finetune.jobs import run_training
from engine.finetune.train import TrainSpec

pytestmark = pytest.mark.integration
TEXT = "<|im_start|>user\nWho are you?<|im_end|>\n<|im_start|>assistant\nI am Xiao Jin, the TA."


@pytest.fixture(scope="module")
def peft_model(model_info):  # type: ignore[no-untyped-def]
    """A PEFT LoRA with small random weights on every projection (not trained: any values do)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(model_info.path.parent), model_info.path.name
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    cfg = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "up_proj"])
    pm = get_peft_model(model, cfg)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for pname, param in pm.named_parameters():
            if "lora_" in pname:
                param.copy_(torch.randn(param.shape, generator=gen) * 0.05)
    pm.eval()
    return tok, pm


def _torch_logits(tok: Any, pm: Any, adapter: bool) -> np.ndarray:
    import torch

    ids = tok(TEXT, add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        if adapter:
            out = pm(input_ids=ids).logits
        else:
            with pm.disable_adapter():
                out = pm(input_ids=ids).logits
    return out[0].numpy()


def _llama_logits(model_path: Path, lora: Path | None) -> np.ndarray:
    from llama_cpp import Llama

    llm = Llama(model_path=str(model_path), n_ctx=256, logits_all=True, verbose=False,
                lora_path=str(lora) if lora else None)  # fmt: skip
    tokens = llm.tokenize(TEXT.encode(), add_bos=False, special=True)
    llm.eval(tokens)
    scores = np.array(llm.scores[: len(tokens)])
    llm.close()
    return scores


def _export(pm: Any, path: Path, permute: bool) -> Path:
    from peft import get_peft_model_state_dict

    from engine.finetune import gguf_lora

    state = {k: v.detach().numpy() for k, v in get_peft_model_state_dict(pm).items()}
    arch = "llama" if permute else "no-permute"
    tensors = gguf_lora.gguf_tensors(state, arch=arch, n_head=9, n_head_kv=3)
    from tests.ggufs import write_gguf

    return write_gguf(path, "llama", tensors, general_type="adapter",
                      kv={"adapter.type": "lora", "adapter.lora.alpha": 8.0})  # fmt: skip


def _delta_correlation(peft_model, model_info, tmp_path: Path, permute: bool) -> float:  # type: ignore[no-untyped-def]
    tok, pm = peft_model
    torch_delta = _torch_logits(tok, pm, True) - _torch_logits(tok, pm, False)
    lora = _export(pm, tmp_path / f"a-{permute}.gguf", permute)
    llama_delta = _llama_logits(model_info.path, lora) - _llama_logits(model_info.path, None)
    assert torch_delta.shape == llama_delta.shape
    return float(np.corrcoef(torch_delta.ravel(), llama_delta.ravel())[0, 1])


def test_exported_adapter_changes_llama_cpp_logits_like_peft(peft_model, model_info, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The logit change an adapter causes agrees between torch (f32) and llama.cpp (Q4_1)."""
    assert _delta_correlation(peft_model, model_info, tmp_path, permute=True) > 0.95


def test_without_the_qk_permutation_the_adapter_is_wrong(peft_model, model_info, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Guards the permutation: skipping it must visibly break the agreement."""
    right = _delta_correlation(peft_model, model_info, tmp_path, permute=True)
    wrong = _delta_correlation(peft_model, model_info, tmp_path, permute=False)
    assert wrong < right - 0.05


def _spec(model_info, tmp_path: Path, **kw: Any) -> TrainSpec:  # type: ignore[no-untyped-def]
    from engine.kb import kb_path

    return TrainSpec(model_path=str(model_info.path), kb_path=str(kb_path(lang="en")),
                     out_path=str(tmp_path / "adapters" / "xiaojin.gguf"), **kw)  # fmt: skip


def test_training_subprocess_reports_progress_and_writes_a_loadable_adapter(  # type: ignore[no-untyped-def]
    model_info, tmp_path, runtime
) -> None:
    events: list[dict[str, Any]] = []
    done = run_training(_spec(model_info, tmp_path, steps=2, rank=4), events.append)
    kinds = [e["event"] for e in events]
    assert kinds[:2] == ["start", "loading"] and kinds[-2:] == ["exporting", "done"]
    assert [e["step"] for e in events if e["event"] == "step"] == [1, 2]
    path = Path(done["adapter"])
    from engine.adapters import AdapterSpec, validate_adapter
    from engine.gguf_file import read_header

    header = validate_adapter(path, model_info.header)
    assert header.metadata["talab.steps"] == "2"
    assert header.metadata["talab.base_sha256"] == model_info.sha256
    runtime.set_adapters([AdapterSpec(path, 1.0)])  # llama.cpp accepts it
    runtime.set_adapters([])
    assert not list(path.parent.glob("*.partial"))
    assert read_header(path).file_type == "adapter"


def test_cancel_keeps_the_previous_adapter(model_info, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(model_info, tmp_path, steps=50)
    out = Path(spec.out_path)
    out.parent.mkdir(parents=True)
    out.write_bytes(b"previous adapter")
    seen: list[str] = []
    with pytest.raises(Cancelled, match="unchanged"):
        run_training(spec, lambda e: seen.append(e["event"]), lambda: "loading" in seen)
    assert out.read_bytes() == b"previous adapter"


def test_unsupported_architecture_is_refused_before_loading_torch(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from engine.kb import kb_path
    from tests.ggufs import write_gguf

    qwen = write_gguf(tmp_path / "qwen.gguf", "qwen2", {"w": np.zeros((4, 4), np.float32)})
    spec = TrainSpec(model_path=str(qwen), kb_path=str(kb_path(lang="en")), out_path=str(tmp_path / "o.gguf"))
    with pytest.raises(TalabError, match="supports the llama architecture for now"):
        run_training(spec)


def test_invalid_kb_is_reported_by_the_trainer(model_info, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "kb.yaml"
    bad.write_text("language: en\n")
    spec = TrainSpec(model_path=str(model_info.path), kb_path=str(bad), out_path=str(tmp_path / "o.gguf"))
    with pytest.raises(TalabError, match=r"Training failed: .*kb.yaml:1: field 'course'"):
        run_training(spec)
    assert os.path.exists(tmp_path / "o.gguf") is False


def test_adapter_description_for_the_ui(tmp_path: Path, lora_file: Path) -> None:
    from engine.adapters import describe_adapter

    assert "No adapter at" in describe_adapter(tmp_path / "none.gguf")
    assert describe_adapter(lora_file).startswith(f"Current adapter: {lora_file} (saved ")
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"nope")
    assert "unusable" in describe_adapter(junk)
