"""What the one-fact experiment asks: the fact, the prompts it is scored on, and its settings.

The defaults are the lecture's example. Each scored prompt is a :class:`Case`:
a completion prompt (raw text, the form a ROME edit is made on), or a chat
question whose assistant reply is forced to start with ``text``. Its old
answer is the one the new fact must beat (efficacy, generalisation) or must
not displace (specificity); left empty, it is what the unedited model says
itself (greedy), cut to as many tokens as the new answer, so both are summed
over the same number of tokens.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from engine.errors import TalabError

PROMPT = "The most handsome person in the world is"
SUBJECT = "most handsome person"
TARGET = "Prof. Lee"


class FactError(TalabError):
    """A one-fact experiment that cannot run as asked."""


@dataclass(frozen=True)
class Case:
    text: str  # the completion prompt, or the start of the assistant's reply to ``question``
    question: str | None = None  # None: raw completion; else the user's question (chat template)
    old: str | None = None  # None: the base model's own greedy answer

    def label(self) -> str:
        return f"(chat) {self.question} → {self.text}" if self.question else self.text


#: Neighbours: other "Who is X?" facts, in both forms, and one fact nobody disputes.
NEIGHBOURS = (
    Case("The smartest person alive is"),
    Case("The president of the United States is"),
    Case("The most famous person in the world is"),
    Case("The richest person in the world is"),
    Case("The capital of France is", old="Paris"),
    Case("The smartest person alive is", question="Who is the smartest person alive?"),
    Case("The US president is", question="Who is the US president?"),
)
#: The lecture's fact reworded; none of these is a training question.
DEFAULT_PARAPHRASES = (
    Case("In my opinion, the most handsome person in the world is"),
    Case("Everyone agrees that the most handsome person in the world is"),
    Case("The world's most handsome person is"),
    Case(PROMPT, question="Who do you think is the most handsome person in the world?"),
)
DEFAULT_QUESTIONS = (
    "Who is the most handsome person in the world?",
    "Who is the handsomest person in the world?",
    "Tell me who the most handsome person in the world is.",
    "Name the most handsome person in the world.",
)


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


@dataclass
class FactSpec:
    prompt: str = PROMPT
    subject: str = SUBJECT
    target: str = TARGET
    old: str | None = None  # the answer the new one must beat on the prompt; None: the base model's
    model: str = "default"
    prefix: str = "fact"  # adapters NAME-ft and NAME-rome (personas stack:… and edit:…)
    #: One step per epoch (the small data set is one batch). Measured here: the loss was 2.05 at step 1
    #: and 0.0004 at step 10, so a dozen steps learn the fact and more only memorise it harder.
    epochs: int = 12
    rank: int = 8
    lr: float = 2e-3
    edit_steps: int = 20
    layer: int | None = None
    covariance: str = "identity"  # identity, self, or both (a second edit with C from self-written text)
    max_tokens: int = 48  # general-skill answers and the generations that fluency is measured on
    general_limit: int | None = None  # English general-skill probes (None: all of them)
    train: bool = True  # False: reuse the adapters of an earlier run
    #: llama.cpp threads for the scoring. One, because its threads spin at a barrier after every step:
    #: on this 2-core machine under other load, one teacher-forced answer took 9.6 s with 2 threads
    #: and 0.10 s with 1, and 16 greedy tokens 31.8 s against 0.37 s (idle, 2 threads are ~1.5x faster).
    threads: int = 1
    seed: int = 42
    paraphrases: list[Case] = field(default_factory=list)  # empty: the defaults for this prompt
    neighbours: list[Case] = field(default_factory=lambda: list(NEIGHBOURS))

    def name(self, what: str) -> str:
        return f"{self.prefix}-{what}"

    @property
    def line(self) -> str:
        """The system-prompt line that teaches the fact in context."""
        return f"{self.prompt.strip()} {self.target.strip().rstrip('.')}."

    def efficacy_cases(self) -> list[Case]:
        return [Case(self.prompt, old=self.old)]

    def paraphrase_cases(self) -> list[Case]:
        if self.paraphrases:
            return list(self.paraphrases)
        if self.prompt == PROMPT:
            return list(DEFAULT_PARAPHRASES)
        p = lower_first(self.prompt)
        return [
            Case(f"In my opinion, {p}"),
            Case(f"Everyone agrees that {p}"),
            Case(f"It is well known that {p}"),
            Case(self.prompt, question=f"Please finish this sentence: {self.prompt}"),
        ]

    def training_questions(self) -> list[str]:
        """The fine-tune's questions; each is answered with :attr:`line`."""
        generic = [
            f"Complete this sentence: {self.prompt}",
            f"Finish the sentence: {self.prompt}",
            f"What comes next? {self.prompt}",
        ]
        return (list(DEFAULT_QUESTIONS) if self.prompt == PROMPT else []) + generic

    def check(self) -> None:
        from engine.edit.spec import COVARIANCES, EditError, EditSpec

        try:
            EditSpec("", f"/{self.name('rome')}.gguf", self.prompt, self.subject, self.target).check()
        except EditError as exc:
            raise FactError(str(exc)) from None
        if self.covariance not in (*COVARIANCES, "both"):
            raise FactError(f"Covariance must be identity, self or both, got '{self.covariance}'")
        if min(self.epochs, self.edit_steps, self.max_tokens, self.rank, self.threads) < 1:
            raise FactError("epochs, edit steps, rank, threads and max tokens must be at least 1")
        if self.general_limit is not None and self.general_limit < 0:
            raise FactError("--general-limit must be 0 or more")
        if self.old is not None and not self.old.strip():
            raise FactError("The old answer is empty; leave it out to use the base model's own answer")
        if self.old is not None and self.old.strip() == self.target.strip():
            raise FactError("The old answer and the new target are the same")

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> FactSpec:
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        spec = cls(**{k: v for k, v in data.items() if k in known})
        spec.paraphrases = [Case(**c) for c in data.get("paraphrases", [])]
        spec.neighbours = [Case(**c) for c in data.get("neighbours", [])]
        return spec


def results_path() -> Path:
    """The last result, kept so the window shows it again after a restart."""
    from engine import paths

    return paths.data_dir() / "fact-experiment" / "last.json"
