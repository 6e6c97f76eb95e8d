"""Personas: the comparison columns, defined in YAML.

A persona is a system-prompt template (or none) plus LoRA adapters at given
scales plus sampling overrides. All personas share one loaded model, so a
persona switch is an adapter swap. A persona whose adapter has not been
trained yet is listed as unavailable, with the reason, instead of failing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from engine import paths
from engine.adapters import AdapterSpec, AdapterStatus, adapter_status
from engine.errors import PersonaError
from engine.kb import CourseKB, render_template
from engine.models import ModelInfo
from engine.runtime import SamplingParams
from engine.yamlio import load_yaml, validate

BUILTIN_FILE = paths.COURSE_KB_DIR / "personas.yaml"
USER_FILE_NAME = "personas.yaml"

StatusCache = dict[Path, AdapterStatus]


class AdapterRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    path: str | None = None
    scale: float = Field(default=1.0, ge=-4.0, le=4.0)


class SamplingOverrides(BaseModel):
    model_config = ConfigDict(extra="forbid")
    temperature: float | None = Field(default=None, ge=0.0, le=5.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    top_k: int | None = Field(default=None, ge=0)
    min_p: float | None = Field(default=None, ge=0.0, le=1.0)
    repeat_penalty: float | None = Field(default=None, gt=0.0)
    max_tokens: int | None = Field(default=None, ge=1)


class PersonaDef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    role: str = ""
    description: str = ""
    system_prompt: str | None = None
    adapters: list[AdapterRef] = Field(default_factory=list)
    sampling: SamplingOverrides = Field(default_factory=SamplingOverrides)


class PersonaFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    personas: list[PersonaDef] = Field(min_length=1)


@dataclass
class Persona:
    """A persona resolved against a KB and the adapter directory."""

    id: str
    name: str
    role: str
    description: str
    system_prompt: str | None
    adapters: list[AdapterSpec] = field(default_factory=list)
    sampling: dict[str, Any] = field(default_factory=dict)
    unavailable_reason: str | None = None

    @property
    def available(self) -> bool:
        return self.unavailable_reason is None

    def params(self, base: SamplingParams, overrides: dict[str, Any] | None = None) -> SamplingParams:
        """Defaults, then the persona's own settings, then what the user asked for explicitly."""
        return SamplingParams(**{**base.as_dict(), **self.sampling, **(overrides or {})})


def adapter_path(ref: AdapterRef, base_dir: Path) -> Path:
    if ref.path:
        p = Path(ref.path).expanduser()
        return p if p.is_absolute() else (base_dir / p)
    return paths.adapters_dir() / f"{ref.name}.gguf"


def load_persona_defs(extra_file: Path | None = None) -> list[PersonaDef]:
    """Built-in personas, then the user's file in TALAB_HOME, then ``extra_file``; later ids win."""
    files = [BUILTIN_FILE, paths.data_dir() / USER_FILE_NAME]
    if extra_file is not None:
        files.append(Path(extra_file))
    merged: dict[str, PersonaDef] = {}
    for file in files:
        if file == paths.data_dir() / USER_FILE_NAME and not file.exists():
            continue
        data, lines = load_yaml(file, PersonaError)
        for p in validate(PersonaFile, data, file, lines, PersonaError).personas:
            merged[p.id] = p
    return list(merged.values())


def _unavailable(label: str, status: AdapterStatus) -> str | None:
    if status.state == "missing":
        return f"adapter '{label}' has not been trained yet (expected at {status.path})"
    if status.state == "unusable":
        return f"adapter '{label}' cannot be used: {status.error}"
    return None


def resolve(
    defn: PersonaDef,
    kb: CourseKB | None,
    model: ModelInfo | None = None,
    *,
    checked: StatusCache | None = None,
) -> Persona:
    """``model``: also refuse adapters that do not fit it (architecture, shapes, base-model sha256)."""
    checked = {} if checked is None else checked
    adapters: list[AdapterSpec] = []
    reason = None
    for ref in defn.adapters:
        if not ref.name and not ref.path:
            reason = "an adapter entry has neither name nor path"
            continue
        path = adapter_path(ref, BUILTIN_FILE.parent)
        if path not in checked:
            checked[path] = adapter_status(path, model)
        if reason is None:
            reason = _unavailable(ref.name or str(ref.path), checked[path])
        adapters.append(AdapterSpec(path, ref.scale))
    prompt = render_template(defn.system_prompt, kb) if defn.system_prompt else None
    sampling = {k: v for k, v in defn.sampling.model_dump().items() if v is not None}
    return Persona(
        id=defn.id,
        name=defn.name,
        role=defn.role,
        description=defn.description,
        system_prompt=prompt,
        adapters=adapters,
        sampling=sampling,
        unavailable_reason=reason,
    )


