"""`laif incidents`: serious incidents (Art. 3(49)), their Art. 73 deadlines, versions and signed snapshots."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from laif.cli._common import err, out
from laif.errors import BadInput
from laif.services import monitoring
from laif.services.monitoring import zoned_time

incidents_app = typer.Typer(help="Serious incidents: open, update, list, and a report with a signed snapshot "
                                 "of the monitoring data around them (AI Act Arts. 73 and 20).", no_args_is_help=True)

DB_HELP = "Database URL (default: LAIF_DB_URL, else SQLite under $LAIF_HOME)."


class Category(StrEnum):
    """Art. 3(49) categories (monitor.incidents.CATEGORIES): a mistyped one gets the usage."""

    death = "death"
    health = "health"
    critical_infrastructure = "critical_infrastructure"
    fundamental_rights = "fundamental_rights"
    property_environment = "property_environment"


class ReportKind(StrEnum):
    initial = "initial"
    complete = "complete"


class Status(StrEnum):
    open = "open"
    reported = "reported"
    closed = "closed"


def _when(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    if value == "now":
        return datetime.now(UTC)
    try:
        return zoned_time(value)
    except ValueError as exc:
        raise BadInput(f"{option}: {exc}") from None


def _span(hours: float) -> str:
    """Hours as days and hours, the way a deadline is read: '11 days 1 h', '5 h'."""
    whole = int(round(abs(hours)))
    days, rest = divmod(whole, 24)
    return (f"{days} day{'s' if days != 1 else ''} " if days else "") + f"{rest} h"


def _due_cell(info: dict[str, Any]) -> str:
    """The deadline in a table: the date, the rule, and the time left, how late, or the first report's timing."""
    d = info["deadline"]
    due = f"{d['due'][:16].replace('T', ' ')} ({d['rule']})"
    if info["reports"]:
        return f"{due}; reported {'on time' if d['met'] else 'late'}"
    if d["hours_left"] < 0:
        return f"{due}; [red]{_span(d['hours_left'])} late[/red]"
    return f"{due}; {_span(d['hours_left'])} left" + ("; [bold]report now[/bold]" if info["causal_link_at"] else "")


def _print(info: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(info, indent=2, ensure_ascii=False))
        return
    d = info["deadline"]
    out.print(escape(f"{info['id']} [{info['status']}] {info['title']}"))
    out.print(f"  {info['category_text']}{' — widespread infringement' if info['widespread'] else ''}")
    causal = info["causal_link_at"] or "not yet established"
    out.print(f"  occurred {info['occurred_at']}, aware {info['aware_at']}, causal link {causal}")
    reported = bool(info["reports"])
    late = d["hours_left"] < 0 and not reported
    colour = "red" if late or d["hours_left"] < 48 else "yellow" if d["hours_left"] < 120 else "green"
    # The category's own words are on the line above; a widespread infringement says why its days differ.
    why = f": {d['why']}" if info["widespread"] else ""
    due = datetime.fromisoformat(d["due"]).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if reported:
        state = f"first report {'on time' if d['met'] else 'late'}"
    elif late:
        state = f"[red]{_span(d['hours_left'])} late[/red]"
    else:
        state = f"{_span(d['hours_left'])} left"
    out.print(f"  report due by [{colour}]{due}[/{colour}] ({d['days']} days after awareness, {d['rule']}{why}); {state}")
    if info["causal_link_at"] and not reported and not late:
        out.print("  [bold]the causal link is established: the report is due immediately[/bold] (Art. 73(2)); "
                  "the date above is the outer limit")


@incidents_app.command("open")
def open_command(
    title: str = typer.Option(..., "--title", help="What happened, in a few words."),
    category: Category = typer.Option(..., "--category", help="Art. 3(49) category; the deadline follows from it."),
    occurred: str = typer.Option(..., "--occurred", help="When it happened (ISO 8601 with a time zone)."),
    aware: str = typer.Option("now", "--aware", help="When the provider became aware of it (default: now)."),
    causal_link: str | None = typer.Option(None, "--causal-link", help="When a causal link (or its reasonable "
                                           "likelihood) with the AI system was established."),
    widespread: bool = typer.Option(False, "--widespread", help="A widespread infringement (Art. 3(61)): 2 days."),
    stream: str | None = typer.Option(None, "--stream", help="The monitored stream it concerns (for the snapshot)."),
    description: str = typer.Option("", "--description", help="What is known so far."),
    as_json: bool = typer.Option(False, "--json"),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Record a serious incident and print when its Art. 73 report is due."""
    store = monitoring.open_store(db)
    occurred_at, aware_at = _when(occurred, "--occurred"), _when(aware, "--aware")
    assert occurred_at is not None and aware_at is not None
    info = monitoring.open_incident(title=title, category=category.value, occurred=occurred_at, aware=aware_at,
                                    causal_link=_when(causal_link, "--causal-link"), widespread=widespread,
                                    stream=stream, description=description, db=store)
    _print(info, as_json)


@incidents_app.command("update")
def update_command(
    incident: str = typer.Argument(..., help="The incident's id, e.g. INC-0001."),
    causal_link: str | None = typer.Option(None, "--causal-link", help="When the causal link was established."),
    root_cause: str | None = typer.Option(None, "--root-cause", help="The root cause found."),
    action: list[str] = typer.Option([], "--action", help="A corrective action taken (Art. 20); repeat for several."),
    report: ReportKind | None = typer.Option(None, "--report", help="A report was sent to the authority."),
    status: Status | None = typer.Option(None, "--status", help="The incident's status now."),
    note: str | None = typer.Option(None, "--note"),
    as_json: bool = typer.Option(False, "--json"),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Record what changed as a new version (earlier versions are kept)."""
    store = monitoring.open_store(db)
    version = monitoring.update_incident(incident, causal_link=_when(causal_link, "--causal-link"),
                                         root_cause=root_cause, actions=action,
                                         report=report.value if report else None, status=status.value if status else None,
                                         note=note, db=store)
    err.print(f"{incident.upper()}: version {version} recorded")
    _print(monitoring.describe_incident(incident, store), as_json)


@incidents_app.command("list")
def list_command(
    as_json: bool = typer.Option(False, "--json"),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Every incident with its status and deadline."""
    rows = monitoring.list_incidents(db)
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    table = Table(title="Serious incidents")
    for col in ("Id", "Status", "Title", "Category", "Aware", "Report due", "Reports"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["id"], r["status"], escape(r["title"]), r["category"] + (" (widespread)" if r["widespread"] else ""),
                      r["aware_at"][:16].replace("T", " "), _due_cell(r),
                      ", ".join(f"{x['kind']} v{x['version']}" for x in r["reports"]) or "none")
    out.print(table)
    if not rows:
        err.print("no incident recorded; `laif incidents open` records one")


@incidents_app.command("report")
def report_command(
    incident: str = typer.Argument(..., help="The incident's id, e.g. INC-0001."),
    output: Path = typer.Option(Path("incident-report"), "--out", "-o", help="Folder for ID.html and ID-snapshot.zip."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """The incident as it stands (HTML) and a signed snapshot of it with the monitoring data around it."""
    done = monitoring.incident_report(incident, output, db)
    out.print(f"wrote {done.html} and {done.bundle} ({len(done.manifest['files'])} files, signed by "
              f"{done.signer[:16]}…); check it with `laif evidence verify {done.bundle}`")
