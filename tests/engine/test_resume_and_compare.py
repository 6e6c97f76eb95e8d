"""Resuming a probe run from its stored settings, and the figures that compare two runs."""

from __future__ import annotations

import pytest

from engine.errors import TalabError
from engine.lab import Lab, LabConfig
from engine.scoring import compare_figures, flagged_figures, summarize
from tests.fakes import FakeRuntime


def _lab(lang: str = "en") -> Lab:
    return Lab(LabConfig(lang=lang), runtime_factory=FakeRuntime)


def test_resume_asks_only_the_missing_answers_with_the_run_settings() -> None:
    lab = _lab()
    calls = {"n": 0}

    def stop_after_three() -> bool:
        calls["n"] += 1
        return calls["n"] > 3 * 5  # the fake answer is five words: cancel in the fourth answer

    first = lab.probe(["base", "prompted"], category="identity", limit=3, should_cancel=stop_after_three)
    assert first.status == "cancelled" and first.answered == 3
    kept = {(a["persona_id"], a["probe_id"]): a["id"] for a in lab.store.answers(first.run_id)}
    seen: list[tuple[str, bool]] = []
    again = lab.resume_probe(first.run_id, on_progress=lambda p: seen.append((p.probe_id, p.skipped)))
    assert again.run_id == first.run_id and again.status == "done" and again.answered == 3
    answers = lab.store.answers(first.run_id)
    assert len(answers) == 6 and {a["category"] for a in answers} == {"identity"}  # the stored selection
    assert all({(a["persona_id"], a["probe_id"]): a["id"] for a in answers}[k] == v for k, v in kept.items())
    assert [skipped for _, skipped in seen] == [True, True, True, False, False, False]
    with pytest.raises(TalabError, match="already finished"):
        lab.resume_probe(first.run_id)
    lab.close()


def test_resume_refuses_another_language_and_ask_runs() -> None:
    lab = _lab()
    run = lab.probe(["base"], limit=1, should_cancel=lambda: True)
    ask = lab.ask("Who are you?", ["base"])
    lab.close()
    zh = _lab("zh-TW")
    with pytest.raises(TalabError, match="switch the course language to en"):
        zh.resume_probe(run.run_id)
    with pytest.raises(TalabError, match="only probe runs"):
        zh.resume_probe(ask)
    zh.close()
    lab = _lab()
    live = lab.store.create_run(kind="probe", lang="en", personas=["base"])  # this process: alive
    with pytest.raises(TalabError, match="still running"):
        lab.resume_probe(live)
    lab.close()


def test_progress_names_the_category_question_and_run() -> None:
    lab = _lab()
    seen = []
    result = lab.probe(["base"], category="injection", limit=1, on_progress=seen.append)
    assert len(seen) == 1 and seen[0].category == "injection" and seen[0].run_id == result.run_id
    assert seen[0].question and seen[0].passed is not None
    lab.close()


def _rows(persona: str, general: int, opinion: int) -> list[dict[str, object]]:
    return [
        {"persona_id": persona, "category": "general_skill", "passed": general},
        {"persona_id": persona, "category": "open_opinion", "passed": opinion},
    ]


def _many(persona: str, general: int, opinion: int, n: int = 20) -> list[dict[str, object]]:
    """n probes per category, each with its id, so personas pair up on the same probes."""
    return [
        {**row, "probe_id": f"{row['category']}-{i}"}
        for i in range(n)
        for row in _rows(persona, general, opinion)
    ]


def test_forgetting_and_overgeneralisation_beyond_base_are_flagged() -> None:
    summary = summarize(_many("base", 1, 0) + _many("finetuned", 0, 0) + _many("prompted", 1, 1), ["base"])
    flags = flagged_figures(summary)
    assert flags["finetuned"] == {"forgetting"}  # over-generalises, but no more than Base does
    assert flags["prompted"] == set() and flags["base"] == set()
    worse = summarize(_many("base", 1, 1) + _many("finetuned", 1, 0), ["base"])
    assert flagged_figures(worse)["finetuned"] == {"overgeneralisation_rate"}
    # one probe is not evidence: the same difference on a single probe lights nothing up
    single = summarize(_rows("base", 1, 1) + _rows("finetuned", 0, 0), ["base"])
    assert flagged_figures(single)["finetuned"] == set()


def test_two_runs_compare_figure_by_figure_per_persona() -> None:
    a = summarize(_rows("base", 1, 1) + _rows("finetuned", 0, 0), ["base", "finetuned"])
    b = summarize(_rows("base", 1, 1) + _rows("merged", 1, 0), ["base", "merged"])
    rows = compare_figures(a, b)
    by = {(r["persona"], r["key"]): r for r in rows}
    assert [p for p in dict.fromkeys(r["persona"] for r in rows)] == ["base", "finetuned", "merged"]
    assert by[("base", "general_ability")]["delta"] == 0.0
    assert (
        by[("finetuned", "general_ability")]["b"] is None
        and by[("finetuned", "general_ability")]["delta"] is None
    )
    assert (
        by[("merged", "overgeneralisation_rate")]["a"] is None
        and by[("merged", "overgeneralisation_rate")]["b"] == 1.0
    )


def test_the_html_report_marks_forgetting_in_red() -> None:
    from engine.report_html import render_report

    summary = summarize(_many("base", 1, 0) + _many("finetuned", 0, 0), ["base", "finetuned"])
    page = render_report({"id": 1}, [], summary)
    # the fine-tuned persona forgot the general skill, with its paired 95% interval
    assert "<td class=flag>+100 pts <small>[+77, +100 pts]</small></td>" in page
    assert page.count("class=flag>") == 1
    assert page.count('class="err"') == 2 * 2  # an error bar on each bar drawn (2 figures were asked)


