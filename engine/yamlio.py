"""YAML loading with errors a teacher can act on: file, field and line.

PyYAML's data loses line numbers, so we also compose the node tree and map
every key path to the line it starts on. Pydantic then validates the data and
we translate its error location back into that line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from engine.errors import KBError, TalabError

Loc = tuple[Any, ...]
M = TypeVar("M", bound=BaseModel)


def _line_map(node: yaml.Node, prefix: Loc, out: dict[Loc, int]) -> None:
    out[prefix] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            k = key.value if isinstance(key, yaml.ScalarNode) else str(key)
            out[(*prefix, k)] = key.start_mark.line + 1
            _line_map(value, (*prefix, k), out)
            out[(*prefix, k)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_map(item, (*prefix, i), out)


def load_yaml(path: Path, error: type[TalabError] = KBError) -> tuple[Any, dict[Loc, int]]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"File not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"Cannot read {path}: {exc}") from None
    return parse_yaml(text, path, error)


class YAMLSyntaxError(Exception):
    """Text that is not YAML, with the line and the problem as fields (the KB editor lists them)."""

    def __init__(self, path: Path, line: int | None, problem: str) -> None:
        self.path, self.line, self.problem = path, line, problem
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: invalid YAML: {problem}")


def compose_yaml(text: str, path: Path) -> tuple[Any, dict[Loc, int]]:
    """The data and the line of every key path; :class:`YAMLSyntaxError` if the text is not YAML."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise YAMLSyntaxError(path, mark.line + 1 if mark is not None else None, problem) from None
    lines: dict[Loc, int] = {}
    if node is not None:
        _line_map(node, (), lines)
    return data, lines


def parse_yaml(text: str, path: Path, error: type[TalabError] = KBError) -> tuple[Any, dict[Loc, int]]:
    """Parse text that may not be on disk yet; a syntax error becomes one ``error`` line."""
    try:
        return compose_yaml(text, path)
    except YAMLSyntaxError as exc:
        raise error(str(exc)) from None


@dataclass(frozen=True)
class Issue:
    """One validation problem, kept apart so an editor can list all of them and jump to the line."""

    path: Path
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: field '{self.field}': {self.message}"


def _line_of(loc: Loc, lines: dict[Loc, int]) -> int | None:
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return None


def issues(model: type[M], data: Any, path: Path, lines: dict[Loc, int]) -> tuple[M | None, list[Issue]]:
    """Validate and return every problem (not only the first), each with its field and line."""
    if data is None:
        return None, [Issue(path, None, "(top level)", "the file is empty")]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        found = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            field = ".".join(str(p) for p in loc) or "(top level)"
            message = err["msg"].removeprefix("Value error, ")  # pydantic's wrapper says nothing
            found.append(Issue(path, _line_of(loc, lines), field, message))
        return None, found


def validate(
    model: type[M], data: Any, path: Path, lines: dict[Loc, int], error: type[TalabError] = KBError
) -> M:
    if data is None:
        raise error(f"{path}: the file is empty")
    result, found = issues(model, data, path, lines)
    if result is None:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise error(f"{found[0]}{more}")
    return result
