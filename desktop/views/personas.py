"""Persona check boxes shared by the Compare and Probes views."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QWidget


class PersonaPicker(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(QLabel("Personas:"))
        self.boxes: dict[str, QCheckBox] = {}
        self._layout.addStretch(1)

    def set_personas(self, personas: list[dict[str, Any]], checked: list[str]) -> None:
        for box in self.boxes.values():
            box.deleteLater()
        self.boxes.clear()
        for i, p in enumerate(personas):
            box = QCheckBox(p["name"])
            box.setObjectName(f"persona-{p['id']}")
            box.setEnabled(p["available"])
            box.setChecked(p["available"] and p["id"] in checked)
            box.setToolTip(p["role"] if p["available"] else f"Unavailable: {p['reason']}")
            if not p["available"]:
                box.setText(f"{p['name']} (not trained)")
            box.toggled.connect(self.changed)
            self._layout.insertWidget(1 + i, box)
            self.boxes[p["id"]] = box

    def selected(self) -> list[str]:
        return [pid for pid, box in self.boxes.items() if box.isChecked() and box.isEnabled()]

    def name(self, pid: str) -> str:
        box = self.boxes.get(pid)
        return box.text() if box else pid
