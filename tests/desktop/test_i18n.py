"""The UI language: who picks 繁體中文 reads no English the desktop wrote, and English stays English.

The window walk reads what a person sees (labels, buttons, group titles, tab
titles, table headers, combo items, placeholders, tool tips, the status bar)
after a question and a probe run have filled it. Data is not the UI's to
translate and is taken out first: model and course names, paths, the
suggested questions, and the reasons the engine gives for an unavailable persona.
"""

from __future__ import annotations

import ast
import html
import re
import string
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QProgressBar,
    QSpinBox,
    QTabBar,
    QTableView,
    QTextEdit,
    QWidget,
)

from desktop.i18n import persona_name, set_ui_language, tr, ui_language
from desktop.i18n_zh_tw import ZH_TW
from engine.kb import load_kb
from engine.lab import PersonaInfo
from engine.personas import load_personas, with_scale

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform, a shown dialog

DESKTOP = Path(__file__).resolve().parents[2] / "desktop"
REPO = DESKTOP.parent
#: technical tokens a Taiwanese ML course writes in English (lower case), and model / adapter names
ALLOWED = {
    "token", "tokens", "tok", "lora", "gguf", "ttft", "ctrl", "esc", "enter", "alt", "shift", "jsonl",
    "csv", "html", "torch", "cpu", "top_p", "talab_home", "english", "smollm", "instruct", "gemma",
    "xiaojin", "edit", "rome", "mlp",
}  # fmt: skip
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


@pytest.fixture
def ui_zh(talab_home: Path) -> Iterator[None]:
    """UI language 繁體中文 saved before the window is built, as after choosing it and restarting."""
    from desktop.app import settings

    s = settings()
    s.setValue("ui_lang", "zh-TW")
    s.sync()
    yield
    set_ui_language("en")  # module state: the next test starts in English


@pytest.fixture
def zh_window(ui_zh: None, window: Any) -> Any:
    assert ui_language() == "zh-TW"
    return window


# -- reading the window --------------------------------------------------------------------------
def _widget_texts(w: QWidget) -> list[str]:
    out = [w.toolTip()]
    if isinstance(w, QLabel | QAbstractButton):
        out.append(w.text())
    if isinstance(w, QGroupBox):
        out.append(w.title())
    if isinstance(w, QTabBar):
        out += [w.tabText(i) for i in range(w.count())]
    if isinstance(w, QComboBox):
        out += [w.itemText(i) for i in range(w.count())]
    if isinstance(w, QLineEdit | QPlainTextEdit | QTextEdit):
        out.append(w.placeholderText())
    if isinstance(w, QAbstractSpinBox):
        out.append(w.specialValueText())
    if isinstance(w, QSpinBox):
        out.append(w.suffix())
    if isinstance(w, QProgressBar):
        out.append(w.format())
    if isinstance(w, QListWidget):
        out += [w.item(i).text() for i in range(w.count())]
    if isinstance(w, QTableView):
        model = w.model()
        for orientation, header, count in (
            (Qt.Orientation.Horizontal, w.horizontalHeader(), model.columnCount()),
            (Qt.Orientation.Vertical, w.verticalHeader(), model.rowCount()),
        ):
            if not header.isHidden():
                out += [str(model.headerData(i, orientation) or "") for i in range(count)]
    return out


def shown_texts(root: QWidget) -> list[str]:
    """Every text of ``root`` and of its children that would show with it."""
    widgets = [root, *(w for w in root.findChildren(QWidget) if w.isVisibleTo(root))]
    return [t for w in widgets for t in _widget_texts(w) if t]


def window_texts(win: Any) -> list[str]:
    """Each tab in turn, with the bars around it, the menus and the status bar."""
    texts = [win.windowTitle(), win.statusBar().currentMessage()]
    for i in range(win.tabs.count()):
        win.tabs.setCurrentIndex(i)
        texts += shown_texts(win)
    pending = list(win.menuBar().actions())
    while pending:
        action = pending.pop()
        texts.append(action.text())
        menu = action.menu()
        pending += menu.actions() if menu else []
    return texts


def _data(win: Any) -> list[str]:
    """What the window shows but did not write: it stays in the language it was written in."""
    from desktop.prefs import BUNDLED_MODELS
    from desktop.views.compare import SUGGESTIONS

    return [
        str(win.info.model), str(win.info.kb_title), "TA Lab", *BUNDLED_MODELS,
        *(question for _, question in SUGGESTIONS),
        *(p.reason for p in win.info.personas if p.reason),
    ]  # fmt: skip


