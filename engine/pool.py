"""Pool a class's runs into one database: export whole runs, import them once each.

An export carries each run's replay manifest (the run row: model, KB and probe-set hashes,
personas, parameters, seed, origin), all its answers, and the training manifests of the
adapters they used, with a checksum per run. Import is idempotent by the run's uuid, keeps the
run's origin (machine, model, server), and is all or nothing: the whole file is checked
before one transaction writes it, so a broken or newer export leaves the database untouched.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine import __version__
from engine.errors import StoreError
from engine.store import Store
from engine.store.db import SCHEMA_MAJOR
from engine.store.migrations import MIGRATIONS, applied

FORMAT = "talab-runs"
FORMAT_VERSION = 1
RUN_KEYS = ("uuid", "kind", "model_sha256", "personas", "created_at")
ANSWER_KEYS = ("persona_id", "probe_id", "answer")
_NOT_COPIED = ("id", "pid", "n_answers")


@dataclass
class ImportResult:
    imported: list[int]  # new run ids in this database
    skipped: int  # runs already here (same uuid)


def _checksum(manifest: dict[str, Any], answers: list[dict[str, Any]]) -> str:
    canonical = json.dumps({"manifest": manifest, "answers": answers}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _raw_rows(store: Store, table: str, where: str, args: list[Any]) -> list[dict[str, Any]]:
    return [dict(r) for r in store.db.table(table).rows_where(where, args, order_by="id")]


def export_runs(store: Store, run_ids: list[int] | None, out: Path) -> int:
    """Write the runs (all when ``run_ids`` is empty) to ``out``; return how many."""
    from engine.finetune.registry import read_manifest

    ids = run_ids or [int(r["id"]) for r in store.db.query("select id from runs order by id")]
    runs = []
    for run_id in ids:
        store.get_run(run_id)  # one clear line for an unknown id
        row = _raw_rows(store, "runs", "id = ?", [run_id])[0]
        manifest = {k: v for k, v in row.items() if k not in _NOT_COPIED}
        answers = [
            {k: v for k, v in a.items() if k not in ("id", "run_id")}
            for a in _raw_rows(store, "answers", "run_id = ?", [run_id])
        ]
        adapters: dict[str, Any] = {}
        for a in answers:
            for ad in json.loads(a.get("adapters") or "[]"):
                path = Path(ad.get("path", ""))
                if ad.get("path") and ad["path"] not in adapters and path.is_file():
                    adapters[ad["path"]] = read_manifest(path)
        runs.append(
            {
                "manifest": manifest,
                "answers": answers,
                "adapters": adapters,
                "checksum": _checksum(manifest, answers),
            }
        )
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "schema": SCHEMA_MAJOR,
        "migrations": sorted(applied(store.db)),
        "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": platform.node(),
        "talab_version": __version__,
        "runs": runs,
    }
    out.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    return len(runs)


def _load(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise StoreError(f"Cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise StoreError(
            f"{path} is not a TA Lab runs export (broken JSON: {exc}); nothing was imported"
        ) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise StoreError(f"{path} is not a TA Lab runs export (talab export-runs writes them)")
    known = {fn.__name__ for fn in MIGRATIONS}
    newer = sorted(set(doc.get("migrations") or []) - known)
    if (
        int(doc.get("format_version", 0)) > FORMAT_VERSION
        or int(doc.get("schema", 0)) > SCHEMA_MAJOR
        or newer
    ):
        raise StoreError(
            f"{path} was exported by a newer TA Lab ({doc.get('talab_version', '?')}, schema "
            f"{doc.get('schema')}{', ' + newer[0] if newer else ''}); upgrade TA Lab to import it"
        )
    return doc


def _check_run(path: Path, index: int, run: Any) -> None:
    def broken(why: str) -> StoreError:
        return StoreError(f"{path}: run {index + 1} has a broken manifest ({why}); nothing was imported")

    if not isinstance(run, dict) or not isinstance(run.get("manifest"), dict):
        raise broken("no manifest")
    manifest, answers = run["manifest"], run.get("answers")
    missing = [k for k in RUN_KEYS if not manifest.get(k)]
    if missing:
        raise broken(f"missing {', '.join(missing)}")
    if not isinstance(answers, list) or not all(isinstance(a, dict) for a in answers):
        raise broken("its answers are not a list")
    bad = next((k for a in answers for k in ANSWER_KEYS if a.get(k) is None), None)
    if bad:
        raise broken(f"an answer has no {bad}")
    if run.get("checksum") != _checksum(manifest, answers):
        raise broken("checksum mismatch: the file was edited or truncated")


def import_runs(store: Store, path: Path) -> ImportResult:
    doc = _load(path)
    runs = doc.get("runs")
    if not isinstance(runs, list):
        raise StoreError(f"{path} has no list of runs; nothing was imported")
    for i, run in enumerate(runs):
        _check_run(path, i, run)
    run_cols = set(store.db.table("runs").columns_dict)
    answer_cols = set(store.db.table("answers").columns_dict)
    for run in runs:
        extra = sorted(
            (set(run["manifest"]) - run_cols) | {k for a in run["answers"] for k in a} - answer_cols
        )
        if extra:
            raise StoreError(f"{path} has fields this TA Lab does not know ({extra[0]}); upgrade TA Lab")
    present = {r["uuid"] for r in store.db.query("select uuid from runs where uuid is not null")}
    imported: list[int] = []
    skipped = 0
    with store.db.conn:  # all or nothing
        for run in runs:
            manifest = dict(run["manifest"])
            if manifest["uuid"] in present:
                skipped += 1
                continue
            origin = manifest.get("origin")
            if not origin:  # a run recorded before origins existed: it came from the exporting machine
                manifest["origin"] = json.dumps(
                    {"machine": doc.get("machine"), "model": manifest.get("model_label"),
                     "model_sha256": manifest.get("model_sha256"), "server": None}
                )  # fmt: skip
            if manifest.get("status") == "running":  # its process is on another machine: resumable there only
                manifest["status"] = "interrupted"
            table = store.db.table("runs")
            table.insert(manifest)
            run_id = int(str(table.last_pk))
            store.db.table("answers").insert_all([{**a, "run_id": run_id} for a in run["answers"]])
            present.add(manifest["uuid"])
            imported.append(run_id)
    return ImportResult(imported, skipped)
