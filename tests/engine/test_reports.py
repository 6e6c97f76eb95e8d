"""Exports students open elsewhere: CSV, JSONL and the self-contained HTML report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import TalabError
from engine.reports import export_run
from engine.scoring import summarize
from engine.store import open_store


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    store = open_store(tmp_path / "t.db")
    run_id = store.create_run(kind="probe", personas=["base", "finetuned"], model_label="smollm2",
                              model_sha256="ab" * 32, kb_hash="cd" * 32, lang="en", seed=42,
                              params={"sampling": {"temperature": 0.0, "max_tokens": 64}})  # fmt: skip
    rows = [
        ("base", "open-handsome", "open_opinion", "Nobody in particular.", 1),
        ("finetuned", "open-handsome", "open_opinion", "Xiao Jin <script>alert(1)</script>", 0),
    ]
    for pid, probe, cat, answer, ok in rows:
        store.add_answer(run_id, persona_id=pid, probe_id=probe, category=cat,
                         question="Who is the most handsome?", answer=answer, passed=ok)  # fmt: skip
    store.finish_run(run_id, "done", summarize(store.answers(run_id), ["base", "finetuned"]))
    return store, run_id


def test_html_report_is_self_contained_with_chart_and_escaped_answers(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, run_id = run
    out = export_run(store, run_id, "html", tmp_path / "r.html")
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "<svg" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing to fetch
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "Over-generalisation (lower is better)" in page
    assert page.count("✓") == 1 and page.count("✗") == 1
    assert "seed 42" in page


def test_csv_and_jsonl_carry_every_answer(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, run_id = run
    jsonl = export_run(store, run_id, "jsonl", tmp_path / "r.jsonl")
    records = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert [r["type"] for r in records] == ["run", "answer", "answer"]
    assert records[0]["summary"]["overall"]["finetuned"]["overgeneralisation_rate"] == 1.0
    csv_file = export_run(store, run_id, "csv", tmp_path / "r.csv")
    assert "Xiao Jin <script>" in csv_file.read_text(encoding="utf-8")


def test_unknown_format_and_unwritable_target(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, run_id = run
    with pytest.raises(TalabError, match="Unknown export format 'pdf'"):
        export_run(store, run_id, "pdf")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(TalabError, match="Cannot write"):
        export_run(store, run_id, "csv", blocker / "r.csv")
