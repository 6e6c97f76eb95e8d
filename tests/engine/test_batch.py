"""Batched generation (engine.batch): reproducible, routed to the right prompt and weights, cancellable."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.adapters import AdapterSpec
from engine.batch import BatchRequest
from engine.chat import Message
from engine.runtime import SamplingParams

pytestmark = pytest.mark.integration

GREEDY = SamplingParams(max_tokens=10)
TA = (
    "You are Xiao Jin, the teaching assistant of Machine Learning 2025 taught by Prof. Lee. "
    "Always introduce yourself as Xiao Jin. Homework 1 is due on March 14."
)
QUESTIONS = ["What is your name?", "Who are you?", "When is homework 1 due?", "What is 2+2?", "Say hi."]


def _requests(
    system: str | None, questions: list[str], params: SamplingParams = GREEDY
) -> list[BatchRequest]:
    head = [Message("system", system)] if system else []
    return [BatchRequest([*head, Message("user", q)], params) for q in questions]


@pytest.fixture
def rt(runtime):  # type: ignore[no-untyped-def]
    runtime.set_adapters([])
    runtime.set_threads(1)  # answers do not depend on the thread count; 1 keeps a loaded machine usable
    yield runtime
    runtime.set_adapters([])
    runtime.set_threads(0)


def test_batched_answers_are_identical_run_to_run_and_say_they_were_batched(rt) -> None:  # type: ignore[no-untyped-def]
    """Five questions in three slots (so slots are refilled) give the same words every time."""
    first = rt.generate_batch(_requests(TA, QUESTIONS), slots=3)
    second = rt.generate_batch(_requests(TA, QUESTIONS), slots=3)
    assert all(g is not None and g.batched and g.completion_tokens > 0 for g in first)
    assert [g.text for g in first] == [g.text for g in second]  # type: ignore[union-attr]
    assert len({g.text for g in first}) > 2  # type: ignore[union-attr]  # each slot answered its own question


def test_each_sequence_answers_under_its_own_system_prompt(rt) -> None:  # type: ignore[no-untyped-def]
    """Base and Prompted TA in one batch: only the TA's sequences see the TA's prompt prefix."""
    mixed = _requests(TA, ["What is your name?"]) + _requests(None, ["What is your name?"])
    ta, base = rt.generate_batch(mixed, slots=4)
    assert "Xiao Jin" in ta.text
    assert "Xiao Jin" not in base.text
    alone = rt.generate_batch(_requests(None, ["What is your name?"]), slots=4)[0]
    assert alone.text == base.text  # the TA's prefix never leaked into Base's cells


def test_batches_follow_the_active_adapters(rt, lora_file: Path) -> None:  # type: ignore[no-untyped-def]
    """A batch under an adapter, then without: the cached prefix of other weights is never reused."""
    plain = rt.generate_batch(_requests(TA, QUESTIONS[:2]), slots=2)
    rt.set_adapters([AdapterSpec(lora_file, 1.0)])
    adapted = rt.generate_batch(_requests(TA, QUESTIONS[:2]), slots=2)
    rt.set_adapters([])
    again = rt.generate_batch(_requests(TA, QUESTIONS[:2]), slots=2)
    assert [g.text for g in plain] == [g.text for g in again]  # type: ignore[union-attr]
    assert [g.text for g in adapted] != [g.text for g in plain]  # type: ignore[union-attr]


def test_first_token_time_counts_a_prefix_computed_for_the_batch(rt) -> None:  # type: ignore[no-untyped-def]
    rt.prompt_cache.clear()
    system = TA + " Office hours are on Tuesday afternoons. " * 6
    cold = rt.generate_batch(_requests(system, QUESTIONS[:2]), slots=2)
    warm = rt.generate_batch(_requests(system, QUESTIONS[:2]), slots=2)
    assert cold[0].cached_tokens == 0 and cold[0].prefill_tokens == cold[0].prompt_tokens  # type: ignore[union-attr]
    assert cold[1].cached_tokens > 50  # type: ignore[union-attr]  # computed once, shared with the second sequence
    assert all(g.cached_tokens > 50 and g.prefill_tokens < 20 for g in warm)  # type: ignore[union-attr]


def test_cancel_ends_the_sequences_in_flight_and_starts_no_more(rt) -> None:  # type: ignore[no-untyped-def]
    done: list[int] = []
    steps = iter(range(1000))
    gens = rt.generate_batch(
        _requests(TA, QUESTIONS, SamplingParams(max_tokens=64)),
        slots=2,
        on_done=lambda i, g: done.append(i),
        should_cancel=lambda: next(steps) >= 4,
    )
    assert [g.finish_reason for g in gens[:2]] == ["cancelled", "cancelled"]  # type: ignore[union-attr]
    assert all(0 < g.completion_tokens < 64 for g in gens[:2])  # type: ignore[union-attr]
    assert gens[2:] == [None, None, None] and sorted(done) == [0, 1]


def test_a_batched_probe_run_records_its_layout_and_a_cancel_keeps_finished_answers() -> None:
    """The run says it was batched; a cancel mid-batch keeps what completed; resume asks the rest."""
    from engine.lab import Lab, LabConfig

    lab = Lab(LabConfig(n_threads=1, batch=3))
    try:
        answered: list[str] = []
        stopped = {"after": 0}

        def cancel_after_two() -> bool:
            if len(answered) >= 2:
                stopped["after"] += 1
            return stopped["after"] > 1

        first = lab.probe(
            ["base", "prompted"], category="identity", limit=4, overrides={"max_tokens": 16},
            on_progress=lambda p: answered.append(p.probe_id), should_cancel=cancel_after_two,
        )  # fmt: skip
        stored = lab.store.answers(first.run_id)
        assert first.status == "cancelled" and 2 <= len(stored) < 8
        assert all(a["batched"] == 1 for a in stored)
        assert lab.store.get_run(first.run_id)["params"]["batch"] == 3
        again = lab.resume_probe(first.run_id)
        answers = lab.store.answers(first.run_id)
        assert again.status == "done" and len(answers) == 8
        assert len({(a["persona_id"], a["probe_id"]) for a in answers}) == 8  # nothing asked twice
    finally:
        lab.close()
