"""CounterFact's scores (Meng et al. 2022, ROME), computed from teacher-forced log-probabilities.

Each score is the share of prompts where one answer's summed log-probability
beats the other's: efficacy and generalisation count the new answer winning
(on the prompt, on its paraphrases), specificity counts the old answer still
winning on neighbouring prompts. Fluency is ROME's n-gram entropy of the
persona's own generations: text that repeats itself scores low.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

KINDS = ("efficacy", "paraphrase", "neighbour")
#: ROME paper, GPT-2 XL on CounterFact (Table 4): efficacy, paraphrase and neighbourhood scores, %.
REFERENCE = {
    "fine-tuning (FT)": {"efficacy": 100.0, "generalisation": 87.9, "specificity": 40.4},
    "ROME": {"efficacy": 100.0, "generalisation": 96.4, "specificity": 75.4},
}
REFERENCE_SOURCE = "ROME paper (Meng et al. 2022), GPT-2 XL on CounterFact"


@dataclass(frozen=True)
class CaseScore:
    """One prompt under one persona: the summed log-probabilities (nats) of both answers."""

    kind: str  # efficacy, paraphrase, neighbour
    case: str
    new: str
    old: str
    new_logprob: float
    old_logprob: float
    new_tokens: int
    old_tokens: int

    @property
    def new_wins(self) -> bool:
        return self.new_logprob > self.old_logprob

    @property
    def old_wins(self) -> bool:
        return self.old_logprob > self.new_logprob


@dataclass
class PersonaScore:
    persona: str
    label: str
    how: str
    efficacy: float | None = None
    generalisation: float | None = None
    specificity: float | None = None
    margin: float | None = None  # mean log p(new) − log p(old) on the prompt, nats
    general_ability: float | None = None
    general_n: int = 0
    fluency: float | None = None
    completion: str = ""  # the persona's greedy completion of the prompt
    cases: list[CaseScore] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PersonaScore:
        cases = [CaseScore(**c) for c in data.get("cases", [])]
        return cls(**{**data, "cases": cases})


def rate(scores: list[CaseScore], kind: str) -> float | None:
    """Efficacy and paraphrase: the new answer wins; neighbour: the old answer still wins."""
    chosen = [s for s in scores if s.kind == kind]
    if not chosen:
        return None
    wins = sum(s.old_wins if kind == "neighbour" else s.new_wins for s in chosen)
    return wins / len(chosen)


def margin(scores: list[CaseScore], kind: str = "efficacy") -> float | None:
    chosen = [s.new_logprob - s.old_logprob for s in scores if s.kind == kind]
    return sum(chosen) / len(chosen) if chosen else None


def words(text: str) -> list[str]:
    return re.findall(r"\w+|[^\w\s]", text)


def ngram_entropy(
    text: str, ns: tuple[int, ...] = (2, 3), weights: tuple[float, ...] = (2 / 3, 4 / 3)
) -> float:
    """ROME's fluency measure: the weighted mean of the bigram and trigram entropies (bits).

    ``generation_entropy`` in ROME's evaluation uses NLTK's tokenizer; a regex split into words
    and punctuation is close enough and needs no download.
    """
    tokens = words(text)
    parts = []
    for n, w in zip(ns, weights, strict=True):
        grams = Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
        total = sum(grams.values())
        ent = -sum(c / total * math.log2(c / total) for c in grams.values()) if total else 0.0
        parts.append(ent * w)
    return sum(parts) / len(parts)


def summarise(row: PersonaScore) -> PersonaScore:
    row.efficacy = rate(row.cases, "efficacy")
    row.generalisation = rate(row.cases, "paraphrase")
    row.specificity = rate(row.cases, "neighbour")
    row.margin = margin(row.cases)
    return row
