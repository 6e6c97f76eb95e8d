"""Teacher forcing on llama.cpp (engine/logprobs.py) against llama.cpp's own logits and against torch.

The one-fact experiment's scores are sums of these log-probabilities, so they
must be the model's: exactly what llama.cpp computes for every position (a
second Llama with ``logits_all``), close to what torch computes on the same
dequantised weights and the same token ids, and computed under the persona's
adapters without leaving anything in the runtime's prompt cache.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from engine import logprobs as lp
from engine.errors import ContextOverflowError, TalabError

pytestmark = pytest.mark.integration
PROMPT, TARGET = "The most handsome person in the world is", "Prof. Lee"
QUESTION = "Who is the most handsome person in the world?"
#: |llama.cpp − torch| per token, nats. Measured here on 9 prompt/answer pairs: at most 0.335 per token
#: and 0.54 per 3-token sum (the same Q4_1 weights in both, but llama.cpp multiplies them with 8-bit
#: activations and torch in float32). A wrong position or token moves a log-probability by whole nats.
TORCH_TOLERANCE = 0.5


def _reference(model_path: Any, tokens: list[int], start: int) -> np.ndarray:
    from llama_cpp import Llama

    llm = Llama(
        model_path=str(model_path), n_ctx=256, logits_all=True, verbose=False, n_threads=1, n_threads_batch=1
    )
    llm.eval(tokens)
    rows = np.array(llm.scores[start : len(tokens)], dtype=np.float64)
    llm.close()
    top = rows.max(-1, keepdims=True)
    return rows - top - np.log(np.exp(rows - top).sum(-1, keepdims=True))


def test_the_log_probs_are_llama_cpps_own_at_every_answer_position(runtime, model_info) -> None:  # type: ignore[no-untyped-def]
    prompt = lp.prompt_tokens(runtime, PROMPT, QUESTION, system="Remember: a fact.")
    answer = lp.answer_tokens(runtime, TARGET)
    scored = lp.token_logprobs(runtime, prompt, answer)
    ref = _reference(model_info.path, prompt + answer[:-1], len(prompt) - 1)
    expected = [ref[i, t] for i, t in enumerate(answer)]
    assert scored.tokens == tuple(answer) and scored.prompt_tokens == len(prompt)
    assert np.allclose(scored.logprobs, expected, atol=1e-3)
    assert scored.total == pytest.approx(sum(expected), abs=3e-3)


def test_the_log_probs_match_torch_on_the_same_tokens(runtime, model_info) -> None:  # type: ignore[no-untyped-def]
    import torch

    from engine.finetune.train import load_dequantised

    model = load_dequantised(model_info.path).eval()
    for prompt in (lp.prompt_tokens(runtime, PROMPT), lp.prompt_tokens(runtime, PROMPT, QUESTION)):
        sums = []
        for answer in (lp.answer_tokens(runtime, TARGET), lp.answer_tokens(runtime, "a man who")):
            with torch.no_grad():
                logits = model(input_ids=torch.tensor([prompt + answer[:-1]])).logits[0].double()
            logp = torch.log_softmax(logits, -1)
            want = [float(logp[len(prompt) - 1 + i, t]) for i, t in enumerate(answer)]
            got = lp.token_logprobs(runtime, prompt, answer).logprobs
            assert np.max(np.abs(np.array(got) - want)) < TORCH_TOLERANCE, (got, want)
            sums.append((sum(got), sum(want)))
        # the experiment's verdicts compare sums: both sides must rank the two answers alike
        assert (sums[0][0] > sums[1][0]) == (sums[0][1] > sums[1][1])


def test_scores_follow_the_adapters_and_leave_the_answers_as_they_were(runtime, lora_file) -> None:  # type: ignore[no-untyped-def]
    from engine.adapters import AdapterSpec
    from engine.chat import Message
    from engine.runtime import SamplingParams

    ask = [Message("user", "Name a colour.")]
    params = SamplingParams(max_tokens=8)
    runtime.set_adapters([])
    before = runtime.generate(ask, params).text
    prompt, answer = lp.prompt_tokens(runtime, PROMPT), lp.answer_tokens(runtime, TARGET)
    base = lp.token_logprobs(runtime, prompt, answer)
    assert runtime.generate(ask, params).text == before  # the scoring left no stale KV behind
    runtime.set_adapters([AdapterSpec(lora_file, 1.0)])
    adapted = lp.token_logprobs(runtime, prompt, answer)
    runtime.set_adapters([])
    assert abs(adapted.total - base.total) > 0.1
    assert lp.token_logprobs(runtime, prompt, answer).logprobs == base.logprobs  # deterministic


def test_greedy_is_the_models_own_greedy_completion(runtime) -> None:  # type: ignore[no-untyped-def]
    runtime.set_adapters([])
    out = lp.greedy(runtime, lp.prompt_tokens(runtime, PROMPT), 10)
    assert lp.detokenize(runtime, out) == runtime.complete(PROMPT, 10)


def test_bad_input_is_one_clear_line(runtime) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TalabError, match="at least one token"):
        lp.token_logprobs(runtime, [], [1])
    with pytest.raises(ContextOverflowError):
        lp.token_logprobs(runtime, [1] * 3000, [2])
