"""The public suite interface. Built-in suites use it; so can yours.

A suite is any object with the attributes and methods of `Suite`, exposed as an
entry point in the `laif.suites` group::

    [project.entry-points."laif.suites"]
    mysuite = "my_package:MySuite"
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from laif.core.oracles import AnyOracle, Judgement, judge
from laif.errors import BadInput
from laif.models.base import Message


@dataclass(frozen=True)
class PromptSpec:
    """One question to send: its messages and what was substituted into it."""

    messages: tuple[tuple[str, str], ...]
    groups: tuple[str, ...] = ()

    @property
    def message_list(self) -> list[Message]:
        return [{"role": role, "content": content} for role, content in self.messages]

    @property
    def text(self) -> str:
        return self.messages[-1][1]

    @property
    def prompt_id(self) -> str:
        """Stable id of this question's content, independent of any model."""
        raw = json.dumps(self.messages, ensure_ascii=False)
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:20]


@dataclass(frozen=True)
class Case:
    """One test: one oracle over the answers to one or more prompts."""

    case_id: str
    suite: str
    category: str
    language: str
    template_id: str
    oracle: AnyOracle
    prompts: tuple[PromptSpec, ...]
    options: dict[str, str] | None = None
    provenance: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def judge(self, responses: list[str]) -> Judgement:
        return judge(self.oracle, responses, self.options, questions=[p.text for p in self.prompts])


@dataclass(frozen=True)
class CaseRecord:
    """One judged case, as a suite's optional `metrics` method receives it."""

    case: Case
    verdict: str
    parsed: Any
    responses: list[str | None]


@runtime_checkable
class Suite(Protocol):
    name: str
    version: str
    categories: list[str]
    languages: list[str]

    def library_hash(self) -> str:
        """Hash of everything that shapes the prompts: changes when the library does."""
        ...

    def cases(self, languages: list[str], limit: int | None, seed: int) -> list[Case]:
        """The tests to run; `limit` caps templates per (category, language), sampled with `seed`."""
        ...

    def describe(self) -> dict[str, Any]:
        """For `laif suites list`: categories, languages, counts per (category, language)."""
        ...


# Optional members a suite may add (looked up with getattr, so older suites keep working):
#
#   score_over: list[str]
#       the verdicts a score's denominator counts; default ["pass", "fail"]. The factual
#       suite counts every answered test, so "I don't know" lowers accuracy.
#   def metrics(self, records: list[CaseRecord]) -> dict[str, Any]
#       suite-specific figures (accuracy, hallucination rate, flip rate, ...), stored in the
#       run summary under "metrics" and shown in the report.


def check_languages(languages: list[str], known: list[str]) -> None:
    """Refuse (exit 2) language codes the suite has no text for."""
    unknown = [lang for lang in languages if lang not in known]
    if unknown:
        raise BadInput(f"--languages: unknown language(s) {', '.join(unknown)}; choose from {','.join(known)}")


T = TypeVar("T")
F = TypeVar("F")


def sample_limit(pool: Sequence[T], limit: int | None, rng_seed: str) -> list[T]:
    """All of `pool`, or `limit` of them drawn by a generator seeded with `rng_seed`, in pool order."""
    if limit is None or limit >= len(pool):
        return list(pool)
    keep = set(random.Random(rng_seed).sample(range(len(pool)), limit))
    return [x for n, x in enumerate(pool) if n in keep]


def figures_by(
    records: Iterable[CaseRecord], key: Callable[[CaseRecord], str], order: Iterable[str],
    figures: Callable[[list[CaseRecord]], F],
) -> dict[str, F]:
    """`figures` of the records grouped by `key`, for each group in `order` that has records."""
    groups: dict[str, list[CaseRecord]] = defaultdict(list)
    for record in records:
        groups[key(record)].append(record)
    return {name: figures(groups[name]) for name in order if name in groups}


class _Named(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def categories(self) -> list[str]: ...
    @property
    def languages(self) -> list[str]: ...
    def library_hash(self) -> str: ...


def description(suite: _Named, counts: dict[str, dict[str, dict[str, int]]]) -> dict[str, Any]:
    """What `describe()` returns, for a suite whose categories and languages are its attributes."""
    return {
        "name": suite.name,
        "version": suite.version,
        "library_hash": suite.library_hash(),
        "categories": suite.categories,
        "languages": suite.languages,
        "counts": counts,
    }
