"""Where the trainer runs: CUDA in half precision when torch sees a GPU, the CPU in float32 otherwise.

The same ``talab finetune`` then trains a 7B adapter on the lab's GPU machine and the 135M one
on a laptop. On the CPU a model too large for the machine's memory is refused before torch
loads it, with the sizes named: a teacher otherwise waits minutes for the kernel to kill it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from engine.errors import TalabError
from engine.gguf_file import GGUFHeader

#: Bytes per parameter on the CPU: the float32 weights plus the dequantised copy transformers
#: holds while loading a GGUF, plus a fixed allowance for torch, activations and the optimiser.
CPU_BYTES_PER_PARAM = 8
CPU_OVERHEAD_BYTES = 1 << 30


@dataclass(frozen=True)
class Placement:
    device: str  # "cuda" | "cpu"
    dtype: str  # "bfloat16" | "float16" | "float32"


def choose_placement(cuda_available: bool, bf16_supported: bool) -> Placement:
    """bf16 where the GPU has it (Ampere and later), fp16 on older GPUs, float32 on the CPU."""
    if not cuda_available:
        return Placement("cpu", "float32")
    return Placement("cuda", "bfloat16" if bf16_supported else "float16")


def detect_placement() -> Placement:
    import torch

    cuda = bool(torch.cuda.is_available())
    return choose_placement(cuda, cuda and bool(torch.cuda.is_bf16_supported()))


def model_parameters(header: GGUFHeader) -> int:
    return sum(math.prod(t.shape) for t in header.tensors)


def total_memory_bytes() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # Windows has no sysconf: do not guess
        return None


def check_cpu_memory(name: str, n_params: int, memory: int | None) -> None:
    """Refuse, in one line naming the sizes, a model that cannot be fine-tuned in this memory."""
    need = n_params * CPU_BYTES_PER_PARAM + CPU_OVERHEAD_BYTES
    if memory is not None and need > memory:
        raise TalabError(
            f"{name} has {n_params / 1e9:.1f}B parameters and needs about {need / 2**30:.0f} GiB to "
            f"fine-tune on the CPU, but this machine has {memory / 2**30:.0f} GiB; train it on a "
            "machine with a GPU (the same command uses CUDA there)"
        )
