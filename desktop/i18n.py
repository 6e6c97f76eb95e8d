"""The UI language: an English → 繁體中文 dictionary, looked up with ``tr()``.

Qt's .ts/.qm tool chain would need lrelease at build time for a few hundred
strings; a dictionary keeps the translation reviewable in one file
(desktop/i18n_zh_tw.py). English text is the key, so a missing entry falls
back to English instead of a blank. Views look strings up when they build
their widgets: the window is built after ``set_ui_language()``, and only tabs
and menus are re-translated live.
"""

from __future__ import annotations

from desktop.i18n_zh_tw import ZH_TW as _ZH_TW

UI_LANGUAGES = {"en": "English", "zh-TW": "繁體中文"}

_current = "en"


def set_ui_language(code: str) -> None:
    global _current
    _current = code if code in UI_LANGUAGES else "en"


def ui_language() -> str:
    return _current


def tr(text: str, **fields: object) -> str:
    """Translate, then fill ``{fields}``: translators may reorder them."""
    out = _ZH_TW.get(text, text) if _current == "zh-TW" else text
    return out.format(**fields) if fields else out


def persona_name(name: str) -> str:
    """Persona names come from personas.yaml in English; "Merged α=0.5" keeps its α, the word is translated.

    Idempotent, so a name already shown translated (a check box's text) can pass through again.
    """
    if name.startswith("Edited: "):  # edit:NAME personas carry the edit's own name
        return tr("Edited: {name}", name=name.removeprefix("Edited: "))
    head, sep, scale = name.partition(" α=")
    return f"{tr(head)}{sep}{scale}"


def retranslated(text: str) -> str:
    """The text in the current language, whichever language it was shown in before."""
    english = next((en for en, zh in _ZH_TW.items() if zh == text), text)
    return tr(english)
