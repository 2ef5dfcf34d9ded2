"""`laif suites list`: what can be run, in which languages, how big."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from laif.cli._common import out
from laif.services.leaderboard import describe_suites

suites_app = typer.Typer(help="Installed assessment suites.", no_args_is_help=True)


@suites_app.command("list")
def list_suites(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """List each suite with its categories, languages and prompt counts."""
    described = describe_suites()
    if as_json:
        typer.echo(json.dumps(described, ensure_ascii=False, indent=2))
        return
    for d in described:
        table = Table(title=f"{d['name']} {d['version']}")
        table.add_column("Category", style="bold")
        for lang in d["languages"]:
            table.add_column(f"{lang}: templates / prompts", justify="right")
        for cat, per in d["counts"].items():
            table.add_row(cat, *[f"{per[lang]['templates']} / {per[lang]['prompts']}" for lang in d["languages"]])
        out.print(table)
