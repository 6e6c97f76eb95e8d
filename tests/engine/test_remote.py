"""The llama-server runtime against a real llama.cpp server on 127.0.0.1 (xllamacpp)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.adapters import AdapterSpec
from engine.chat import Message
from engine.errors import AdapterError
from engine.runtime import SamplingParams

pytestmark = pytest.mark.integration

Q = [Message("user", "Who is the most handsome person in the world?")]
P = SamplingParams(max_tokens=12)


@pytest.fixture()
def remote(llama_server):  # type: ignore[no-untyped-def]
    from engine.remote import connect

    return connect(llama_server.url)


def test_identity_comes_from_the_server(remote, llama_server, model_info) -> None:  # type: ignore[no-untyped-def]
    assert remote.engine == "llama"
    assert remote.model.sha256 == f"server:{model_info.path}@{llama_server.url}"
    assert remote.model.local_sha256 == model_info.sha256  # same machine: the file is readable here
    assert remote.n_ctx == 2048
    assert remote.count_tokens("hello there") >= 2


def test_answers_stream_with_an_honest_ttft(remote) -> None:  # type: ignore[no-untyped-def]
    pieces: list[str] = []
    gen = remote.generate(Q, P, on_token=pieces.append)
    assert gen.text and "".join(pieces).strip() == gen.text
    assert gen.completion_tokens == 12 and gen.finish_reason == "length"
    assert gen.prompt.startswith("<|im_start|>") and gen.prompt_tokens > 10
    assert 0 < gen.ttft_s <= gen.total_s


def test_answers_do_not_depend_on_the_order_personas_are_asked(  # type: ignore[no-untyped-def]
    remote, lora_file: Path, second_lora: Path
) -> None:
    """llama.cpp #26207: a prompt cached under one adapter set must never serve another."""
    sets = {"base": [], "a": [AdapterSpec(lora_file)], "b": [AdapterSpec(second_lora, 0.7)]}

    def ask(order: list[str]) -> dict[str, str]:
        out = {}
        for name in order:
            remote.set_adapters(sets[name])
            out[name] = remote.generate(Q, P).text
        return out

    forward, backward = ask(["base", "a", "b"]), ask(["b", "a", "base"])
    assert forward == backward
    assert len(set(forward.values())) == 3, forward  # the adapters really change the answer


def test_adapters_map_to_server_ids_by_path_and_name_every_one(  # type: ignore[no-untyped-def]
    remote, lora_file: Path, second_lora: Path
) -> None:
    remote.set_adapters([AdapterSpec(second_lora, 0.5)])
    assert remote._lora == [{"id": 0, "scale": 0.0}, {"id": 1, "scale": 0.5}]
    assert remote.active[0][0].matched_by == "path"


def test_a_server_without_the_adapter_is_one_line(remote, model_info, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.ggufs import write_lora

    shapes = {t.name: t.shape for t in model_info.header.tensors}
    missing = write_lora(tmp_path / "ta-unseen.gguf", shapes, seed=99)
    with pytest.raises(AdapterError) as err:
        remote.set_adapters([AdapterSpec(missing)])
    assert "has no adapter ta-unseen.gguf" in str(err.value) and "\n" not in str(err.value)
