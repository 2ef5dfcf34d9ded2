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
from typing import Any, Literal, Protocol, TypeVar, get_args, runtime_checkable

from laif.core.oracles import AnyOracle, Judgement, judge
from laif.core.scoring import DECIDED
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


Direction = Literal["higher", "lower"]
Unit = Literal["percent", "points", "score", "count"]
#: What follows a value of each unit when it is shown.
UNIT_SUFFIX: dict[str, str] = {"percent": "%", "points": " pts", "score": "", "count": ""}
#: Where every run summary keeps a suite's score: the mean over its categories.
SCORE_PATH = "mean"


@dataclass(frozen=True)
class Metric:
    """One figure a suite reports, declared where the suite is defined, so that the run report,
    the leaderboard and the audience reports can show any suite without knowing it.

    `path` is where the figure is in the run summary, written as a spec gate or an obligation
    names it (``metrics.overall.accuracy``; a spec gate adds the suite in front:
    ``factual.metrics.overall.accuracy``). A figure is a number, or a mapping with its ``value``
    (``score`` for a category) and, when `interval` is true, its 95% interval ``low`` and
    ``high`` and ``k`` of ``n``, as `laif.core.stats.percent` writes it. `path` may be empty
    when only the breakdowns exist.

    `by` names breakdowns: a dimension (``language``, ``topic``, ``group``, ...) and the path
    with a ``*`` that runs over it. Two dimensions joined by ``/`` (``rewording/language``) and
    a path with two ``*`` give a table of one against the other. Values of the dimension
    ``language`` are language codes.

    Example (the example plugin's metric)::

        declared_metrics = [
            Metric("metrics.exact_share", "Exact sums", direction="higher", unit="percent",
                   by={"language": "metrics.by_language.*"},
                   description="Sums answered with exactly the right number, among all sums asked."),
        ]
    """

    path: str
    title: str
    direction: Direction | None = "higher"
    unit: Unit = "percent"
    interval: bool = True
    by: dict[str, str] = field(default_factory=dict)
    description: str = ""
    #: Python's format spec for the value (".0f", "+.0f", ".2f", "d").
    format_spec: str = ".0f"
    #: A column of the leaderboard (and a headline figure of the reports).
    leaderboard: bool = True
    #: The figure compares groups or languages: the ethics view shows it.
    fairness: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.path, str) or not isinstance(self.title, str) or not isinstance(self.by, dict):
            raise ValueError(f"metric {self.title!r}: path and title are text, by a mapping")
        if self.direction not in (*get_args(Direction), None):
            raise ValueError(f"metric {self.title!r}: direction must be higher, lower or None, not {self.direction!r}")
        if self.unit not in get_args(Unit):
            raise ValueError(f"metric {self.title!r}: unit must be one of {', '.join(get_args(Unit))}")
        for dims, path in self.by.items():
            if path.count("*") != len(dims.split("/")) or len(dims.split("/")) > 2:
                raise ValueError(f"metric {self.title!r}: breakdown {dims!r} needs one '*' per dimension in {path!r}")
        if not self.path and not self.by:
            raise ValueError(f"metric {self.title!r}: give a path, a breakdown or both")
        try:
            self.format(1.0)
        except (TypeError, ValueError):
            raise ValueError(f"metric {self.title!r}: {self.format_spec!r} is not a format spec, e.g. .0f") from None

    def format(self, value: float | None) -> str:
        """`value` as the reports show it: ``42%``, ``+3 pts``, ``17``; an en dash when there is none."""
        if value is None:
            return "–"
        number = int(round(value)) if self.format_spec.endswith("d") else value
        return f"{number:{self.format_spec}}{UNIT_SUFFIX[self.unit]}"


@runtime_checkable
class Suite(Protocol):
    """What `laif assess --suite NAME` runs. Built-in suites and plugins implement it alike.

    Optional members (older suites work without them; read them with `suite_title`,
    `declared_metrics`, `score_over` and `suite_figures` below, never with getattr):

    - ``title: str``, the heading of its reports (default: "Name assessment");
    - ``declared_metrics: list[Metric]``, the figures its reports and the leaderboard show
      (default: the mean score only);
    - ``score_over: list[str]``, the verdicts a score's denominator counts (default pass
      and fail). The factual suite counts every answered test, so "I don't know" lowers accuracy;
    - ``metrics(records: list[CaseRecord]) -> dict``, its own figures computed from every
      judged case, stored in the run summary under ``metrics`` (the paths of its declared
      metrics point into them).

    Example::

        class Sums:
            name, version, title = "sums", "1.0", "Mental arithmetic"
            categories, languages = ["Addition"], ["en"]
            declared_metrics = [Metric("metrics.exact_share", "Exact sums")]

            def library_hash(self) -> str: ...
            def cases(self, languages, limit, seed) -> list[Case]: ...
            def describe(self) -> dict[str, Any]: ...
            def metrics(self, records: list[CaseRecord]) -> dict[str, Any]:
                return {"exact_share": percent(sum(r.verdict == "pass" for r in records), len(records))}
    """

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


def suite_title(suite: object) -> str:
    """The heading of a suite's reports."""
    title = getattr(suite, "title", None)
    return title if isinstance(title, str) and title else f"{str(getattr(suite, 'name', 'suite')).capitalize()} assessment"


def score_metric(description: str = "") -> Metric:
    """The score every suite has: the mean over its categories of each category's score."""
    return Metric(SCORE_PATH, "Mean score", by={"category": "categories.*", "language": "mean_by_language.*"},
                  interval=False, description=description, leaderboard=False)


def declared_metrics(suite: object) -> list[Metric]:
    """The metrics a suite declares, its score first (the default score when it declares none)."""
    declared = [m for m in getattr(suite, "declared_metrics", None) or () if isinstance(m, Metric)]
    if not any(m.path == SCORE_PATH for m in declared):
        declared.insert(0, score_metric())
    return declared


def score_over(suite: object) -> list[str]:
    """The verdicts a suite's score counts in its denominator."""
    return list(getattr(suite, "score_over", None) or sorted(v.value for v in DECIDED))


def suite_figures(suite: object, records: list[CaseRecord]) -> dict[str, Any] | None:
    """The suite's own figures for the run summary's ``metrics``, or None when it computes none."""
    compute = getattr(suite, "metrics", None)
    return dict(compute(records)) if callable(compute) else None


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
