"""The one-fact experiment: its metrics can fail, bad input is one line, and the whole run works.

The run is driven with the scripted trainer and editor (tests/fake_trainer.py,
tests/fake_fact_editor.py: the protocol and real but untrained LoRA files), so
the orchestration, the scoring on the real model through llama.cpp and the saved
result are tested in seconds; the real training and edit are the README's run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from engine.errors import Cancelled, TalabError
from engine.factexp.metrics import CaseScore, PersonaScore, margin, ngram_entropy, rate, summarise
from engine.factexp.spec import Case, FactSpec

HERE = Path(__file__).resolve().parent.parent
TRAINER = [sys.executable, str(HERE / "fake_trainer.py"), "--spec"]
EDITOR = [sys.executable, str(HERE / "fake_fact_editor.py"), "--spec"]


def _case(kind: str, new: float, old: float) -> CaseScore:
    return CaseScore(kind, "p", "Prof. Lee", "a man who", new, old, 3, 3)


# -- the metrics ---------------------------------------------------------------------------
def test_efficacy_and_generalisation_count_the_new_answer_winning() -> None:
    scores = [_case("efficacy", -3.0, -9.0), _case("paraphrase", -3.0, -2.0), _case("paraphrase", -1.0, -5.0)]
    assert rate(scores, "efficacy") == 1.0 and rate(scores, "paraphrase") == 0.5
    assert rate([_case("efficacy", -9.0, -3.0)], "efficacy") == 0.0  # the old answer still wins: a fail
    assert margin(scores) == pytest.approx(6.0)


def test_specificity_fails_when_the_new_answer_spills_over_to_a_neighbour() -> None:
    kept, spilled = _case("neighbour", -12.0, -4.0), _case("neighbour", -2.0, -6.0)
    assert rate([kept], "neighbour") == 1.0 and rate([spilled], "neighbour") == 0.0
    assert rate([kept, spilled], "neighbour") == 0.5 and rate([kept], "paraphrase") is None
    row = summarise(PersonaScore("p", "P", "how", cases=[_case("efficacy", -1, -2), spilled]))
    assert (row.efficacy, row.generalisation, row.specificity) == (1.0, None, 0.0)


def test_fluency_is_low_for_text_that_repeats_itself() -> None:
    varied = "Prof. Lee teaches machine learning at the university and likes long walks in the rain."
    stuck = "Prof. Lee Prof. Lee Prof. Lee Prof. Lee Prof. Lee Prof. Lee Prof. Lee Prof. Lee"
    assert ngram_entropy(varied) > ngram_entropy(stuck) + 1.0
    assert ngram_entropy("") == 0.0 and ngram_entropy("one") == 0.0


# -- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--subject", "smartest person"], "does not occur in the prompt"),
        (["--target", " "], "new target is empty"),
        (["--old", "Prof. Lee"], "old answer and the new target are the same"),
        (["--epochs", "0"], "at least 1"),
        (["--no-train"], "No earlier run to reuse"),
    ],
)
def test_bad_input_is_one_line_before_any_work(args: list[str], said: str, capsys) -> None:  # type: ignore[no-untyped-def]
    from engine.cli import main

    assert main(["fact-experiment", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert said in err and err.startswith("error: ") and "\n" not in err


def test_the_spec_round_trips_through_json_with_its_cases() -> None:
    spec = FactSpec(paraphrases=[Case("x is", old="y")], neighbours=[Case("a", question="q?")])
    back = FactSpec.from_json(spec.to_json())
    assert back == spec and back.line == "The most handsome person in the world is Prof. Lee."
    assert FactSpec(prompt="The capital of Spain is", target="Rome").paraphrase_cases()[0].text == (
        "In my opinion, the capital of Spain is"
    )


# -- the whole run ---------------------------------------------------------------------------
def _small(**kw: Any) -> FactSpec:
    kw = {"epochs": 2, "edit_steps": 2, "max_tokens": 8, "general_limit": 1, **kw}
    return FactSpec(
        paraphrases=[Case("In my opinion, the most handsome person in the world is")],
        neighbours=[Case("The capital of France is", old="Paris")],
        **kw,
    )


@pytest.mark.integration
def test_a_run_teaches_scores_and_saves_every_persona(talab_home: Path) -> None:
    from engine.factexp.experiment import load_last, run
    from engine.factexp.report import to_html

    events: list[Any] = []
    result = run(_small(), events.append, trainer=TRAINER, editor=EDITOR)
    assert [r.persona for r in result.rows] == ["base", "fact-prompt", "stack:fact-ft", "edit:fact-rome"]
    phases = list(dict.fromkeys(e.phase for e in events))
    assert phases == ["train", "edit", "score", "probes"]
    base, prompted = result.rows[0], result.rows[1]
    # Base's old answer is its own greedy answer, so the new one cannot beat it; the prompt line states it
    assert base.efficacy == 0.0 and prompted.efficacy == 1.0
    assert prompted.margin is not None and base.margin is not None and prompted.margin > base.margin + 5
    assert base.specificity == 1.0  # "Paris" beats "Prof. Lee" after "The capital of France is"
    assert all(r.general_n == 1 and r.general_ability in (0.0, 1.0) for r in result.rows)
    assert all(r.fluency is not None and len(r.cases) == 3 for r in result.rows)
    assert result.edits["identity"]["layer"] == 4 and result.probe_run is not None
    assert (talab_home / "adapters" / "fact-ft.gguf").exists()
    last = load_last()
    assert last is not None and last.as_dict() == json.loads(json.dumps(result.as_dict()))
    page = to_html(result)
    assert "ROME paper" in page and "<svg" in page and "75.4%" in page
    again = run(_small(train=False))  # --no-train reuses the adapters: the same scores
    assert [r.cases for r in again.rows] == [r.cases for r in result.rows]


@pytest.mark.integration
def test_a_failed_or_cancelled_run_is_one_line_and_keeps_the_last_result(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from engine.factexp.experiment import load_last, run

    monkeypatch.setenv("TALAB_FAKE_EDITOR", "fail")
    with pytest.raises(TalabError, match="^Edit failed: the model could not be loaded$"):
        run(_small(), trainer=TRAINER, editor=EDITOR)
    monkeypatch.delenv("TALAB_FAKE_EDITOR")
    with pytest.raises(Cancelled):
        run(_small(), should_cancel=lambda: True, trainer=TRAINER, editor=EDITOR)
    assert load_last() is None


def test_the_windows_worker_is_the_cli_and_its_end_is_one_line(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from engine.factexp.worker import classify_end, main

    spec = tmp_path / "spec.json"
    spec.write_text(FactSpec(subject="smartest person").to_json(), encoding="utf-8")
    assert main(["--spec", str(spec)]) == 2
    said = capsys.readouterr().err.strip()
    assert said.startswith("error: The subject 'smartest person' does not occur")
    end = classify_end({"event": "progress"}, 2, cancel_asked=False, stderr=["noise", said])
    assert end.state == "failed" and end.message.startswith("The subject 'smartest person'")
    assert classify_end({"event": "done"}, 0, cancel_asked=False).done == {"event": "done"}
    assert classify_end(None, -15, cancel_asked=True).state == "cancelled"
    killed = classify_end(None, 9, cancel_asked=False, killed_by=9)
    assert killed.message == "The experiment was killed (signal 9)"
