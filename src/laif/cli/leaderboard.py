"""`laif leaderboard`: every stored run as the factory's table."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer

from laif.cli._common import err, leaderboard_table, out, write_atomic
from laif.reports import leaderboard_rows, overview_rows, render_leaderboard
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
) -> None:
    """One row per model (its latest complete run), a column per category, and the mean score."""
    if suite == "all":
        categories, rows = overview_rows(Store(db))
        title = "Overview across suites (mean score of each model's latest run)"
    else:
        categories = list(load_suite(suite).categories)
        rows = leaderboard_rows(Store(db), suite)
        title = f"Leaderboard: {suite}"
    if fmt is Format.table:
        out.print(leaderboard_table(rows, categories, title))
        return
    text = (
        json.dumps({"suite": suite, "categories": categories, "rows": rows}, ensure_ascii=False, indent=2)
        if fmt is Format.json
        else render_leaderboard(rows, categories, suite)
    )
    if output:
        write_atomic(output, text)
        err.print(f"wrote {output}")
    else:
        typer.echo(text)
