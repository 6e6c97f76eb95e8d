"""Edit subprocess: ``python -m engine.edit.worker --spec SPEC.json``.

Runs apart from the app for the trainer's reasons (torch's memory, crash
isolation, cancel = terminate) and speaks the trainer's JSON-line protocol:
``start``, ``loading``, ``keys``, ``step``, ``exporting``, then ``done``,
``error`` or ``cancelled``. The adapter, its request and its manifest are
staged and renamed together at the end (:func:`engine.finetune.registry.save_run`),
so a failed or cancelled edit leaves nothing half-written.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.edit.spec import DEFAULT_LAYER, EditSpec, check_architecture
from engine.errors import TalabError
from engine.finetune.process import JobKind
from engine.finetune.train import EXIT_CANCELLED, peak_rss_mb

EDIT_KIND = "edit"
NOTHING_WRITTEN = "nothing was written and any earlier edit of that name is unchanged"


def emit(event: str, **fields: Any) -> None:
    """The editor's events are plain JSON objects (``event`` plus fields), read back as dicts."""
    print(json.dumps({"event": event, **fields}), flush=True)


def parse_edit_line(line: str | bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(line)
    except ValueError:
        return None
    return data if isinstance(data, dict) and isinstance(data.get("event"), str) else None


@dataclass(frozen=True)
class EditEnding:
    state: str  # done, cancelled, failed
    message: str = ""
    done: dict[str, Any] | None = None


def classify_edit_end(
    last: dict[str, Any] | None,
    code: int,
    *,
    cancel_asked: bool,
    stderr: Iterable[str] = (),
    killed_by: int | None = None,
) -> EditEnding:
    """As :func:`engine.finetune.events.classify_end` for training, in the edit's words."""
    from engine.finetune.events import last_line, stopped_message

    event = (last or {}).get("event")
    if event == "done" and code == 0:
        return EditEnding("done", done=last)
    if cancel_asked or event == "cancelled":
        return EditEnding("cancelled", f"Edit cancelled; {NOTHING_WRITTEN}")
    if event == "error":
        return EditEnding("failed", f"Edit failed: {(last or {}).get('message')}")
    message = stopped_message(code, last_line(stderr), killed_by=killed_by, noun="edit",
                              unchanged=NOTHING_WRITTEN)  # fmt: skip
    return EditEnding("failed", message)


EDIT_JOB = JobKind("engine.edit.worker", "--edit-worker", "edit", parse_edit_line, classify_edit_end)


class LlamaTokenizer:
    """llama.cpp's own tokenizer (vocab only), so positions are the ones the adapter will meet."""

    def __init__(self, runtime: Any) -> None:
        self._rt = runtime

    def tokenize(self, text: str) -> list[int]:
        return list(self._rt.tokenize(text))

    def continuation(self, text: str) -> list[int]:
        return list(self._rt.tokenize_continuation(text))

    def detokenize(self, ids: list[int]) -> str:
        return bytes(self._rt._llm.detokenize(ids)).decode("utf-8", errors="replace")


def choose_layer(spec: EditSpec, n_layers: int) -> tuple[int, str]:
    """The user's layer, else the sweep's choice for 30 layers, scaled to other depths."""
    if spec.layer is not None:
        return spec.layer, spec.layer_source if spec.layer_source != "default" else "user"
    if n_layers == 30:
        return DEFAULT_LAYER, "default: an early-middle layer, as in ROME/EasyEdit (see engine/edit/spec.py)"
    return max(1, round(n_layers * DEFAULT_LAYER / 30)), f"default scaled from layer {DEFAULT_LAYER} of 30"


def compute(spec: EditSpec, model: Any, tok: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, float]]:
    """The edit on a loaded model: (lora state, facts for the manifest, seconds per phase)."""
    from engine.edit import rome

    layer, source = choose_layer(spec, model.config.num_hidden_layers)
    times: dict[str, float] = {}
    t = time.perf_counter()
    emit("keys", layer=layer)
    templates = rome.prefixes(model, tok, spec.prefixes, spec.prefix_tokens, spec.seed)
    k_mean, k0 = rome.compute_key(model, tok, layer, spec.prompt, spec.subject, templates)
    cov = rome.self_covariance(model, tok, layer, seed=spec.seed) if spec.covariance == "self" else None
    times["keys_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    value = rome.compute_value(
        model, tok, layer, (spec.prompt, spec.subject, spec.target), templates,
        steps=spec.steps, lr=spec.lr, kl_factor=spec.kl_factor, weight_decay=spec.weight_decay,
        clamp_norm=spec.clamp_norm,
        on_step=lambda i, loss: emit("step", step=i, steps=spec.steps, loss=loss, peak_rss_mb=peak_rss_mb()),
    )  # fmt: skip
    times["optimise_s"] = round(time.perf_counter() - t, 2)
    u, w = rome.closed_form(k_mean, k0, value.delta, cov)
    facts = {
        "layer": layer, "layer_source": source, "templates": templates,
        "loss_curve": value.losses, "target_prob": round(value.target_prob, 4),
        "delta_norm": round(float(value.delta.norm()), 4), "value_norm": round(float(value.v_init.norm()), 4),
    }  # fmt: skip
    return rome.lora_state(layer, u, w), facts, times


