"""Editing a course KB safely: check text before it is a file, save atomically, revert.

A TA edits the KB minutes before class. A half-typed edit must never replace
the KB the personas are using, and a crash mid-write must never leave a
truncated file: so text is validated in memory first, then written to a
temporary file in the same directory and moved over the old one with
``os.replace`` (atomic on POSIX and Windows).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import KBError
from engine.kb import DEFAULT_COURSE, KnowledgeBase, render_prompt, shipped_kb_path, user_kb_path
from engine.yamlio import Issue, YAMLSyntaxError, compose_yaml, issues


@dataclass
class KBCheck:
    """The outcome of checking editor text: the rendered prompt, or every problem with its line."""

    prompt: str | None = None
    problems: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.prompt is not None and not self.problems


def check_kb_text(text: str, path: Path, lang: str | None = None) -> KBCheck:
    """Validate KB text as the loader would, plus that it is in the language slot it is saved to."""
    try:
        data, lines = compose_yaml(text, path)
    except YAMLSyntaxError as exc:
        return KBCheck(problems=[Issue(path, exc.line, "(YAML syntax)", exc.problem)])
    kb, found = issues(KnowledgeBase, data, path, lines)
    if kb is None:
        return KBCheck(problems=found)
    if lang is not None and kb.language != lang:
        message = f"this is the {lang} KB, not '{kb.language}'"
        wrong = Issue(path, lines.get(("language",)), "language", message)
        return KBCheck(problems=[wrong])
    try:
        return KBCheck(prompt=render_prompt(kb))
    except KBError as exc:
        return KBCheck(problems=[Issue(path, None, "(template)", str(exc))])


def save_kb_text(text: str, lang: str, course: str = DEFAULT_COURSE) -> Path:
    """Save to the user's copy, refusing text with errors so a good KB is never replaced by a bad one."""
    target = user_kb_path(course, lang)
    check = check_kb_text(text, target, lang)
    if not check.ok:
        more = f" (and {len(check.problems) - 1} more)" if len(check.problems) > 1 else ""
        raise KBError(f"Not saved, the KB has errors: {check.problems[0]}{more}")
    atomic_write(target, text)
    return target


def atomic_write(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp makes the file private (0600); keep the mode the KB had, or an ordinary file's
        os.chmod(tmp, target.stat().st_mode & 0o777 if target.exists() else 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def revert_kb(lang: str, course: str = DEFAULT_COURSE) -> Path | None:
    """Go back to the shipped KB; the edited copy is kept as ``<lang>.yaml.bak``, never deleted."""
    user = user_kb_path(course, lang)
    if not user.is_file():
        return None
    backup = user.with_name(user.name + ".bak")
    os.replace(user, backup)
    return backup


def shipped_text(lang: str, course: str = DEFAULT_COURSE) -> str:
    return shipped_kb_path(course, lang).read_text(encoding="utf-8")
