"""History: past runs from SQLite, newest first (read-only, its own connection)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.errors import TalabError
from engine.reports import export_run
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
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        layout.addWidget(self.hint)
        layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.result = QLabel("")
        row.addWidget(self.result, 1)
        for fmt in ("csv", "jsonl", "html"):
            button = QPushButton(f"Export {fmt.upper()}…")
            button.setObjectName(f"export-{fmt}")
            button.clicked.connect(lambda _=False, f=fmt: self.export_selected(f))
            row.addWidget(button)
        layout.addLayout(row)

    def selected_run(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return int(item.text()) if item is not None else None

    def export_selected(self, fmt: str, path: Path | None = None) -> Path | None:
        """Write the selected run for a spreadsheet (CSV), for code (JSONL) or to read (HTML)."""
        run_id = self.selected_run()
        if run_id is None:
            self.result.setText("Select a run first.")
            return None
        if path is None:
            chosen, _ = QFileDialog.getSaveFileName(
                self, "Export run", str(Path.home() / f"talab-run-{run_id}.{fmt}"), f"*.{fmt}"
            )
            if not chosen:
                return None
            path = Path(chosen)
        try:
            store = open_store()
            out = export_run(store, run_id, fmt, path)
            store.close()
        except TalabError as exc:
            self.result.setText(str(exc))
            return None
        self.result.setText(f"Run {run_id} written to {out}")
        return out

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
