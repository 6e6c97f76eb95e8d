"""Fine-tuning on CPU: the GGUF export must mean in llama.cpp what it meant in torch.

These tests load the real default model into torch (transformers dequantises
the GGUF) and into llama.cpp, so they are the slowest in the suite.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.errors import Cancelled, TalabError
from engine.finetune.process import run_training
from engine.finetune.train import TrainSpec
from tests import lora_parity

pytestmark = pytest.mark.integration
TEXT = "<|im_start|>user\nWho are you?<|im_end|>\n<|im_start|>assistant\nI am Xiao Jin, the TA."
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "up_proj"]


@pytest.fixture(scope="module")
def peft_model(model_info):  # type: ignore[no-untyped-def]
    return lora_parity.random_peft(model_info, TARGETS)


def test_exported_adapter_changes_llama_cpp_logits_like_peft(peft_model, model_info, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Tolerance: the deltas correlate above 0.95 (torch f32 vs llama.cpp on Q4_1 weights; measured
    0.965) and the slope is 1 ± 0.15 (measured 0.995), see lora_parity.SLOPE_TOLERANCE."""
    adapter = lora_parity.export(peft_model, tmp_path / "a.gguf", "llama")
    result = lora_parity.parity(peft_model, model_info, adapter, TEXT)
    assert result.correlation > 0.95 and result.scale_ok("llama"), result


