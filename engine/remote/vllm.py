"""vLLM's OpenAI server as a TA Lab runtime (checked against vLLM's API documentation, not a live server).

vLLM picks the adapter by the request's ``model`` name (a ``--lora-modules name=path`` entry),
one adapter per request and no scale. One adapter at scale 1 is matched to a module by the
PEFT directory vLLM reports as the module's ``root`` or, failing that, by the adapter's name.
A persona that stacks or scales adapters runs on the module ``talab serve --engine vllm``
materialised for it (:mod:`engine.remote.materialise`), found by its content name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.adapters import AdapterSpec
from engine.chat import Message, RenderedPrompt
from engine.errors import AdapterError, ServerError, TalabError
from engine.finetune.registry import peft_dir
from engine.remote.http import Http
from engine.remote.materialise import describe, module_name
from engine.remote.openai_chat import RemoteModel, as_messages, identity, sampling_fields, stream_chat
from engine.runtime import CancelCheck, Generation, SamplingParams, TokenCallback


class VllmRuntime:
    engine = "vllm"

    def __init__(self, http: Http) -> None:
        self.http = http
        self.source = http.url
        listed = http.get("/v1/models")
        data = listed.get("data") if isinstance(listed, dict) else None
        if not data:
            raise ServerError(f"{http.url}/v1/models lists no model; it is not a llama.cpp server or vLLM")
        base = next((m for m in data if not m.get("parent")), data[0])
        self.base_name = str(base["id"])
        self.modules = [m for m in data if m.get("parent")]
        self.n_ctx = int(base.get("max_model_len") or 0)
        self.model = RemoteModel(
            path=Path(str(base.get("root") or self.base_name)),
            label=self.base_name,
            sha256=identity(self.base_name, http.url),
            source=http.url,
            context_length=self.n_ctx,
        )
        self._model_name = self.base_name

    def set_adapters(self, adapters: list[AdapterSpec] | tuple[AdapterSpec, ...]) -> None:
        """One adapter at scale 1 is its trained PEFT module; anything else is the materialised one."""
        if not adapters:
            self._model_name = self.base_name
            return
        if len(adapters) == 1 and adapters[0].scale == 1.0:
            found = self._trained_module(adapters[0].path)
            if found:
                self._model_name = found
                return
        self._model_name = self._materialised_module(adapters)

    def _trained_module(self, adapter: Path) -> str | None:
        peft = str(peft_dir(Path(adapter)).resolve())
        for m in self.modules:
            if str(Path(str(m.get("root", ""))).resolve()) == peft:
                return str(m["id"])
        for m in self.modules:
            if m.get("id") == Path(adapter).stem:
                return str(m["id"])
        return None

    def _materialised_module(self, adapters: list[AdapterSpec] | tuple[AdapterSpec, ...]) -> str:
        """Found by content name, as ``id`` or as the last part of the ``root`` the server reports
        (its paths may be another machine's)."""
        what = describe(adapters)
        if not all(Path(a.path).is_file() for a in adapters):
            name = None
        else:
            name = module_name(adapters)
            for m in self.modules:
                if name in (m.get("id"), Path(str(m.get("root", ""))).name):
                    return str(m["id"])
        names = ", ".join(str(m.get("id")) for m in self.modules) or "none"
        if name and len(adapters) == 1 and adapters[0].scale == 1.0:
            name = Path(adapters[0].path).stem  # `talab serve` names a lone adapter's module after it
        wanted = f" (expected {name})" if name else ""
        raise AdapterError(
            f"The vLLM server at {self.http.url} has no LoRA module for {what}{wanted}; it serves: "
            f"{names}. Restart it with the command `talab serve --engine vllm` prints"
        )

    def render(self, messages: list[Message]) -> RenderedPrompt:
        """vLLM renders the template server-side; the stored prompt is the exact messages sent."""
        return RenderedPrompt(json.dumps(as_messages(messages), ensure_ascii=False), "vllm-messages")

    def count_tokens(self, text: str) -> int:
        out = self.http.post("/tokenize", {"model": self._model_name, "prompt": text})
        return int(out.get("count") or len(out.get("tokens") or []))

    def set_threads(self, n: int) -> None:
        """vLLM runs on its GPU; a client has no threads to set."""

    def generate(
        self,
        messages: list[Message],
        params: SamplingParams | None = None,
        *,
        on_token: TokenCallback | None = None,
        should_cancel: CancelCheck | None = None,
    ) -> Generation:
        params = params or SamplingParams()
        body: dict[str, Any] = {
            "model": self._model_name,
            "messages": as_messages(messages),
            **sampling_fields(params),
            "repetition_penalty": params.repeat_penalty,
            "stream_options": {"include_usage": True},
        }
        prompt = self.render(messages).text
        return stream_chat(self.http, body, prompt=prompt, on_token=on_token, should_cancel=should_cancel)

    def complete(self, text: str, max_tokens: int = 24) -> str:
        """The Edit tab's raw continuation needs the model in this process."""
        raise TalabError("This runtime cannot continue raw text; load the model in-process")

    def warm(self, messages: list[Message]) -> int:
        """vLLM keeps its own prefix cache on the server: a client has nothing to warm."""
        return 0

    def close(self) -> None:
        """Nothing to free: the model lives in the server."""