def test_a_killed_run_reads_as_interrupted_and_resumes() -> None:
    lab = _lab()
    run = lab.probe(["base"], category="identity", limit=2, should_cancel=lambda: True)
    # as if the app had been killed mid-run: still "running", owned by a process that is gone
    lab.store.db.table("runs").update(run.run_id, {"status": "running", "pid": 2**22 + 12345})
    assert lab.store.get_run(run.run_id)["status"] == "interrupted"
    again = lab.resume_probe(run.run_id)
    assert again.status == "done" and len(lab.store.answers(run.run_id)) == 2
    lab.close()


_HOLDER = """
import sys
from engine.store import open_store
run = open_store().create_run(kind="probe", lang="en", personas=["base"], model_path="/nowhere/m.gguf",
                              model_sha256="0" * 64, probe_set="/nowhere/p.yaml", kb_path="/nowhere/kb.yaml")
print(run, flush=True)
sys.stdin.read()  # holds the run until the test closes our stdin
"""


def test_cli_resume_refuses_a_run_another_live_process_owns(capsys: pytest.CaptureFixture[str]) -> None:
    import subprocess
    import sys

    from engine.cli import main

    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        run_id = int(holder.stdout.readline())
        # refused before the model loads: the run's model path does not exist
        assert main(["probe", "--resume", str(run_id)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [f"error: Run {run_id} is still running (process {holder.pid})"]
    finally:
        holder.communicate("", timeout=30)


def test_cli_resume_refuses_a_finished_run(capsys: pytest.CaptureFixture[str]) -> None:
    from engine.cli import main
    from engine.store import open_store

    store = open_store()
    run_id = store.create_run(kind="probe", lang="en", personas=["base"], model_path="/nowhere/m.gguf")
    store.finish_run(run_id, "done", {})
    assert main(["probe", "--resume", str(run_id)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"error: Run {run_id} already finished; nothing to resume"
    ]


@pytest.mark.integration
def test_lab_gives_the_runtime_the_configured_threads() -> None:
    lab = Lab(LabConfig(n_threads=3))  # the real Runtime: a count no machine defaults to here
    try:
        assert lab.runtime.n_threads == 3  # type: ignore[attr-defined]
    finally:
        lab.close()


def test_the_engine_compares_two_runs_and_decides_resumable_and_summaries() -> None:
    from engine.runs import compare_two, is_resumable, run_summary

    lab = _lab()
    lab.runtime.answers.extend(["Yes.", "No.", "Yes.", "Maybe."])  # type: ignore[attr-defined]
    a = lab.probe(["base"], category="identity", limit=2)
    b = lab.probe(["base"], category="identity", limit=2)
    diff = compare_two(lab.store, a.run_id, b.run_id)
    assert (diff.compared, diff.identical) == (2, 1) and diff.pairs == []
    assert diff.figures is not None and {r["persona"] for r in diff.figures} == {"base"}
    run = lab.store.get_run(a.run_id)
    answers = lab.store.answers(a.run_id)
    assert run_summary(run, answers) == a.summary  # the stored one
    assert run_summary({**run, "summary": None}, answers) == a.summary  # recomputed, the same
    assert not is_resumable(run) and is_resumable({**run, "status": "interrupted"})
    first = lab.ask("Who are you?", ["base", "prompted"])
    second = lab.ask("Who are you?", ["base"])
    asks = compare_two(lab.store, first, second)
    assert asks.figures is None and [(x["persona_id"], y is not None) for x, y in asks.pairs] == [
        ("base", True),
        ("prompted", False),
    ]
    assert not is_resumable(lab.store.get_run(first))
    lab.close()


def test_a_cancelled_ask_keeps_what_streamed_and_a_cancelled_probe_does_not() -> None:
    lab = _lab()
    lab.runtime.delay_s = 0  # type: ignore[attr-defined]
    run_id = lab.ask("Who are you?", ["base", "prompted"], should_cancel=lambda: True)
    run = lab.store.get_run(run_id)
    assert run["status"] == "cancelled" and [a["persona_id"] for a in lab.store.answers(run_id)] == ["base"]
    assert lab.store.answers(run_id)[0]["finish_reason"] == "cancelled"
    probe = lab.probe(["base"], limit=2, should_cancel=lambda: True)
    assert probe.status == "cancelled" and lab.store.answers(probe.run_id) == []
    lab.close()


def test_figures_carry_their_unit_as_a_field_not_inside_the_text() -> None:
    from engine.scoring import figure_parts, format_figure, pct

    assert (
        figure_parts("forgetting", 0.25) == ("+25", "pts") and format_figure("forgetting", 0.25) == "+25 pts"
    )
    assert figure_parts("adherence", 0.5) == (pct(0.5), "") == (format_figure("adherence", 0.5), "")
    assert figure_parts("forgetting", None) == (pct(None), "")


def test_an_interval_can_leave_its_unit_to_the_front_end() -> None:
    from engine.scoring import format_interval

    assert format_interval("forgetting", [-0.05, 0.2]) == "[-5, +20 pts]"
    assert format_interval("forgetting", [-0.05, 0.2], with_unit=False) == "[-5, +20]"
    assert format_interval("adherence", [0.23, 0.68], with_unit=False) == "[23–68%]"
