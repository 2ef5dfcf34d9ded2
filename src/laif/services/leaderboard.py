"""The leaderboard: one row per model (its latest complete run of a suite), as the command line
prints it and the portal shows it; and the installed suites described."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select

from laif.core.suite import Metric, declared_metrics
from laif.errors import BadInput
from laif.reports import leaderboard_rows, overview_rows, render_leaderboard
from laif.reports.suites import leaderboard_columns
from laif.runner.answer_modes import ANSWER_MODES
from laif.store import Store
from laif.store.db import RunRow
from laif.suites import available_suites, load_suite


@dataclass(frozen=True)
class Leaderboard:
    suite: str  # a suite's name, or "all" for the overview across suites
    title: str
    categories: list[str]
    rows: list[dict[str, Any]]
    metrics: list[Metric] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form `laif leaderboard --format json` prints."""
        board: dict[str, Any] = {"suite": self.suite, "categories": self.categories, "rows": self.rows}
        if self.metrics:
            board["metrics"] = [{"path": m.path, "title": m.title, "direction": m.direction, "unit": m.unit}
                                for m in self.metrics]
        return board

    def html(self) -> str:
        return render_leaderboard(self.rows, self.categories, self.suite, self.metrics)


@lru_cache(maxsize=32)
def _columns(suite: str) -> tuple[tuple[str, ...], tuple[Metric, ...]]:
    """A suite's categories and leaderboard columns: loading a suite reads its whole bank (about
    0.2 s for bias), and a portal asks for them on every leaderboard page."""
    loaded = load_suite(suite)
    return tuple(loaded.categories), tuple(leaderboard_columns(declared_metrics(loaded)))


class _Latest:
    """The runs `leaderboard_rows` needs of a store: each model's latest complete run of a suite in
    each answer mode, read in full, in the order the model first appears (what its `latest` keeps
    from all of them). Which runs those are is read from three columns and the summary's answer
    mode alone: reading every run in full decodes five JSON columns a run (70 ms for 1,000 runs)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def runs(self, suite: str | None = None, status: str | None = "complete") -> list[RunRow]:
        mode = func.coalesce(RunRow.summary["answer_mode"].as_string(), "free")
        stmt = select(RunRow.id, RunRow.model_key, mode).order_by(RunRow.created_at)
        if suite:
            stmt = stmt.where(RunRow.suite == suite)
        if status:
            stmt = stmt.where(RunRow.status == status)
        with self.store.session() as s:
            latest: dict[tuple[str, str], str] = {}
            for run_id, model_key, answer_mode in s.execute(stmt):
                latest[(model_key, answer_mode)] = run_id
            found = {r.id: r for r in s.scalars(select(RunRow).where(RunRow.id.in_(list(latest.values()))))}
        return [found[run_id] for run_id in latest.values() if run_id in found]


def leaderboard(suite: str = "bias", answer_mode: str = "free", db: str | None = None,
                store: Store | None = None) -> Leaderboard:
    """The leaderboard of `suite` (or "all": the mean score per suite) for runs in `answer_mode`
    (free, constrained, likelihood, or "all": a row per model and mode, one suite only), from
    `store` when given (a server's shared one), else from a store opened on `db`."""
    if answer_mode not in (*ANSWER_MODES, "all") or (answer_mode == "all" and suite == "all"):
        raise BadInput(f"--answer-mode {answer_mode}: choose from {', '.join(ANSWER_MODES)}"
                       + (" or all" if suite != "all" else " (all needs one suite, not the overview)"))
    metrics: list[Metric] = []
    if suite == "all":
        categories, rows = overview_rows(store or Store(db), answer_mode)
        title = "Overview across suites (mean score of each model's latest run)"
    else:
        known, columns = _columns(suite)
        categories, metrics = list(known), list(columns)
        rows = leaderboard_rows(_Latest(store or Store(db)), suite, metrics, answer_mode)  # type: ignore[arg-type]
        title = f"Leaderboard: {suite}"
    if answer_mode == "all":
        rows = [r | {"model": f"{r['model']} ({r['answer_mode']})"} for r in rows]
    if answer_mode != "free":
        title += f" ({answer_mode} answers)" if answer_mode != "all" else " (every answer mode)"
    return Leaderboard(suite, title, categories, rows, metrics)


def describe_suites() -> list[dict[str, Any]]:
    """Each installed suite with its categories, languages and prompt counts (read once per set
    of installed suites: the portal's sandbox form asks on every page)."""
    return copy.deepcopy(_described(tuple(available_suites())))


@lru_cache(maxsize=4)
def _described(names: tuple[str, ...]) -> list[dict[str, Any]]:
    return [load_suite(name).describe() for name in names]
