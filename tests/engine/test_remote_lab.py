"""A Lab on a real llama.cpp server: stored like local runs, resumable after the server goes away."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import main
from engine.errors import ServerError
from engine.lab import Lab, LabConfig
from engine.store import open_store

pytestmark = pytest.mark.integration


def test_answers_are_stored_like_local_ones_with_the_server_as_source(llama_server, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["ask", "--server", llama_server.url, "--personas", "base,prompted", "--max-tokens", "6",
                 "Who are you?"]) == 0  # fmt: skip
    assert "── Prompted TA ──" in capsys.readouterr().out
    store = open_store()
    run = store.list_runs()[0]
    assert run["model_sha256"].startswith("server:") and run["origin"]["server"] == llama_server.url
    answers = store.answers(run["id"])
    assert [a["persona_id"] for a in answers] == ["base", "prompted"]
    for a in answers:
        assert a["source"] == llama_server.url and a["answer"] and a["completion_tokens"] == 6
        assert a["model_sha256"] == run["model_sha256"] and a["params"]["max_tokens"] == 6
        assert a["ttft_s"] > 0
    assert answers[1]["prompt"].startswith("<|im_start|>system\n") and answers[1]["kb_hash"]


def test_a_server_that_goes_away_leaves_a_run_that_resume_finishes(  # type: ignore[no-untyped-def]
    model_info, lora_file: Path, capsys
) -> None:
    from tests.remote_server import ServerProcess

    server = ServerProcess(model_info.path, [lora_file]).start()
    try:
        lab = Lab(LabConfig(server=server.url, server_timeout_s=30))

        def pull_the_plug(progress) -> None:  # type: ignore[no-untyped-def]
            if progress.done == 2:
                server.kill()

        with pytest.raises(ServerError) as err:
            lab.probe(["base"], limit=4, overrides={"max_tokens": 4}, on_progress=pull_the_plug)
        run_id = lab.store.list_runs()[0]["id"]
        assert f"talab probe --resume {run_id}" in str(err.value) and "\n" not in str(err.value)
        assert lab.store.get_run(run_id)["status"] == "interrupted"
        assert len(lab.store.answers(run_id)) == 2
        capsys.readouterr()
        assert main(["probe", "--resume", str(run_id)]) == 2  # still away: one line again
        assert "Nothing is listening" in capsys.readouterr().err
        server.start()  # back, on the same port
        assert main(["probe", "--resume", str(run_id), "--json"]) == 0  # the run's server is remembered
        run = open_store().get_run(run_id)
        answers = open_store().answers(run_id)
        assert run["status"] == "done" and len(answers) == 4
        assert len({(a["persona_id"], a["probe_id"]) for a in answers}) == 4
        assert all(a["source"] == server.url for a in answers)
    finally:
        server.stop()
