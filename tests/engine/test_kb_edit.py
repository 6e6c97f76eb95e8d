"""Editing the KB: every problem with its line, saves that never replace a good KB with a bad one."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import KBError
from engine.kb import kb_path, load_kb, shipped_kb_path, user_kb_path
from engine.kb_edit import check_kb_text, revert_kb, save_kb_text


def _shipped(lang: str = "en") -> str:
    return shipped_kb_path(lang=lang).read_text(encoding="utf-8")


def _line(text: str, needle: str) -> int:
    return next(i for i, s in enumerate(text.splitlines(), 1) if needle in s)


def test_the_shipped_kbs_check_clean_and_render_their_prompt() -> None:
    for lang in ("en", "zh-TW"):
        check = check_kb_text(_shipped(lang), Path("kb.yaml"), lang)
        assert check.ok, check.problems
        assert load_kb(lang=lang).system_prompt == check.prompt


def test_every_problem_is_listed_with_its_field_and_line() -> None:
    text = _shipped()
    bad = text.replace("week: 1,", "week: first,").replace("weight: 80", "weight: 81")
    problems = check_kb_text(bad, Path("kb.yaml"), "en").problems
    located = {(p.field, p.line) for p in problems}
    assert ("schedule.0.week", _line(text, "week: 1,")) in located
    assert ("grading", _line(text, "grading:")) in located  # the weights sum points at its section
    assert str(problems[0]).startswith(f"kb.yaml:{_line(text, 'week: 1,')}: field 'schedule.0.week'")


def test_yaml_syntax_errors_give_the_line() -> None:
    (problem,) = check_kb_text("language: en\ncourse: {title: x\nta: 3\n", Path("kb.yaml"), "en").problems
    assert problem.line == 3
    assert "expected ','" in problem.message


def test_a_kb_in_the_wrong_language_slot_is_refused() -> None:
    (problem,) = check_kb_text(_shipped("en"), Path("kb.yaml"), "zh-TW").problems
    assert problem.field == "language"
    assert problem.line == _line(_shipped("en"), "language: en")


def test_save_writes_the_users_copy_which_the_lab_then_loads() -> None:
    edited = _shipped().replace("name: Xiao Jin", "name: Xiao Yin")
    target = save_kb_text(edited, "en")
    assert target == user_kb_path(lang="en")
    assert kb_path(lang="en") == target
    assert load_kb(lang="en").data.ta.name == "Xiao Yin"
    assert "Xiao Jin" in _shipped()  # the shipped KB is never written
    assert [p.name for p in target.parent.iterdir()] == ["en.yaml"]  # no temp file left behind
    assert target.stat().st_mode & 0o777 == 0o644  # not the temp file's private mode


def test_save_refuses_errors_and_keeps_the_good_copy() -> None:
    good = save_kb_text(_shipped().replace("name: Xiao Jin", "name: Xiao Yin"), "en").read_bytes()
    with pytest.raises(KBError, match=r"Not saved.*field 'grading.0.weight'"):
        save_kb_text(_shipped().replace("weight: 80", "weight: lots"), "en")
    assert user_kb_path(lang="en").read_bytes() == good


def test_revert_returns_to_the_shipped_kb_and_keeps_a_backup() -> None:
    assert revert_kb("en") is None  # nothing to revert
    save_kb_text(_shipped().replace("name: Xiao Jin", "name: Xiao Yin"), "en")
    backup = revert_kb("en")
    assert backup is not None and "Xiao Yin" in backup.read_text(encoding="utf-8")
    assert kb_path(lang="en") == shipped_kb_path(lang="en")
    assert load_kb(lang="en").data.ta.name == "Xiao Jin"
