"""The SQLite store: migrations, WAL, refusal of newer schemas, per-answer commits."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlite_utils

from engine.errors import StoreError
from engine.store import SCHEMA_MAJOR, open_store
from engine.store.migrations import MIGRATIONS


def test_new_database_is_migrated_and_in_wal_mode(talab_home: Path) -> None:
    store = open_store()
    assert store.path == talab_home / "talab.db"
    assert store.db.journal_mode == "wal"
    names = {r["name"] for r in store.db["_talab_migrations"].rows}
    assert names == {fn.__name__ for fn in MIGRATIONS}
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_MAJOR


def test_legacy_schema_gets_the_missing_migrations(tmp_path: Path) -> None:
    """A database from before m002 (no summary column) keeps its data and gains the column."""
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    from engine.store.migrations import m001_initial

    db["_talab_migrations"].create({"name": str, "applied_at": str}, pk="name")
    m001_initial(db)
    db["_talab_migrations"].insert({"name": "m001_initial", "applied_at": "2025-01-01"})
    db["runs"].insert({"id": 1, "status": "done", "kind": "probe"})
    db.close()

    store = open_store(path)
    assert "summary" in store.db["runs"].columns_dict
    assert store.get_run(1)["status"] == "done"


def test_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_MAJOR + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer TA Lab"):
        open_store(path)


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(StoreError, match="not a TA Lab database"):
        open_store(path)


def test_each_answer_is_visible_to_another_connection_at_once(tmp_path: Path) -> None:
    """What a killed process leaves behind: every completed answer, no open transaction."""
    store = open_store(tmp_path / "t.db")
    run_id = store.create_run(kind="probe", personas=["base"], params={"sampling": {"seed": 1}})
    store.add_answer(
        run_id,
        persona_id="base",
        probe_id="p1",
        category="identity",
        answer="hi",
        passed=1,
        scores={"contains_any": {"passed": True}},
    )
    other = sqlite3.connect(tmp_path / "t.db")
    assert other.execute("select answer from answers").fetchall() == [("hi",)]
    assert store.done_pairs(run_id) == {("base", "p1")}
    assert store.answers(run_id)[0]["scores"] == {"contains_any": {"passed": True}}
    assert store.get_run(run_id)["personas"] == ["base"]


def test_unknown_run(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="No run with id 42"):
        open_store(tmp_path / "t.db").get_run(42)


def test_a_run_whose_process_died_reads_as_interrupted(tmp_path: Path) -> None:
    import subprocess
    import sys

    store = open_store(tmp_path / "t.db")
    mine = store.create_run(kind="probe")
    dead = store.create_run(kind="probe")
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    store.db.table("runs").update(dead, {"pid": int(gone.stdout)})
    assert store.get_run(mine)["status"] == "running"  # this process is alive
    assert store.get_run(dead)["status"] == "interrupted"
    store.finish_run(dead, "done")
    assert store.get_run(dead)["status"] == "done"


def test_a_run_owner_is_probed_without_a_signal_on_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """engine/store/db.py: os.kill(pid, 0) sends CTRL_C_EVENT on Windows, so it must not be used there."""
    from engine.store.db import _alive

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)  # fmt: skip
    assert _alive(os.getpid()) is True
    assert _alive(int(gone.stdout)) is False
    assert _alive(None) is False and _alive(0) is False

    def no_signals(pid: int, sig: int) -> None:
        raise AssertionError(f"os.kill({pid}, {sig}) on Windows interrupts that process")

    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(os, "kill", no_signals)
    # no kernel32 here: the Windows probe cannot tell, so it says alive (never resumes a live run twice)
    assert _alive(os.getpid()) is True


def test_a_read_only_open_never_writes_and_migrates_only_a_database_that_needs_it(tmp_path: Path) -> None:
    path = tmp_path / "talab.db"
    store = open_store(path)
    run_id = store.create_run(kind="probe", personas=["base"])
    store.close()
    looking = open_store(path, read_only=True)
    assert looking.get_run(run_id)["kind"] == "probe" and looking.list_runs()[0]["id"] == run_id
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        looking.create_run(kind="ask")
    looking.close()
    fresh = open_store(tmp_path / "new.db", read_only=True)  # nothing there yet: made, then readable
    assert fresh.list_runs() == []
    fresh.close()
    with pytest.raises(StoreError, match="not a TA Lab database"):
        (tmp_path / "junk.db").write_bytes(b"not sqlite at all" * 100)
        open_store(tmp_path / "junk.db", read_only=True)


@pytest.mark.parametrize("read_only", [False, True])
def test_a_locked_database_says_locked_not_broken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_only: bool
) -> None:
    import engine.store.db as store_db

    path = tmp_path / "talab.db"
    open_store(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode = DELETE")  # rollback journal: an exclusive lock blocks readers
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(store_db, "BUSY_TIMEOUT_S", 0.1)
    try:
        with pytest.raises(StoreError) as info:
            open_store(path, read_only=read_only)
        assert "is in use by another program (database is locked)" in str(info.value)
        assert "not a TA Lab database" not in str(info.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_answers_from_before_m005_gain_prefill_columns(tmp_path: Path) -> None:
    """An old answer keeps its data with NULL prefill counts (its TTFT left the prefill out)."""
    from engine.store.migrations import m001_initial, m002_run_summary, m003_run_pid, m004_run_origin

    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    db["_talab_migrations"].create({"name": str, "applied_at": str}, pk="name")
    for fn in (m001_initial, m002_run_summary, m003_run_pid, m004_run_origin):
        fn(db)
        db["_talab_migrations"].insert({"name": fn.__name__, "applied_at": "2026-01-01"})
    db["runs"].insert({"id": 1, "status": "done", "kind": "ask"})
    db["answers"].insert({"id": 1, "run_id": 1, "persona_id": "base", "probe_id": "ask", "ttft_s": 0.08})
    db.close()

    store = open_store(path)
    old = store.answers(1)[0]
    assert old["ttft_s"] == 0.08
    assert (old["prefill_tokens"], old["cached_tokens"], old["batched"]) == (None, None, None)
    store.add_answer(
        1, persona_id="prompted", probe_id="ask", prefill_tokens=12, cached_tokens=540, batched=0
    )
    new = store.answers(1)[1]
    assert (new["prefill_tokens"], new["cached_tokens"], new["batched"]) == (12, 540, 0)
