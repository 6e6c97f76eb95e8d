"""Course-fact probes come from the KB: every fact gets one, and a KB edit changes question and answer."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from engine.kb import load_kb
from engine.probes import load_probe_set
from engine.probes_kb import kb_fact_probes
from engine.scoring import CATEGORIES, check, passed


def test_the_default_suite_has_twenty_probes_per_category_and_language() -> None:
    probes = load_probe_set()
    for lang in ("en", "zh-TW"):
        counts = Counter(p.category for p in probes.select(lang=lang))
        assert {c: n for c, n in counts.items() if n < 20} == {} and set(counts) == set(CATEGORIES)


def test_every_kb_fact_gets_a_probe_with_the_kb_answer() -> None:
    en, zh = load_kb(lang="en"), load_kb(lang="zh-TW")
    probes = {p.id: p for p in kb_fact_probes({"en": en, "zh-TW": zh})}
    for hw in en.data.homework:
        assert hw.due.split()[0] in probes[f"fact-{hw.id.lower()}-due"].assertions.contains_any  # type: ignore[operator]
        assert hw.released in probes[f"fact-{hw.id.lower()}-release"].assertions.contains_any  # type: ignore[operator]
    assert [p for p in probes if p.startswith("fact-grading-") and "note" not in p] == [
        f"fact-grading-{i + 1}" for i in range(len(en.data.grading))
    ]
    assert "10%" in probes["fact-grading-note-1"].assertions.contains_any  # type: ignore[operator]
    assert len([p for p in probes if p.startswith("fact-office-hours-")]) == 2 * len(en.data.office_hours)
    assert len([p for p in probes if p.startswith("fact-add-course-")]) == len(en.data.add_course)
    assert "Prof. Lee" in probes["fact-instructor"].assertions.contains_any  # type: ignore[operator]
    assert "小金" in probes["fact-ta"].assertions.contains_any  # type: ignore[operator]
    assert all(set(p.question) == {"en", "zh-TW"} for p in probes.values())


def test_a_generated_probe_passes_the_right_fact_and_fails_a_wrong_one() -> None:
    probe = next(p for p in load_probe_set().probes if p.id == "fact-hw3-due")
    rules = probe.assertions.model_dump(exclude_none=True)
    assert passed(check(rules, "HW3 is due on April 18, 2025 at 23:59."))
    assert passed(check(rules, "HW3 的截止時間是 2025-04-18 23:59。"))
    assert not passed(check(rules, "HW3 is due on March 14."))


def test_editing_the_kb_changes_the_generated_probes_and_the_set_hash(tmp_path: Path) -> None:
    src = load_kb(lang="en").path.read_text(encoding="utf-8")
    edited = tmp_path / "en.yaml"
    edited.write_text(src.replace('due: "2025-04-18 23:59"', 'due: "2025-04-25 23:59"'), encoding="utf-8")
    before = load_probe_set()
    after = load_probe_set(kbs={"en": load_kb(edited), "zh-TW": load_kb(lang="zh-TW")})
    hw3 = next(p for p in after.probes if p.id == "fact-hw3-due")
    assert "April 25" in hw3.assertions.contains_any  # type: ignore[operator]
    assert after.sha256 != before.sha256
