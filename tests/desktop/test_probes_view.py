"""Probes: the pass/fail grid, the evidence behind a cell, the category filter, ETA, figures, resume."""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from desktop.views.probe_grid import FAIL_BG, FLAG_FG, PASS_BG, FiguresTable
from desktop.views.probes import eta_text
from engine.scoring import summarize
from engine.store import open_store


def _run(window: Any, qtbot: Any, limit: int = 0) -> None:
    view = window.probes
    view.limit.setValue(limit)
    view.run_button.click()
    qtbot.waitUntil(lambda: "finished" in view.status.text(), timeout=30_000)


def test_the_grid_colours_each_answer_and_a_click_shows_answer_and_assertions(window, script, qtbot) -> None:  # type: ignore[no-untyped-def]
    script["runtimes"][0].answers.extend(["I am Xiao Jin, Prof. Lee's TA.", "I am SmolLM."])
    window.tabs.setCurrentWidget(window.probes)
    _run(window, qtbot, limit=4)
    grid = window.probes.grid
    assert grid.rowCount() == 4
    assert [grid.horizontalHeaderItem(c).text().replace("\n", " ") for c in range(grid.columnCount())] == [
        "Category", "Question", "Base", "Prompted TA",
    ]  # fmt: skip
    answers = {(a["persona_id"], a["probe_id"]): a for a in open_store().answers(window.probes._run_id)}
    for row in range(grid.rowCount()):
        for col in (2, 3):
            persona, probe = grid.key_at(row, col)  # type: ignore[misc]
            cell = grid.item(row, col)
            ok = bool(answers[(persona, probe)]["passed"])
            assert cell.text() == ("✓ pass" if ok else "✗ fail")
            assert cell.background().color() == QColor(PASS_BG if ok else FAIL_BG)
    # "Who are you?" answered by Base with the TA's name: the identity probe passes, and says why
    grid.cellClicked.emit(0, 2)
    shown = window.probes.details.toPlainText()
    assert "Who are you?" in shown and "I am Xiao Jin, Prof. Lee's TA." in shown
    assert re.search(r"✓ contains any: found “.+”", shown)
    assert "tok/s" in shown