def english_left(texts: list[str], data: list[str]) -> list[str]:
    """Texts with an English word of 3+ letters that is neither a technical token nor data."""
    left = []
    for text in texts:
        plain = html.unescape(re.sub(r"<[^>]+>", " ", text))  # rich text: tags and &nbsp; are not words
        for d in sorted(data, key=len, reverse=True):
            plain = plain.replace(d, " ")
        plain = re.sub(r"\S*[/\\]\S*", " ", plain)  # paths (and tok/s, which is allowed anyway)
        if any(w.lower() not in ALLOWED for w in re.findall(r"[A-Za-z_]{3,}", plain)):
            left.append(text)
    return sorted(set(left))


def _fill(win: Any, qtbot: Any, finished: str) -> None:
    """A probe run, an asked question and the History tab with a row: the texts shown only after use."""
    win.probes.limit.setValue(1)
    win.probes.run_button.click()
    qtbot.waitUntil(lambda: finished in win.probes.status.text(), timeout=20_000)
    qtbot.waitUntil(win.compare.ask_button.isEnabled, timeout=10_000)  # "not busy" follows the result
    win.compare.question.setText("Who are you?")
    win.compare.ask_button.click()
    cols = win.compare.columns
    qtbot.waitUntil(
        lambda: bool(cols) and all("tok/s" in c.stats.text() for c in cols.values()), timeout=10_000
    )
    qtbot.waitUntil(lambda: bool(win.statusBar().currentMessage()), timeout=5_000)
    win.tabs.setCurrentWidget(win.history)
    win.history.table.selectRow(0)


# -- the whole window ----------------------------------------------------------------------------
def test_every_tab_the_offer_bar_and_the_status_bar_speak_traditional_chinese(
    zh_window: Any, qtbot: Any
) -> None:
    win = zh_window
    _fill(win, qtbot, "已完成")
    texts = window_texts(win)
    assert len(texts) > 150  # the walk did read the window
    assert english_left(texts, _data(win)) == []
    # and what it read is the translation, not something that merely lacks English
    assert [win.tabs.tabText(i) for i in range(win.tabs.count())] == [
        "比較(&C)", "測試題(&P)", "紀錄(&H)", "訓練(&T)", "課程知識庫(&K)", "模型編輯(&E)", "適配器縮放(&S)",
    ]  # fmt: skip
    assert win.offer.train_now.text() == "立即訓練" and win.offer.isVisibleTo(win)
    assert win.compare.picker.boxes["base"].text() == "基礎模型"
    assert win.compare.columns["prompted"].title() == "提示型助教"
    assert win.compare.columns["prompted"].setup.text() == "系統提示 ✓\n無適配器"
    assert "首個 token" in win.compare.columns["base"].stats.text()
    grid = win.probes.grid
    assert [grid.horizontalHeaderItem(c).text() for c in range(2)] == ["類別", "問題"]
    assert grid.item(0, 2).text() in ("✓ 通過", "✗ 未通過")
    assert win.probes.figures.verticalHeaderItem(2).text() == "相對基礎模型的遺忘"
    assert "系統提示" in win.model_label.text() and "Machine Learning 2025" in win.model_label.text()
    assert win.statusBar().currentMessage().startswith("回答已儲存")
    assert win.history.table.item(0, 2).text() == "提問"  # kind, newest first: the question


def test_english_stays_english_by_default(window: Any, qtbot: Any) -> None:
    assert ui_language() == "en"
    _fill(window, qtbot, "finished")
    texts = window_texts(window)
    chinese = [t for t in texts if CJK.search(t.replace("繁體中文", ""))]  # a language names itself
    assert chinese == []
    assert window.tabs.tabText(0) == "&Compare" and window.compare.ask_button.text() == "Ask"
    assert window.compare.columns["base"].setup.text() == "no system prompt\nno adapter"
    assert window.probes.grid.horizontalHeaderItem(0).text() == "Category"
    assert window.statusBar().currentMessage().startswith("Answers saved as run")


def test_the_settings_dialog_speaks_traditional_chinese_and_says_what_waits_for_a_restart(
    zh_window: Any,
) -> None:
    dialog = zh_window.open_settings()
    try:
        note = dialog.ui_lang_note.text()
        assert "after a restart" in note and "重新啟動後" in note  # readable whichever language is on
        texts = [t for t in shown_texts(dialog) if t != note]
        assert english_left(texts, _data(zh_window)) == []
        assert dialog.windowTitle() == "設定"
    finally:
        dialog.reject()


