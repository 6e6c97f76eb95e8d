"""Pooled class results: export whole runs, import them once each, refuse newer or broken files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import sqlite_utils

from engine.cli import main
from engine.errors import StoreError
from engine.lab import Lab, LabConfig
from engine.pool import export_runs, import_runs
from engine.store import open_store
from tests.fakes import FakeRuntime


def _student_run(home: Path, monkeypatch: pytest.MonkeyPatch, n: int = 2) -> Path:
    """One student's machine: its own TALAB_HOME and database, a probe run, exported."""
    monkeypatch.setenv("TALAB_HOME", str(home))
    lab = Lab(LabConfig(), runtime_factory=FakeRuntime)
    lab.probe(["base", "prompted"], limit=n)
    out = home / "runs.json"
    assert export_runs(lab.store, [], out) == 1
    lab.store.close()
    return out


def test_runs_from_two_students_pool_once_each_with_their_origin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = _student_run(tmp_path / "alice", monkeypatch)
    bob = _student_run(tmp_path / "bob", monkeypatch, n=3)
    teacher = open_store(tmp_path / "teacher.db")
    first = import_runs(teacher, alice)
    assert len(first.imported) == 1 and first.skipped == 0
    assert import_runs(teacher, bob).imported and import_runs(teacher, alice).skipped == 1  # idempotent
    runs = teacher.list_runs()
    assert len(runs) == 2 and sorted(r["n_answers"] for r in runs) == [4, 6]
    for run in runs:
        assert run["origin"]["machine"] == os.uname().nodename and run["origin"]["server"] is None
        assert all(a["source"] == "local" for a in teacher.answers(run["id"]))
        assert run["summary"]  # the scores came along


def test_a_broken_manifest_imports_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alice = _student_run(tmp_path / "alice", monkeypatch)
    bob = _student_run(tmp_path / "bob", monkeypatch)
    doc = json.loads(alice.read_text())
    doc["runs"].append(json.loads(bob.read_text())["runs"][0])
    doc["runs"][1]["answers"][0]["answer"] = "edited after the fact"
    both = tmp_path / "both.json"
    both.write_text(json.dumps(doc))
    teacher = open_store(tmp_path / "teacher.db")
    with pytest.raises(StoreError) as err:
        import_runs(teacher, both)
    assert "run 2 has a broken manifest (checksum mismatch" in str(err.value)
    assert teacher.list_runs() == []  # not half-imported: run 1 was fine but is not there either
    del doc["runs"][1]["manifest"]["uuid"]
    both.write_text(json.dumps(doc))
    with pytest.raises(StoreError, match="missing uuid"):
        import_runs(teacher, both)


def test_a_newer_export_is_refused_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alice = _student_run(tmp_path / "alice", monkeypatch)
    doc = json.loads(alice.read_text())
    doc["migrations"].append("m099_something_new")
    alice.write_text(json.dumps(doc))
    monkeypatch.setenv("TALAB_HOME", str(tmp_path / "teacher"))
    assert main(["import", str(alice)]) == 2
    assert open_store().list_runs() == []


def test_cli_export_and_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    _student_run(tmp_path / "alice", monkeypatch)
    out = tmp_path / "alice.json"
    assert main(["export-runs", "1", "-o", str(out)]) == 0
    monkeypatch.setenv("TALAB_HOME", str(tmp_path / "teacher"))
    assert main(["import", str(out), str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "1 run(s) imported (ids 1), 0 already here" in lines[1]
    assert "0 run(s) imported (ids none), 1 already here" in lines[2]
    (tmp_path / "junk.json").write_text("{not json")
    assert main(["import", str(tmp_path / "junk.json")]) == 2
    assert "broken JSON" in capsys.readouterr().err


def test_a_legacy_database_gains_uuids_origins_and_sources(tmp_path: Path) -> None:
    """A database from before m004: its runs get a uuid each (so they export and import once)."""
    from engine.store.migrations import m001_initial, m002_run_summary, m003_run_pid

    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    db["_talab_migrations"].create({"name": str, "applied_at": str}, pk="name")
    for fn in (m001_initial, m002_run_summary, m003_run_pid):
        fn(db)
        db["_talab_migrations"].insert({"name": fn.__name__, "applied_at": "2026-01-01"})
    db["runs"].insert_all([{"id": 1, "status": "done", "kind": "probe"}, {"id": 2, "status": "done"}])
    db["answers"].insert({"id": 1, "run_id": 1, "persona_id": "base", "probe_id": "p1", "answer": "hi"})
    db.close()
    store = open_store(path)
    uuids = {r["uuid"] for r in store.list_runs()}
    assert len(uuids) == 2 and None not in uuids
    assert store.answers(1)[0]["source"] == "local"
    with pytest.raises(Exception, match="UNIQUE"):
        store.db["runs"].insert({"id": 3, "uuid": next(iter(uuids))})
