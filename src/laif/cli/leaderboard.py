"""`laif leaderboard`: every stored run as the factory's table."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from laif.cli._common import err, leaderboard_table, out, write_atomic
from laif.core.suite import Metric, declared_metrics
from laif.errors import BadInput
from laif.reports import leaderboard_rows, overview_rows, render_leaderboard
from laif.reports.suites import leaderboard_columns
from laif.runner.answer_modes import ANSWER_MODES
from laif.store import Store
from laif.suites import load_suite


class Format(StrEnum):
    table = "table"
    json = "json"
    html = "html"


def leaderboard(
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, json or html"),
    suite: str = typer.Option("bias", "--suite", "-s", help="A suite, or 'all' for an overview across suites."),
    output: Path | None = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout."),
    db: str | None = typer.Option(None, "--db", help="Database URL."),
    answer_mode: str = typer.Option(
        "free", "--answer-mode", help="The runs shown: free, constrained or likelihood (see laif assess), or all "
        "(a row per model and mode; one suite only).",
    ),
) -> None:
    """One row per model (its latest complete run), a column per category, the mean score, and
    a column per metric the suite declares for the leaderboard."""
    if answer_mode not in (*ANSWER_MODES, "all") or (answer_mode == "all" and suite == "all"):
        raise BadInput(f"--answer-mode {answer_mode}: choose from {', '.join(ANSWER_MODES)}"
                       + (" or all" if suite != "all" else " (all needs one suite, not the overview)"))
    metrics: list[Metric] = []
    if suite == "all":
        categories, rows = overview_rows(Store(db), answer_mode)
        title = "Overview across suites (mean score of each model's latest run)"
    else:
        loaded = load_suite(suite)
        categories, metrics = list(loaded.categories), leaderboard_columns(declared_metrics(loaded))
        rows = leaderboard_rows(Store(db), suite, metrics, answer_mode)
        title = f"Leaderboard: {suite}"
    if answer_mode == "all":
        rows = [r | {"model": f"{r['model']} ({r['answer_mode']})"} for r in rows]
    if answer_mode != "free":
        title += f" ({answer_mode} answers)" if answer_mode != "all" else " (every answer mode)"
    if fmt is Format.table:
        out.print(leaderboard_table(_with_metrics(rows, metrics), categories + [m.title for m in _rates(metrics)], title))
        return
    board = {"suite": suite, "categories": categories, "rows": rows}
    if metrics:
        board["metrics"] = [{"path": m.path, "title": m.title, "direction": m.direction, "unit": m.unit}
                            for m in metrics]
    text = (
        json.dumps(board, ensure_ascii=False, indent=2)
        if fmt is Format.json
        else render_leaderboard(rows, categories, suite, metrics)
    )
    if output:
        write_atomic(output, text)
        err.print(f"wrote {output}")
    else:
        typer.echo(text)


def _rates(metrics: list[Metric]) -> list[Metric]:
    """The metrics the terminal table shows as percentages beside the categories."""
    return [m for m in metrics if m.unit == "percent"]


def _with_metrics(rows: list[dict[str, Any]], metrics: list[Metric]) -> list[dict[str, Any]]:
    """Rows whose categories also hold each percentage metric, under its title, for the table."""
    out_rows = []
    for row in rows:
        figures = row.get("figures") or {}
        extra = {m.title: (figures.get(m.path) or {}).get("value") for m in _rates(metrics)}
        spans = {m.title: [(figures.get(m.path) or {}).get("low"), (figures.get(m.path) or {}).get("high")]
                 for m in _rates(metrics)}
        out_rows.append(row | {"categories": row["categories"] | extra, "intervals": row["intervals"] | spans})
    return out_rows
