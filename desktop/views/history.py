"""History: past runs from SQLite, newest first: filter, open, compare two, resume, export.

Read-only on its own connection, opened per action, so it never holds the
database while the worker writes answers to it.
"""

from __future__ import annotations

import html
import platform
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.i18n import tr
from desktop.views.probe_grid import figure_text
from engine.errors import TalabError
from engine.reports import export_run
from engine.runs import compare_two, is_resumable
from engine.store import open_store

COLUMNS = [
    "Run",
    "Started",
    "Kind",
    "Status",
    "Answers",
    "Model",
    "Source",
    "Personas",
]  # the long one last; tr() on show


def run_source(run: dict[str, Any]) -> str:
    """Where a run's answers came from: a server's URL, another student's machine, or this computer."""
    origin: dict[str, Any] = run["origin"] if isinstance(run.get("origin"), dict) else {}
    machine = origin.get("machine")
    elsewhere = machine if machine and machine != platform.node() else None
    if origin.get("server"):
        return f"{origin['server']} ({elsewhere})" if elsewhere else str(origin["server"])
    return elsewhere or tr("this computer")


#: figures where a rise is bad news: the change is coloured the other way round
LOWER_IS_BETTER = ("forgetting", "overgeneralisation_rate")


class HistoryView(QWidget):
    open_run = Signal(int, bool)  # a probe run for the Probes tab (grid, chart); True: resume it there

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runs: list[dict[str, Any]] = []
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.filter = QLineEdit()
        self.filter.setObjectName("history-filter")
        self.filter.setPlaceholderText(tr("Filter by persona, status, date, kind or model… (Ctrl+F)"))
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.apply_filter)
        top.addWidget(self.filter, 1)
        self.hint = QLabel("")
        top.addWidget(self.hint)
        layout.addLayout(top)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([tr(c) for c in COLUMNS])
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.ExtendedSelection)
        self.table.setToolTip(
            tr("Double-click or Enter opens a run; select two (Ctrl+click) to compare them; F5 reloads")
        )
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.cellDoubleClicked.connect(self.open_selected)
        self.detail = QTextBrowser()
        self.detail.setPlaceholderText(
            tr(
                "Open a run to read its answers (probe runs open in the Probes tab), "
                "or select two runs and press Compare."
            )
        )
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.setObjectName("history-split")
        self.split.addWidget(self.table)
        self.split.addWidget(self.detail)
        self.split.setSizes([700, 520])
        layout.addWidget(self.split, 1)

        row = QHBoxLayout()
        self.result = QLabel("")
        self.result.setWordWrap(True)
        row.addWidget(self.result, 1)
        self.open_button = self._button(tr("Open"), tr("Open the selected run (Enter)"), self.open_selected)
        self.compare_button = self._button(
            tr("Compare two"), tr("Compare the two selected runs (Ctrl+D)"), self.compare
        )
        self.resume_button = self._button(
            tr("Resume"),
            tr("Finish an interrupted probe run: only missing answers are asked"),
            self.resume_selected,
        )
        for b in (self.open_button, self.compare_button, self.resume_button):
            row.addWidget(b)
        for fmt in ("csv", "jsonl", "html"):
            button = QPushButton(tr("Export {fmt}…", fmt=fmt.upper()))
            button.setObjectName(f"export-{fmt}")
            button.setToolTip(tr("Write the selected run as {fmt}", fmt=fmt.upper()))
            button.clicked.connect(lambda _=False, f=fmt: self.export_selected(f))
            row.addWidget(button)
        layout.addLayout(row)
        QShortcut(QKeySequence("Ctrl+F"), self, self.filter.setFocus)
        QShortcut(QKeySequence("Ctrl+D"), self, self.compare)
        enter = QShortcut(QKeySequence(Qt.Key.Key_Return), self.table, self.open_selected)
        enter.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)  # Enter elsewhere still asks
        QShortcut(QKeySequence("F5"), self, self.refresh)
        self._update_buttons()

    def changeEvent(self, event: QEvent) -> None:
        """Qt leaves this table's header at the old size when the window's font grows (presentation
        mode, Ctrl++), so the column names would be the one thing the back row cannot read."""
        if event.type() == QEvent.Type.FontChange:
            self.table.horizontalHeader().setFont(self.font())
        super().changeEvent(event)

    def _button(self, text: str, tip: str, slot: Any) -> QPushButton:
        b = QPushButton(text)
        b.setToolTip(tip)
        b.clicked.connect(slot)
        return b

    def splitters(self) -> list[QSplitter]:
        return [self.split]

    # -- selection ---------------------------------------------------------
    def selected_runs(self) -> list[int]:
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        ids = []
        for r in rows:
            item = self.table.item(r, 0)
            if item is not None and not self.table.isRowHidden(r):
                ids.append(int(item.text()))
        return ids

    def selected_run(self) -> int | None:
        ids = self.selected_runs()
        return ids[0] if ids else None

    def _run(self, run_id: int) -> dict[str, Any]:
        return next((r for r in self.runs if r["id"] == run_id), {})

    @Slot()
    def _update_buttons(self) -> None:
        ids = self.selected_runs()
        self.open_button.setEnabled(len(ids) == 1)
        self.compare_button.setEnabled(len(ids) == 2)
        one = self._run(ids[0]) if len(ids) == 1 else {}
        self.resume_button.setEnabled(is_resumable(one))

    @Slot(str)
    def apply_filter(self, text: str) -> None:
        """Every word must appear somewhere in the row: "prompted cancelled" narrows to both."""
        words = text.lower().split()
        for r in range(self.table.rowCount()):
            cells = (self.table.item(r, c) for c in range(len(COLUMNS)))
            row = " ".join(c.text() for c in cells if c is not None).lower()
            self.table.setRowHidden(r, not all(w in row for w in words))
        shown = sum(1 for r in range(self.table.rowCount()) if not self.table.isRowHidden(r))
        if words:
            self.hint.setText(tr("{shown} of {total} runs", shown=shown, total=self.table.rowCount()))
        self._update_buttons()

    # -- actions -----------------------------------------------------------
    @Slot()
    def open_selected(self) -> None:
        """A probe run opens in the Probes tab (grid, chart); an ask run shows its answers here."""
        run_id = self.selected_run()
        if run_id is None:
            self.result.setText(tr("Select a run first."))
            return
        if self._run(run_id).get("kind") == "probe":
            self.open_run.emit(run_id, False)
            return
        try:
            store = open_store(read_only=True)
            answers = store.answers(run_id)
            store.close()
        except TalabError as exc:
            self.result.setText(str(exc))
            return
        e = html.escape
        parts = [f"<h3>{e(tr('Run {run_id}', run_id=run_id))}</h3>"]
        for a in answers:
            stats = tr(
                "{tokens} tokens · {rate} tok/s",
                tokens=a.get("completion_tokens", 0),
                rate=f"{a.get('tokens_per_s') or 0:.0f}",
            )
            parts.append(
                f"<p><b>{e(a['persona_id'])}</b> · <i>{e(a.get('question') or '')}</i><br>"
                f"<span style='white-space:pre-wrap'>{e(a.get('answer') or '')}</span><br>"
                f"<small>{e(stats)}</small></p>"
            )
        self.detail.setHtml("".join(parts))

    @Slot()
    def resume_selected(self) -> None:
        run_id = self.selected_run()
        if run_id is not None and self.resume_button.isEnabled():
            self.result.setText(tr("Resuming run {run_id} in the Probes tab…", run_id=run_id))
            self.open_run.emit(run_id, True)

    @Slot()
    def compare(self) -> None:
        """Two runs side by side: each figure per persona in run A and run B, and what changed."""
        ids = self.selected_runs()
        if len(ids) != 2:
            self.result.setText(tr("Select exactly two runs to compare (Ctrl+click the second)."))
            return
        a, b = ids[1], ids[0]  # rows are newest first: the older run is A
        try:
            store = open_store(read_only=True)
            diff = compare_two(store, a, b)
            store.close()
        except TalabError as exc:
            self.result.setText(str(exc))
            return
        e = html.escape
        parts = [
            f"<h3>{e(tr('Run {a} (A) vs run {b} (B)', a=a, b=b))}</h3>",
            "<p>"
            + e(
                tr(
                    "{identical} of {compared} shared answers are identical word for word.",
                    identical=diff.identical,
                    compared=diff.compared,
                )
            )
            + "</p>",
        ]
        if diff.figures is not None:
            parts.append(_figures_table(diff.figures))
        else:
            for x, y in diff.pairs:
                parts.append(
                    f"<p><b>{e(x['persona_id'])}</b> · <i>{e(x.get('question') or '')}</i><br>"
                    f"A: {e(x.get('answer') or '')}<br>B: {e(y.get('answer') or '') if y else '–'}</p>"
                )
        self.detail.setHtml("".join(parts))
        self.result.setText(tr("Comparing run {a} with run {b}.", a=a, b=b))

    def export_selected(self, fmt: str, path: Path | None = None) -> Path | None:
        """Write the selected run for a spreadsheet (CSV), for code (JSONL) or to read (HTML)."""
        run_id = self.selected_run()
        if run_id is None:
            self.result.setText(tr("Select a run first."))
            return None
        if path is None:
            chosen, _ = QFileDialog.getSaveFileName(
                self, tr("Export run"), str(Path.home() / f"talab-run-{run_id}.{fmt}"), f"*.{fmt}"
            )
            if not chosen:
                return None
            path = Path(chosen)
        try:
            store = open_store(read_only=True)
            out = export_run(store, run_id, fmt, path)
            store.close()
        except TalabError as exc:
            self.result.setText(str(exc))
            return None
        self.result.setText(tr("Run {run_id} written to {path}", run_id=run_id, path=out))
        return out

    @Slot()
    def refresh(self) -> None:
        try:
            store = open_store(read_only=True)
            self.runs = store.list_runs(200)
            path = store.path
            store.close()
        except TalabError as exc:
            self.hint.setText(str(exc))
            return
        runs = self.runs
        if not runs:
            self.hint.setText(
                tr("No runs yet: ask a question or run the probes. Runs are kept in {path}", path=path)
            )
        else:
            self.hint.setText(tr("{n} runs · {path}", n=len(runs), path=path))
        self.table.setRowCount(len(runs))
        for r, run in enumerate(runs):
            personas = run.get("personas")
            # kind and status in the UI language: the filter matches what the teacher reads
            values = [
                str(run["id"]), (run.get("created_at") or "")[:16].replace("T", " "),
                tr(run.get("kind") or ""), tr(run.get("status") or ""), str(run.get("n_answers", 0)),
                run.get("model_label") or "", run_source(run),
                ", ".join(personas) if isinstance(personas, list) else "",
            ]  # fmt: skip
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        last = len(COLUMNS) - 1  # five personas would push the table into a sideways scroll
        self.table.setColumnWidth(last, min(self.table.columnWidth(last), 320))
        self.apply_filter(self.filter.text())


def _figures_table(rows: list[dict[str, Any]]) -> str:
    e = html.escape
    heads = "".join(
        f"<th>{e(h)}</th>" for h in (tr("Persona"), tr("Figure"), tr("Run A"), tr("Run B"), "B − A")
    )
    out = [f"<table border='1' cellspacing='0' cellpadding='4'><tr>{heads}</tr>"]
    for row in rows:
        delta = row["delta"]
        color = ""
        if delta is not None and abs(delta) > 1e-9:
            better = (delta < 0) if row["key"] in LOWER_IS_BETTER else (delta > 0)
            color = "#1d5e1d" if better else "#b3141b"
        change = "–" if delta is None else tr("{n} pts", n=f"{delta * 100:+.0f}")
        out.append(
            f"<tr><td>{e(row['persona'])}</td><td>{e(tr(row['label']))}</td>"
            f"<td align='right'>{figure_text(row['key'], row['a'])}</td>"
            f"<td align='right'>{figure_text(row['key'], row['b'])}</td>"
            f"<td align='right' style='color:{color or 'inherit'}'>{change}</td></tr>"
        )
    out.append("</table>")
    return "".join(out)
