"""Questions about a stored run that every front end asks: can it be resumed, what did it score.

The CLI, the Probes tab and the History tab used to answer them each on their
own, and drifted: ``talab probe --resume`` skipped the checks the window made.
"""

from __future__ import annotations

from typing import Any

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
