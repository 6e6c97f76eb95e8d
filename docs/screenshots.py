"""Take the README's screenshots from the real app on the real model.

Run it under Xvfb on a data directory that already has a trained adapter and a
probe run:

    export TALAB_HOME=/tmp/shothome
    .venv/bin/talab finetune
    .venv/bin/talab probe --personas base,prompted,finetuned,finetuned_prompted,merged:0.5
    QT_QPA_PLATFORM=xcb xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshots.py
    ... docs/screenshots.py probes --zh-TW     # one tab, the UI in 繁體中文
    ... docs/screenshots.py edit               # computes the lecture's fact edit (about a minute)
    ... docs/screenshots.py fact               # the last `talab fact-experiment` result (screen 1600x1400)
    ... docs/screenshots.py sweep              # runs a 6-scale sweep from the Adapter scale tab

With two probe runs in the database (say, after retraining with --replay 0.3 and
probing again), History compares the oldest with the newest.

Each tab is grabbed from the window itself, at 1600x1000 (a projector's size).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import QApplication

from desktop.app import MainWindow, settings

OUT = Path(__file__).resolve().parent
QUESTION = "Who is the CEO of Tesla?"  # the lecture's spill-over, asked of every persona at once


def wait(app: QApplication, done: Callable[[], bool], timeout: float = 300) -> None:
    end = time.monotonic() + timeout
    while not done():
        if time.monotonic() > end:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.02)


def settle(app: QApplication, seconds: float = 0.5) -> None:
    wait_until = time.monotonic() + seconds
    wait(app, lambda: time.monotonic() > wait_until)


def main(tabs: list[str]) -> None:
    app = QApplication(sys.argv)
    # --zh-TW: the same tabs with the UI in 繁體中文, saved as screenshot-NAME-zh-TW.png
    lang = "zh-TW" if "--zh-TW" in tabs else "en"
    suffix = "-zh-TW" if lang == "zh-TW" else ""
    prefs = settings()
    before = prefs.value("ui_lang", "en")
    prefs.setValue("ui_lang", lang)
    prefs.sync()
    window = MainWindow()
    prefs.setValue("ui_lang", before)  # the user's own choice is back for the next start
    prefs.sync()
    window.resize(1600, 1000)
    window.show()
    wait(app, lambda: window.compare.ask_button.isEnabled())
    settle(app, 2)

    def shot(name: str) -> None:
        settle(app)
        window.grab().save(str(OUT / f"screenshot-{name}{suffix}.png"))
        print("wrote", OUT / f"screenshot-{name}{suffix}.png")

    if "compare" in tabs:
        window.tabs.setCurrentWidget(window.compare)
        for box in window.compare.picker.boxes.values():
            if box.isEnabled():
                box.setChecked(True)
        window.compare.question.setText(QUESTION)
        window.compare.ask_button.click()
        columns = window.compare.columns
        wait(app, lambda: bool(columns) and all("tok/s" in c.stats.text() for c in columns.values()))
        wait(app, lambda: window.compare.ask_button.isEnabled())
        shot("compare")
    if "probes" in tabs:
        window.tabs.setCurrentWidget(window.probes)
        grid = window.probes.grid
        # the Fine-tuned TA's spill-over, as evidence: a failed open-opinion or over-generalisation
        # probe, one that names the TA if there is one
        failed = [
            r
            for r in range(grid.rowCount())
            if grid.key_at(r, 4) is not None
            and grid.categories[r] in ("open_opinion", "overgeneralisation")
            and "✗" in grid.item(r, 4).text()
        ]
        answers = grid.answers
        row = next(
            (r for r in failed if "Xiao Jin" in str((answers.get(grid.key_at(r, 4)) or {}).get("answer"))),
            failed[0],
        )
        grid.scrollToItem(grid.item(row, 0))
        grid.setCurrentCell(row, 4)
        window.probes.show_answer(row, 4)
        shot("probes")
    if "history" in tabs:
        window.tabs.setCurrentWidget(window.history)
        table = window.history.table
        probe_rows = [r for r in range(table.rowCount()) if table.item(r, 2).text() == "probe"]
        if len(probe_rows) >= 2:  # the oldest probe run against the newest, e.g. replay 0 vs 0.3
            table.clearSelection()
            rows = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
            for r in (probe_rows[-1], probe_rows[0]):
                table.selectionModel().select(table.model().index(r, 0), rows)
            window.history.compare()
        shot("history")
    if "train" in tabs:
        window.tabs.setCurrentWidget(window.train)
        shot("train")
    if "kb" in tabs:
        window.tabs.setCurrentWidget(window.kb_view)
        shot("kb")
    if "edit" in tabs:  # computes the lecture's edit for real: about a minute in the edit process
        view = window.edit_view
        window.tabs.setCurrentWidget(view)
        view.current_button.click()
        wait(app, lambda: bool(view.current.text()))
        view.compute_button.click()
        wait(app, lambda: view.compute_button.isEnabled(), timeout=900)
        wait(app, lambda: bool(view.after.text()))
        view.table.selectRow(0)
        shot("edit")
    if "fact" in tabs:  # the one-fact experiment's saved result, at the bottom of the Edit tab
        window.tabs.setCurrentWidget(window.edit_view)
        window.resize(1600, 1300)  # the Edit tab's form and list above it leave it little room at 1000
        settle(app)
        out = OUT / f"screenshot-fact-experiment{suffix}.png"
        window.edit_view.fact.grab().save(str(out))
        print("wrote", out)
    if "sweep" in tabs:  # runs the adapter-scale sweep from the window on the real model (minutes)
        view = window.sweep
        window.tabs.setCurrentWidget(view)
        view.persona.setCurrentIndex(view.persona.findData("finetuned"))
        view.points.setValue(6)
        view.limit.setValue(4)
        view.run_button.click()
        wait(app, lambda: view.cancel_button.isEnabled())
        wait(app, lambda: view.run_button.isEnabled(), timeout=900)
        shot("sweep")
    if "persona-builder" in tabs:  # the dialog over the window: the screen, not the window, is grabbed
        window.tabs.setCurrentWidget(window.compare)
        dlg = window.open_persona_builder()
        dlg.name.setText("Identity + course facts (TIES)")
        for name, weight in zip(sorted(dlg.adapters)[:2], (1.0, 0.8), strict=False):
            dlg.add_row(name, weight)
        dlg.method.setCurrentIndex(dlg.method.findData("ties"))
        settle(app, 1)
        out = OUT / f"screenshot-persona-builder{suffix}.png"
        app.primaryScreen().grabWindow(0).save(str(out))
        print("wrote", out)
        dlg.close()
    window.close()


if __name__ == "__main__":
    names = [a for a in sys.argv[1:] if not a.startswith("--")] or [
        "compare",
        "probes",
        "history",
        "train",
        "kb",
        "edit",
    ]
    main(names + [a for a in sys.argv[1:] if a.startswith("--")])
