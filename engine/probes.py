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
from engine.kb import LANGUAGES
from engine.yamlio import load_yaml, validate

Category = Literal[
    "identity", "course_fact", "general_skill", "open_opinion",
    "overgeneralisation", "off_topic", "injection",
]  # fmt: skip
DEFAULT_PROBES = paths.COURSE_KB_DIR / "probes" / "default.yaml"


class Assertions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contains_any: list[str] | None = None
    not_contains: list[str] | None = None
    regex: str | None = None
    refusal: bool | None = None

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
    probes: list[Probe]


@dataclass
class ProbeSet:
    path: Path
    name: str
    probes: list[Probe]
    sha256: str

    def select(
        self, *, lang: str = "en", category: str | None = None, limit: int | None = None
    ) -> list[Probe]:
        chosen = [p for p in self.probes if lang in p.question]
        if category:
            chosen = [p for p in chosen if p.category == category]
        if limit is not None:
            chosen = chosen[: max(0, limit)]
        if not chosen:
            what = f"category '{category}', " if category else ""
            raise ProbeError(
                f"No probes left in {self.path.name} for {what}language '{lang}'"
                + (f" with --limit {limit}" if limit is not None else "")
            )
        return chosen


def load_probe_set(path: str | Path | None = None) -> ProbeSet:
    file = Path(path) if path is not None else DEFAULT_PROBES
    data, lines = load_yaml(file, ProbeError)
    if isinstance(data, dict) and not data.get("probes"):
        raise ProbeError(f"{file}: the probe set is empty (no entries under 'probes')")
    model = validate(ProbeSetModel, data, file, lines, ProbeError)
    seen: set[str] = set()
    for i, probe in enumerate(model.probes):
        if probe.id in seen:
            line = lines.get(("probes", i), "?")
            raise ProbeError(f"{file}:{line}: duplicate probe id '{probe.id}'")
        seen.add(probe.id)
    return ProbeSet(file, model.name, model.probes, hashlib.sha256(file.read_bytes()).hexdigest())
