"""Adding a persona to the user's personas file, ``$TALAB_HOME/personas.yaml``, safely.

The window's persona builder writes here. The new entry is checked the way the
loader will check it (the whole file, not only the new entry, so a hand-edited
mistake elsewhere is reported instead of being carried along), its template is
rendered once, its adapters must exist, and the file is replaced atomically so
a crash never leaves the personas of a class half-written.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from engine import paths
from engine.errors import KBError, PersonaError
from engine.kb import CourseKB, render_template
from engine.personas import BUILTIN_FILE, USER_FILE_NAME, PersonaDef, PersonaFile, adapter_path
from engine.yamlio import load_yaml, validate


def user_file() -> Path:
    return paths.data_dir() / USER_FILE_NAME


def check_persona(data: dict[str, Any], kb: CourseKB | None) -> PersonaDef:
    """One clear line for the first problem, naming the field."""
    if not str(data.get("name") or "").strip():
        raise PersonaError("A persona needs a name")
    try:
        defn = PersonaDef.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        if field == "id":
            raise PersonaError(
                f"Persona id '{data.get('id')}' must start with a lowercase letter or digit and use only "
                "a-z, 0-9, - and _"
            ) from None
        raise PersonaError(f"Persona field '{field}': {err['msg']}") from None
    if defn.system_prompt is not None:
        if not defn.system_prompt.strip():
            raise PersonaError("The system prompt is switched on but empty")
        try:
            render_template(defn.system_prompt, kb)
        except KBError as exc:
            raise PersonaError(str(exc)) from None
    names = [a.name or a.path for a in defn.adapters]
    if len(set(names)) != len(names):
        raise PersonaError("An adapter is listed twice; give it one weight")
    for ref in defn.adapters:
        path = adapter_path(ref, BUILTIN_FILE.parent)
        if not path.exists():
            raise PersonaError(f"No adapter named '{ref.name or ref.path}' (expected at {path})")
    return defn


def _user_entries(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    data, lines = load_yaml(path, PersonaError)
    return [
        p.model_dump(exclude_defaults=True)
        for p in validate(PersonaFile, data, path, lines, PersonaError).personas
    ]


def check_id_free(pid: str, *, replace: bool = False) -> None:
    """Built-in ids are refused (they would hide a column the lecture needs); the user's own only
    with ``replace``."""
    builtin = {p["id"] for p in (yaml.safe_load(BUILTIN_FILE.read_text(encoding="utf-8")) or {})["personas"]}
    if pid in builtin:
        raise PersonaError(f"'{pid}' is a built-in persona; choose another id")
    if not replace and any(e["id"] == pid for e in _user_entries(user_file())):
        raise PersonaError(f"A persona with id '{pid}' exists already in {user_file()}")


def add_persona(defn: PersonaDef, *, replace: bool = False) -> Path:
    """Append ``defn`` (or replace the user's own entry with its id); returns the file written."""
    path = user_file()
    check_id_free(defn.id, replace=replace)
    entries = [e for e in _user_entries(path) if e["id"] != defn.id] + [
        defn.model_dump(exclude_defaults=True)
    ]
    PersonaFile.model_validate({"personas": entries})
    text = "# Your personas (TA Lab's persona builder writes here; edit freely).\n" + yaml.safe_dump(
        {"personas": entries}, allow_unicode=True, sort_keys=False
    )
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".personas-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
