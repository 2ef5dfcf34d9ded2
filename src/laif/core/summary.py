"""Typed run summaries: what a run's `summary` holds in the store and `scores` in results.json,
and the layout of results.json around it.

These models read what laif writes; they do not write it. The runner and `laif.reports.results`
still build plain dicts, so results.json stays byte for byte what it was, and
tests/test_run_summary.py checks that every summary a suite writes today, and the older layouts
below, validate and dump back to the same JSON (`model_dump(mode="json", exclude_unset=True)`).

The run record is versioned (`record_schema` in results.json, `schema_version` in the store's
runs table). Every record so far is version 1, and within it the summary has grown; a field
added later is optional here, and absent (not null) in older records:

- `categories.*.abstained` (and the same under `by_language`): since the abstained verdict
  (4db277c); read as 0 before;
- `score_over`: since plugin suites run isolated (69c5781); before, always pass + fail;
- `format_compliance`: since answer modes (8e88d96);
- `answer_mode`, `likelihood_mass`: only on constrained or likelihood runs;
- `graded_bias`: only on likelihood runs with yes/no or option questions (bc3f106);
- `metrics`: only for suites that have figures of their own (a JSON tree the suite defines; read
  it with `laif.core.figures`);
- `judge`: only when a judge model read the answers; its `not_read` since 90be5db.

A figure anywhere in a summary is read with `laif.core.figures.read_figures`, whatever the suite.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, ValidationError

from laif.core.oracles import Verdict
from laif.core.strict import Strict
from laif.errors import BadInput

#: The run-record layouts these models read (store.RECORD_SCHEMA_VERSION is the one written now).
RECORD_SCHEMAS = (1,)


class CategoryFigures(Strict):
    """One category (or one category in one language): verdict counts and the score, the % of
    passes among the tests counted (`score_over`), with its Wilson 95% interval."""

    passed: int
    failed: int
    refused: int
    #: Absent in records written before the abstained verdict existed.
    abstained: int = 0
    unparseable: int
    errored: int
    #: None when no test was counted.
    score: float | None
    low: float | None
    high: float | None
    decided: int
    total: int


class FormatCompliance(Strict):
    """Per language: answers to closed questions the parser could read."""

    read: int
    answers: int
    #: read / answers as a fraction (not a percentage); None when there was nothing to read.
    share: float | None


class JudgeAgreement(Strict):
    """How the optional judge model's reading agrees with the oracles'."""

    model: str
    model_key: str
    prompt_version: int | str
    judged: int
    agreed: int
    agreement: float | None
    kappa: float | None
    asked: int
    from_cache: int
    errored: int
    confusion: dict[str, dict[str, int]]
    #: Cases the judge does not read (errors, checks it leaves to the oracle); since 90be5db.
    not_read: int | None = None


class RunSummary(Strict):
    """A run's summary (results.json `scores`), record schema 1."""

    categories: dict[str, CategoryFigures]
    #: Mean of the category scores that could be computed.
    mean: float | None
    by_language: dict[str, dict[str, CategoryFigures]]
    mean_by_language: dict[str, float | None]
    score_over: list[Verdict] | None = None
    format_compliance: dict[str, FormatCompliance] | None = None
    #: Only on runs in another mode than free.
    answer_mode: Literal["constrained", "likelihood"] | None = None
    #: Case id -> per prompt, the probability mass of each allowed answer (None: not scored).
    likelihood_mass: dict[str, list[dict[str, float] | None]] | None = None
    #: Likelihood runs: per oracle kind (expected, same) and category, the probability of the
    #: stereotyped answer (or of yes) per group and the gap between groups, with bootstrap intervals.
    graded_bias: dict[str, Any] | None = None
    #: The suite's own figures: a JSON tree it defines (usually with a `kind`).
    metrics: dict[str, Any] | None = None
    judge: JudgeAgreement | None = None

    def as_json(self) -> dict[str, Any]:
        """The summary as it is stored: fields absent from the record stay absent."""
        return self.model_dump(mode="json", exclude_unset=True)


class SuiteRef(Strict):
    name: str
    version: str
    library_sha256: str


class ModelRef(Strict):
    spec: str
    name: str
    kind: str
    key: str
    details: dict[str, Any]


class CaseJudgeReading(Strict):
    verdict: str
    parsed: Any
    agrees: bool
    replies: list[str | None]


class CaseExchange(Strict):
    prompt_id: str
    groups: list[Any]
    prompt: str | None
    response: str | None
    error: str | None


class CaseResult(Strict):
    case_id: str
    category: str
    language: str
    template_id: str
    oracle: dict[str, Any]
    options: dict[str, Any] | None
    verdict: Verdict
    parsed: Any
    reason: str
    provenance: str
    judge: CaseJudgeReading | None
    exchanges: list[CaseExchange]


class Exchange(Strict):
    prompt_id: str
    prompt_sha256: str
    cache_key: str
    category: str
    language: str
    template_id: str
    groups: list[Any]
    messages: list[dict[str, str]]
    response: str | None
    error: str | None
    source: Literal["model", "cache"]
    attempts: int
    latency_s: float | None
    answered_at: str | None


class RunResults(Strict):
    """results.json of one run (laif.reports.results.run_results)."""

    record_schema: int = Field(description="Version of the run-record layout.")
    run_id: str
    status: Literal["running", "incomplete", "complete"]
    created_at: str | None
    finished_at: str | None
    suite: SuiteRef
    languages: list[str]
    limit: int | None
    seed: int
    model: ModelRef
    params: dict[str, Any]
    laif_version: str
    environment: dict[str, Any]
    total_prompts: int
    #: None until the run is scored.
    scores: RunSummary | None
    cases: list[CaseResult]
    #: Left out when results are written without the exchanges.
    exchanges: list[Exchange] | None = None

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)


def _checked(record_schema: int, where: str) -> None:
    if record_schema not in RECORD_SCHEMAS:
        raise BadInput(f"{where}: run record schema {record_schema} is not one this laif reads "
                       f"({', '.join(map(str, RECORD_SCHEMAS))}); use the laif that wrote it, or a newer one")


def _refuse(exc: ValidationError, where: str) -> BadInput:
    lines = [f"{where}: {'.'.join(map(str, e['loc'])) or '(top)'}: {e['msg']}" for e in exc.errors()[:10]]
    more = len(exc.errors()) - len(lines)
    return BadInput("not a laif run summary:\n" + "\n".join(lines) + (f"\n(and {more} more)" if more > 0 else ""))


def read_summary(data: Mapping[str, Any], record_schema: int = 1, where: str = "summary") -> RunSummary:
    """A stored summary (a run's `summary`, results.json `scores`) of record schema `record_schema`;
    BadInput naming each field in error (under `where`) if it is not one."""
    _checked(record_schema, where)
    try:
        return RunSummary.model_validate(dict(data))
    except ValidationError as exc:
        raise _refuse(exc, where) from None


def read_results(data: Mapping[str, Any], where: str = "results.json") -> RunResults:
    """results.json of one run, of any record schema laif reads."""
    schema = data.get("record_schema")
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise BadInput(f"{where}: no record_schema; not the results of a laif run")
    _checked(schema, where)
    try:
        return RunResults.model_validate(dict(data))
    except ValidationError as exc:
        raise _refuse(exc, where) from None
