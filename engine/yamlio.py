"""YAML loading with errors a teacher can act on: file, field and line.

PyYAML's data loses line numbers, so we also compose the node tree and map
every key path to the line it starts on. Pydantic then validates the data and
we translate its error location back into that line.
"""

from __future__ import annotations

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
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(f"{where}: invalid YAML: {problem}") from None
    lines: dict[Loc, int] = {}
    if node is not None:
        _line_map(node, (), lines)
    return data, lines


def validate(
    model: type[M], data: Any, path: Path, lines: dict[Loc, int], error: type[TalabError] = KBError
) -> M:
    if data is None:
        raise error(f"{path}: the file is empty")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        line = None
        for n in range(len(loc), -1, -1):
            if loc[:n] in lines:
                line = lines[loc[:n]]
                break
        field = ".".join(str(p) for p in loc) or "(top level)"
        where = f"{path}:{line}" if line else str(path)
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise error(f"{where}: field '{field}': {first['msg']}{more}") from None