def test_the_category_filter_hides_other_probes_and_runs_only_that_category(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    view = window.probes
    _run(window, qtbot)
    grid = view.grid
    categories = set(grid.categories)
    assert {"identity", "injection", "general_skill"} <= categories
    view.category.setCurrentIndex(view.category.findData("injection"))
    shown = [grid.item(r, 0).text() for r in range(grid.rowCount()) if not grid.isRowHidden(r)]
    assert shown and set(shown) == {"injection"}
    view.category.setCurrentIndex(0)
    assert grid.visible_rows() == grid.rowCount()
    view.category.setCurrentIndex(view.category.findData("injection"))
    _run(window, qtbot)
    run = open_store().list_runs(1)[0]
    assert {a["category"] for a in open_store().answers(run["id"])} == {"injection"}
    assert grid.visible_rows() == grid.rowCount() == len(shown)


def test_the_chart_shows_pass_rate_per_category_per_persona(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    _run(window, qtbot, limit=6)
    chart = window.probes.chart
    assert chart.series == ["Base", "Prompted TA"]
    labels = [label for label, _ in chart.groups]
    assert labels[0] == "identity" and all(len(values) == 2 for _, values in chart.groups)
    figures = window.probes.figures
    assert figures.verticalHeaderItem(2).text() == "Forgetting vs Base"


def test_forgetting_and_overgeneralisation_are_flagged_in_red(qtbot) -> None:  # type: ignore[no-untyped-def]
    outcomes = {"base": (1, 1), "finetuned": (0, 0), "prompted": (1, 1)}
    rows = [
        {"persona_id": pid, "category": cat, "passed": ok, "probe_id": f"{cat}-{i}"}
        for pid, (general, opinion) in outcomes.items()
        for cat, ok in (("general_skill", general), ("open_opinion", opinion))
        for i in range(20)  # 20 probes each: enough for the interval to exclude zero
    ]
    table = FiguresTable()
    qtbot.addWidget(table)
    table.show_summary(summarize(rows, ["base", "finetuned", "prompted"]), {})
    forgetting, over = table.item(2, 1), table.item(3, 1)
    assert forgetting.text() == "+100 pts\n[+77, +100]" and over.text() == "100%\n[84–100%]"
    for item in (forgetting, over):
        assert item.font().bold() and item.foreground().color() == QColor(FLAG_FG)
    calm = table.item(2, 2)  # the prompted persona forgot nothing
    assert calm.text().startswith("+0 pts\n[") and not calm.font().bold()


def test_run_all_shows_an_eta_from_the_answers_done_so_far(window, script, qtbot) -> None:  # type: ignore[no-untyped-def]
    view = window.probes
    now = [100.0]
    view.clock = lambda: now[0]
    script["runtimes"][0].delay_s = 0.05
    view.limit.setValue(5)
    view.run_button.click()

    def tick() -> bool:
        now[0] += 2.0  # every GUI poll pretends 2 s passed: the ETA must follow the pace
        return view.progress.value() >= 2

    qtbot.waitUntil(tick, timeout=20_000)
    assert re.fullmatch(r"about \d+ (s|min) left", view.eta.text())
    qtbot.waitUntil(lambda: "finished" in view.status.text(), timeout=20_000)
    assert view.eta.text() == ""
    assert eta_text(38.7) == "about 40 s left" and eta_text(1) == "about 5 s left"
    assert eta_text(150) == "about 2 min left"


def test_a_cancelled_run_is_resumed_and_keeps_its_answers(window, script, qtbot) -> None:  # type: ignore[no-untyped-def]
    view = window.probes
    rt = script["runtimes"][0]
    rt.delay_s = 0.03
    view.limit.setValue(4)
    view.run_button.click()
    qtbot.waitUntil(lambda: view.progress.value() >= 3, timeout=20_000)
    view.cancel_button.click()
    qtbot.waitUntil(lambda: "cancelled" in view.status.text(), timeout=20_000)
    run_id = view._run_id
    kept = {(a["persona_id"], a["probe_id"]): a["id"] for a in open_store().answers(run_id)}
    assert 3 <= len(kept) < 8 and view.resume_button.isVisibleTo(view)
    rt.delay_s = 0.0
    view.resume_button.click()
    qtbot.waitUntil(lambda: f"Run {run_id} finished" in view.status.text(), timeout=20_000)
    after = {(a["persona_id"], a["probe_id"]): a["id"] for a in open_store().answers(run_id)}
    assert len(after) == 8 and all(after[k] == v for k, v in kept.items())  # old answers untouched
    assert open_store().get_run(run_id)["status"] == "done"
    assert not view.resume_button.isVisibleTo(view)
    assert view.grid.rowCount() == 4 and all(view.grid.item(r, c).text() for r in range(4) for c in (2, 3))


def test_shortcuts_run_and_are_named_in_tooltips(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    view = window.probes
    window.show()
    window.tabs.setCurrentWidget(view)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    view.limit.setValue(1)
    qtbot.keyClick(view.grid, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "finished" in view.status.text(), timeout=20_000)
    assert "Ctrl+R" in view.run_button.toolTip() and "Esc" in view.cancel_button.toolTip()
    window.tabs.setCurrentWidget(window.compare)
    assert "Enter" in window.compare.ask_button.toolTip() and "Esc" in window.compare.stop_button.toolTip()


def test_the_chart_draws_a_bar_per_persona_in_each_category(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from engine.report_html import PALETTE

    _run(window, qtbot, limit=6)
    chart = window.probes.chart
    image = chart.grab().toImage()
    assert image.width() > 200 and image.height() > 150
    pixels = {image.pixel(x, y) for x in range(0, image.width(), 3) for y in range(0, image.height(), 3)}
    # Base's and Prompted TA's bar colours are on screen
    assert QColor(PALETTE[0]).rgb() in pixels and QColor(PALETTE[1]).rgb() in pixels


def test_the_chart_shades_where_forgetting_and_overgeneralisation_show(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCharts import QAreaSeries, QBarSeries

    _run(window, qtbot)
    chart = window.probes.chart
    labels = [label for label, _ in chart.groups]
    shaded = {labels[i]: what for i, what in chart.highlights.items()}
    assert shaded == {
        "general skill": "where forgetting shows",
        "open opinion": "where over-generalisation shows",
        "over-generalisation": "where over-generalisation shows",
    }
    drawn = chart.view.chart().series()
    assert sum(isinstance(s, QAreaSeries) for s in drawn) == 3
    assert sum(isinstance(s, QBarSeries) for s in drawn) == 1
    # a 95% error bar on every bar: one line series each, from the interval's low to high end
    bars = sum(v is not None for _, values in chart.groups for v in values)
    assert chart.view.error_bars == bars == sum(type(s).__name__ == "QLineSeries" for s in drawn)
    # each effect is named once in the legend, after the personas
    legend = chart.legend.text().replace("&nbsp;", " ")
    assert legend.count("where forgetting shows") == 1
    assert legend.count("where over-generalisation shows") == 1
    assert legend.index("Prompted") < legend.index("where forgetting")
