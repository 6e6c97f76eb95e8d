"""Questions about a stored run that every front end asks: can it be resumed, what did it score.

The CLI, the Probes tab and the History tab used to answer them each on their
own, and drifted: ``talab probe --resume`` skipped the checks the window made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine import scoring
from engine.errors import TalabError
from engine.store import Store

#: Statuses a probe run can be resumed from: it stopped (Cancel, Ctrl+C) or its process died.
RESUMABLE = ("cancelled", "interrupted")


def is_resumable(run: dict[str, Any]) -> bool:
    return run.get("kind") == "probe" and run.get("status") in RESUMABLE


def resumable_probe_run(store: Store, run_id: int) -> dict[str, Any]:
    """The run, if it may be resumed; otherwise one line that says why not.

    Needs only the store, so a front end can refuse before it loads a model.
    """
    run = store.get_run(run_id)
    if run.get("kind") != "probe":
        raise TalabError(f"Run {run_id} is a {run.get('kind')} run; only probe runs can be resumed")
    if run.get("status") == "done":
        raise TalabError(f"Run {run_id} already finished; nothing to resume")
    if run.get("status") == "running":  # its process is alive: two writers would ask twice
        raise TalabError(f"Run {run_id} is still running (process {run.get('pid')})")
    return run


def run_summary(run: dict[str, Any], answers: list[dict[str, Any]]) -> dict[str, Any]:
    """The summary stored when the run finished, or one computed from its scored answers.

    A killed run never stored one, and neither did runs from before summaries were stored.
    """
    stored = run.get("summary")
    if isinstance(stored, dict) and stored:
        return stored
    scored = [a for a in answers if a.get("passed") is not None]
    return scoring.summarize(scored, list(run.get("personas") or []))


def compare_runs(store: Store, original: int, replay: int) -> dict[str, Any]:
    """Which answers a replay reproduced, word for word (the replayability check)."""
    before = {(a["persona_id"], a["probe_id"]): a["answer"] for a in store.answers(original)}
    after = {(a["persona_id"], a["probe_id"]): a["answer"] for a in store.answers(replay)}
    shared = sorted(set(before) & set(after))
    differing = [f"{p}/{q}" for p, q in shared if before[(p, q)] != after[(p, q)]]
    return {
        "original": original,
        "compared": len(shared),
        "identical": len(shared) - len(differing),
        "differing": differing,
    }


@dataclass
class RunComparison:
    """Run A (the older) against run B, as facts for a front end to lay out."""

    a: int
    b: int
    compared: int  # answers to the same persona and question in both
    identical: int  # of those, word for word the same
    #: both probe runs: each figure per persona in A and B and the change (scoring.compare_figures)
    figures: list[dict[str, Any]] | None = None
    #: otherwise: each answer of A beside B's answer to the same persona and question (None: none)
    pairs: list[tuple[dict[str, Any], dict[str, Any] | None]] = field(default_factory=list)


def compare_two(store: Store, a: int, b: int) -> RunComparison:
    runs = [store.get_run(a), store.get_run(b)]
    answers = [store.answers(a), store.answers(b)]
    same = compare_runs(store, a, b)
    out = RunComparison(a, b, same["compared"], same["identical"])
    if all(r.get("kind") == "probe" for r in runs):
        summaries = [run_summary(r, ans) for r, ans in zip(runs, answers, strict=True)]
        out.figures = scoring.compare_figures(summaries[0], summaries[1])
    else:
        later = {(x["persona_id"], x.get("question")): x for x in answers[1]}
        out.pairs = [(x, later.get((x["persona_id"], x.get("question")))) for x in answers[0]]
    return out
