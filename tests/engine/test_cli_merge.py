"""``talab merge`` as a user runs it, against the real default model's shapes: one line per mistake."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine import paths
from engine.cli import main
from engine.merge.factors import read_lora
from tests.ggufs import write_lora


@pytest.fixture
def adapters(model_info: Any) -> tuple[Path, Path]:
    shapes = {t.name: t.shape for t in model_info.header.tensors}
    folder = paths.adapters_dir()
    ident = write_lora(folder / "identity.gguf", shapes, seed=1, targets=("attn_q", "ffn_down"))
    facts = write_lora(folder / "facts.gguf", shapes, seed=2, rank=2, targets=("attn_v", "ffn_down"))
    return ident, facts


def error_line(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["merge", *argv]) == 2
    out = capsys.readouterr()
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in out.err + out.out
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--adapters", "identity:1,nope:1", "--name", "m"], "Unknown adapter 'nope' (known: facts, ident"),
        (["--adapters", "identity:1,facts:x", "--name", "m"], "the weight after ':' must be a number"),
        (["--adapters", "identity:1", "--name", "m"], "at least two adapters"),
        (["--adapters", "identity:1,facts:1", "--name", "m", "--method", "ties", "--density", "0"],
         "--density 0.0 must be above 0"),
        (["--adapters", "identity:1,facts:1", "--name", "m", "--density", "0.5"],
         "--density applies to --method ties only"),
        (["--adapters", "identity:1,facts:1", "--name", "m", "--method", "dare", "--drop", "1"],
         "--drop 1.0 must be at least 0 and below 1"),
        (["--adapters", "identity:1,facts:1", "--name", "bad name"], "may only use letters"),
        (["--adapters", "identity:1,facts:1", "--name", "facts"], "'facts' exists already"),
        (["--adapters", "identity:0,facts:0", "--name", "m"], "Every weight is 0"),
    ],
)  # fmt: skip
def test_bad_input_gets_one_line(
    adapters: Any, capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    assert needle in error_line(capsys, *argv)
    assert not (paths.adapters_dir() / "m.gguf").exists()


def test_adapters_for_another_model_are_refused(adapters: Any, capsys: pytest.CaptureFixture[str]) -> None:
    write_lora(paths.adapters_dir() / "small.gguf", {"blk.0.attn_q.weight": (64, 64)})
    line = error_line(capsys, "--adapters", "identity:1,small:1", "--name", "m")
    assert "'small' does not fit SmolLM2" in line and "different model size" in line


def test_merge_writes_a_registered_adapter(
    adapters: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["merge", "--adapters", "identity:1,facts:-0.5", "--name", "both"]) == 0
    out = capsys.readouterr().out
    assert "Merged adapter 'both' (linear) = 1·identity + -0.5·facts: rank 6, truncation error 0.00%" in out
    merged = read_lora(paths.adapters_dir() / "both.gguf")
    ident, facts = (read_lora(p) for p in adapters)
    for tensor in ("blk.3.ffn_down.weight", "blk.3.attn_q.weight", "blk.3.attn_v.weight"):
        want = sum((w * f.delta(tensor) for w, f in ((1, ident), (-0.5, facts)) if tensor in f.pairs))
        assert np.linalg.norm(merged.delta(tensor) - want) <= 1e-5 * np.linalg.norm(want)
    assert main(["merge", "--method", "ties", "--adapters", "identity:1,facts:1", "--name", "both",
                 "--rank", "4", "--force", "--json"]) == 0  # fmt: skip
    manifest = json.loads(capsys.readouterr().out)
    assert manifest["method"] == "ties" and manifest["density"] == 0.5 and manifest["rank"] == 4
    assert [s["name"] for s in manifest["sources"]] == ["identity", "facts"]
    assert 0 < manifest["truncation_error"]["relative_frobenius"] < 1
    assert manifest["base_model"]["file"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert main(["adapters"]) == 0
    assert "merge ties density 0.5 of 1·identity + 1·facts · rank 4" in capsys.readouterr().out
