"""Course knowledge bases: both languages load, errors point at file/field/line, prompts render."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import KBError
from engine.kb import kb_path, load_kb


@pytest.mark.parametrize("lang", ["en", "zh-TW"])
def test_default_course_loads_in_both_languages(lang: str) -> None:
    kb = load_kb(lang=lang)
    assert kb.language == lang
    assert kb.data.sample is True
    assert kb.data.ta.name in kb.system_prompt
    assert kb.data.homework[0].due.split(" ")[0] in kb.system_prompt
    assert sum(g.weight for g in kb.data.grading) == 100
    assert len(kb.sha256) == 64


def test_both_languages_share_the_same_facts() -> None:
    en, zh = load_kb(lang="en").data, load_kb(lang="zh-TW").data
    assert [h.due for h in en.homework] == [h.due for h in zh.homework]
    assert [g.weight for g in en.grading] == [g.weight for g in zh.grading]
    assert [s.date for s in en.schedule] == [s.date for s in zh.schedule]


def test_prompt_carries_the_behaviour_rules() -> None:
    kb = load_kb(lang="en")
    for rule in kb.data.rules:
        assert rule.strip() in kb.system_prompt


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = kb_path(lang="en").read_text(encoding="utf-8")
    assert old in text
    out = tmp_path / "kb.yaml"
    out.write_text(text.replace(old, new, 1), encoding="utf-8")
    return out


def test_wrong_type_names_field_and_line(tmp_path: Path) -> None:
    text = kb_path(lang="en").read_text(encoding="utf-8")
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "week: 1," in s)
    bad = _broken(tmp_path, "week: 1,", "week: first,")
    with pytest.raises(KBError, match=rf"kb.yaml:{line}: field 'schedule.0.week'"):
        load_kb(bad)


def test_unknown_field_is_a_typo_not_ignored(tmp_path: Path) -> None:
    bad = _broken(tmp_path, "course:\n", "course:\n  instrutor_phone: 123\n")
    with pytest.raises(KBError, match=r"field 'course.instrutor_phone': Extra inputs"):
        load_kb(bad)


def test_missing_required_section(tmp_path: Path) -> None:
    out = tmp_path / "kb.yaml"
    out.write_text("language: en\n", encoding="utf-8")
    with pytest.raises(KBError, match=r"kb.yaml:1: field 'course': Field required"):
        load_kb(out)


def test_weights_must_add_up(tmp_path: Path) -> None:
    text = kb_path(lang="en").read_text(encoding="utf-8")
    import re

    bad = tmp_path / "kb.yaml"
    bad.write_text(
        re.sub(r"weight: (\d+)", lambda m: f"weight: {int(m.group(1)) + 1}", text, count=1), encoding="utf-8"
    )
    with pytest.raises(KBError, match="grading weights add up to 101"):
        load_kb(bad)


def test_malformed_yaml_gives_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "kb.yaml"
    bad.write_text("language: en\ncourse: {title: x\nta: 3\n", encoding="utf-8")
    with pytest.raises(KBError, match=r"kb.yaml:\d+: invalid YAML"):
        load_kb(bad)


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(KBError, match="File not found"):
        load_kb(tmp_path / "none.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(KBError, match="the file is empty"):
        load_kb(empty)


@pytest.mark.integration
def test_prompt_fits_the_context_with_room_to_answer(runtime) -> None:  # type: ignore[no-untyped-def]
    n = runtime.count_tokens(load_kb(lang="en").system_prompt)
    assert 100 < n < runtime.n_ctx // 2
