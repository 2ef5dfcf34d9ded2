"""The `laif` command. Each command group lives in its own module."""

from __future__ import annotations

import sys

import click
import typer

from laif.cli._common import err
from laif.errors import LaifError

app = typer.Typer(
    name="laif",
    help="laif: the Luxembourg AI Factory's trustworthy-AI sandbox and services.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

from laif.cli import (  # noqa: E402
    assess,
    catalogue,
    doctor,
    evidence,
    incidents,
    ipms,
    judge,
    leaderboard,
    monitor,
    obligations,
    oracles,
    qualify,
    readiness,
    sandbox,
    secrets,
    suites,
)

app.command("assess")(assess.assess)
app.command("leaderboard")(leaderboard.leaderboard)
app.command("judge")(judge.judge_command)
app.command("doctor")(doctor.doctor)
app.add_typer(suites.suites_app, name="suites")
app.add_typer(oracles.oracles_app, name="oracles")
app.add_typer(ipms.ipms_app, name="ipms")
app.add_typer(catalogue.catalogue_app, name="catalogue")
app.add_typer(sandbox.sandbox_app, name="sandbox")
app.add_typer(secrets.secrets_app, name="secrets")
app.add_typer(qualify.qualify_app, name="qualify")
app.add_typer(readiness.readiness_app, name="readiness")
app.add_typer(evidence.evidence_app, name="evidence")
app.add_typer(obligations.obligations_app, name="obligations")
app.add_typer(monitor.monitor_app, name="monitor")
app.add_typer(incidents.incidents_app, name="incidents")

__all__ = ["app", "main"]


def main() -> None:
    """Entry point: user errors become a message and a documented exit code, never a traceback."""
    try:
        code = app(standalone_mode=False)
    except LaifError as exc:
        err.print(f"[bold red]error:[/bold red] {exc.message}", soft_wrap=True)
        if exc.hint:
            err.print(f"[dim]hint: {exc.hint}[/dim]", soft_wrap=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        err.print("interrupted; answers received so far are kept, run the same command to resume")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
