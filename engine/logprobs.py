"""Teacher forcing on llama.cpp: the log-probability a persona gives a fixed answer after a prompt.

CounterFact-style scores ask whether the new answer is more likely than the old
one, so they need the model's own probabilities of given tokens, not sampled
text. llama.cpp computes them in one decode of prompt + answer[:-1] with logits
kept only at the positions that predict an answer token; the answer is scored
under whatever adapters the :class:`~engine.runtime.Runtime` has active, so a
persona's LoRA or edit is part of the figure.

The Runtime offers no decode with logits at chosen positions, so this module
drives its ``Llama`` directly. The live KV cache is reset before and after each
call, so the runtime's prompt cache never reuses keys and values written here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.chat import Message
from engine.errors import ContextOverflowError, TalabError


@dataclass(frozen=True)
class Scored:
    """An answer's tokens after a prompt and each token's log-probability (natural log)."""

    prompt_tokens: int
    tokens: tuple[int, ...]
    logprobs: tuple[float, ...]

    @property
    def total(self) -> float:
        return float(sum(self.logprobs))

    @property
    def mean(self) -> float:
        return self.total / max(1, len(self.logprobs))


def _llama(runtime: Any) -> Any:
    if getattr(runtime, "vocab_only", False):
        raise TalabError("Log-probabilities need a loaded model, not a vocabulary-only one")
    return runtime._llm  # the Runtime has no decode with logits at chosen positions (see module doc)


def _decode(runtime: Any, tokens: list[int], n_past: int, keep_from: int) -> Any:
    """Decode ``tokens`` at positions ``n_past``…; logits (float64) of every token from ``keep_from`` on."""
    import numpy as np

    llm = _llama(runtime)
    if n_past + len(tokens) > runtime.n_ctx or len(tokens) > llm.n_batch:
        raise ContextOverflowError(n_past + len(tokens), min(runtime.n_ctx, llm.n_batch), "scored text")
    batch = llm._batch
    batch.set_batch(tokens, n_past, False)
    for i in range(keep_from, len(tokens)):
        batch.batch.logits[i] = True
    llm._ctx.decode(batch)
    rows = len(tokens) - keep_from
    logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(rows * llm.n_vocab(),))
    return logits.reshape(rows, llm.n_vocab()).astype(np.float64)


def _log_softmax(logits: Any) -> Any:
    import numpy as np

    top = logits.max(axis=-1, keepdims=True)
    return logits - top - np.log(np.exp(logits - top).sum(axis=-1, keepdims=True))


def _fresh(runtime: Any) -> None:
    runtime.reset_cache()
    _llama(runtime)._ctx.kv_cache_seq_rm(-1, 0, -1)


def token_logprobs(runtime: Any, prompt: list[int], answer: list[int]) -> Scored:
    """log p(answer | prompt) token by token, in one decode, under the runtime's active adapters."""
    if not prompt or not answer:
        raise TalabError("Scoring needs a prompt and an answer of at least one token each")
    _fresh(runtime)
    try:
        logits = _decode(runtime, prompt + answer[:-1], 0, len(prompt) - 1)
    finally:
        runtime.reset_cache()
    logp = _log_softmax(logits)
    picked = tuple(float(logp[i, t]) for i, t in enumerate(answer))
    return Scored(len(prompt), tuple(answer), picked)


def prompt_tokens(
    runtime: Any, text: str, question: str | None = None, system: str | None = None
) -> list[int]:
    """The tokens an answer is scored after.

    Without ``question``: ``text`` as raw text (a completion prompt, as a fact edit is made on),
    with ``system`` as a line before it. With ``question``: the chat template renders the system
    message (if any) and the user's question, and ``text`` starts the assistant's reply.
    """
    if question is None:
        return list(runtime.tokenize(f"{system}\n{text}" if system else text))
    head = [Message("system", system)] if system else []
    rendered = runtime.render([*head, Message("user", question)]).text
    return list(runtime.tokenize(rendered + text))


def answer_tokens(runtime: Any, answer: str) -> list[int]:
    """An answer as it follows a prompt that ends in a word: one leading space, no BOS."""
    return list(runtime.tokenize_continuation(" " + answer.strip()))


def greedy(runtime: Any, prompt: list[int], max_tokens: int) -> list[int]:
    """Greedy continuation (argmax, no penalties) under the active adapters: the model's own answer."""
    import llama_cpp

    llm = _llama(runtime)
    vocab = llm._model.vocab
    out: list[int] = []
    _fresh(runtime)
    try:
        logits = _decode(runtime, prompt, 0, len(prompt) - 1)
        while len(out) < max_tokens:
            token = int(logits[-1].argmax())
            if llama_cpp.llama_vocab_is_eog(vocab, token):
                break
            out.append(token)
            if len(prompt) + len(out) >= runtime.n_ctx:
                break
            logits = _decode(runtime, [token], len(prompt) + len(out) - 1, 0)
    finally:
        runtime.reset_cache()
    return out


def detokenize(runtime: Any, tokens: list[int]) -> str:
    return bytes(_llama(runtime).detokenize(tokens)).decode("utf-8", errors="replace")
