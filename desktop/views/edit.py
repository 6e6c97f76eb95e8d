"""Edit: change one fact in the model (ROME) and see the answer before and after.

The view only gathers the request and shows progress; the computation runs in
a subprocess (desktop.job_process.EditProcess) and the answers come from the
inference worker, both driven by desktop.edit_controller. The list of edits is read
from the adapter registry, where disable, enable and delete act directly.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.i18n import tr
from desktop.views.fact_experiment import FactExperimentPanel
from desktop.views.personas import start_stop_buttons
from engine.edit.registry import EditEntry, delete_edit, list_edits, set_enabled
from engine.errors import TalabError

INTRO = (
    "Model editing changes one fact and, ideally, nothing else. TA Lab locates the fact in one MLP layer "
    "and rewrites it with a rank-one update (ROME), computed on this CPU in a separate process and saved "
    "as a LoRA adapter: the persona <b>edit:NAME</b> answers with it. Compare it with the fine-tuned TA, "
    "which also changed every other “Who is…?” answer."
)
EXAMPLE = ("The most handsome person in the world is", "most handsome person", "Prof. Lee", "handsome")


class EditView(QWidget):
    compute = Signal(dict)  # prompt, subject, target, name
    cancel = Signal()
    ask = Signal(str, str)  # text, persona id
    changed = Signal()  # an edit was disabled, enabled or deleted

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        intro = QLabel(tr(INTRO))
        intro.setWordWrap(True)
        outer.addWidget(intro)
        form_box = QGroupBox(tr("The fact"))
        form = QFormLayout(form_box)
        self.prompt, self.subject, self.target, self.name = (QLineEdit(text) for text in EXAMPLE)
        self.prompt.setToolTip(tr("A sentence the model completes; it must contain the subject"))
        self.subject.setToolTip(tr("The words of the prompt the fact is about"))
        self.target.setToolTip(tr("What the prompt should now be completed with"))
        self.name.setToolTip(tr("The adapter's name; the persona is edit:NAME"))
        for label, box in ((tr("Prompt"), self.prompt), (tr("Subject"), self.subject),
                           (tr("New target"), self.target), (tr("Name"), self.name)):  # fmt: skip
            form.addRow(label, box)
        outer.addWidget(form_box)

        row = QHBoxLayout()
        self.current_button = QPushButton(tr("Current answer"))
        self.current_button.setToolTip(tr("How the unedited model completes the prompt now"))
        self.current_button.clicked.connect(lambda: self.ask.emit(self.prompt.text(), "base"))
        row.addWidget(self.current_button)
        self.compute_button, self.cancel_button = start_stop_buttons(
            (tr("Compute edit"), tr("Compute the rank-one edit (Ctrl+E)")),
            (tr("Cancel"), tr("Stop the computation; nothing is written (Esc)")),
            self._submit,
            self.cancel,
        )
        row.addWidget(self.compute_button)
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        outer.addLayout(row)
        self.current = QLabel("")
        self.current.setObjectName("edit-current")
        self.current.setWordWrap(True)
        outer.addWidget(self.current)
        self.progress = QProgressBar()
        self.progress.setFormat(tr("step %v / %m"))
        self.progress.hide()
        outer.addWidget(self.progress)
        self.status = QLabel(tr("Ask for the current answer, then compute the edit (Ctrl+E)."))
        self.status.setObjectName("edit-status")
        self.status.setWordWrap(True)
        outer.addWidget(self.status)
        self.after = QLabel("")
        self.after.setObjectName("edit-after")
        self.after.setWordWrap(True)
        outer.addWidget(self.after)

        list_box = QGroupBox(tr("Edits"))
        lay = QVBoxLayout(list_box)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(
            [tr("Persona"), tr("Prompt"), tr("New target"), tr("Layer"), tr("State")]
        )
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)  # the prompt takes the room
        lay.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.toggle_button = QPushButton(tr("Disable / enable"))
        self.toggle_button.setToolTip(tr("A disabled edit stays on disk; its persona is unavailable"))
        self.toggle_button.clicked.connect(self._toggle)
        self.delete_button = QPushButton(tr("Delete"))
        self.delete_button.clicked.connect(self._delete)
        buttons.addWidget(self.toggle_button)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        lay.addLayout(buttons)
        outer.addWidget(list_box, 1)
        self.fact = FactExperimentPanel()  # the same fact, taught four ways and measured
        outer.addWidget(self.fact, 3)
        self.entries: list[EditEntry] = []
        self.pending: tuple[str, str] | None = None  # (text, persona) to ask once the edit is loaded
        QShortcut(QKeySequence("Ctrl+E"), self, self._submit)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.cancel.emit)
        self.refresh()

    # -- the request ---------------------------------------------------------
    def request(self) -> dict[str, str]:
        return {
            "prompt": self.prompt.text().strip(),
            "subject": self.subject.text().strip(),
            "target": self.target.text().strip(),
            "name": self.name.text().strip(),
        }

    def _submit(self) -> None:
        if self.compute_button.isEnabled():
            self.compute.emit(self.request())

    def set_running(self, running: bool) -> None:
        self.compute_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        for box in (self.prompt, self.subject, self.target, self.name):
            box.setReadOnly(running)
        if running:
            self.progress.setMaximum(0)
            self.progress.setValue(0)
            self.progress.show()
            self.after.setText("")
            self.status.setText(tr("Starting the edit process…"))
        else:
            self.progress.hide()

    def on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "loading":
            self.status.setText(tr("Loading the model into torch…"))
        elif kind == "keys":
            self.status.setText(
                tr(
                    "Layer {layer}: reading the subject's key over prefixes the model wrote",
                    layer=event["layer"],
                )
            )
        elif kind == "step":
            self.progress.setMaximum(event["steps"])
            self.progress.setValue(event["step"])
            self.status.setText(
                tr(
                    "Optimising the new value: step {step}/{steps}, loss {loss}",
                    step=event["step"],
                    steps=event["steps"],
                    loss=f"{event['loss']:.3f}",
                )
            )
        elif kind == "exporting":
            self.status.setText(tr("Writing the GGUF adapter…"))

    def show_done(self, done: dict[str, Any]) -> None:
        secs = (done.get("seconds") or {}).get("total_s", 0)
        self.status.setText(
            tr(
                "Done in {s} s at layer {layer}: the persona {persona} is now in Compare and Probes.",
                s=secs,
                layer=done.get("layer"),
                persona=f"edit:{done.get('name')}",
            )
        )
        self.refresh()

    @Slot(int, str, str)
    def on_completed(self, _request: int, persona: str, text: str) -> None:
        self.show_completion(persona, text)

    def show_completion(self, persona: str, text: str) -> None:
        shown = f"<i>{self.prompt.text().strip()}</i> <b>{text.strip()}</b>"
        if persona == "base":
            self.current.setText(tr("Current answer (base model): {answer}", answer=shown))
        else:
            self.after.setText(tr("With the edit ({persona}): {answer}", persona=persona, answer=shown))

    # -- the list ------------------------------------------------------------
    def refresh(self) -> None:
        self.entries = list_edits()
        self.table.setRowCount(len(self.entries))
        for r, e in enumerate(self.entries):
            state = tr("enabled") if e.enabled else tr("disabled")
            for c, text in enumerate((e.persona_id, e.prompt, e.target, str(e.layer), state)):
                self.table.setItem(r, c, QTableWidgetItem(text))
        has = bool(self.entries)
        self.toggle_button.setEnabled(has)
        self.delete_button.setEnabled(has)

    def _selected(self) -> EditEntry | None:
        rows = self.table.selectionModel().selectedRows()
        return self.entries[rows[0].row()] if rows else None

    def _act(self, action: Any) -> None:
        entry = self._selected()
        if entry is None:
            self.status.setText(tr("Select an edit in the list first."))
            return
        try:
            action(entry)
        except TalabError as exc:
            self.status.setText(str(exc))
        self.refresh()
        self.changed.emit()

    def _toggle(self) -> None:
        self._act(lambda e: set_enabled(e.name, not e.enabled))

    def _delete(self) -> None:
        self._act(lambda e: delete_edit(e.name))
