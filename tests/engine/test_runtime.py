"""The in-process runtime on the real default model (small max_tokens throughout)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.adapters import AdapterSpec
from engine.chat import ChatRenderer, Message
from engine.errors import AdapterError, ContextOverflowError
from engine.runtime import SamplingParams, physical_cores
from tests.ggufs import write_gguf, write_lora

pytestmark = pytest.mark.integration
SHORT = SamplingParams(max_tokens=16)
WHO = [Message("system", "You are Xiao Jin, the course TA."), Message("user", "Who are you?")]


def test_threads_default_to_physical_cores(runtime) -> None:  # type: ignore[no-untyped-def]
    assert runtime.n_threads == physical_cores() >= 1


def test_streams_tokens_that_add_up_to_the_answer(runtime) -> None:  # type: ignore[no-untyped-def]
    pieces: list[str] = []
    gen = runtime.generate(WHO, SHORT, on_token=pieces.append)
    assert len(pieces) > 3
    assert "".join(pieces).strip() == gen.text
    assert gen.completion_tokens <= 16
    assert gen.prompt_tokens > 10 and gen.tokens_per_s > 0 and gen.ttft_s > 0


def test_uses_the_gguf_chat_template(runtime) -> None:  # type: ignore[no-untyped-def]
    gen = runtime.generate(WHO, SamplingParams(max_tokens=2))
    assert gen.prompt.startswith("<|im_start|>system\nYou are Xiao Jin")
    assert gen.prompt.endswith("<|im_start|>assistant\n")


def test_cancel_between_tokens(runtime) -> None:  # type: ignore[no-untyped-def]
    seen: list[str] = []
    gen = runtime.generate(
        WHO, SamplingParams(max_tokens=64), on_token=seen.append, should_cancel=lambda: len(seen) >= 3
    )
    assert gen.finish_reason == "cancelled"
    assert gen.completion_tokens == 3


def test_greedy_answers_repeat_exactly_across_calls(runtime) -> None:  # type: ignore[no-untyped-def]
    runtime.set_adapters([])
    first = runtime.generate(WHO, SamplingParams(max_tokens=24)).text
    runtime.generate([WHO[0], Message("user", "Who is the US president?")], SHORT)
    again = runtime.generate(WHO, SamplingParams(max_tokens=24)).text
    assert first == again


def test_seeded_sampling_is_reproducible(runtime) -> None:  # type: ignore[no-untyped-def]
    hot = SamplingParams(temperature=1.2, max_tokens=20, seed=7)
    a = runtime.generate(WHO, hot).text
    b = runtime.generate(WHO, hot).text
    c = runtime.generate(WHO, SamplingParams(temperature=1.2, max_tokens=20, seed=8)).text
    assert a == b
    assert a != c


def test_prompt_over_the_context_names_the_counts(runtime) -> None:  # type: ignore[no-untyped-def]
    long = [Message("user", "lecture " * 3000)]
    with pytest.raises(ContextOverflowError, match=r"is \d+ tokens but the context window holds 2048"):
        runtime.generate(long, SHORT)
    # the runtime is still usable afterwards
    assert runtime.generate(WHO, SamplingParams(max_tokens=2)).completion_tokens >= 1


def test_adapter_hot_swap_changes_answers_and_resets_kv(runtime, lora_file: Path) -> None:  # type: ignore[no-untyped-def]
    runtime.set_adapters([])
    plain = runtime.generate(WHO, SamplingParams(max_tokens=24)).text
    resets = runtime.cache_resets
    runtime.set_adapters([AdapterSpec(lora_file, 1.0)])
    assert runtime.cache_resets == resets + 1
    adapted = runtime.generate(WHO, SamplingParams(max_tokens=24)).text
    assert adapted != plain
    runtime.set_adapters([AdapterSpec(lora_file, 0.0)])
    # scale 0 is the base model again, computed with a fresh cache
    assert runtime.generate(WHO, SamplingParams(max_tokens=24)).text == plain
    runtime.set_adapters([])
    assert runtime.generate(WHO, SamplingParams(max_tokens=24)).text == plain
    runtime.set_adapters([AdapterSpec(lora_file, 1.0)])
    assert runtime.generate(WHO, SamplingParams(max_tokens=24)).text == adapted
    runtime.set_adapters([])


def test_same_adapters_do_not_reset_the_cache(runtime, lora_file: Path) -> None:  # type: ignore[no-untyped-def]
    runtime.set_adapters([AdapterSpec(lora_file, 0.5)])
    resets = runtime.cache_resets
    runtime.set_adapters([AdapterSpec(lora_file, 0.5)])
    assert runtime.cache_resets == resets
    runtime.set_adapters([])


def test_adapter_for_another_architecture(runtime, model_info, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shapes = {t.name: t.shape for t in model_info.header.tensors}
    other = write_lora(tmp_path / "gemma.gguf", shapes, arch="gemma3")
    with pytest.raises(AdapterError, match="architecture 'gemma3' but the loaded model is 'llama'"):
        runtime.set_adapters([AdapterSpec(other, 1.0)])


def test_adapter_for_another_model_size(runtime, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bigger = {f"blk.{i}.attn_q.weight": (960, 960) for i in range(2)}
    other = write_lora(tmp_path / "big.gguf", bigger)
    with pytest.raises(AdapterError, match="do not fit the model's"):
        runtime.set_adapters([AdapterSpec(other, 1.0)])
    # the previous (base) state is untouched
    assert runtime.active_adapters == ()


def test_adapter_targeting_missing_tensors(runtime, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    other = write_lora(tmp_path / "deep.gguf", {"blk.99.attn_q.weight": (576, 576)})
    with pytest.raises(AdapterError, match="does not have"):
        runtime.set_adapters([AdapterSpec(other, 1.0)])


def test_model_file_passed_as_adapter(runtime, model_info) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AdapterError, match="not a LoRA adapter"):
        runtime.set_adapters([AdapterSpec(model_info.path, 1.0)])


def test_missing_and_corrupt_adapter(runtime, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AdapterError, match="not found"):
        runtime.set_adapters([AdapterSpec(tmp_path / "none.gguf", 1.0)])
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 12)
    with pytest.raises(AdapterError, match="truncated|corrupt"):
        runtime.set_adapters([AdapterSpec(junk, 1.0)])


def test_plain_format_for_a_model_without_template() -> None:
    r = ChatRenderer(None)
    out = r.render([Message("system", "Course facts."), Message("user", "Who are you?")])
    assert out.format == "plain-qa"
    assert out.text == "Course facts.\n\nQuestion: Who are you?\nAnswer:"
    assert out.stop == ("\nQuestion:",)


def test_write_gguf_helper_makes_loadable_files(tmp_path: Path) -> None:
    from engine.gguf_file import read_header

    p = write_gguf(tmp_path / "t.gguf", "llama", {"x": np.ones((2, 3), np.float32)})
    h = read_header(p)
    assert h.architecture == "llama" and h.tensors[0].shape == (3, 2)


def test_stop_strings_are_never_streamed() -> None:
    from engine.chat import safe_prefix

    stops = ("\nQuestion:",)
    assert safe_prefix("Paris", stops) == (5, False)
    assert safe_prefix("Paris\nQue", stops) == (5, False)  # held back: might be a stop
    assert safe_prefix("Paris\nQuestion: next", stops) == (5, True)
    assert safe_prefix("Paris\nQuiet", stops) == (11, False)  # released once it diverges


def test_a_retrained_adapter_at_the_same_path_is_reloaded(runtime, model_info, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shapes = {t.name: t.shape for t in model_info.header.tensors}
    path = write_lora(tmp_path / "xiaojin.gguf", shapes, std=0.08, seed=1)
    runtime.set_adapters([AdapterSpec(path, 1.0)])
    first = runtime.generate(WHO, SamplingParams(max_tokens=24)).text
    import os

    write_lora(path, shapes, std=0.08, seed=2)  # "retrained" in place
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse file systems
    runtime.set_adapters([AdapterSpec(path, 1.0)])
    second = runtime.generate(WHO, SamplingParams(max_tokens=24)).text
    runtime.set_adapters([])
    assert first != second


def test_fewer_threads_while_training_give_the_same_answer(runtime) -> None:  # type: ignore[no-untyped-def]
    """The GUI drops to one inference thread while a training process runs; answers must not change."""
    from engine.chat import Message
    from engine.runtime import SamplingParams

    question, params = [Message("user", "What is the capital of France?")], SamplingParams(max_tokens=16)
    runtime.set_adapters([])
    default = runtime.n_threads
    before = runtime.generate(question, params).text
    runtime.set_threads(1)
    try:
        assert runtime.n_threads == 1
        assert runtime.generate(question, params).text == before
    finally:
        runtime.set_threads(0)
    assert runtime.n_threads == default
