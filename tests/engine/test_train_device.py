"""The trainer's device and precision choice, and its refusal of a model too large for the CPU's memory."""

from __future__ import annotations

import pytest

from engine.errors import TalabError
from engine.finetune.device import (
    Placement,
    check_cpu_memory,
    choose_placement,
    detect_placement,
    model_parameters,
)


def test_cuda_in_bf16_where_supported_fp16_on_older_gpus_float32_on_cpu() -> None:
    assert choose_placement(True, True) == Placement("cuda", "bfloat16")
    assert choose_placement(True, False) == Placement("cuda", "float16")
    assert choose_placement(False, False) == Placement("cpu", "float32")


def test_this_machine_is_detected_as_torch_sees_it() -> None:
    import torch

    assert detect_placement().device == ("cuda" if torch.cuda.is_available() else "cpu")


def test_a_7b_model_is_refused_on_a_small_machine_naming_the_sizes(model_info) -> None:  # type: ignore[no-untyped-def]
    n = model_parameters(model_info.header)
    assert 130e6 < n < 140e6  # SmolLM2-135M
    check_cpu_memory(model_info.path.name, n, 16 * 2**30)  # fits: no error
    with pytest.raises(TalabError) as err:
        check_cpu_memory("qwen2.5-7b-instruct-q4_k_m.gguf", 7_615_616_512, 16 * 2**30)
    text = str(err.value)
    assert "7.6B parameters and needs about 58 GiB" in text and "this machine has 16 GiB" in text
    assert "\n" not in text
    check_cpu_memory("unknown.gguf", 7_615_616_512, None)  # no way to know the memory: do not guess
