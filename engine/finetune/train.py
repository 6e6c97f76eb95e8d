"""Training subprocess: ``python -m engine.finetune.train --spec SPEC.json``.

It runs apart from the app so torch's memory goes away with it, a crash cannot
take the window down, and cancel is simply terminate. It reports on stdout as
JSON lines (``start``, ``replay``, ``loading``, ``step``, ``exporting``,
``done``, ``error`` or ``cancelled``) so the CLI and the desktop show the same
progress. The adapter, the dataset copy and the manifest are saved together at
the very end (:func:`engine.finetune.registry.save_run`): a cancel or a crash
leaves any earlier adapter untouched.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
import uuid
import warnings
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.errors import TalabError
from engine.finetune.events import (
    Cancelled,
    Done,
    Error,
    Exporting,
    Loading,
    Replay,
    Start,
    Step,
    emit,
    from_fields,
)
from engine.finetune.registry import peft_dir

SUPPORTED = ("llama", "gemma3")
TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
EXIT_CANCELLED = 130


@dataclass
class TrainSpec:
    model_path: str
    out_path: str
    kb_paths: list[str] = field(default_factory=list)
    dataset_path: str | None = None
    rank: int = 8
    alpha: int = 16
    lr: float = 2e-3
    epochs: int = 3
    batch_size: int = 8
    seed: int = 42
    target_modules: list[str] = field(default_factory=lambda: list(TARGETS))
    max_seq_len: int = 256
    replay: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> TrainSpec:
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def check(self) -> None:
        """Refuse nonsense before a minute of model loading is spent on it."""
        if self.rank < 1 or self.alpha < 1 or self.epochs < 1 or self.batch_size < 1:
            raise TalabError("rank, alpha, epochs and batch size must be at least 1")
        if not self.lr > 0:
            raise TalabError("the learning rate must be above 0")
        if self.max_seq_len < 16:
            raise TalabError("the maximum sequence length must be at least 16 tokens")
        if not 0.0 <= self.replay < 1.0:
            raise TalabError(f"replay must be a fraction from 0 to below 1, got {self.replay}")
        unknown = [m for m in self.target_modules if m not in TARGETS]
        if unknown or not self.target_modules:
            raise TalabError(f"target modules must be some of {', '.join(TARGETS)} (got {unknown or 'none'})")
        if not self.kb_paths and not self.dataset_path:
            raise TalabError("nothing to train on: give a course KB or a dataset file")


def peak_rss_mb() -> float:
    """Peak resident memory in MB; 0.0 where it cannot be measured, which must not stop training."""
    try:
        import resource
    except ImportError:  # Windows
        return _windows_peak_rss_mb()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux, bytes on macOS
    return round(rss / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def _windows_peak_rss_mb() -> float:
    import ctypes

    size_t = ctypes.c_size_t

    class Counters(ctypes.Structure):  # PROCESS_MEMORY_COUNTERS
        _fields_ = [("cb", ctypes.c_uint32), ("page_faults", ctypes.c_uint32), ("peak_working_set", size_t)]
        _fields_ += [(f"pad{i}", size_t) for i in range(7)]

    try:
        kernel32 = getattr(ctypes, "windll").kernel32  # noqa: B009 - absent from typeshed off Windows
        counters = Counters(cb=ctypes.sizeof(Counters))
        if not kernel32.K32GetProcessMemoryInfo(
            kernel32.GetCurrentProcess(), ctypes.byref(counters), counters.cb
        ):
            return 0.0
        return round(counters.peak_working_set / 2**20, 1)
    except (AttributeError, OSError):
        return 0.0


def load_examples(spec: TrainSpec) -> list[Any]:
    """The dataset file if given, else built from the KBs; plus self-distilled replay examples."""
    from engine.finetune.dataset import build_examples, read_jsonl
    from engine.finetune.replay import generate_replay, replay_count
    from engine.kb import load_kb

    if spec.dataset_path:
        examples = read_jsonl(Path(spec.dataset_path))
    else:
        examples = build_examples([load_kb(p) for p in spec.kb_paths])
    n_replay = replay_count(sum(e.kind != "replay" for e in examples), spec.replay)
    if n_replay:
        emit(Replay(done=0, total=n_replay))
        examples += generate_replay(
            Path(spec.model_path), n_replay, on_progress=lambda i, n: emit(Replay(done=i, total=n))
        )
    return examples


def _collate(batch: list[Any]) -> tuple[Any, Any, Any]:
    import torch

    from engine.finetune.encode import IGNORE

    width = max(len(e.ids) for e in batch)
    ids = torch.tensor([e.ids + [0] * (width - len(e.ids)) for e in batch])
    mask = torch.tensor([[1] * len(e.ids) + [0] * (width - len(e.ids)) for e in batch])
    labels = torch.tensor([e.labels + [IGNORE] * (width - len(e.labels)) for e in batch])
    return ids, mask, labels


def load_dequantised(path: Path, dtype: str = "float32", device: str = "cpu") -> Any:
    """The GGUF in torch, every tensor dequantised: float32 on the CPU (half if the trainer asks, on a GPU).

    Shared by the trainer and the model editor: a LoRA or an edit computed against these weights
    is computed against exactly what llama.cpp runs (up to its own Q4 kernels), so it transfers.
    """
    import torch
    from transformers import AutoModelForCausalLM, GgufConfig
    from transformers.utils import logging as hf_logging

    from engine.runtime import physical_cores

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    torch.set_num_threads(physical_cores())
    model = AutoModelForCausalLM.from_pretrained(
        str(path.parent), gguf_file=path.name, dtype=getattr(torch, dtype),
        quantization_config=GgufConfig(dequantize=True),
    )  # fmt: skip
    model.to(device)  # type: ignore[arg-type]  # transformers types .to as a decorated method
    return model


def answer_loss(peft_model: Any, ids: Any, mask: Any, labels: Any) -> Any:
    """Mean next-token cross-entropy over the answer tokens, as transformers computes it.

    Only the positions that predict an answer token go through the vocabulary projection. The
    model's own loss projects every position: for a default batch (8 sequences x up to 256
    positions x 49,152 vocabulary entries) that is up to 400 MB of logits, and as much again for
    their log-softmax and for each gradient, the larger part of the 5 GB peak; it also spent a
    fifth of a step's arithmetic on positions whose loss is ignored.
    """
    import torch

    from engine.finetune.encode import IGNORE

    causal = peft_model.get_base_model()
    hidden = causal.model(input_ids=ids, attention_mask=mask).last_hidden_state
    targets = labels[:, 1:]
    keep = targets != IGNORE
    logits = causal.lm_head(hidden[:, :-1][keep]).float()
    cap = getattr(causal.config, "final_logit_softcapping", None)
    if cap:  # Gemma's logits are soft-capped before the loss
        logits = torch.tanh(logits / cap) * cap
    return torch.nn.functional.cross_entropy(logits, targets[keep])


def train(spec: TrainSpec) -> dict[str, Any]:
    from engine import __version__
    from engine.finetune.dataset import dataset_sha256, describe, kind_counts, write_jsonl
    from engine.finetune.encode import encode_all
    from engine.finetune.gguf_lora import write_adapter
    from engine.finetune.registry import RUN_ID, dataset_copy_path, save_run
    from engine.models import file_sha256, validate_model
    from engine.runtime import Runtime

    spec.check()
    info = validate_model(Path(spec.model_path))
    if info.architecture not in SUPPORTED:
        raise TalabError(
            f"Fine-tuning supports the {', '.join(SUPPORTED)} architectures; "
            f"{info.path.name} is '{info.architecture}'"
        )
    t0 = time.perf_counter()
    examples = load_examples(spec)
    with Runtime(info, vocab_only=True) as vocab:
        encoded, skipped = encode_all(vocab, examples, spec.max_seq_len)
    if not encoded:
        raise TalabError(f"Every example is longer than {spec.max_seq_len} tokens; raise --max-seq-len")
    steps_per_epoch = math.ceil(len(encoded) / spec.batch_size)
    total = steps_per_epoch * spec.epochs
    emit(Start(examples=len(encoded), kinds=kind_counts(examples), skipped=skipped, steps=total,
               epochs=spec.epochs))  # fmt: skip

    import torch

    from engine.finetune.device import (
        check_cpu_memory,
        detect_placement,
        model_parameters,
        total_memory_bytes,
    )

    place = detect_placement()
    if place.device == "cpu":
        check_cpu_memory(info.path.name, model_parameters(info.header), total_memory_bytes())
    emit(Loading(device=place.device, dtype=place.dtype))
    from peft import LoraConfig, get_peft_model, get_peft_model_state_dict

    warnings.filterwarnings("ignore", module="peft")  # "no config file": GGUF models have none
    torch.manual_seed(spec.seed)
    dtype = getattr(torch, place.dtype)
    model = load_dequantised(info.path, place.dtype, place.device)
    config = LoraConfig(r=spec.rank, lora_alpha=spec.alpha, lora_dropout=0.0, task_type="CAUSAL_LM",
                        target_modules=list(spec.target_modules))  # fmt: skip
    peft_model = get_peft_model(model, config)
    for p in peft_model.parameters():  # the LoRA weights train in float32; the frozen base stays half
        if p.requires_grad:
            p.data = p.data.float()
    autocast = torch.autocast(place.device, dtype=dtype, enabled=place.device == "cuda")
    optim = torch.optim.AdamW([p for p in peft_model.parameters() if p.requires_grad], lr=spec.lr)
    peft_model.train()
    order = list(range(len(encoded)))
    rng = random.Random(spec.seed)
    curve: list[float] = []
    tokens = 0
    t_train = time.perf_counter()
    for epoch in range(1, spec.epochs + 1):
        rng.shuffle(order)
        for b in range(steps_per_epoch):
            ids, mask, labels = _collate(
                [encoded[i] for i in order[b * spec.batch_size :][: spec.batch_size]]
            )
            ids, mask, labels = ids.to(place.device), mask.to(place.device), labels.to(place.device)
            with autocast:
                loss = answer_loss(peft_model, ids, mask, labels)
            loss.backward()
            optim.step()
            optim.zero_grad()
            curve.append(round(float(loss.item()), 4))
            tokens += int(mask.sum())
            step = len(curve)
            spent = time.perf_counter() - t_train
            emit(Step(step=step, steps=total, epoch=epoch, loss=curve[-1],
                      elapsed_s=round(time.perf_counter() - t0, 1),
                      eta_s=round(spent / step * (total - step), 1),
                      tokens_per_s=round(tokens / spent, 1), peak_rss_mb=peak_rss_mb()))  # fmt: skip
    train_s = time.perf_counter() - t_train

    emit(Exporting())
    state = {k: v.detach().float().cpu().numpy() for k, v in get_peft_model_state_dict(peft_model).items()}
    base_sha = file_sha256(info.path)
    data_sha = dataset_sha256(examples)
    run_id = uuid.uuid4().hex  # ties the adapter's header to its manifest (see registry.read_manifest)
    out = Path(spec.out_path)
    cfg = model.config
    result = {
        "name": out.stem,
        "adapter": str(out),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        RUN_ID: run_id,
        "talab_version": __version__,
        "base_model": {"file": info.path.name, "sha256": base_sha, "architecture": info.architecture},
        "dataset": {
            "sha256": data_sha, "examples": len(encoded), "kinds": describe(examples),
            "skipped_too_long": skipped,
            "source": spec.dataset_path or spec.kb_paths, "replay_fraction": spec.replay,
            "copy": str(dataset_copy_path(out)),
        },
        "hyperparameters": {
            "rank": spec.rank, "alpha": spec.alpha, "lr": spec.lr, "epochs": spec.epochs,
            "batch_size": spec.batch_size, "target_modules": list(spec.target_modules),
            "max_seq_len": spec.max_seq_len,
        },
        "seed": spec.seed,
        "steps": total,
        "loss_curve": curve,
        "final_loss": curve[-1],
        "train_seconds": round(train_s, 1),
        "seconds": round(time.perf_counter() - t0, 1),
        "tokens_per_s": round(tokens / train_s, 1),
        "peak_rss_mb": peak_rss_mb(),
        "device": place.device,
        "dtype": place.dtype,
        "peft": str(peft_dir(out)),
    }  # fmt: skip

    def adapter_to(path: Path) -> None:
        write_adapter(
            path, state, arch=info.architecture, alpha=spec.alpha,
            n_head=cfg.num_attention_heads, n_head_kv=cfg.num_key_value_heads,
            metadata={"base_sha256": base_sha, "dataset_sha256": data_sha, "steps": str(total),
                      "final_loss": f"{curve[-1]:.4f}", RUN_ID: run_id},
        )  # fmt: skip

    staged_peft = save_peft_staged(peft_model, out)
    result["manifest"] = str(save_run(out, adapter_to, lambda path: write_jsonl(examples, path), result))
    replace_dir(staged_peft, peft_dir(out))
    return result


def save_peft_staged(peft_model: Any, out: Path) -> Path:
    """The PEFT adapter directory that vLLM loads (``NAME.peft/``), staged until the GGUF is saved."""
    import shutil

    staged = peft_dir(out).with_name(peft_dir(out).name + ".partial")
    shutil.rmtree(staged, ignore_errors=True)
    peft_model.save_pretrained(str(staged))
    return staged


def replace_dir(staged: Path, final: Path) -> None:
    import shutil

    shutil.rmtree(final, ignore_errors=True)
    os.replace(staged, final)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m engine.finetune.train")
    ap.add_argument("--spec", required=True, type=Path)
    args = ap.parse_args(argv)
    try:
        spec = TrainSpec.from_json(args.spec.read_text(encoding="utf-8"))
        emit(from_fields("done", train(spec)) or Done())
        return 0
    except KeyboardInterrupt:  # Ctrl+C reached the trainer itself (run by hand): a cancel, not a crash
        emit(Cancelled())
        return EXIT_CANCELLED
    except (TalabError, ValueError, OSError) as exc:
        emit(Error(message=str(exc)))
        return 2
    except Exception as exc:  # reported, never a bare traceback on the pipe
        emit(Error(message=f"unexpected {type(exc).__name__}: {exc}"))
        return 1


if __name__ == "__main__":
    sys.exit(main())
