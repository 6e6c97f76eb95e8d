"""Personas ▸ New persona…: a persona built in the window is saved, checked, and shows up at once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from PySide6.QtCore import Qt

from engine import paths
from tests.ggufs import write_lora


@pytest.fixture
def two_adapters(model_info: Any) -> None:
    shapes = {t.name: t.shape for t in model_info.header.tensors}
    write_lora(paths.adapters_dir() / "identity.gguf", shapes, seed=1)
    write_lora(paths.adapters_dir() / "facts.gguf", shapes, seed=2, rank=2)


def user_personas() -> list[dict[str, Any]]:
    file = paths.data_dir() / "personas.yaml"
    return yaml.safe_load(file.read_text(encoding="utf-8"))["personas"] if file.exists() else []


def fill(dlg: Any, name: str, rows: list[tuple[str, float]], method: str = "stack") -> None:
    dlg.name.setText(name)
    for adapter, weight in rows:
        dlg.add_row(adapter, weight)
    dlg.method.setCurrentIndex(dlg.method.findData(method))


def shows_up(window: Any, pid: str) -> bool:
    boxes = (window.compare.picker.boxes.get(pid), window.probes.picker.boxes.get(pid))
    return all(b is not None and b.isEnabled() for b in boxes)


def test_a_stacked_persona_is_saved_and_shows_in_compare_and_probes(window, qtbot, two_adapters) -> None:  # type: ignore[no-untyped-def]
    dlg = window.open_persona_builder()
    fill(dlg, "Identity minus facts", [("identity", 1.0), ("facts", -0.5)])
    assert dlg.pid.text() == "identity-minus-facts"
    dlg.use_prompt.setChecked(True)
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shows_up(window, "identity-minus-facts"), timeout=10_000)
    assert window.compare.picker.boxes["identity-minus-facts"].isChecked()
    (entry,) = user_personas()
    assert entry["system_prompt"] == "{{ kb_prompt }}"
    assert entry["adapters"] == [{"name": "identity"}, {"name": "facts", "scale": -0.5}]
    assert not dlg.isVisible()


def test_a_ties_persona_merges_first_and_records_how(window, qtbot, two_adapters) -> None:  # type: ignore[no-untyped-def]
    dlg = window.open_persona_builder()
    fill(dlg, "Both TIES", [("identity", 1.0), ("facts", 0.8)], method="ties")
    dlg.density.setValue(0.4)
    assert dlg.density.isVisibleTo(dlg) and not dlg.drop.isVisibleTo(dlg)
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shows_up(window, "both-ties"), timeout=60_000)
    (entry,) = user_personas()
    assert entry["adapters"] == [{"name": "both-ties-ties"}]
    assert entry["description"].startswith("ties merge, density 0.4 of 1·identity + 0.8·facts")
    manifest = json.loads((paths.adapters_dir() / "both-ties-ties.json").read_text(encoding="utf-8"))
    assert manifest["method"] == "ties" and manifest["density"] == 0.4 and manifest["rank"] == 6


@pytest.mark.parametrize(
    ("name", "rows", "method", "prompt", "needle"),
    [
        ("", [], "stack", None, "A persona needs a name"),
        ("Base", [], "stack", None, "'base' is a built-in persona"),
        ("Broken", [], "stack", "{{ kb_prompt ", "Cannot render a persona's system prompt"),
        ("Blank", [], "stack", "  ", "switched on but empty"),
        ("Twice", [("identity", 1.0), ("identity", 0.5)], "stack", None, "listed twice"),
        ("Zero", [("identity", 0.0)], "stack", None, "A weight of 0 does nothing"),
        ("Lonely", [("identity", 1.0)], "ties", None, "at least two adapters"),
    ],
)
def test_bad_personas_get_one_clear_line_and_nothing_is_written(  # type: ignore[no-untyped-def]
    window, qtbot, two_adapters, name, rows, method, prompt, needle
) -> None:
    dlg = window.open_persona_builder()
    fill(dlg, name, rows, method)
    if prompt is not None:
        dlg.use_prompt.setChecked(True)
        dlg.prompt.setPlainText(prompt)
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    assert dlg.error.isVisibleTo(dlg) and needle in dlg.error.text(), dlg.error.text()
    assert "\n" not in dlg.error.text() and dlg.isVisible()
    assert user_personas() == [] and not list(paths.adapters_dir().glob("*-ties.gguf"))


def test_the_builder_speaks_traditional_chinese(qtbot, talab_home: Path) -> None:  # type: ignore[no-untyped-def]
    from desktop.i18n import set_ui_language
    from desktop.views.persona_builder import PersonaBuilder

    set_ui_language("zh-TW")
    try:
        dlg = PersonaBuilder()
        qtbot.addWidget(dlg)
        assert dlg.windowTitle() == "新增角色" and dlg.save_button.text() == "儲存角色"
        assert dlg.method.itemText(0) == "執行時疊加（任務算術）"
    finally:
        set_ui_language("en")
