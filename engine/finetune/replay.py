"""Replay data by self-distillation: the base model answers general instructions itself.

Mixing these into the TA data is the lecture's counter-measure against
catastrophic forgetting. Because the answers come from the same base model,
no outside data set is needed and nothing is downloaded: training on them
pulls the fine-tuned model back towards what it already did.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path

from engine.errors import TalabError
from engine.finetune.dataset import Example

#: General instructions, none of them a probe question: the probes measure the effect.
GENERAL_PROMPTS = [
    # Everyday tasks of the kinds the general-skill probes test (verse, arithmetic, translation,
    # knowledge), never in the probes' words: replay must keep a skill, not rehearse a probe
    # (tests/engine/test_finetune_data.py checks the distance).
    "Write a haiku about autumn leaves.",
    "Compose a rhyming couplet about friendship.",
    "Describe a winter morning in four lines of verse.",
    "If I have 3 apples and buy 4 more, how many apples do I have?",
    "How many minutes are in two hours?",
    "In which country is the city of Madrid?",
    "Which continent is Egypt on?",
    "How do you say 'good morning' in Spanish?",
    "What does the German word 'Hund' mean in English?",
    "Name the painter of the Mona Lisa.",
    "In one sentence, how was penicillin discovered?",
    "Which novel is Jane Austen best known for?",
    "Tell me about the first moon landing in one sentence.",
    "Name the author of the Harry Potter books.",
    "Which composer wrote the Fifth Symphony?",
    "Which fruits are usually yellow?",
    "Give two examples of animals that live in the ocean.",
    "What is the plural of 'mouse'?",
    "Give me a word that rhymes with 'light'.",
    "Give me a synonym for 'happy'.",
    "How many days are in a week?",
    "What do bees make?",
    "Explain what a rainbow is in one sentence.",
    "Give me a tip for sleeping better.",
    "What is the largest planet in our solar system?",
    "What is water made of?",
    "Describe a sunset in one sentence.",
    "Why is science important? Answer in one sentence.",
    "What is a good way to learn a new language?",
    "Summarise the story of Cinderella in two sentences.",
]

_SENTENCE_END = re.compile(r"[.!?。！？](?=\s|$)")


def replay_count(n_task: int, fraction: float) -> int:
    """How many replay examples make ``fraction`` of the final set."""
    if not 0.0 <= fraction < 1.0:
        raise TalabError(f"--replay must be a fraction from 0 to below 1, got {fraction}")
    return min(len(GENERAL_PROMPTS), math.ceil(n_task * fraction / (1.0 - fraction) - 1e-9))


def _trim(text: str, truncated: bool) -> str:
    """A cut-off answer would teach the model to stop mid-sentence: keep whole sentences."""
    text = text.strip()
    if not truncated:
        return text
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    return text[: ends[-1]].strip() if ends else ""


def generate_replay(
    model_path: Path,
    count: int,
    *,
    max_tokens: int = 96,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[Example]:
    """Answer ``count`` general prompts with the base model (greedy, no adapter, no system prompt)."""
    from engine.chat import Message
    from engine.models import validate_model
    from engine.runtime import Runtime, SamplingParams

    out: list[Example] = []
    if count <= 0:
        return out
    params = SamplingParams(temperature=0.0, max_tokens=max_tokens)
    with Runtime(validate_model(Path(model_path)), n_ctx=512) as rt:
        for i, prompt in enumerate(GENERAL_PROMPTS[:count], 1):
            gen = rt.generate([Message("user", prompt)], params)
            answer = _trim(gen.text, gen.finish_reason == "length")
            if answer:
                out.append(Example(prompt, answer, "replay", "en"))
            if on_progress:
                on_progress(i, count)
    return out
