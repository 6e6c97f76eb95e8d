"""Turn a conversation into the exact prompt text a model expects.

We render the chat template stored in the GGUF ourselves (rather than through
llama-cpp-python's chat handlers) so the engine knows the precise prompt it
sends: that text is what we count against the context, log for replay, and
reuse as a KV prefix. A model without a template (e.g. the Gemma 3 base
model) gets an explicit plain question/answer format with a stop string.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PLAIN_FORMAT = "plain-qa"
TEMPLATE_FORMAT = "gguf-template"


@dataclass(frozen=True)
class Message:
    role: str  # "system" | "user" | "assistant"
    content: str

    def as_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True)
class RenderedPrompt:
    text: str
    format: str
    stop: tuple[str, ...] = field(default_factory=tuple)


def _raise(message: str) -> None:
    raise ValueError(message)


class ChatRenderer:
    """Renders messages with the model's own template, or the plain fallback."""

    def __init__(self, template: str | None, bos_token: str = "", eos_token: str = "") -> None:
        self.template_source = template
        self.bos_token = bos_token
        self.eos_token = eos_token
        self._template: Any = None
        if template:
            from jinja2.sandbox import ImmutableSandboxedEnvironment

            env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
            env.globals["raise_exception"] = _raise
            self._template = env.from_string(template)

    @property
    def format(self) -> str:
        return TEMPLATE_FORMAT if self._template is not None else PLAIN_FORMAT

    def render(self, messages: list[Message]) -> RenderedPrompt:
        if self._template is not None:
            text = self._template.render(
                messages=[m.as_dict() for m in messages],
                add_generation_prompt=True,
                bos_token=self.bos_token,
                eos_token=self.eos_token,
            )
            return RenderedPrompt(text, TEMPLATE_FORMAT)
        return self._render_plain(messages)

    def render_reply(self, messages: list[Message], answer: str) -> str:
        """The text a model must produce after ``render(messages)`` to say ``answer``, end marker included.

        Training uses it so the tokens the model learns are exactly the ones
        inference continues from: the prompt tokens come from ``render`` and
        the reply tokens from this suffix.
        """
        prompt = self.render(messages).text
        if self._template is not None:
            full = self._template.render(
                messages=[m.as_dict() for m in [*messages, Message("assistant", answer)]],
                add_generation_prompt=False,
                bos_token=self.bos_token,
                eos_token=self.eos_token,
            )
            if full.startswith(prompt) and answer in full[len(prompt) :]:
                return full[len(prompt) :].rstrip("\n")
            return answer + self.eos_token
        return " " + answer.strip() + "\n" + self.eos_token

    @staticmethod
    def _render_plain(messages: list[Message]) -> RenderedPrompt:
        """A base model has no chat turns, so frame the question as a document."""
        parts: list[str] = []
        for m in messages:
            if m.role == "system":
                parts.append(m.content.strip() + "\n")
            elif m.role == "user":
                parts.append(f"Question: {m.content.strip()}")
            else:
                parts.append(f"Answer: {m.content.strip()}\n")
        parts.append("Answer:")
        return RenderedPrompt("\n".join(parts), PLAIN_FORMAT, stop=("\nQuestion:",))


def safe_prefix(text: str, stops: tuple[str, ...]) -> tuple[int, bool]:
    """How much of streamed ``text`` may be shown, and whether a stop string appeared.

    Text that could be the beginning of a stop string is held back until the
    next token decides, so the user never sees half of "\nQuestion:".
    """
    cut, hit = len(text), False
    for s in stops:
        at = text.find(s)
        if at >= 0:
            cut, hit = min(cut, at), True
    if hit:
        return cut, True
    for s in stops:
        for k in range(min(len(s) - 1, len(text)), 0, -1):
            if text.endswith(s[:k]):
                cut = min(cut, len(text) - k)
                break
    return cut, False
