"""Personas ▸ New persona…: a name, a system prompt or none, adapters (and edits) with weights.

Adapters can be stacked at run time (task arithmetic: llama.cpp adds each ΔW at its
weight, negative weights subtract a skill) or merged first into a new adapter by
linear, TIES or DARE (engine/merge). The merge is numpy only and takes seconds, so it
runs on a plain thread, not in a subprocess like training. The persona is written to
the user's personas file by engine/persona_file.py; the window then reloads, so it
shows up in Compare and Probes at once.
"""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.i18n import tr
from desktop.views.first_run import tint
from engine import paths
from engine.errors import TalabError
from engine.kb import CourseKB

#: (engine method, label): "stack" is no merge at all, the adapters applied together at run time.
METHODS = [
    ("stack", "Stack at run time (task arithmetic)"),
    ("linear", "Linear merge into a new adapter"),
    ("ties", "TIES merge (trim, elect sign, disjoint mean)"),
    ("dare", "DARE merge (drop and rescale)"),
]
DEFAULT_TEMPLATE = "{{ kb_prompt }}"


def slug(name: str) -> str:
    out = "".join(c if c.isascii() and c.isalnum() else "-" for c in name.lower()).strip("-")
    return "-".join(part for part in out.split("-") if part)


class _Relay(QObject):
    """Carries the merge thread's results to the dialog on the GUI thread (queued signals)."""

    progress = Signal(int, int)
    done = Signal(str)
    failed = Signal(str)


