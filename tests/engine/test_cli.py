"""The ``talab`` command as a user runs it: real model, real SQLite, subprocesses.

Every bad input must end in one ``error:`` line, a non-zero exit and no traceback.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.ggufs import write_lora

TALAB = str(Path(sys.executable).with_name("talab"))


def talab(*args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([TALAB, *args], capture_output=True, text=True, timeout=timeout, env=os.environ)


def assert_user_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


# -- bad input ------------------------------------------------------------------
def test_missing_gguf(tmp_path: Path) -> None:
    assert_user_error(talab("ask", "hi", "--model", str(tmp_path / "gone.gguf")), "not found", "gone.gguf")


def test_truncated_gguf(tmp_path: Path, model_info) -> None:  # type: ignore[no-untyped-def]
    cut = tmp_path / "half.gguf"
    with model_info.path.open("rb") as src:
        cut.write_bytes(src.read(20_000_000))
    assert_user_error(talab("ask", "hi", "--model", str(cut)), "half.gguf is truncated")


def test_not_a_gguf(tmp_path: Path) -> None:
    fake = tmp_path / "photo.gguf"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    assert_user_error(talab("ask", "hi", "--model", str(fake)), "not a GGUF file")


def test_malformed_yaml(tmp_path: Path) -> None:
    bad = tmp_path / "kb.yaml"
    bad.write_text("language: en\ncourse:\n  title: [unclosed\n  code: X\n")
    assert_user_error(talab("personas", "--kb", str(bad)), f"{bad}:", "invalid YAML")


def test_yaml_that_breaks_the_schema(tmp_path: Path) -> None:
    from engine.kb import kb_path

    text = kb_path(lang="en").read_text(encoding="utf-8")
    lines = text.splitlines()
    idx = next(i for i, line in enumerate(lines) if line.strip().startswith("weight:"))
    lines[idx] = lines[idx].split("weight:")[0] + "weight: lots"
    bad = tmp_path / "kb.yaml"
    bad.write_text("\n".join(lines), encoding="utf-8")
    proc = talab("personas", "--kb", str(bad))
    assert_user_error(proc, f"{bad}:{idx + 1}:", "grading.0.weight")


def test_unknown_persona() -> None:
    assert_user_error(talab("ask", "hi", "--persona", "oracle"), "Unknown persona 'oracle'", "prompted")


def test_untrained_persona_is_refused_with_the_reason() -> None:
    assert_user_error(talab("ask", "hi", "--persona", "finetuned"), "unavailable", "not been trained")


def test_empty_probe_set(tmp_path: Path) -> None:
    empty = tmp_path / "probes.yaml"
    empty.write_text("name: empty\nprobes: []\n")
    assert_user_error(talab("probe", "--probes", str(empty)), "probe set is empty")


def test_prompt_over_the_context() -> None:
    proc = talab("ask", "Who are you?", "--persona", "prompted", "--n-ctx", "128")
    assert_user_error(proc, "tokens but the context window holds 128")


def test_adapter_for_another_model(tmp_path: Path, model_info) -> None:  # type: ignore[no-untyped-def]
    lora = write_lora(
        tmp_path / "other.gguf", {t.name: t.shape for t in model_info.header.tensors}, arch="qwen2"
    )
    personas = tmp_path / "personas.yaml"
    personas.write_text(f"personas:\n  - id: other\n    name: Other\n    adapters:\n      - path: {lora}\n")
    proc = talab("ask", "hi", "--persona", "other", "--personas-file", str(personas))
    assert_user_error(proc, "other.gguf", "architecture 'qwen2'")


def test_bad_export_run() -> None:
    assert_user_error(talab("export", "999"), "No run with id 999")


# -- the user's path ------------------------------------------------------------
@pytest.mark.integration
def test_ask_streams_an_answer_and_logs_it() -> None:
    proc = talab("ask", "Who are you?", "--persona", "prompted", "--max-tokens", "12")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()
    runs = json.loads(talab("runs", "--json").stdout)
    assert runs[0]["kind"] == "ask" and runs[0]["n_answers"] == 1


@pytest.mark.integration
def test_probe_json_runs_and_export(tmp_path: Path) -> None:
    proc = talab("probe", "--personas", "base,prompted", "--limit", "2", "--max-tokens", "16", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["status"] == "done" and out["personas"] == ["base", "prompted"]
    assert set(out["overall"]["prompted"]) >= {
        "adherence", "general_ability", "forgetting", "overgeneralisation_rate", "injection_resistance"
    }  # fmt: skip
    run_id = out["run_id"]
    listing = talab("runs")
    assert listing.returncode == 0 and str(run_id) in listing.stdout
    csv_path = tmp_path / "run.csv"
    assert talab("export", str(run_id), "--format", "csv", "-o", str(csv_path)).returncode == 0
    import csv

    with csv_path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4 and {r["persona_id"] for r in rows} == {"base", "prompted"}
    assert all(r["model_sha256"] and r["seed"] == "42" for r in rows)
    jsonl = tmp_path / "run.jsonl"
    assert talab("export", str(run_id), "--format", "jsonl", "-o", str(jsonl)).returncode == 0
    records = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert records[0]["type"] == "run" and len(records) == 5
    # everything needed to replay an answer travels with it
    answer = records[1]
    assert answer["params"]["max_tokens"] == 16 and answer["params"]["temperature"] == 0.0
    assert answer["seed"] == 42 and answer["prompt"].endswith("<|im_start|>assistant\n")


@pytest.mark.integration
def test_replay_gives_the_same_answers(talab_home: Path) -> None:
    first = talab(
        "probe", "--personas", "base,prompted", "--limit", "3", "--max-tokens", "24", "--seed", "5", "--json"
    )
    a = json.loads(first.stdout)["run_id"]
    # different flags on the command line: a replay still uses the recorded settings
    again = talab("probe", "--replay", str(a), "--max-tokens", "3", "--json")
    assert again.returncode == 0, again.stderr
    out = json.loads(again.stdout)
    assert out["replay"] == {"original": a, "compared": 6, "identical": 6, "differing": []}
    db = sqlite3.connect(talab_home / "talab.db")
    rows = db.execute("select seed, params from answers where run_id=?", [out["run_id"]]).fetchall()
    assert all(seed == 5 and json.loads(params)["max_tokens"] == 24 for seed, params in rows)


def _wait_for_answers(db_file: Path, n: int, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "probe run ended before it could be interrupted"
        if db_file.exists():
            try:
                with contextlib.closing(sqlite3.connect(db_file)) as db:
                    count = db.execute("select count(*) from answers").fetchone()[0]
            except sqlite3.Error:
                count = 0
            if count >= n:
                return
        time.sleep(0.05)
    raise AssertionError("no answers appeared")


@pytest.mark.integration
def test_killed_run_keeps_answers_and_resumes(talab_home: Path) -> None:
    proc = subprocess.Popen(
        # 1 thread: llama.cpp's spinning threads crawl when another process shares the 2 cores
        [
            TALAB,
            "probe",
            "--personas",
            "base,prompted",
            "--limit",
            "6",
            "--json",
            "--threads",
            "1",
            "--max-tokens",
            "48",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    db_file = talab_home / "talab.db"
    _wait_for_answers(db_file, 2, proc)
    proc.kill()
    proc.communicate()
    db = sqlite3.connect(db_file)
    kept = db.execute("select id, answer from answers").fetchall()
    assert 2 <= len(kept) < 12
    run_id = db.execute("select id from runs").fetchone()[0]
    assert json.loads(talab("runs", "--json").stdout)[0]["status"] == "interrupted"
    out = talab("probe", "--resume", str(run_id), "--json", "--threads", "1")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["status"] == "done"
    after = dict(db.execute("select id, answer from answers").fetchall())
    assert len(after) == 12
    assert all(after[i] == a for i, a in kept)  # finished answers untouched


@pytest.mark.integration
def test_ctrl_c_cancels_cleanly_with_a_resume_hint(talab_home: Path) -> None:
    proc = subprocess.Popen(
        [TALAB, "probe", "--personas", "base", "--limit", "8", "--threads", "1", "--max-tokens", "48"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for_answers(talab_home / "talab.db", 1, proc)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "Traceback" not in err
    assert "talab probe --resume" in err
    status = sqlite3.connect(talab_home / "talab.db").execute("select status from runs").fetchone()[0]
    assert status == "cancelled"


def test_gui_without_a_display_says_so() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = subprocess.run([TALAB, "gui"], capture_output=True, text=True, timeout=60, env=env)
    assert_user_error(proc, "No display found")


def test_finetune_rejects_bad_settings(tmp_path: Path) -> None:
    assert_user_error(talab("finetune", "--epochs", "0"), "epochs and batch size must be at least 1")
    assert_user_error(talab("train", "--name", "../evil"), "may only use letters")
    assert_user_error(talab("finetune", "--replay", "1.5"), "replay must be a fraction from 0 to below 1")
    assert_user_error(talab("finetune", "--target-modules", "q_proj,lm_head"), "target modules", "lm_head")
    assert_user_error(talab("finetune", "--dataset", str(tmp_path / "none.jsonl")), "Dataset file not found")


def test_finetune_refuses_an_architecture_it_cannot_export(tmp_path: Path) -> None:
    import numpy as np

    from tests.ggufs import write_gguf

    qwen = write_gguf(tmp_path / "qwen.gguf", "qwen2", {"w": np.zeros((4, 4), np.float32)})
    assert_user_error(talab("finetune", "--model", str(qwen)), "Training failed", "llama, gemma3")


def test_dataset_only_writes_editable_jsonl_and_a_broken_edit_names_the_line(tmp_path: Path) -> None:
    out = tmp_path / "ds.jsonl"
    proc = talab("finetune", "--dataset-only", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {r["kind"] for r in rows} == {"identity", "fact", "refusal"}
    assert {r["lang"] for r in rows} == {"en", "zh-TW"}
    assert rows[0]["messages"][0] == {"role": "user", "content": "Who am I talking to?"}
    assert "Xiao Jin" in rows[0]["messages"][1]["content"]
    lines = out.read_text(encoding="utf-8").splitlines()
    lines[2] = '{"messages": [{"role": "user", "content": "hi"}]}'
    out.write_text("\n".join(lines), encoding="utf-8")
    assert_user_error(
        talab("finetune", "--dataset", str(out)), "Training failed", "ds.jsonl:3", "[user, assistant]"
    )


def test_adapters_lists_what_was_trained(talab_home: Path, lora_file: Path) -> None:
    assert "No adapters yet" in talab("adapters").stdout
    from engine.finetune.registry import write_manifest

    target = talab_home / "adapters" / "xiaojin.gguf"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(lora_file.read_bytes())
    manifest = {"created": "2026-11-24T10:00:00+00:00", "base_model": {"sha256": "ab" * 32},
                "hyperparameters": {"rank": 8, "alpha": 16, "lr": 0.002, "epochs": 3},
                "dataset": {"examples": 59, "replay_fraction": 0.3}, "steps": 24, "final_loss": 0.9,
                "train_seconds": 150.0}  # fmt: skip
    write_manifest(target, manifest)
    listed = json.loads(talab("adapters", "--json").stdout)
    assert [a["name"] for a in listed] == ["xiaojin"]
    assert listed[0]["base_sha256"] == "ab" * 32 and listed[0]["size_bytes"] == target.stat().st_size
    assert listed[0]["created"] == "2026-11-24T10:00:00+00:00"
    text = talab("adapters").stdout
    assert "xiaojin" in text and "r=8" in text and "59 examples (replay 0.3)" in text