def load_personas(
    kb: CourseKB | None, extra_file: Path | None = None, model: ModelInfo | None = None
) -> dict[str, Persona]:
    """Each adapter file is checked once, however many personas share it; then one ``edit:NAME``
    persona per model edit in the adapter registry."""
    from engine.edit.registry import edit_personas

    checked: StatusCache = {}
    defined = {d.id: resolve(d, kb, model, checked=checked) for d in load_persona_defs(extra_file)}
    return {**defined, **edit_personas()}


def with_scale(persona: Persona, scale: float) -> Persona:
    """The persona with every adapter at ``scale``: ``merged:0.3`` is the model merge at α=0.3."""
    if not persona.adapters:
        raise PersonaError(f"Persona '{persona.id}' has no adapter, so a scale means nothing")
    if not 0.0 <= scale <= 2.0:
        raise PersonaError(f"Adapter scale {scale} is outside 0 to 2")
    name = persona.name.split(" α=")[0]
    return replace(
        persona,
        id=f"{persona.id}:{scale:g}",
        name=f"{name} α={scale:g}",
        adapters=[AdapterSpec(a.path, scale) for a in persona.adapters],
    )


STACK_PREFIX = "stack:"
_ADAPTER_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def stack_persona(pid: str) -> Persona:
    """``stack:a+b*-0.5``: task arithmetic at run time, adapter ``a`` at 1 plus ``b`` at −0.5.

    No system prompt, so the column shows what the weights alone do. llama.cpp adds
    ``Σ sᵢ·(αᵢ/rᵢ)·BᵢAᵢ`` to each weight, so a stack costs nothing at inference.
    """
    adapters, label = [], []
    for term in pid[len(STACK_PREFIX) :].split("+"):
        name, star, weight = term.strip().partition("*")
        if not _ADAPTER_NAME.match(name):
            raise PersonaError(f"'{pid}': write adapters as stack:NAME+NAME*WEIGHT, e.g. stack:a+b*-0.5")
        try:
            scale = float(weight) if star else 1.0
        except ValueError:
            raise PersonaError(f"'{pid}': the weight after '*' must be a number, e.g. {name}*-0.5") from None
        if not -4.0 <= scale <= 4.0:
            raise PersonaError(f"'{pid}': weight {scale:g} for '{name}' is outside -4 to 4")
        path = paths.adapters_dir() / f"{name}.gguf"
        if not path.exists():
            raise PersonaError(f"'{pid}': no adapter named '{name}' (expected at {path})")
        adapters.append(AdapterSpec(path, scale))
        label.append(name if scale == 1.0 else f"{scale:g}·{name}")
    return Persona(
        id=pid,
        name=" + ".join(label),
        role="task arithmetic",
        description="Adapters added at run time with these weights (negative = task negation).",
        system_prompt=None,
        adapters=adapters,
    )


def _lookup(personas: dict[str, Persona], pid: str) -> Persona:
    """``id``, ``id_with_underscores``, ``id:SCALE``, ``stack:a+b*WEIGHT`` or ``edit:NAME``."""
    if pid.startswith(STACK_PREFIX):
        return stack_persona(pid)
    base, _, scale = pid.partition(":")
    if pid in personas:  # an id with a colon of its own (edit:NAME)
        base, scale = pid, ""
    elif base == "edit":
        raise PersonaError(f"No edit named '{scale}' (list them: talab edits)")
    key = base if base in personas else base.replace("_", "-")
    if key not in personas:
        raise PersonaError(f"Unknown persona '{base}' (known: {', '.join(sorted(personas))})")
    persona = personas[key]
    if not persona.available:
        raise PersonaError(f"Persona '{key}' is unavailable: {persona.unavailable_reason}")
    if not scale:
        return persona
    try:
        value = float(scale)
    except ValueError:
        raise PersonaError(f"'{pid}': the part after ':' must be an adapter scale such as 0.5") from None
    return with_scale(persona, value)


def select(personas: dict[str, Persona], wanted: list[str]) -> list[Persona]:
    """Pick personas by id, failing clearly on unknown or unavailable ones."""
    chosen = [_lookup(personas, pid) for pid in wanted]
    if not chosen:
        raise PersonaError("No persona selected")
    return chosen
