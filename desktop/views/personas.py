"""Widgets shared by the views: persona check boxes and start/stop button pairs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QWidget

from desktop.i18n import persona_name, tr
from engine.lab import PersonaInfo


class PersonaPicker(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(QLabel(tr("Personas:")))
        self.boxes: dict[str, QCheckBox] = {}
        self._layout.addStretch(1)

    def set_personas(self, personas: Sequence[PersonaInfo], checked: list[str]) -> None:
        for box in self.boxes.values():
            box.deleteLater()
        self.boxes.clear()
        for i, p in enumerate(personas):
            name = persona_name(p.name)  # the engine's names are English: the UI translates them
            box = QCheckBox(name)
            box.setObjectName(f"persona-{p.id}")
            box.setEnabled(p.available)
            box.setChecked(p.available and p.id in checked)
            box.setToolTip(tr(p.role) if p.available else tr("Unavailable: {reason}", reason=p.reason))
            if not p.available:
                box.setText(tr("{name} (not trained)", name=name))
            box.toggled.connect(self.changed)
            self._layout.insertWidget(1 + i, box)
            self.boxes[p.id] = box

    def selected(self) -> list[str]:
        return [pid for pid, box in self.boxes.items() if box.isChecked() and box.isEnabled()]

    def name(self, pid: str) -> str:
        box = self.boxes.get(pid)
        return box.text() if box else pid


def start_stop_buttons(
    start: tuple[str, str], stop: tuple[str, str], on_start: Callable[[], None], on_stop: Any
) -> tuple[QPushButton, QPushButton]:
    """A (label, tooltip) start button and a stop button that is disabled until work runs.

    ``on_stop`` may be a signal: connecting signal to signal drops ``clicked``'s argument.
    """
    start_button = QPushButton(start[0])
    start_button.setToolTip(start[1])
    start_button.clicked.connect(on_start)
    stop_button = QPushButton(stop[0])
    stop_button.setToolTip(stop[1])
    stop_button.setEnabled(False)
    stop_button.clicked.connect(on_stop)
    return start_button, stop_button