def test_a_scaled_persona_is_titled_from_its_fields_never_from_its_name(ui_zh: None) -> None:
    from desktop.views.probe_grid import display_name

    merged = load_personas(load_kb(lang="en"))["merged"]
    scaled = PersonaInfo.of(with_scale(merged, 0.3))
    assert (scaled.name, scaled.base_name, scaled.name_scale) == ("Merged α=0.3", "Merged", 0.3)
    names = {"merged": PersonaInfo.of(merged)}
    for lang, title in (("en", "Merged α=0.3"), ("zh-TW", "合併 α=0.3")):
        set_ui_language(lang)
        assert display_name("merged:0.3", names) == persona_name(scaled.base_name, scaled.name_scale) == title
    own = replace(names["merged"], base_name="Mix α=half")  # a teacher's name is taken whole, never cut
    assert display_name("merged:0.3", {"merged": own}) == "Mix α=half α=0.3"


def test_persona_names_and_categories_are_translated_where_they_are_shown(ui_zh: None) -> None:
    from desktop.views.probe_grid import display_name
    from desktop.views.probes import category_label, eta_text

    set_ui_language("zh-TW")
    names = {p.id: PersonaInfo.of(p) for p in load_personas(load_kb(lang="en")).values()}
    assert display_name("merged:0.35", names) == "合併 α=0.35"
    assert display_name("merged", names) == "合併 α=0.5"
    assert display_name("prompted", names) == "提示型助教"
    assert persona_name(persona_name("Fine-tuned + prompt")) == "微調 + 提示"  # shown twice, same text
    assert persona_name("My own TA") == "My own TA"  # a persona the teacher added keeps its name
    assert category_label("overgeneralisation") == "過度泛化"
    assert eta_text(190) == "約剩 3 分鐘"


# -- the dictionary -------------------------------------------------------------------------------
def test_tr_falls_back_to_english_and_fills_fields(ui_zh: None) -> None:
    set_ui_language("zh-TW")
    assert tr("Run {run_id} finished.", run_id=7) == "第 7 次執行已完成。"
    assert tr("A sentence nobody translated, {n} times", n=3) == "A sentence nobody translated, 3 times"
    assert tr("{n} / {ctx} tokens", ctx=2048, n=5) == "5 / 2048 個 token"
    set_ui_language("en")
    assert tr("Run {run_id} finished.", run_id=7) == "Run 7 finished."
    set_ui_language("klingon")
    assert ui_language() == "en"


def _literal_keys() -> dict[str, str]:
    """Every string the desktop code passes to tr() literally (both arms of a conditional too)."""
    keys: dict[str, str] = {}
    for file in sorted(DESKTOP.rglob("*.py")):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "tr":
                arg = node.args[0]
                arms = [arg.body, arg.orelse] if isinstance(arg, ast.IfExp) else [arg]
                for a in arms:
                    if isinstance(a, ast.Constant) and isinstance(a.value, str):
                        keys.setdefault(a.value, f"{file.name}:{node.lineno}")
    return keys


def _data_keys() -> list[str]:
    """Strings that reach tr() through a variable: names from data files and the engine's words."""
    from desktop.prefs import BUNDLED_MODELS
    from desktop.views.compare import SUGGESTIONS
    from desktop.views.first_run import TEXT
    from desktop.views.history import COLUMNS
    from desktop.views.train import INTRO
    from engine.finetune.dataset import KINDS
    from engine.scoring import CATEGORIES, FIGURES
    from engine.sweep import CURVE

    personas = yaml.safe_load((REPO / "course_kb" / "personas.yaml").read_text(encoding="utf-8"))["personas"]
    return [
        TEXT, INTRO, *COLUMNS, *BUNDLED_MODELS.values(), *(label for label, _ in SUGGESTIONS),
        *(label for _, label in FIGURES), *(c.replace("_", " ") for c in CATEGORIES), "over-generalisation",
        *(label for _, _, label in CURVE),
        *KINDS, "ask", "probe", "done", "running", "cancelled", "interrupted",
        "contains any", "not contains", "regex", "refusal", "similar", "relevance", "spill over",
        *(p["name"] for p in personas), *(p["role"] for p in personas),
    ]  # fmt: skip


def test_every_string_the_desktop_translates_has_a_traditional_chinese_entry() -> None:
    literal = _literal_keys()
    assert len(literal) > 150  # the scan found the code's strings
    missing = [f"{where}: {key!r}" for key, where in literal.items() if key not in ZH_TW]
    missing += [repr(key) for key in _data_keys() if key not in ZH_TW]
    assert missing == []


def test_every_translation_keeps_its_fields_and_its_shortcut_names() -> None:
    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    wrong = [key for key, zh in ZH_TW.items() if fields(key) != fields(zh) or not zh.strip()]
    for token in ("Ctrl+", "Esc", "Alt+", "F5", "&"):  # shortcuts and menu mnemonics survive
        wrong += [key for key, zh in ZH_TW.items() if key.count(token) != zh.count(token)]
    assert wrong == []
