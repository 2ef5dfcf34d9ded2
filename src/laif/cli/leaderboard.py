"""`laif leaderboard`: every stored run as the factory's table."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from laif.cli._common import err, leaderboard_table, out, write_atomic
from laif.core.suite import Metric
from laif.services.leaderboard import leaderboard as build_leaderboard


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
    board = build_leaderboard(suite, answer_mode, db)
    if fmt is Format.table:
        rates = _rates(board.metrics)
        out.print(leaderboard_table(_with_metrics(board.rows, rates), board.categories + [m.title for m in rates],
                                    board.title))
        return
    text = json.dumps(board.as_dict(), ensure_ascii=False, indent=2) if fmt is Format.json else board.html()
    if output:
        write_atomic(output, text)
        err.print(f"wrote {output}")
    else:
        typer.echo(text)


def _rates(metrics: list[Metric]) -> list[Metric]:
    """The metrics the terminal table shows as percentages beside the categories."""
    return [m for m in metrics if m.unit == "percent"]


def _with_metrics(rows: list[dict[str, Any]], rates: list[Metric]) -> list[dict[str, Any]]:
    """Rows whose categories also hold each percentage metric, under its title, for the table."""
    out_rows = []
    for row in rows:
        figures = row.get("figures") or {}
        extra = {m.title: (figures.get(m.path) or {}).get("value") for m in rates}
        spans = {m.title: [(figures.get(m.path) or {}).get("low"), (figures.get(m.path) or {}).get("high")]
                 for m in rates}
        out_rows.append(row | {"categories": row["categories"] | extra, "intervals": row["intervals"] | spans})
    return out_rows
