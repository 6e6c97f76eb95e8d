"""The UI language: a small English → 繁體中文 dictionary, looked up with ``tr()``.

Qt's .ts/.qm tool chain would need lrelease at build time for a few dozen
strings; a dictionary keeps the translation reviewable in one file. English
text is the key, so a missing entry falls back to English instead of a blank.
"""

from __future__ import annotations

UI_LANGUAGES = {"en": "English", "zh-TW": "繁體中文"}

_ZH_TW = {
    # tabs and menus
    "&Compare": "比較(&C)",
    "&Probes": "測試題(&P)",
    "&History": "紀錄(&H)",
    "&Train": "訓練(&T)",
    "Course &KB": "課程知識庫(&K)",
    "&View": "檢視(&V)",
    "&File": "檔案(&F)",
    "&Quit": "結束(&Q)",
    "Course &language": "課程語言(&L)",
    "Larger text": "放大文字",
    "Smaller text": "縮小文字",
    "&Presentation mode": "簡報模式(&P)",
    "&Settings…": "設定(&S)…",
    "Loading model…": "載入模型中…",
    "Loading…": "載入中…",
    "No model loaded": "尚未載入模型",
    # KB tab
    "KB language:": "知識庫語言：",
    "Save": "儲存",
    "Revert to the shipped KB": "還原為內建知識庫",
    "Problems": "問題",
    "System prompt preview": "系統提示預覽",
    "No problems: this KB can be saved.": "沒有問題：可以儲存。",
    "Editing your copy: {path}": "編輯您的副本：{path}",
    "Shipped KB. Saving makes your own copy in {path}": ("顯示內建知識庫。儲存時會在 {path} 建立您的副本"),
    "Unsaved changes": "尚未儲存",
    "Saved. The prompted personas now use this KB.": "已儲存。提示型人設已改用此知識庫。",
    "Not saved: fix the problems listed under the editor first. The saved KB is unchanged.": (
        "未儲存：請先修正編輯器下方列出的問題。已儲存的知識庫未變更。"
    ),
    "{n} / {ctx} tokens": "{n} / {ctx} 個 token",
    "≈ {n} / {ctx} tokens (estimate: no model loaded)": "≈ {n} / {ctx} 個 token（估計值：尚未載入模型）",
    "counting tokens…": "計算 token 中…",
    "last valid version": "上一個有效版本",
    "Line {line}, column {col}": "第 {line} 行，第 {col} 欄",
    # settings
    "Settings": "設定",
    "Model": "模型",
    "Threads": "執行緒",
    "Context size": "上下文長度",
    "Temperature": "溫度",
    "Max tokens": "最大 token 數",
    "Seed": "隨機種子",
    "Data directory": "資料目錄",
    "UI language": "介面語言",
    "Presentation mode (large fonts)": "簡報模式（大字體）",
    "GGUF file…": "GGUF 檔案…",
    "Browse…": "瀏覽…",
    "auto": "自動",
}

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


def retranslated(text: str) -> str:
    """The text in the current language, whichever language it was shown in before."""
    english = next((en for en, zh in _ZH_TW.items() if zh == text), text)
    return tr(english)
