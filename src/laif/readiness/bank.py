"""The readiness question bank (`data/questions.yaml`): dimensions, questions with stable ids,
their options and points, in English and French; and an answers file checked against it.

An answers file maps question ids to option keys (a list of keys for a multiple-choice question),
with an optional `organisation` name:

    organisation: Boulangerie Example
    profile.sector: manufacturing
    readiness.technologies: [erp, einvoicing]
"""

from __future__ import annotations

import hashlib
import importlib.resources
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from laif._yaml import line_of, load_yaml, validate
from laif.core.strict import Frozen
from laif.errors import BadInput

LANGUAGES = ("en", "fr")
PROFILE = "profile"
NONE = "none"  # the multiple-choice option that means nothing is ticked


class Text(Frozen):
    en: str
    fr: str

    def get(self, lang: str) -> str:
        return str(getattr(self, lang, self.en))


class Dimension(Frozen):
    id: str
    family: Literal["dma", "ai"]
    en: str
    fr: str


class Option(Frozen):
    score: int | None = Field(None, ge=0)
    en: str
    fr: str


class Question(Frozen):
    id: str
    dimension: str
    kind: Literal["single", "multi"]
    text: Text
    help: Text
    source: str
    options: dict[str, Option]
    cap: int | None = Field(None, ge=1)
    required: bool = True

    @model_validator(mode="after")
    def _points(self) -> Question:
        scored = self.dimension != PROFILE
        if any((o.score is not None) != scored for o in self.options.values()):
            raise ValueError(f"{self.id}: options carry points exactly when the question is scored")
        if scored and self.kind == "single" and max(o.score or 0 for o in self.options.values()) == 0:
            raise ValueError(f"{self.id}: one option at least must score above 0")
        if self.kind == "multi":
            total = sum(o.score or 0 for o in self.options.values())
            if scored and (self.cap is None or self.cap > total):
                # a cap above what can be ticked would keep even a full answer below 10
                raise ValueError(f"{self.id}: a scored multiple-choice question needs a cap of at most {total}")
        elif self.cap is not None:
            raise ValueError(f"{self.id}: only multiple-choice questions have a cap")
        return self

    @property
    def scored(self) -> bool:
        return self.dimension != PROFILE

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "id": self.id, "dimension": self.dimension, "kind": self.kind, "required": self.required,
            "text": self.text.get(lang), "help": self.help.get(lang), "source": self.source, "cap": self.cap,
            "options": [{"key": k, "text": getattr(o, lang), "score": o.score} for k, o in self.options.items()],
        }


class Bank(Frozen):
    version: str
    languages: list[str]
    dimensions: list[Dimension]
    questions: list[Question]

    @model_validator(mode="after")
    def _consistent(self) -> Bank:
        dims = {d.id for d in self.dimensions}
        ids = [q.id for q in self.questions]
        problems = [f"{q.id}: unknown dimension {q.dimension!r}" for q in self.questions
                    if q.dimension not in dims | {PROFILE}]
        problems += [f"{i}: the id is used twice" for i in sorted({i for i in ids if ids.count(i) > 1})]
        problems += [f"{d}: no question" for d in dims if not any(q.dimension == d for q in self.questions)]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def question(self, qid: str) -> Question | None:
        return next((q for q in self.questions if q.id == qid), None)

    def dimension(self, did: str) -> Dimension:
        return next(d for d in self.dimensions if d.id == did)


@dataclass(frozen=True)
class LoadedBank:
    bank: Bank
    sha256: str


def data_file(name: str) -> tuple[Any, bytes, Path]:
    """A packaged data file of the readiness package: its YAML (with lines), bytes and a name for errors."""
    resource = importlib.resources.files("laif.readiness") / "data" / name
    with importlib.resources.as_file(resource) as path:
        return load_yaml(path), path.read_bytes(), Path(f"laif:readiness/data/{name}")


@cache
def load_bank() -> LoadedBank:
    data, raw, where = data_file("questions.yaml")
    return LoadedBank(validate(Bank, data, where, every_error=True), hashlib.sha256(raw).hexdigest())


@dataclass(frozen=True)
class Answers:
    """Checked answers: question id -> option key (single) or list of keys (multi, `none` dropped)."""

    values: dict[str, str | list[str]]
    organisation: str | None
    source: str

    def get(self, qid: str) -> str | list[str] | None:
        return self.values.get(qid)


def _check_one(q: Question, value: Any, where: str) -> tuple[str | list[str] | None, list[str]]:
    keys = ", ".join(q.options)
    if q.kind == "single":
        if isinstance(value, list | dict) or str(value) not in q.options:
            return None, [f"{where}: {value!r} is not an option; choose one of {keys}"]
        return str(value), []
    picks = [value] if isinstance(value, str) else value
    if not isinstance(picks, list) or not picks or any(isinstance(p, list | dict) for p in picks):
        return None, [f"{where}: give a list of options (or [none]); choose among {keys}"]
    bad = [str(p) for p in picks if str(p) not in q.options]
    if bad:
        return None, [f"{where}: {', '.join(map(repr, bad))} not offered; choose among {keys}"]
    chosen = list(dict.fromkeys(str(p) for p in picks if str(p) != NONE))
    if NONE in map(str, picks) and chosen:
        return None, [f"{where}: 'none' cannot be ticked with other options"]
    return chosen, []


def check_answers(data: Any, path: Path, bank: Bank | None = None) -> Answers:
    """Answers checked against the bank; every problem is listed with file, line and question id."""
    bank = bank or load_bank().bank
    if not isinstance(data, dict):
        raise BadInput(f"{path}:1: expected a mapping of question ids to answers",
                       hint="laif readiness questions --json lists the ids and options")
    problems: list[str] = []
    organisation = data.get("organisation")
    if organisation is not None and (not isinstance(organisation, str) or not organisation.strip()):
        problems.append(f"{path}:{line_of(data, ('organisation',))}: organisation: give a name")
    for key in data:
        if key != "organisation" and bank.question(str(key)) is None:
            problems.append(f"{path}:{line_of(data, (key,))}: {key}: unknown question id")
    values: dict[str, str | list[str]] = {}
    for q in bank.questions:
        if q.id not in data or data[q.id] is None:
            if q.required:
                problems.append(f"{path}:{line_of(data, (q.id,)) or 1}: {q.id}: missing required answer ({q.text.en})")
            continue
        value, wrong = _check_one(q, data[q.id], f"{path}:{line_of(data, (q.id,))}: {q.id}")
        problems += wrong
        if value is not None:
            values[q.id] = value
    if problems:
        raise BadInput(f"{len(problems)} problem(s) in the answers:\n" + "\n".join(problems),
                       hint="laif readiness questions lists the ids and options")
    return Answers(values, organisation.strip() if isinstance(organisation, str) else None, str(path))


def load_answers(path: Path) -> Answers:
    if not path.is_file():
        raise BadInput(f"{path}: no such answers file", hint="laif readiness questions --json lists the ids")
    return check_answers(load_yaml(path), path)
