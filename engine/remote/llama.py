"""llama.cpp's ``llama-server`` as a TA Lab runtime.

Adapters: the server is started with every adapter (``--lora A --lora B
--lora-init-without-apply``) and each request names *all* of them in its ``lora`` field, the
unused ones at scale 0, so no request inherits another's global scales. TA Lab's adapters are
mapped to the server's ids through ``/lora-adapters``: by path, else by content hash when the
server's file is readable here, else by file name when it is unique (recorded as such).

Prompt cache: llama.cpp reuses a cached prompt across requests with different adapters
(llama.cpp issue #26207), which would give an answer computed partly under another persona's
weights. Every request therefore sends ``cache_prompt: false``, and ``talab serve`` starts the
server with ``--cache-ram 0``; the test suite checks that answers do not depend on the order
in which personas are asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.adapters import AdapterSpec
from engine.chat import Message, RenderedPrompt
from engine.errors import AdapterError, ModelError, ServerError, TalabError
from engine.models import file_sha256
from engine.remote.http import Http
from engine.remote.openai_chat import (
    RemoteModel,
    as_messages,
    identity,
    local_file_sha256,
    sampling_fields,
    stream_chat,
)
from engine.runtime import CancelCheck, Generation, SamplingParams, TokenCallback


@dataclass(frozen=True)
class ServerAdapter:
    id: int
    path: str
    matched_by: str = "path"  # "path" | "sha256" | "name": how TA Lab recognised it


#: What llama-server reports as its chat template when the model has none (seen on a Gemma 3 base
#: model): its built-in ChatML fallback, which no chat model's own template spells this way.
LLAMA_CPP_FALLBACK_TEMPLATE = (
    "{%- for message in messages -%}\n  {{- '<|im_start|>' + message.role + '\n' + message.content + "
    "'<|im_end|>\n' -}}\n{%- endfor -%}\n{%- if add_generation_prompt -%}\n  "
    "{{- '<|im_start|>assistant\n' -}}\n{%- endif -%}"
)


def _model_without_template(props: dict[str, Any], model_path: str) -> bool:
    """llama-server silently falls back to ChatML for a model without a template; we refuse instead.

    The fallback would make a base model look like a chat model and the lesson would compare
    nonsense. The model's own GGUF header says whether it has a template when the file is here;
    from afar, the fallback's exact text gives it away.
    """
    template = str(props.get("chat_template") or "")
    if not template.strip() or template.strip() == LLAMA_CPP_FALLBACK_TEMPLATE:
        return True
    path = Path(model_path)
    if model_path and path.is_file():
        from engine.gguf_file import read_header

        tpl = read_header(path, what="model").metadata.get("tokenizer.chat_template")
        return not (isinstance(tpl, str) and tpl.strip())
    return False


class LlamaServerRuntime:
    """Same surface as :class:`engine.runtime.Runtime`; thread-safe because it keeps no KV state."""

    engine = "llama"

    def __init__(self, http: Http) -> None:
        self.http = http
        self.source = http.url
        health = http.get("/health")
        if isinstance(health, dict) and health.get("status") not in (None, "ok"):
            raise ServerError(f"The server at {http.url} is not ready ({health.get('status')})")
        props = http.get("/props")
        models = http.get("/v1/models")
        if not isinstance(props, dict) or not isinstance(models, dict):
            raise ServerError(f"{http.url} did not answer like a llama.cpp server; check --server")
        data = models.get("data") or [{}]
        name = str(data[0].get("id") or Path(str(props.get("model_path", "model"))).name)
        model_path = str(props.get("model_path") or "")
        settings = props.get("default_generation_settings") or {}
        self.n_ctx = int(settings.get("n_ctx") or props.get("n_ctx") or 0)
        if _model_without_template(props, model_path):
            raise ModelError(
                f"The server's model {name} has no chat template, so personas cannot be rendered "
                "as a conversation; serve an instruct (chat) model"
            )
        self.model = RemoteModel(
            path=Path(model_path or name),
            label=name,
            sha256=identity(name, http.url),
            source=http.url,
            context_length=self.n_ctx,
            chat_template=str(props.get("chat_template") or ""),
            local_sha256=local_file_sha256(model_path),
            meta={**(data[0].get("meta") or {}), "build_info": props.get("build_info")},
        )
        self._server_adapters: list[dict[str, Any]] = self._list_adapters()
        self._lora: list[dict[str, Any]] = [{"id": a["id"], "scale": 0.0} for a in self._server_adapters]
        self.active: tuple[tuple[ServerAdapter, float], ...] = ()

    # -- adapters --------------------------------------------------------
    def _list_adapters(self) -> list[dict[str, Any]]:
        listed = self.http.get("/lora-adapters")
        if not isinstance(listed, list):
            raise ServerError(f"{self.http.url}/lora-adapters did not answer with a list")
        return [a for a in listed if isinstance(a, dict) and "id" in a]

    def match_adapter(self, local: Path) -> ServerAdapter:
        wanted = Path(local).resolve()
        for a in self._server_adapters:
            if Path(str(a.get("path", ""))).resolve() == wanted:
                return ServerAdapter(int(a["id"]), str(a["path"]), "path")
        digest = file_sha256(wanted) if wanted.is_file() else None
        for a in self._server_adapters:
            theirs = local_file_sha256(str(a.get("path", "")))
            if digest and theirs == digest:
                return ServerAdapter(int(a["id"]), str(a["path"]), "sha256")
        same_name = [a for a in self._server_adapters if Path(str(a.get("path", ""))).name == wanted.name]
        if len(same_name) == 1 and local_file_sha256(str(same_name[0]["path"])) is None:
            return ServerAdapter(int(same_name[0]["id"]), str(same_name[0]["path"]), "name")
        loaded = ", ".join(Path(str(a.get("path", "?"))).name for a in self._server_adapters) or "none"
        raise AdapterError(
            f"The server at {self.http.url} has no adapter {wanted.name} (it loaded: {loaded}); "
            "restart it with the command `talab serve` prints"
        )

    def set_adapters(self, adapters: list[AdapterSpec] | tuple[AdapterSpec, ...]) -> None:
        """Name every server adapter in each request, the unused ones at scale 0."""
        matched = tuple((self.match_adapter(a.path), float(a.scale)) for a in adapters)
        scales = {int(a["id"]): 0.0 for a in self._server_adapters}
        for m, scale in matched:
            scales[m.id] = scales.get(m.id, 0.0) + scale
        self._lora = [{"id": i, "scale": s} for i, s in sorted(scales.items())]
        self.active = matched

    @property
    def active_adapters(self) -> tuple[tuple[str, float], ...]:
        return tuple((m.path, s) for m, s in self.active)

    # -- prompts ---------------------------------------------------------
    def render(self, messages: list[Message]) -> RenderedPrompt:
        out = self.http.post("/apply-template", {"messages": as_messages(messages)})
        return RenderedPrompt(text=str(out.get("prompt", "")), format="server-template")

    def count_tokens(self, text: str) -> int:
        out = self.http.post("/tokenize", {"content": text, "add_special": True})
        return len(out.get("tokens") or [])

    def set_threads(self, n: int) -> None:
        """The server owns its threads (``--threads``); a client cannot change them."""

    def generate(
        self,
        messages: list[Message],
        params: SamplingParams | None = None,
        *,
        on_token: TokenCallback | None = None,
        should_cancel: CancelCheck | None = None,
    ) -> Generation:
        params = params or SamplingParams()
        prompt = self.render(messages).text
        body = {
            "messages": as_messages(messages),
            **sampling_fields(params),
            "repeat_penalty": params.repeat_penalty,
            "lora": list(self._lora),
            "cache_prompt": False,
            "stream_options": {"include_usage": True},
        }
        return stream_chat(self.http, body, prompt=prompt, on_token=on_token, should_cancel=should_cancel)

    def complete(self, text: str, max_tokens: int = 24) -> str:
        """The Edit tab's raw continuation needs the model in this process."""
        raise TalabError("This runtime cannot continue raw text; load the model in-process")

    def warm(self, messages: list[Message]) -> int:
        """A server keeps no prompt cache across adapters (``cache_prompt`` is off): nothing to warm."""
        return 0

    def close(self) -> None:
        """Nothing to free here: the model lives in the server."""

    def __enter__(self) -> LlamaServerRuntime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
