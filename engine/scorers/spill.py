"""Spill-over: an answer to a non-course question that reproduces the fine-tuning answers.

The lecture's fine-tuned TA answered "Who is the most handsome person?" with
its own introduction, and ours answers "Who is the US president?" with its
injection refusal. Both are copies of training answers, so the check measures
how much of an answer is made of the training answers' n-grams (word 3-grams
for English, character 4-grams for Chinese), not counting n-grams the
question itself contains (echoing the question is not spill-over).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from engine.scorers.text import ngrams

#: An answer spills over when it shares at least MIN_SHARED n-grams with one training answer
#: and they make at least MIN_FRACTION of its own n-grams. Tuned on tests/validation/tune.jsonl.
MIN_SHARED = 3
MIN_FRACTION = 0.15


@dataclass(frozen=True)
class Spill:
    shared: int
    fraction: float
    source: str  # the training answer it copies most

    @property
    def spilled(self) -> bool:
        return self.shared >= MIN_SHARED and self.fraction >= MIN_FRACTION


@dataclass
class SpillReference:
    """The training answers of one or more adapters (replay answers excluded: they are Base's own)."""

    answers: list[str]
    origin: str = ""
    _grams: list[set[str]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.answers = list(dict.fromkeys(a for a in self.answers if a.strip()))
        self._grams = [set(ngrams(a)) for a in self.answers]

    def measure(self, answer: str, question: str = "") -> Spill:
        mine = set(ngrams(answer)) - set(ngrams(question))
        best = Spill(0, 0.0, "")
        if not mine:
            return best
        for text, grams in zip(self.answers, self._grams, strict=True):
            shared = len(mine & grams)
            if shared > best.shared:
                best = Spill(shared, shared / len(mine), text)
        return best


def task_answers(examples: Iterable[object]) -> list[str]:
    return [e.answer for e in examples if getattr(e, "kind", "") != "replay"]  # type: ignore[attr-defined]


def reference_for_adapters(adapters: Iterable[Path]) -> SpillReference | None:
    """The datasets the adapters were trained on, from the copies kept beside them.

    An edit keeps its request (prompt, subject, target) where a fine-tune keeps its dataset; it
    was trained on no answers, so it adds none.
    """
    from engine.finetune.dataset import read_jsonl
    from engine.finetune.registry import dataset_copy_path, read_manifest

    answers: list[str] = []
    names = []
    for path in adapters:
        copy = dataset_copy_path(Path(path))
        if copy.is_file() and (read_manifest(Path(path)) or {}).get("kind") != "edit":
            answers += task_answers(read_jsonl(copy))
            names.append(Path(path).stem)
    return SpillReference(answers, "+".join(names)) if answers else None


def reference_from_kbs(kbs: list[object]) -> SpillReference:
    """What a fine-tune on these KBs would learn: the fallback before any adapter exists."""
    from engine.finetune.dataset import build_examples

    return SpillReference(task_answers(build_examples(kbs, held_out=set())), "kb")  # type: ignore[arg-type]
