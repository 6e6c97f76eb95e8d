"""The Adapter scale tab: empty state, a sweep from the window, its curve, Cancel, the latest sweep."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.scoring import summarize
from engine.store import open_store
from engine.sweep import CURVE
from tests.ggufs import write_model_lora


def _with_adapter(window: Any, qtbot: Any, talab_home: Path) -> None:
    adapters = talab_home / "adapters"
    adapters.mkdir(parents=True, exist_ok=True)
    write_model_lora(adapters / "xiaojin.gguf")  # a real LoRA file: availability reads its header
    window.worker.load_requested.emit(window.config)
    qtbot.waitUntil(lambda: window.sweep.run_button.isEnabled(), timeout=10_000)


def test_without_an_adapter_the_tab_says_what_to_do_and_cannot_start(window: Any) -> None:
    view = window.sweep
    window.tabs.setCurrentWidget(view)
    assert not view.run_button.isEnabled() and view.persona.count() == 0
    assert "train one in the Train tab first" in view.status.text()
    assert view.chart.view._empty.isVisibleTo(view) and "No adapter-scale sweep yet" in view.chart.empty_text
    assert not view.chart.legend.isVisibleTo(view)


def test_a_sweep_from_the_window_draws_each_figure_with_intervals_from_the_stored_run(  # type: ignore[no-untyped-def]
    window, qtbot, talab_home: Path
) -> None:
    _with_adapter(window, qtbot, talab_home)
    view = window.sweep
    window.tabs.setCurrentWidget(view)
    assert view.persona.currentData() == "finetuned"
    assert [view.persona.itemData(i) for i in range(view.persona.count())] == [
        "finetuned", "finetuned-prompted", "merged",
    ]  # fmt: skip
    view.points.setValue(3)
    view.limit.setValue(2)
    view.run_button.click()
    qtbot.waitUntil(lambda: view.status.text().startswith("Run "), timeout=30_000)
    curve = view.curve
    assert curve is not None and curve.scales == [0.0, 0.5, 1.0] and curve.persona == "finetuned"
    store = open_store(read_only=True)
    run = store.get_run(curve.run_id)
    answers = store.answers(curve.run_id)
    assert run["personas"] == ["finetuned:0", "finetuned:0.5", "finetuned:1"] and len(answers) == 3 * 2 * 7
    expected = summarize(answers, run["personas"])
    for i, pid in enumerate(run["personas"]):  # the curve is the stored run's figures, scale by scale
        assert curve.values["identity"][i] == expected["pass_rates"][pid]["identity"]
        assert curve.values["general_ability"][i] == expected["overall"][pid]["general_ability"]
    drawn = view.chart.view.drawn
    assert drawn == [key for key, _, _ in CURVE]  # two probes of every category: every figure
    assert view.chart.view.error_bars == sum(1 for k in drawn for ci in curve.intervals[k] if ci) > 0
    assert view.chart.legend.isVisibleTo(view) and "identity&nbsp;adherence" in view.chart.legend.text()
    assert not view.progress.isVisibleTo(view) and view.run_button.isEnabled()
    assert window.probes.grid.rowCount() == 0  # the sweep's answers did not land in the Probes grid
    assert f"Run {curve.run_id}: Fine-tuned TA at 3 scales from 0 to 1." == view.status.text()
    # a later ordinary probe run is not a sweep: the tab keeps showing the newest sweep
    window.probes.limit.setValue(1)
    window.probes.run_button.click()
    qtbot.waitUntil(lambda: "finished" in window.probes.status.text(), timeout=30_000)
    view.curve = None
    view.show_latest()
    assert view.curve is not None and view.curve.run_id == curve.run_id


def test_cancel_stops_the_sweep_and_draws_what_it_reached(window, qtbot, script, talab_home: Path) -> None:  # type: ignore[no-untyped-def]
    _with_adapter(window, qtbot, talab_home)
    view = window.sweep
    script["runtimes"][-1].delay_s = 0.03
    view.points.setValue(6)
    view.limit.setValue(1)
    view.run_button.click()
    qtbot.waitUntil(lambda: view.progress.value() >= 9, timeout=20_000)
    assert view.cancel_button.isEnabled() and "Fine-tuned TA α=" in view.status.text()
    view.cancel_button.click()
    qtbot.waitUntil(lambda: "stopped early" in view.status.text(), timeout=20_000)
    curve = view.curve
    assert curve is not None and open_store().get_run(curve.run_id)["status"] == "cancelled"
    assert 9 <= len(open_store().answers(curve.run_id)) < 6 * 7
    assert view.chart.view.drawn  # the scales it reached are on the chart
