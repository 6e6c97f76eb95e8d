"""Examples → token ids and loss labels, using llama.cpp's own renderer and tokenizer.

transformers' GGUF tokenizer for SmolLM2 splits digits differently from
llama.cpp, so training on its ids would teach sequences that inference never
sees ("2025-03-14" especially). The runtime is opened ``vocab_only`` (cheap)
and renders and tokenizes exactly as it does when answering.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from engine.chat import ChatRenderer, Message
from engine.finetune.dataset import Example

IGNORE = -100  # torch's cross-entropy ignore_index: no loss on prompt tokens


class Tokenizer(Protocol):
    renderer: ChatRenderer

    def tokenize(self, text: str) -> list[int]: ...

    def tokenize_continuation(self, text: str) -> list[int]: ...


@dataclass(frozen=True)
class Encoded:
    ids: list[int]
    labels: list[int]

    @property
    def answer_tokens(self) -> int:
        return sum(1 for x in self.labels if x != IGNORE)


def encode(tok: Tokenizer, example: Example) -> Encoded:
    """Prompt tokens as inference renders them, then the reply; loss on the reply only."""
    messages = [Message("user", example.question)]
    prompt = tok.tokenize(tok.renderer.render(messages).text)
    reply = tok.tokenize_continuation(tok.renderer.render_reply(messages, example.answer))
    return Encoded(prompt + reply, [IGNORE] * len(prompt) + reply)


def encode_all(tok: Tokenizer, examples: list[Example], max_seq_len: int) -> tuple[list[Encoded], int]:
    """Encoded examples that fit ``max_seq_len``, and how many were too long and left out."""
    kept, skipped = [], 0
    for ex in examples:
        enc = encode(tok, ex)
        if len(enc.ids) > max_seq_len:
            skipped += 1
        else:
            kept.append(enc)
    return kept, skipped
