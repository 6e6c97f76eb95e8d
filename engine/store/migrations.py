"""Ordered schema migrations, recorded in the database (after simonw/llm).

Each function runs once per database, in definition order, and its name is
recorded in ``_talab_migrations``. Never edit a released migration: add a
new one, and add a legacy-schema test for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import sqlite_utils

Migration = Callable[[sqlite_utils.Database], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


def applied(db: sqlite_utils.Database) -> set[str]:
    if "_talab_migrations" not in db.table_names():
        return set()
    return {row["name"] for row in db.table("_talab_migrations").rows}


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply pending migrations; return the names applied now."""
    db.table("_talab_migrations").create({"name": str, "applied_at": str}, pk="name", if_not_exists=True)
    done = applied(db)
    ran = []
    for fn in MIGRATIONS:
        if fn.__name__ in done:
            continue
        with db.conn:
            fn(db)
            db.table("_talab_migrations").insert(
                {"name": fn.__name__, "applied_at": dt.datetime.now(dt.UTC).isoformat()}
            )
        ran.append(fn.__name__)
    return ran


@migration
def m001_initial(db: sqlite_utils.Database) -> None:
    db.table("runs").create(
        {
            "id": int,
            "created_at": str,
            "finished_at": str,
            "status": str,
            "kind": str,
            "model_label": str,
            "model_path": str,
            "model_sha256": str,
            "probe_set": str,
            "probe_set_hash": str,
            "kb_path": str,
            "kb_hash": str,
            "lang": str,
            "personas": str,
            "params": str,
            "seed": int,
            "n_ctx": int,
            "talab_version": str,
        },
        pk="id",
    )
    db.table("answers").create(
        {
            "id": int,
            "run_id": int,
            "persona_id": str,
            "probe_id": str,
            "category": str,
            "question": str,
            "system_prompt": str,
            "prompt": str,
            "answer": str,
            "finish_reason": str,
            "prompt_tokens": int,
            "completion_tokens": int,
            "ttft_s": float,
            "tokens_per_s": float,
            "model_sha256": str,
            "adapters": str,
            "kb_hash": str,
            "params": str,
            "seed": int,
            "passed": int,
            "scores": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id")],
    )
    db.table("answers").create_index(["run_id", "persona_id", "probe_id"], unique=True)


@migration
def m002_run_summary(db: sqlite_utils.Database) -> None:
    """Store the computed summary so `talab runs` need not rescore old runs."""
    db.table("runs").add_column("summary", str)


@migration
def m003_run_pid(db: sqlite_utils.Database) -> None:
    """The process that owns a running run, so a killed one can be shown as interrupted."""
    db.table("runs").add_column("pid", int)


@migration
def m004_run_origin(db: sqlite_utils.Database) -> None:
    """Pooled class results: a run's uuid (import is idempotent by it), its origin, each answer's source.

    Older runs get a fresh uuid here, so a database exported before this migration still imports once.
    """
    import uuid

    runs = db.table("runs")
    runs.add_column("uuid", str)
    runs.add_column("origin", str)
    for (rowid,) in db.execute("select id from runs").fetchall():
        db.execute("update runs set uuid = ? where id = ?", [uuid.uuid4().hex, rowid])
    runs.create_index(["uuid"], unique=True)
    db.table("answers").add_column("source", str)
    db.execute("update answers set source = 'local' where source is null")


@migration
def m005_answer_prefill(db: sqlite_utils.Database) -> None:
    """Which prompt tokens an answer computed and which it reused, and whether it ran batched.

    ``ttft_s`` counts from the request, prefill included, so these say what a TTFT figure is
    made of. Older answers keep NULL: their TTFT left the prefill out and cannot be corrected.
    """
    answers = db.table("answers")
    answers.add_column("prefill_tokens", int)
    answers.add_column("cached_tokens", int)
    answers.add_column("batched", int)
