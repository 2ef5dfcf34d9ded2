"""YAML that remembers where things are, so errors can name the line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from laif.errors import BadInput


class LineDict(dict[str, Any]):
    """A mapping that knows the line (1-based) it started on, and the line of each key."""

    line: int = 0
    key_lines: dict[str, int]


class _Loader(yaml.SafeLoader):
    """Safe loading with line numbers, and `yes`/`no`/`on`/`off` kept as strings:
    in our files "no" is an answer, never a boolean."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    mapping = LineDict({str(k): v for k, v in loader.construct_mapping(node, deep=True).items()})
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value}
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(path: Path) -> Any:
    """Parse a YAML file; a syntax error becomes BadInput naming file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot read ({exc})") from exc
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader derives from SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        raise BadInput.at(str(path), line, f"not valid YAML: {exc.problem}") from exc


def line_of(data: Any, loc: tuple[int | str, ...]) -> int | None:
    """The line of the deepest mapping on `loc` inside loaded data."""
    line = data.line if isinstance(data, LineDict) else None
    node = data
    for part in loc:
        if isinstance(node, LineDict) and str(part) in getattr(node, "key_lines", {}):
            line = node.key_lines[str(part)]
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, LineDict):
            line = node.line
    return line


M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], data: Any, path: Path, every_error: bool = False) -> M:
    """Validate loaded YAML against a pydantic model; the first error (or, with `every_error`,
    each on its own line) names file, line and field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        if every_error:
            lines = []
            for e in exc.errors():
                loc = tuple(e["loc"])
                place = f"{path}:{line_of(data, loc)}" if line_of(data, loc) is not None else str(path)
                lines.append(f"{place}: {'.'.join(str(p) for p in loc) or '(top level)'}: {e['msg']}")
            raise BadInput(f"{exc.error_count()} error(s):\n" + "\n".join(lines)) from exc
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        field = ".".join(str(p) for p in loc) or "(top level)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise BadInput.at(str(path), line_of(data, loc), f"{field}: {err['msg']}{more}") from exc


def load_file(model: type[M], path: Path, what: str) -> M:
    """Load and validate one library file; `what` names it when it is missing."""
    if not path.is_file():
        raise BadInput(f"{path}: {what} is missing")
    return validate(model, load_yaml(path), path)


def load_spec_file(model: type[M], path: Path, what: str, fields: str, init_command: str) -> M:
    """Load a spec a user wrote: a missing file, a file that is not a mapping and every field in
    error are each named with the file (and line), exit 2."""
    if not path.is_file():
        raise BadInput(f"{path}: no such {what}", hint=f"{init_command} writes a commented example")
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise BadInput(f"{path}: a {what} is a mapping ({fields}, ...)")
    return validate(model, data, path, every_error=True)
