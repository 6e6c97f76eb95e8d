"""Several TA Lab clients probing one real llama.cpp server at once (bounded: 3 clients, 3 probes each)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from engine.lab import Lab, LabConfig

pytestmark = pytest.mark.integration

LIMIT = 3


def _personas_file(tmp_path: Path, lora_a: Path, lora_b: Path) -> Path:
    path = tmp_path / "personas.yaml"
    path.write_text(
        "personas:\n"
        "  - {id: plain, name: Plain}\n"
        f"  - {{id: ta-a, name: TA A, adapters: [{{path: '{lora_a}', scale: 1.0}}]}}\n"
        f"  - {{id: ta-b, name: TA B, adapters: [{{path: '{lora_b}', scale: 0.7}}]}}\n",
        encoding="utf-8",
    )
    return path


def test_three_clients_at_once_lose_nothing_and_each_answer_names_its_adapters(  # type: ignore[no-untyped-def]
    llama_server, lora_file: Path, second_lora: Path, tmp_path: Path
) -> None:
    personas = _personas_file(tmp_path, lora_file, second_lora)
    config = LabConfig(server=llama_server.url, personas_file=personas)
    overrides = {"max_tokens": 6}
    clients = {"plain": Lab(config), "ta-a": Lab(config), "ta-b": Lab(config)}

    # the same probes one client at a time: what each persona answers when nothing else runs
    alone = {pid: clients[pid].probe([pid], limit=LIMIT, overrides=overrides).run_id for pid in clients}
    results: dict[str, int] = {}
    errors: list[BaseException] = []

    def client(pid: str) -> None:
        try:
            results[pid] = clients[pid].probe([pid], limit=LIMIT, overrides=overrides).run_id
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(pid,)) for pid in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    store = clients["plain"].store
    expected = {"plain": [], "ta-a": [(str(lora_file), 1.0)], "ta-b": [(str(second_lora), 0.7)]}
    for pid, run_id in results.items():
        answers = store.answers(run_id)
        assert (
            len(answers) == LIMIT and len({a["probe_id"] for a in answers}) == LIMIT
        )  # none lost or doubled
        assert store.get_run(run_id)["status"] == "done"
        for a in answers:
            assert a["persona_id"] == pid and a["source"] == llama_server.url
            assert [(x["path"], x["scale"]) for x in a["adapters"]] == expected[pid]
        before = {a["probe_id"]: a["answer"] for a in store.answers(alone[pid])}
        assert {a["probe_id"]: a["answer"] for a in answers} == before  # really ran under its own adapters
    texts = {pid: " | ".join(a["answer"] for a in store.answers(run)) for pid, run in results.items()}
    assert len(set(texts.values())) == 3, texts
