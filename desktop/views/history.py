"""History: past runs from SQLite, newest first (read-only, its own connection)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from engine.errors import TalabError
from engine.store import open_store

COLUMNS = ["Run", "Started", "Kind", "Status", "Model", "Personas", "Answers"]


class HistoryView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.hint = QLabel("")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        layout.addWidget(self.hint)
        layout.addWidget(self.table, 1)

    def refresh(self) -> None:
        try:
            store = open_store()
            runs = store.list_runs(200)
            path = store.path
            store.close()
        except TalabError as exc:
            self.hint.setText(str(exc))
            return
        if not runs:
            self.hint.setText("No runs yet: ask a question or run the probes. Runs are kept in " + str(path))
        else:
            self.hint.setText(f"{len(runs)} runs in {path} · export: talab export RUN_ID --format csv")
        self.table.setRowCount(len(runs))
        for r, run in enumerate(runs):
            personas = run.get("personas")
            values = [
                str(run["id"]), (run.get("created_at") or "")[:16].replace("T", " "), run.get("kind") or "",
                run.get("status") or "", run.get("model_label") or "",
                ", ".join(personas) if isinstance(personas, list) else "", str(run.get("n_answers", 0)),
            ]  # fmt: skip
            for c, value in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(value))
        self.table.resizeColumnsToContents()
