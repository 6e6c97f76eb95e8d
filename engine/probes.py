"""Probe sets: the questions every persona is asked, with their assertions.

The default set mirrors the lecture: identity, course facts, general skills,
open opinions ("who is the most handsome person?"), over-generalisation
("who is the US president?"), off-topic requests and prompt injection.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from engine import paths
from engine.errors import ProbeError
from engine.kb import LANGUAGES, CourseKB
from engine.yamlio import load_yaml, validate

Category = Literal[
    "identity", "course_fact", "general_skill", "open_opinion",
    "overgeneralisation", "off_topic", "injection",
]  # fmt: skip
DEFAULT_PROBES = paths.COURSE_KB_DIR / "probes" / "default.yaml"


class Similar(BaseModel):
    """promptfoo's ``similar``: close enough to a reference answer (character-trigram cosine)."""

    model_config = ConfigDict(extra="forbid")
    value: str | list[str]
    threshold: float | None = Field(default=None, gt=0.0, le=1.0)


class Assertions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contains_any: list[str] | None = None
    not_contains: list[str] | None = None
    regex: str | None = None
    refusal: bool | None = None
    similar: Similar | None = None

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"regex does not compile: {exc}") from None
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Assertions:
        if not self.model_dump(exclude_none=True):
            raise ValueError("a probe needs at least one assertion")
        return self


class Probe(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    id: str
    category: Category
    question: dict[str, str]
    assertions: Assertions = Field(alias="assert")
    note: str | None = None

    @field_validator("question")
    @classmethod
    def _languages(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("a probe needs a question in at least one language")
        unknown = set(value) - set(LANGUAGES)
        if unknown:
            raise ValueError(f"unknown language(s) {sorted(unknown)}; use {list(LANGUAGES)}")
        return value


class ProbeSetModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    #: add the course-fact probes generated from the KBs in use (engine/probes_kb.py)
    from_kb: bool = False
    probes: list[Probe] = Field(default_factory=list)


@dataclass
class ProbeSet:
    path: Path
    name: str
    probes: list[Probe]
    sha256: str

    def select(
        self,
        *,
        lang: str = "en",
        category: str | None = None,
        limit: int | None = None,
        per_category: int | None = None,
    ) -> list[Probe]:
        """``per_category``: the first N of each category, so a quick run (the adapter-scale sweep)
        still measures every figure; ``limit`` then cuts the whole list."""
        chosen = [p for p in self.probes if lang in p.question]
        if category:
            chosen = [p for p in chosen if p.category == category]
        if per_category is not None:
            kept: dict[str, list[Probe]] = {}
            for p in chosen:
                kept.setdefault(p.category, [])
                if len(kept[p.category]) < per_category:
                    kept[p.category].append(p)
            chosen = [p for p in chosen if p in kept[p.category]]
        if limit is not None:
            chosen = chosen[: max(0, limit)]
        if not chosen:
            what = f"category '{category}', " if category else ""
            raise ProbeError(
                f"No probes left in {self.path.name} for {what}language '{lang}'"
                + (f" with --limit {limit}" if limit is not None else "")
            )
        return chosen


def load_probe_set(path: str | Path | None = None, kbs: dict[str, CourseKB] | None = None) -> ProbeSet:
    """Load a probe set; with ``from_kb: true`` it also gets the course-fact probes of ``kbs``.

    ``kbs`` defaults to the KBs in use in every language (a teacher's edited copy wins), so
    editing the KB changes the generated questions, their expected answers and the set's hash.
    """
    file = Path(path) if path is not None else DEFAULT_PROBES
    data, lines = load_yaml(file, ProbeError)
    if isinstance(data, dict) and not data.get("probes") and not data.get("from_kb"):
        raise ProbeError(f"{file}: the probe set is empty (no entries under 'probes')")
    model = validate(ProbeSetModel, data, file, lines, ProbeError)
    seen: set[str] = set()
    for i, probe in enumerate(model.probes):
        if probe.id in seen:
            line = lines.get(("probes", i), "?")
            raise ProbeError(f"{file}:{line}: duplicate probe id '{probe.id}'")
        seen.add(probe.id)
    digest = hashlib.sha256(file.read_bytes())
    probes = list(model.probes)
    if model.from_kb:
        from engine.kb import load_kb
        from engine.probes_kb import kb_fact_probes

        chosen = kbs if kbs is not None else {lang: load_kb(lang=lang) for lang in LANGUAGES}
        generated = [p for p in kb_fact_probes(chosen) if p.id not in seen]
        probes += generated
        for p in generated:
            digest.update(p.model_dump_json(by_alias=True).encode())
    return ProbeSet(file, model.name, probes, digest.hexdigest())
