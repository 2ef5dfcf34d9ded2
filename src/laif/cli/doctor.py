"""`laif doctor`: check this installation and say what to fix (exit 0 when the default path works, else 1)."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from laif.cli._common import out
from laif.doctor import Diagnosis, diagnose
from laif.errors import EXIT_GATE

_STYLE = {"ok": "green", "warning": "yellow", "FAIL": "bold red"}


def _table(diagnosis: Diagnosis) -> Table:
    table = Table(title="laif doctor", show_lines=True)
    table.add_column("Check", style="bold", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Detail", overflow="fold")
    table.add_column("Fix", overflow="fold")
    for check in diagnosis.checks:
        style = _STYLE[check.status]
        table.add_row(check.name, f"[{style}]{check.status}[/{style}]", check.detail, check.fix)
    return table


def verdict(diagnosis: Diagnosis) -> str:
    """One line: ready or not, naming the failed checks and counting the warnings."""
    failed = [c.name for c in diagnosis.checks if c.status == "FAIL"]
    warnings = sum(c.status == "warning" for c in diagnosis.checks)
    noted = f" ({warnings} warning{'s' * (warnings != 1)}: optional parts, see Fix)" if warnings else ""
    if failed:
        return f"not ready: {', '.join(failed)} failed{noted}"
    return f"ready: the embedded model generates and the database answers{noted}"


def doctor(
    db: str | None = typer.Option(None, "--db", help="Database URL to check (default: LAIF_DB_URL, else SQLite "
                                  "under $LAIF_HOME or ~/.laif)."),
    timeout: float = typer.Option(120.0, "--timeout", min=1.0, help="Seconds the test generation may take."),
    as_json: bool = typer.Option(False, "--json", help="Print the findings as JSON."),
) -> None:
    """Check the CPU, the llama.cpp build, a real generation, the database and the optional parts.

    Exit 0 when the default path works (warnings allowed), 1 when a check failed.
    """
    diagnosis = diagnose(db, timeout)
    if as_json:
        typer.echo(json.dumps(diagnosis.as_dict(), indent=2, ensure_ascii=False))
    else:
        out.print(_table(diagnosis))
        style = "bold green" if diagnosis.ok else "bold red"
        out.print(f"[{style}]{verdict(diagnosis)}[/{style}]", soft_wrap=True)
    if not diagnosis.ok:
        raise typer.Exit(EXIT_GATE)
