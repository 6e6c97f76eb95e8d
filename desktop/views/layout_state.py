"""What of the views' layout goes into QSettings: splitter positions and the ticked personas."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QCheckBox, QSplitter


def restore_splitters(settings: QSettings, splitters: Iterable[QSplitter]) -> None:
    for split in splitters:
        state = settings.value(f"splitter/{split.objectName()}")
        if isinstance(state, QByteArray):
            split.restoreState(state)


def save_splitters(settings: QSettings, splitters: Iterable[QSplitter]) -> None:
    for split in splitters:
        settings.setValue(f"splitter/{split.objectName()}", split.saveState())


def ticked(boxes: dict[str, QCheckBox], before: list[str]) -> list[str]:
    """The ticks to remember, keeping those on personas unavailable now (not trained yet):
    unticking Base must not forget that the fine-tuned columns were wanted once trained."""
    return [p for p, b in boxes.items() if (b.isChecked() if b.isEnabled() else p in before)]