def run(spec: EditSpec, model: Any = None) -> dict[str, Any]:
    """The whole edit; ``model`` is an already loaded torch model (tests and benchmarks reuse one)."""
    from engine import __version__
    from engine.finetune.gguf_lora import write_adapter
    from engine.finetune.registry import RUN_ID, save_run
    from engine.finetune.train import load_dequantised
    from engine.models import validate_model
    from engine.runtime import Runtime

    spec.check()
    info = validate_model(Path(spec.model_path))
    check_architecture(info.architecture, info.path.name)
    t0 = time.perf_counter()
    emit("start", steps=spec.steps, prefixes=spec.prefixes)
    emit("loading")
    import torch

    torch.manual_seed(spec.seed)
    model = model if model is not None else load_dequantised(info.path)
    model.eval()
    load_s = round(time.perf_counter() - t0, 2)
    with Runtime(info, vocab_only=True) as vocab:
        state, facts, times = compute(spec, model, LlamaTokenizer(vocab))
    emit("exporting")
    t = time.perf_counter()
    run_id = uuid.uuid4().hex
    out = Path(spec.out_path)
    request = {"prompt": spec.prompt, "subject": spec.subject, "target": spec.target}
    manifest: dict[str, Any] = {
        "kind": EDIT_KIND, "name": out.stem, "adapter": str(out), "enabled": True,
        "created": datetime.now(UTC).isoformat(timespec="seconds"), RUN_ID: run_id,
        "talab_version": __version__,
        "base_model": {"file": info.path.name, "sha256": info.sha256, "architecture": info.architecture},
        "request": request, **facts, "covariance": spec.covariance,
        "hyperparameters": {
            "method": "ROME", "steps": spec.steps, "lr": spec.lr, "kl_factor": spec.kl_factor,
            "weight_decay": spec.weight_decay, "clamp_norm": spec.clamp_norm, "prefixes": spec.prefixes,
            "prefix_tokens": spec.prefix_tokens, "rank": 1, "alpha": 1,
        },
        "seed": spec.seed, "steps": len(facts["loss_curve"]), "final_loss": facts["loss_curve"][-1],
        "peak_rss_mb": peak_rss_mb(),
    }  # fmt: skip
    cfg = model.config

    def adapter_to(path: Path) -> None:
        write_adapter(
            path, state, arch=info.architecture, alpha=1.0, n_head=cfg.num_attention_heads,
            n_head_kv=cfg.num_key_value_heads,
            metadata={"base_sha256": info.sha256, "kind": EDIT_KIND, "layer": str(facts["layer"]),
                      "steps": str(manifest["steps"]), "final_loss": f"{manifest['final_loss']:.4f}",
                      RUN_ID: run_id},
        )  # fmt: skip

    def request_to(path: Path) -> None:
        path.write_text(json.dumps(request, ensure_ascii=False) + "\n", encoding="utf-8")

    times["load_s"] = load_s
    manifest["seconds"] = {**times, "export_s": 0.0}
    manifest["manifest"] = str(save_run(out, adapter_to, request_to, manifest))
    manifest["seconds"]["export_s"] = round(time.perf_counter() - t, 2)
    manifest["seconds"]["total_s"] = round(time.perf_counter() - t0, 2)
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m engine.edit.worker")
    ap.add_argument("--spec", required=True, type=Path)
    args = ap.parse_args(argv)
    try:
        spec = EditSpec.from_json(args.spec.read_text(encoding="utf-8"))
        emit("done", **run(spec))
        return 0
    except KeyboardInterrupt:
        emit("cancelled")
        return EXIT_CANCELLED
    except (TalabError, ValueError, OSError) as exc:
        emit("error", message=str(exc))
        return 2
    except Exception as exc:  # reported, never a bare traceback on the pipe
        emit("error", message=f"unexpected {type(exc).__name__}: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
