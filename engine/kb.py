"""Course knowledge bases: load, validate, hash and render to a system prompt.

The KB is the single source for both personas under comparison: the prompted
TA reads it as a system prompt, and the fine-tuned TA is trained from it. Its
hash is stored with every answer so a run states exactly which KB it used.
"""

from __future__ import annotations

import hashlib
from functools import cached_property
from pathlib import Path
from typing import Literal

from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, field_validator

from engine import paths
from engine.errors import KBError
from engine.yamlio import load_yaml, validate

LANGUAGES = ("en", "zh-TW")
DEFAULT_COURSE = "ml2025"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Course(_Strict):
    code: str
    title: str
    term: str
    institution: str
    instructor: str
    instructor_email: str | None = None
    website: str | None = None
    description: str


class TA(_Strict):
    name: str
    role: str
    introduction: str
    email: str | None = None


class Session(_Strict):
    week: int
    date: str
    topic: str


class Homework(_Strict):
    id: str
    title: str
    released: str
    due: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?$")
    submission: str | None = None


class GradingItem(_Strict):
    item: str
    weight: int = Field(ge=0, le=100)
    notes: str | None = None


class OfficeHour(_Strict):
    who: str
    when: str
    where: str


class KnowledgeBase(_Strict):
    sample: bool = False
    language: Literal["en", "zh-TW"]
    course: Course
    ta: TA
    schedule: list[Session] = Field(min_length=1)
    homework: list[Homework] = Field(min_length=1)
    grading: list[GradingItem] = Field(min_length=1)
    add_course: list[str] = Field(default_factory=list)
    office_hours: list[OfficeHour] = Field(default_factory=list)
    rules: list[str] = Field(min_length=1)

    @field_validator("grading")
    @classmethod
    def _weights_sum_to_100(cls, grading: list[GradingItem]) -> list[GradingItem]:
        """A field validator, not a model one, so the error points at the grading section's line."""
        total = sum(g.weight for g in grading)
        if total != 100:
            raise ValueError(f"grading weights add up to {total}, not 100")
        return grading


class CourseKB:
    """A validated KB file together with its path, hash and prompt."""

    def __init__(self, path: Path, data: KnowledgeBase, raw: bytes) -> None:
        self.path = path
        self.data = data
        self.sha256 = hashlib.sha256(raw).hexdigest()

    @property
    def language(self) -> str:
        return self.data.language

    @cached_property
    def system_prompt(self) -> str:
        return render_prompt(self.data)


def shipped_kb_path(course: str = DEFAULT_COURSE, lang: str = "en") -> Path:
    """The KB that ships with TA Lab; the editor never writes here, so it can always be restored."""
    if lang not in LANGUAGES:
        raise KBError(f"Unknown language '{lang}' (choose from {', '.join(LANGUAGES)})")
    return paths.COURSE_KB_DIR / course / f"{lang}.yaml"


def user_kb_path(course: str = DEFAULT_COURSE, lang: str = "en") -> Path:
    """Where the KB editor saves: in the data directory, beside the database it is logged to."""
    shipped_kb_path(course, lang)  # validates the language
    return paths.data_dir() / "course_kb" / course / f"{lang}.yaml"


def kb_path(course: str = DEFAULT_COURSE, lang: str = "en") -> Path:
    """The KB in use: the user's edited copy when there is one, else the shipped one.

    Every consumer (Lab, CLI, training) resolves through here, so an edit saved
    in the GUI reaches the prompted personas and the next fine-tune alike.
    """
    user = user_kb_path(course, lang)
    return user if user.is_file() else shipped_kb_path(course, lang)


def load_kb(path: str | Path | None = None, *, lang: str = "en") -> CourseKB:
    """Load and validate a KB file; errors name the file, field and line."""
    file = Path(path) if path is not None else kb_path(lang=lang)
    data, lines = load_yaml(file, KBError)
    kb = validate(KnowledgeBase, data, file, lines, KBError)
    return CourseKB(file, kb, file.read_bytes())


def _template_env() -> SandboxedEnvironment:
    from jinja2 import FileSystemLoader, StrictUndefined

    return SandboxedEnvironment(
        loader=FileSystemLoader(str(paths.COURSE_KB_DIR / "templates")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def render_prompt(kb: KnowledgeBase) -> str:
    """Render the TA system prompt from the language's template in course_kb/templates."""
    from jinja2 import TemplateError

    try:
        template = _template_env().get_template(f"ta_prompt.{kb.language}.j2")
        return template.render(kb=kb).strip()
    except TemplateError as exc:
        raise KBError(f"Cannot render the system prompt for '{kb.language}': {exc}") from None


def render_template(source: str, kb: CourseKB | None) -> str:
    """Render a persona's own system-prompt template (``{{ kb_prompt }}``, ``{{ kb.ta.name }}``)."""
    from jinja2 import TemplateError

    try:
        return (
            _template_env()
            .from_string(source)
            .render(kb=kb.data if kb else None, kb_prompt=kb.system_prompt if kb else "")
            .strip()
        )
    except TemplateError as exc:
        raise KBError(f"Cannot render a persona's system prompt template: {exc}") from None
