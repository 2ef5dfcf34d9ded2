"""The `laif` command. Each command group lives in its own module."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer

from laif.cli._common import err
from laif.errors import EXIT_INTERRUPTED, LaifError

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
    serve,
    suites,
    worker,
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
app.command("serve")(serve.serve)  # the portal itself is imported when the command runs
app.command("worker")(worker.worker)  # runs the portal's queued jobs; imports the portal when it runs

__all__ = ["app", "main"]


def _click_module() -> Any:
    """The click that this Typer raises its usage errors from: Typer 0.22 and later carry a
    copy of their own (`typer._click`), whose exceptions are not `click`'s."""
    try:
        return importlib.import_module("typer._click.exceptions")
    except ImportError:
        return importlib.import_module("click.exceptions")


_CLICK = _click_module()
#: Ctrl-C as this Typer reports it: `typer.Abort` in Typer 0.22 and later, click's Abort before.
_ABORTS: tuple[type[BaseException], ...] = tuple({typer.Abort, getattr(_CLICK, "Abort", typer.Abort), KeyboardInterrupt})


def main() -> None:
    """Entry point: user errors become a message and a documented exit code, never a traceback."""
    try:
        code = app(standalone_mode=False)
    except LaifError as exc:
        err.print(f"[bold red]error:[/bold red] {exc.message}", soft_wrap=True)
        if exc.hint:
            err.print(f"[dim]hint: {exc.hint}[/dim]", soft_wrap=True)
        sys.exit(exc.exit_code)
    except _CLICK.ClickException as exc:  # usage errors: click's message, exit 2
        exc.show()
        if getattr(exc, "ctx", None) is None:  # some parser errors come without the usage line
            words = " ".join(["laif", *(a for a in sys.argv[1:3] if not a.startswith("-"))][:3])
            err.print(f"Try '{words} --help' for help.")
        sys.exit(exc.exit_code)
    except _ABORTS:
        _say_interrupted()
        sys.exit(EXIT_INTERRUPTED)
    if code == EXIT_INTERRUPTED:  # Typer 0.22+ turns Ctrl-C into a return value of 130
        _say_interrupted()
    sys.exit(code if isinstance(code, int) else 0)


def _say_interrupted() -> None:
    err.print("interrupted; what was done and written so far is kept (answers, taken-in lines), run the same command to go on")