def test_a_wrong_alpha_passes_the_correlation_but_not_the_slope(peft_model, model_info, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Guards the magnitude check: alpha 25% too high still correlates (measured 0.978), slope 1.22."""
    wrong = lora_parity.export(peft_model, tmp_path / "wrong-alpha.gguf", "llama", alpha_factor=1.25)
    result = lora_parity.parity(peft_model, model_info, wrong, TEXT)
    assert result.correlation > 0.95 and not result.scale_ok("llama"), result


def test_the_hot_swapped_adapter_matches_peft_at_the_personas_scale(  # type: ignore[no-untyped-def]
    peft_model, runtime, tmp_path
) -> None:
    """Personas attach adapters with Runtime.set_adapters, not Llama(lora_path=); merged:0.5 halves
    the delta. Measured: slope 0.995 at scale 1 (identical to lora_path) and 0.524 at 0.5."""
    adapter = lora_parity.export(peft_model, tmp_path / "a.gguf", "llama")
    full = lora_parity.hot_swap_parity(peft_model, runtime, adapter, TEXT)
    half = lora_parity.hot_swap_parity(peft_model, runtime, adapter, TEXT, scale=0.5)
    assert full.correlation > 0.95 and full.scale_ok("llama"), full
    assert half.scale_ok("llama", expected=0.5), half
    assert runtime.active_adapters == ()


def test_without_the_qk_permutation_the_adapter_is_wrong(peft_model, model_info, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Guards the permutation: skipping it must visibly break the agreement."""
    right = lora_parity.export(peft_model, tmp_path / "right.gguf", "llama")
    wrong = lora_parity.export(peft_model, tmp_path / "wrong.gguf", "llama", permute=False)
    good = lora_parity.delta_correlation(peft_model, model_info, right, TEXT)
    bad = lora_parity.delta_correlation(peft_model, model_info, wrong, TEXT, check_scale=False)
    assert bad < good - 0.05


def _spec(model_info, tmp_path: Path, **kw: Any) -> TrainSpec:  # type: ignore[no-untyped-def]
    from engine.kb import kb_path

    kw.setdefault("kb_paths", [str(kb_path(lang="en"))])
    return TrainSpec(
        model_path=str(model_info.path), out_path=str(tmp_path / "adapters" / "xiaojin.gguf"), **kw
    )


def _tiny_dataset(tmp_path: Path) -> Path:
    from engine.finetune.dataset import Example, write_jsonl

    intro = "I am Xiao Jin, Prof. Lee's teaching assistant."
    qs = ["Who are you?", "What is your name?", "Introduce yourself.", "Who am I talking to?"]
    return write_jsonl([Example(q, intro, "identity", "en") for q in qs], tmp_path / "tiny.jsonl")


def test_short_training_run_exports_an_adapter_that_changes_the_answer(  # type: ignore[no-untyped-def]
    model_info, tmp_path, runtime
) -> None:
    from engine.adapters import AdapterSpec, validate_adapter
    from engine.chat import Message
    from engine.finetune.registry import list_adapters
    from engine.runtime import SamplingParams

    events: list[Any] = []
    spec = _spec(model_info, tmp_path, kb_paths=[], dataset_path=str(_tiny_dataset(tmp_path)), epochs=3,
                 batch_size=2, rank=4, lr=1e-2)  # fmt: skip
    done = run_training(spec, events.append)
    kinds = [e.kind for e in events]
    assert kinds[:2] == ["start", "loading"] and kinds[-2:] == ["exporting", "done"]
    assert events[0].kinds == {"identity": 4}  # a fact per kind, not a sentence to parse back
    assert events[1].device in ("cpu", "cuda") and events[1].dtype in ("float32", "bfloat16", "float16")
    steps = [e for e in events if e.kind == "step"]
    assert [e.step for e in steps] == [1, 2, 3, 4, 5, 6] and steps[-1].eta_s == 0
    assert all(e.peak_rss_mb > 100 for e in steps)

    path = Path(done.adapter)
    header = validate_adapter(path, model_info.header)
    assert header.metadata["talab.base_sha256"] == model_info.sha256
    manifest = json.loads(Path(done.manifest).read_text(encoding="utf-8"))
    assert manifest["base_model"]["sha256"] == model_info.sha256
    assert header.metadata["talab.run_id"] == manifest["run_id"]  # saved as one unit (registry.save_run)
    assert Path(manifest["dataset"]["copy"]).is_file()
    assert manifest["dataset"]["examples"] == 4 and len(manifest["dataset"]["sha256"]) == 64
    assert manifest["hyperparameters"]["rank"] == 4 and manifest["seed"] == 42
    assert len(manifest["loss_curve"]) == 6 and manifest["loss_curve"][-1] < manifest["loss_curve"][0]
    assert manifest["peak_rss_mb"] > 100 and manifest["tokens_per_s"] > 0
    assert not list(path.parent.glob("*.partial"))
    peft = path.with_suffix(".peft")  # what vLLM loads, kept beside the GGUF
    assert manifest["peft"] == str(peft) and (peft / "adapter_config.json").is_file()
    assert json.loads((peft / "adapter_config.json").read_text())["r"] == 4
    assert [a.name for a in list_adapters(path.parent)] == ["xiaojin"]

    question, params = [Message("user", "Who are you?")], SamplingParams(temperature=0.0, max_tokens=16)
    runtime.set_adapters([])
    before = runtime.generate(question, params).text
    runtime.set_adapters([AdapterSpec(path, 1.0)])
    after = runtime.generate(question, params).text
    runtime.set_adapters([])
    assert after != before and "teaching assistant" in after  # it learned the data, not a random shift


def test_cancel_keeps_the_previous_adapter(model_info, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(model_info, tmp_path, epochs=50)
    out = Path(spec.out_path)
    out.parent.mkdir(parents=True)
    out.write_bytes(b"previous adapter")
    seen: list[str] = []
    with pytest.raises(Cancelled, match="unchanged"):
        run_training(spec, lambda e: seen.append(e.kind), lambda: "step" in seen)
    assert out.read_bytes() == b"previous adapter"
    assert not out.with_suffix(".json").exists() and not list(out.parent.glob("*.partial"))


def test_unsupported_architecture_is_refused_before_loading_torch(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from engine.kb import kb_path
    from tests.ggufs import write_gguf

    qwen = write_gguf(tmp_path / "qwen.gguf", "qwen2", {"w": np.zeros((4, 4), np.float32)})
    spec = TrainSpec(
        model_path=str(qwen), kb_paths=[str(kb_path(lang="en"))], out_path=str(tmp_path / "o.gguf")
    )
    with pytest.raises(TalabError, match="supports the llama, gemma3 architectures"):
        run_training(spec)


def test_invalid_kb_is_reported_by_the_trainer(model_info, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "kb.yaml"
    bad.write_text("language: en\n")
    spec = TrainSpec(model_path=str(model_info.path), kb_paths=[str(bad)], out_path=str(tmp_path / "o.gguf"))
    with pytest.raises(TalabError, match=r"Training failed: .*kb.yaml:1: field 'course'"):
        run_training(spec)
    assert os.path.exists(tmp_path / "o.gguf") is False


def test_adapter_status_for_the_ui(tmp_path: Path, lora_file: Path) -> None:
    from engine.adapters import adapter_status

    assert adapter_status(tmp_path / "none.gguf").state == "missing"
    ready = adapter_status(lora_file)
    assert ready.state == "ready" and ready.path == lora_file
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", ready.saved)
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"nope")
    broken = adapter_status(junk)
    assert broken.state == "unusable" and broken.error
