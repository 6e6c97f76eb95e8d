"""``talab-app --self-test``: prove an installation works, headless, without touching user data.

A teacher (or the packaging smoke test) runs it on a classroom machine before
class: it loads the bundled model, asks one probe question per persona that
can run, stores the answers in a throw-away database and checks they are
there. Any fine-tuned adapter the user already has is copied in, so its
personas are tested too. Then it takes one LoRA training step on a tiny
model built in code, so a build that lost torch, transformers or PEFT (or one
of their lazily imported pieces) fails here rather than in the Train tab.
Exit 0 means the app will work offline; otherwise one line says what is wrong.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import TextIO

EXIT_FAILED = 2


def process_age_s() -> float:
    """Seconds since this process started (Linux), so "start to first token" includes Python's start."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        return max(0.0, float(Path("/proc/uptime").read_text().split()[0]) - started)
    except (OSError, ValueError, IndexError):
        return 0.0


def run(max_tokens: int = 16, out: TextIO | None = None) -> dict[str, object]:
    from engine import paths

    t0 = time.perf_counter() - process_age_s()
    user_adapters = paths.data_dir() / "adapters"
    with tempfile.TemporaryDirectory(prefix="talab-selftest-") as tmp:
        previous = os.environ.get(paths.ENV_HOME)
        os.environ[paths.ENV_HOME] = tmp
        try:
            if user_adapters.is_dir():
                shutil.copytree(user_adapters, Path(tmp) / "adapters", dirs_exist_ok=True)
            result = _run_in(tmp, t0, max_tokens, out)
        finally:
            if previous is None:
                os.environ.pop(paths.ENV_HOME, None)
            else:
                os.environ[paths.ENV_HOME] = previous
    # after the first token, so torch's seconds of imports do not count as the model's start-up
    print(check_training(), file=out or sys.stdout, flush=True)
    total = time.perf_counter() - t0
    print(f"ok: process start to first token {result['first_token_s']:.2f} s, whole self-test {total:.1f} s",
          file=out or sys.stdout, flush=True)  # fmt: skip
    return {**result, "total_s": total}


def check_training() -> str:
    """One LoRA step on a tiny random Llama, as engine.finetune.train does on the real model.

    The real model would take a minute; some 90 thousand parameters built
    from a config in code need no download and still run every code path a
    frozen build can lose (torch's autograd, transformers' Llama, PEFT's LoRA
    layers, the trainer module itself). Returns the line to print; raises
    TalabError with one line otherwise.
    """
    from engine.errors import TalabError

    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():  # library deprecation notices are not for a teacher
            warnings.simplefilter("ignore")
            versions, problem, step_s = _one_lora_step()
    except Exception as exc:
        reason = " ".join(str(exc).split()) or "no message"
        raise TalabError(f"the build cannot fine-tune: {type(exc).__name__}: {reason}") from None
    if problem:
        raise TalabError(f"the build cannot fine-tune: one LoRA training step {problem}")
    total = time.perf_counter() - t0
    return f"train    {versions}: one LoRA step OK ({total:.1f} s, {total - step_s:.1f} s of it imports)"


def _one_lora_step() -> tuple[str, str, float]:
    """Returns the library versions, what went wrong ("" when nothing did) and the step's seconds."""
    import peft
    import torch
    import transformers
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    from engine.finetune.train import TARGETS

    t0 = time.perf_counter()
    with torch.random.fork_rng(devices=[]):  # leave the caller's random state as it was
        torch.manual_seed(0)
        # about 90 K parameters, every one a real Llama layer: the step takes a fraction of a second
        config = LlamaConfig(
            vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=32,
        )  # fmt: skip
        lora = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, task_type="CAUSAL_LM",
                          target_modules=list(TARGETS))  # fmt: skip
        model = get_peft_model(LlamaForCausalLM(config), lora)
        trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
        before = {n: p.detach().clone() for n, p in trainable.items()}
        optim = torch.optim.AdamW(list(trainable.values()), lr=1e-2)
        ids = torch.tensor([[1, 5, 9, 13, 17, 21, 25, 29]])
        model.train()
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optim.step()
        moved = [n for n, p in trainable.items() if "lora_B" in n and not torch.equal(before[n], p.detach())]
        if not bool(torch.isfinite(loss.detach())):
            problem = f"gave a loss of {float(loss.detach())}"
        elif not trainable or any("lora_" not in n for n in trainable):
            problem = f"trained {len(trainable)} tensors that are not all LoRA weights"
        elif not moved:
            problem = "left the LoRA weights unchanged"
        else:
            problem = ""
    versions = " · ".join(f"{lib.__name__} {lib.__version__}" for lib in (torch, transformers, peft))
    return versions, problem, time.perf_counter() - t0


def _run_in(home: str, t0: float, max_tokens: int, out: TextIO | None) -> dict[str, object]:
    from engine.errors import TalabError
    from engine.lab import Lab, LabConfig

    def say(text: str) -> None:
        print(text, file=out or sys.stdout, flush=True)

    lab = Lab(LabConfig())
    loaded = time.perf_counter() - t0
    say(f"model    {lab.model.display_name} ({lab.model.architecture}), ready {loaded:.2f} s after start")
    personas = [p.id for p in lab.personas.values() if p.available]
    first_token: list[float] = []
    try:
        # the first identity probe ("Who are you?") for every persona
        result = lab.probe(personas, category="identity", limit=1, overrides={"max_tokens": max_tokens})
        answers = lab.store.answers(result.run_id)
    finally:
        lab.close()
    if result.status != "done" or len(answers) != len(personas):
        raise TalabError(f"self-test run ended '{result.status}' with {len(answers)}/{len(personas)} answers")
    for a in answers:
        first_token.append(float(a.get("ttft_s") or 0.0))
        text = " ".join(str(a["answer"]).split())[:60]
        say(f"persona  {a['persona_id']:<20} {'pass' if a['passed'] else 'fail'}  {text!r}")
    first = loaded + (first_token[0] if first_token else 0.0)
    say(f"database {Path(home) / 'talab.db'} (temporary): run {result.run_id}, {len(answers)} answers stored")
    return {"personas": personas, "answers": len(answers), "first_token_s": first}


def main(argv: list[str] | None = None) -> int:
    from engine.errors import TalabError

    ap = argparse.ArgumentParser(prog="talab-app --self-test", description=__doc__)
    ap.add_argument("--max-tokens", type=int, default=16)
    args = ap.parse_args(argv)
    try:
        run(args.max_tokens)
        return 0
    except TalabError as exc:
        print(f"self-test failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # a broken installation must still end in one readable line
        print(f"self-test failed: unexpected {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
