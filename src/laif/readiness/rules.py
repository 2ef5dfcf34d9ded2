"""Findings by rule (`data/findings.yaml`) and the conditions findings and use cases share.

A condition reads one answer or one dimension score; a rule holds when all of its conditions
hold, and what it rests on is the list of those answers and scores, so a reader can check it.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from laif._yaml import validate
from laif.core.strict import Frozen
from laif.readiness.bank import Answers, Bank, Text, data_file, load_bank

SEVERITIES = ("high", "medium", "low")


class Condition(Frozen):
    model_config = ConfigDict(populate_by_name=True)

    answer: str | None = None
    dimension: str | None = None
    in_: list[str] | None = Field(None, alias="in")
    has: str | None = None
    lacks: str | None = None
    below: float | None = None
    at_least: float | None = None

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        tests = [t for t in (self.in_, self.has, self.lacks, self.below, self.at_least) if t is not None]
        if (self.answer is None) == (self.dimension is None) or len(tests) != 1:
            raise ValueError("a condition names one answer or one dimension, and one test")
        scored = self.below is not None or self.at_least is not None
        if (self.dimension is not None) != scored:
            raise ValueError("a dimension is tested with below or at_least, an answer with in, has or lacks")
        return self

    def options(self) -> list[str]:
        return self.in_ or [o for o in (self.has, self.lacks) if o]

    def holds(self, answers: Answers, dimensions: dict[str, float]) -> bool:
        if self.dimension is not None:
            value = dimensions[self.dimension]
            return value < self.below if self.below is not None else value >= (self.at_least or 0.0)
        given = answers.get(self.answer or "")
        ticked = given if isinstance(given, list) else [] if given is None else [given]
        if self.in_ is not None:
            return isinstance(given, str) and given in self.in_
        if self.has is not None:
            return self.has in ticked
        return self.lacks not in ticked

    def evidence(self, answers: Answers, dimensions: dict[str, float], bank: Bank, lang: str) -> dict[str, Any]:
        """What the condition read: the question and answer given, or the dimension's score."""
        if self.dimension is not None:
            d = bank.dimension(self.dimension)
            test = f"below {self.below:g}%" if self.below is not None else f"at least {self.at_least:g}%"
            return {"dimension": d.id, "title": getattr(d, lang), "score": dimensions[d.id], "test": test}
        q = bank.question(self.answer or "")
        assert q is not None
        given = answers.get(q.id)
        keys = given if isinstance(given, list) else [given] if given else []
        shown = [getattr(q.options[k], lang) for k in keys] or [getattr(q.options["none"], lang)
                                                                 if "none" in q.options else "—"]
        return {"question": q.id, "text": q.text.get(lang), "answer": given, "answer_text": "; ".join(shown)}


def check_conditions(owner: str, conditions: list[Condition], bank: Bank) -> list[str]:
    """Problems with conditions that name a question, option or dimension the bank lacks."""
    problems = []
    dims = {d.id for d in bank.dimensions}
    for c in conditions:
        if c.dimension is not None and c.dimension not in dims:
            problems.append(f"{owner}: unknown dimension {c.dimension!r}")
        if c.answer is not None:
            q = bank.question(c.answer)
            if q is None:
                problems.append(f"{owner}: unknown question {c.answer!r}")
                continue
            problems += [f"{owner}: {c.answer} has no option {o!r}" for o in c.options() if o not in q.options]
            if (c.has or c.lacks) and q.kind != "multi":
                problems.append(f"{owner}: has/lacks apply to multiple-choice questions, {c.answer} is single")
    return problems


class Stage(Frozen):
    id: str
    en: str
    fr: str


class Service(Frozen):
    stage: str
    partner: str
    en: str
    fr: str
    laif: str | None = None


class BandService(Frozen):
    service: str
    en: str
    fr: str


class Services(Frozen):
    version: str
    stages: list[Stage]
    services: dict[str, Service]
    by_band: dict[str, list[BandService]]

    @model_validator(mode="after")
    def _known(self) -> Services:
        stages = {s.id for s in self.stages}
        problems = [f"{sid}: unknown stage {s.stage!r}" for sid, s in self.services.items() if s.stage not in stages]
        problems += [f"by_band.{b}: unknown service {e.service!r}" for b, es in self.by_band.items() for e in es
                     if e.service not in self.services]
        if problems:
            raise ValueError("; ".join(problems))
        return self


class Finding(Frozen):
    id: str
    severity: Literal["high", "medium", "low"]
    en: str
    fr: str
    why: Text
    when: list[Condition] = Field(min_length=1)
    services: list[str]


class Findings(Frozen):
    version: str
    findings: list[Finding]


@cache
def load_services() -> Services:
    data, _raw, where = data_file("services.yaml")
    return validate(Services, data, where, every_error=True)


@cache
def load_findings() -> Findings:
    data, _raw, where = data_file("findings.yaml")
    rules = validate(Findings, data, where, every_error=True)
    bank, services = load_bank().bank, load_services()
    problems = []
    for f in rules.findings:
        problems += check_conditions(f.id, f.when, bank)
        problems += [f"{f.id}: unknown service {s!r}" for s in f.services if s not in services.services]
    if problems:
        raise ValueError(f"{where}: " + "; ".join(problems))
    return rules


def findings(answers: Answers, dimensions: dict[str, float], lang: str = "en") -> list[dict[str, Any]]:
    """The findings that hold, most severe first, each with the answers and scores it rests on."""
    bank = load_bank().bank
    held = []
    for f in load_findings().findings:
        if all(c.holds(answers, dimensions) for c in f.when):
            held.append({
                "id": f.id, "severity": f.severity, "title": getattr(f, lang), "why": f.why.get(lang),
                "rests_on": [c.evidence(answers, dimensions, bank, lang) for c in f.when],
                "services": list(f.services),
            })
    return sorted(held, key=lambda f: SEVERITIES.index(f["severity"]))
