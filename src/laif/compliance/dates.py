"""When AI Act obligations apply: the dates of Art. 113 and the transitional rules of Art. 111,
read from `data/dates.yaml` so that an amendment is a data change with its source.

>>> rule_for("art-5", "general").from_.isoformat()
'2025-02-02'
"""

from __future__ import annotations

import functools
import importlib.resources
from datetime import date
from typing import Any

from pydantic import Field

from laif._yaml import load_yaml, validate
from laif.core.strict import Strict


class Rule(Strict):
    from_: date = Field(alias="from")
    cite: str
    text: str
    source: str
    obligations: list[str] = []


class Transitional(Strict):
    placed_before: date | None = None
    comply_by: date | None = None
    cite: str
    text: str


class Pending(Strict):
    what: str
    source: str
    affects: list[str]
    status: str


class Dates(Strict):
    version: str
    source: str
    checked: date
    rules: dict[str, Rule]
    transitional: dict[str, Transitional]
    amendments: list[Pending] = []
    pending: list[Pending] = []


@functools.cache
def load_dates() -> Dates:
    """The packaged dates file, validated."""
    resource = importlib.resources.files("laif.compliance") / "data" / "dates.yaml"
    with importlib.resources.as_file(resource) as path:
        return validate(Dates, load_yaml(path), path, every_error=True)


def rule_for(oid: str, route: str) -> Rule:
    """The Art. 113 rule an obligation follows: a named one, else the route's (Annex I or general)."""
    rules = load_dates().rules
    named = next((r for r in rules.values() if oid in r.obligations), None)
    return named or rules["annex-i" if route == "annex-i" else "general"]


def as_date(value: Any) -> date | None:
    """A date from an answer (YAML gives `date`; strings are ISO), or None for 'not yet'."""
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value not in ("", "not yet"):
        return date.fromisoformat(value)
    return None
