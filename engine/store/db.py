"""Open the TA Lab database: WAL, migrations, and a refusal of newer schemas.

Every answer is committed as soon as it is produced, so a run killed halfway
keeps everything it finished and can be resumed with ``--resume``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

import sqlite_utils

from engine import __version__, paths
from engine.errors import StoreError
from engine.store.migrations import MIGRATIONS, applied, migrate

#: Bump when a change is not readable by older TA Lab versions.
SCHEMA_MAJOR = 1
#: How long a connection waits for another writer before "database is locked" (sqlite3's default).
BUSY_TIMEOUT_S = 5.0

# Windows API constants for _alive_windows
_PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
_ERROR_ACCESS_DENIED = 5
_STILL_ACTIVE = 259


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Store:
    def __init__(self, db: sqlite_utils.Database, path: Path | None) -> None:
        self.db = db
        self.path = path

    # -- runs ------------------------------------------------------------
    def create_run(self, **fields: Any) -> int:
        row = {
            "created_at": _now(),
            "status": "running",
            "pid": os.getpid(),
            "talab_version": __version__,
            **{k: _encode(v) for k, v in fields.items()},
        }
        with self.db.conn:
            table = self.db.table("runs")
            table.insert(row)
            return int(str(table.last_pk))

    def get_run(self, run_id: int) -> dict[str, Any]:
        try:
            row = self.db.table("runs").get(run_id)
        except sqlite_utils.db.NotFoundError:
            raise StoreError(f"No run with id {run_id}; `talab runs` lists them") from None
        return _decode_run(dict(row))

    def finish_run(self, run_id: int, status: str, summary: dict[str, Any] | None = None) -> None:
        with self.db.conn:
            self.db.table("runs").update(
                run_id,
                {"status": status, "finished_at": _now(), "summary": _encode(summary)},
            )

    def reopen_run(self, run_id: int) -> None:
        with self.db.conn:
            self.db.table("runs").update(
                run_id, {"status": "running", "finished_at": None, "pid": os.getpid()}
            )

    def list_runs(self, limit: int = 50) -> list[dict[str, Any]]:
        rows = self.db.query(
            "select runs.*, (select count(*) from answers where answers.run_id = runs.id) "
            "as n_answers from runs order by id desc limit ?",
            [limit],
        )
        return [_decode_run(dict(r)) for r in rows]

    # -- answers ---------------------------------------------------------
    def add_answer(self, run_id: int, **fields: Any) -> None:
        """Insert and commit one answer immediately (crash safety)."""
        row = {"run_id": run_id, "created_at": _now(), **{k: _encode(v) for k, v in fields.items()}}
        with self.db.conn:
            self.db.table("answers").insert(row, replace=True)

    def answers(self, run_id: int) -> list[dict[str, Any]]:
        rows = self.db.table("answers").rows_where("run_id = ?", [run_id], order_by="id")
        return [_decode_answer(dict(r)) for r in rows]

    def done_pairs(self, run_id: int) -> set[tuple[str, str]]:
        rows = self.db.query("select persona_id, probe_id from answers where run_id = ?", [run_id])
        return {(r["persona_id"], r["probe_id"]) for r in rows}

    def close(self) -> None:
        self.db.close()


def _encode(value: Any) -> Any:
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Path):
        return str(value)
    return value


def _json_fields(row: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    for name in names:
        if isinstance(row.get(name), str):
            with contextlib.suppress(ValueError):
                row[name] = json.loads(row[name])
    return row


def _alive(pid: int | None) -> bool:
    """Whether the process that owns a run still exists, so a killed run can read as interrupted."""
    if not pid:
        return False
    if sys.platform == "win32":
        # os.kill(pid, 0) is no probe on Windows: signal 0 is CTRL_C_EVENT and interrupts the process
        return _alive_windows(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _alive_windows(pid: int) -> bool:
    """OpenProcess + GetExitCodeProcess; when unsure, alive: resuming a live run would ask twice."""
    if sys.platform != "win32":  # also tells mypy that the Windows-only ctypes names below exist
        return True
    try:
        import ctypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        handle = kernel32.OpenProcess(_PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
        if not handle:  # no such process, or one we may not open (which exists)
            return bool(ctypes.get_last_error() == _ERROR_ACCESS_DENIED)
        try:
            code = ctypes.c_ulong()
            if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
                return True
            return bool(code.value == _STILL_ACTIVE)
        finally:
            kernel32.CloseHandle(handle)
    except (AttributeError, OSError):  # no kernel32 to ask
        return True


def _decode_run(row: dict[str, Any]) -> dict[str, Any]:
    """A 'running' run whose process is gone was killed: call it interrupted (resumable)."""
    if row.get("status") == "running" and not _alive(row.get("pid")):
        row["status"] = "interrupted"
    return _json_fields(row, ("personas", "params", "summary", "origin"))


def _decode_answer(row: dict[str, Any]) -> dict[str, Any]:
    return _json_fields(row, ("adapters", "params", "scores"))


def _store_error(db_file: Path, exc: sqlite3.Error) -> StoreError:
    """One line that says what is wrong: busy is not broken, and broken is not unreadable."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return StoreError(f"{db_file} is in use by another program (database is locked); try again")
    if isinstance(exc, sqlite3.OperationalError) and "unable to open" in text:
        return StoreError(f"Cannot open {db_file}: check that it exists and may be read ({text})")
    if "not a database" in text or "malformed" in text or "encrypted" in text:
        return StoreError(f"{db_file} is not a TA Lab database ({text})")
    return StoreError(f"{db_file} could not be opened as a TA Lab database ({text})")


def _refuse_newer(conn: sqlite3.Connection, db_file: Path) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_MAJOR:
        conn.close()
        raise StoreError(
            f"{db_file} was written by a newer TA Lab (schema {version}, this version reads "
            f"{SCHEMA_MAJOR}); upgrade TA Lab or set TALAB_HOME to another directory"
        )


def open_store(path: str | Path | None = None, *, read_only: bool = False) -> Store:
    """Open (creating and migrating) the database at ``path`` or the default location.

    ``read_only``: for the views that only look (History, Probes). No migration and no write, so
    looking never takes the writer's lock; a database that does not exist yet or still needs a
    migration is opened the ordinary way once, since there is nothing to read until it is.
    """
    db_file = Path(path) if path is not None else paths.db_path()
    if read_only and db_file.is_file():
        store = _open_read_only(db_file)
        if store is not None:
            return store
    try:
        conn = sqlite3.connect(str(db_file), timeout=BUSY_TIMEOUT_S, check_same_thread=False)
        _refuse_newer(conn, db_file)
        db = sqlite_utils.Database(conn)
        db.enable_wal()
        migrate(db)
        conn.execute(f"PRAGMA user_version = {SCHEMA_MAJOR}")
        conn.commit()
    except sqlite3.Error as exc:
        with contextlib.suppress(UnboundLocalError, sqlite3.Error):
            conn.close()
        raise _store_error(db_file, exc) from None
    return Store(db, db_file)


def _open_read_only(db_file: Path) -> Store | None:
    """None when the database is not migrated up to this version yet (the caller migrates it)."""
    uri = f"{db_file.resolve().as_uri()}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
        _refuse_newer(conn, db_file)
        db = sqlite_utils.Database(conn)
        pending = any(fn.__name__ not in applied(db) for fn in MIGRATIONS)
    except sqlite3.Error as exc:
        with contextlib.suppress(UnboundLocalError, sqlite3.Error):
            conn.close()
        raise _store_error(db_file, exc) from None
    if pending:
        conn.close()
        return None
    return Store(db, db_file)