class PersonaBuilder(QDialog):
    saved = Signal(str)  # the new persona's id

    def __init__(self, kb: CourseKB | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from engine.finetune.registry import list_adapters

        self.kb = kb
        self.setWindowTitle(tr("New persona"))
        self.adapters = {e.name: (e.manifest or {}).get("kind") for e in list_adapters()}
        form = QFormLayout()
        self.name = QLineEdit()
        self.name.setPlaceholderText(tr("e.g. Identity + facts (TIES)"))
        self.pid = QLineEdit()
        self.pid.setPlaceholderText(tr("made from the name"))
        self.name.textChanged.connect(lambda text: self.pid.setText(slug(text)))
        form.addRow(tr("Name"), self.name)
        form.addRow(tr("Id"), self.pid)
        self.use_prompt = QCheckBox(tr("Use a system prompt (template)"))
        self.prompt = QPlainTextEdit(DEFAULT_TEMPLATE)
        self.prompt.setToolTip(
            tr("{{ kb_prompt }} is the course KB as a prompt; {{ kb.ta.name }} reaches one field")
        )
        self.prompt.setMaximumHeight(70)
        self.prompt.setEnabled(False)
        self.use_prompt.toggled.connect(self.prompt.setEnabled)
        form.addRow(self.use_prompt)
        form.addRow(self.prompt)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels([tr("Adapter or edit"), tr("Weight")])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(0, 260)
        self.table.setMaximumHeight(150)
        add, remove = QPushButton(tr("Add adapter")), QPushButton(tr("Remove"))
        add.clicked.connect(lambda: self.add_row())
        remove.clicked.connect(self.remove_row)
        add.setEnabled(bool(self.adapters))
        if not self.adapters:
            add.setToolTip(tr("No adapters yet: train one in the Train tab"))
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        self.method = QComboBox()
        for key, label in METHODS:
            self.method.addItem(tr(label), key)
        self.density = self._spin(0.5, tr("TIES keeps this fraction of each ΔW, the largest entries"))
        self.drop = self._spin(0.3, tr("DARE drops each entry with this probability and rescales the rest"))
        self.method.currentIndexChanged.connect(self._method_changed)
        knobs = QHBoxLayout()
        self.density_label, self.drop_label = QLabel(tr("Density")), QLabel(tr("Drop"))
        for w in (self.method, self.density_label, self.density, self.drop_label, self.drop):
            knobs.addWidget(w)
        knobs.addStretch(1)
        self.error = QLabel()
        self.error.setObjectName("builder-error")
        self.error.setWordWrap(True)
        tint(self.error, "#fde2e1", "#8a1c1c")
        self.error.hide()
        self.bar = QProgressBar()
        self.bar.hide()
        self.save_button, cancel = QPushButton(tr("Save persona")), QPushButton(tr("Cancel"))
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        cancel.clicked.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.save_button)
        bottom.addWidget(cancel)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel(tr("Adapters and edits, with weights (negative subtracts a skill):")))
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        layout.addWidget(QLabel(tr("How to combine them:")))
        layout.addLayout(knobs)
        layout.addWidget(self.error)
        layout.addWidget(self.bar)
        layout.addLayout(bottom)
        self._method_changed()
        self.resize(620, 560)
        self._relay = _Relay(self)
        self._relay.progress.connect(self._on_progress)
        self._relay.done.connect(self._on_merged)
        self._relay.failed.connect(self._show_error)
        self._pending: dict[str, Any] = {}

    def _spin(self, value: float, tip: str) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setRange(0.0, 1.0)
        box.setSingleStep(0.05)
        box.setValue(value)
        box.setToolTip(tip)
        return box

    def _method_changed(self) -> None:
        key = self.method.currentData()
        for w, shown in ((self.density, key == "ties"), (self.density_label, key == "ties"),
                         (self.drop, key == "dare"), (self.drop_label, key == "dare")):  # fmt: skip
            w.setVisible(shown)

    def add_row(self, name: str | None = None, weight: float = 1.0) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        combo = QComboBox()
        for adapter, kind in sorted(self.adapters.items()):
            combo.addItem(tr("{name} (edit)", name=adapter) if kind == "edit" else adapter, adapter)
        if name is not None:
            combo.setCurrentIndex(max(0, combo.findData(name)))
        spin = QDoubleSpinBox()
        spin.setRange(-4.0, 4.0)
        spin.setSingleStep(0.1)
        spin.setValue(weight)
        self.table.setCellWidget(row, 0, combo)
        self.table.setCellWidget(row, 1, spin)

    def remove_row(self) -> None:
        self.table.removeRow(
            self.table.currentRow() if self.table.currentRow() >= 0 else self.table.rowCount() - 1
        )

    def rows(self) -> list[tuple[str, float]]:
        out = []
        for r in range(self.table.rowCount()):
            combo, spin = self.table.cellWidget(r, 0), self.table.cellWidget(r, 1)
            assert isinstance(combo, QComboBox) and isinstance(spin, QDoubleSpinBox)
            out.append((str(combo.currentData()), spin.value()))
        return out

    def definition(self, adapters: list[tuple[str, float]], description: str = "") -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.pid.text().strip(), "name": self.name.text().strip(),
                                "role": "persona builder", "description": description}  # fmt: skip
        if self.use_prompt.isChecked():
            data["system_prompt"] = self.prompt.toPlainText()
        data["adapters"] = [{"name": n, "scale": w} for n, w in adapters]
        return data

    @Slot()
    def save(self) -> None:
        """Check everything first; a merge runs only for a persona that would then save."""
        from engine.persona_file import check_id_free, check_persona

        self.error.hide()
        method, rows = self.method.currentData(), self.rows()
        try:
            if any(w == 0 for _, w in rows):
                raise TalabError(tr("A weight of 0 does nothing; remove that adapter instead"))
            defn = check_persona(self.definition(rows), self.kb)
            check_id_free(defn.id)
            if method == "stack":
                self._write(self.definition(rows, "Adapters stacked at run time (task arithmetic)."))
                return
            spec = self._merge_spec(method, rows)
        except TalabError as exc:
            self._show_error(str(exc))
            return
        self._pending = {"rows": rows, "method": method, "spec": spec}
        self.save_button.setEnabled(False)
        self.bar.setRange(0, 0)
        self.bar.show()
        threading.Thread(target=self._merge, args=(spec, f"{defn.id}-{method}"), daemon=True).start()

    def _merge_spec(self, method: str, rows: list[tuple[str, float]]) -> Any:
        from engine.merge.build import MergeSpec, Source

        spec = MergeSpec(
            tuple(Source(n, paths.adapters_dir() / f"{n}.gguf", w) for n, w in rows),
            method=method,
            density=round(self.density.value(), 4) if method == "ties" else 1.0,
            drop=round(self.drop.value(), 4) if method == "dare" else 0.0,
        )
        spec.check()
        return spec

    def _merge(self, spec: Any, name: str) -> None:
        """On the merge thread: only the relay's signals cross back."""
        from engine.merge.build import merge, save_merge

        try:
            result = merge(spec, self._relay.progress.emit)
            save_merge(spec, result, paths.adapters_dir() / f"{name}.gguf")
        except TalabError as exc:
            self._relay.failed.emit(str(exc))
            return
        except Exception as exc:  # the thread must always answer, or the dialog waits forever
            self._relay.failed.emit(tr("Unexpected {kind}: {error}", kind=type(exc).__name__, error=exc))
            return
        self._relay.done.emit(name)

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        self.bar.setRange(0, total)
        self.bar.setValue(done)

    @Slot(str)
    def _on_merged(self, name: str) -> None:
        from engine.merge.build import describe

        spec = self._pending["spec"]
        how = {"ties": f", density {spec.density:g}", "dare": f", drop {spec.drop:g}, seed {spec.seed}"}
        text = f"{spec.method} merge{how.get(spec.method, '')} of {describe(spec.sources)} (adapter {name})."
        self._write(self.definition([(name, 1.0)], text))

    def _write(self, data: dict[str, Any]) -> None:
        from engine.persona_file import add_persona, check_persona

        try:
            add_persona(check_persona(data, self.kb))
        except TalabError as exc:
            self._show_error(str(exc))
            return
        self.saved.emit(data["id"])
        self.accept()

    @Slot(str)
    def _show_error(self, message: str) -> None:
        self.bar.hide()
        self.save_button.setEnabled(True)
        self.error.setText(message)
        self.error.show()
