"""`laif catalogue`: publish dataset metadata from a sample, search it, export and harvest
DCAT-AP 3 (validated with SHACL), and request access case by case."""

from __future__ import annotations

import getpass
import json
import os
import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from laif.cli._common import err, out
from laif.errors import EXIT_GATE, BadInput
from laif.services import datasets

catalogue_app = typer.Typer(help="Datasets catalogue: publish from a sample, search, DCAT-AP export and harvest, "
                                 "access requests.", no_args_is_help=True)

DB = typer.Option(None, "--db", help="Database URL (default: SQLite under $LAIF_HOME or ~/.laif).")
AS = typer.Option(None, "--as", help="Who you are (default: $LAIF_USER, else your login name).")
BASE = typer.Option(datasets.DEFAULT_BASE, "--base", help="Base URI of the catalogue's datasets.")


def _who(value: str | None) -> str:
    who = (value or os.environ.get("LAIF_USER") or getpass.getuser()).strip()
    if not who:
        raise BadInput("--as: say who you are")
    return who


def _print_report(report: dict[str, Any], limit: int = 20) -> None:
    for note in report["notes"]:
        err.print(f"[dim]{note}[/dim]")
    for v in report["violations"][:limit]:
        value = f" (value {v['value']})" if "value" in v else ""
        err.print(f"[red]violation[/red] {v['focus']} {v['path']}: {v['message']}{value}")
    if len(report["violations"]) > limit:
        err.print(f"... and {len(report['violations']) - limit} more violations")


@catalogue_app.command("draft")
def draft(
    sample: Path = typer.Argument(..., help="A sample of the data: CSV, Parquet or JSON (array or JSON Lines)."),
    output: Path | None = typer.Option(None, "--out", "-o", help="Entry to complete (default: SAMPLE.yaml beside it)."),
) -> None:
    """Draft an entry from a sample: schema, types, rows, missing values, ranges, personal data."""
    drafted = datasets.draft(sample, output)
    target, found = drafted.path, drafted.profile
    personal = ", ".join(found["personal_data"]) or "none"
    err.print(f"{found['rows']} rows, {len(found['columns'])} columns; personal data in: {personal}")
    out.print(f"wrote {target}: complete the TODO fields, then run  laif catalogue publish {target}")


@catalogue_app.command("publish")
def publish(
    entry_file: Path = typer.Argument(..., help="The completed entry (from `laif catalogue draft`)."),
    replace: bool = typer.Option(False, "--replace", help="Replace your own entry with the same identifier."),
    who: str | None = AS,
    base: str = BASE,
    db: str | None = DB,
) -> None:
    """Publish an entry after checking it field by field and as DCAT-AP 3 with DCAT-AP-LU."""
    try:
        done = datasets.publish(entry_file, _who(who), replace=replace, base=base, db=db)
    except datasets.InvalidEntry as exc:
        _print_report(exc.report)
        raise
    out.print(f"{'published' if done.new else 'replaced'} {done.identifier} "
              f"({done.access_rights}; valid DCAT-AP 3 and DCAT-AP-LU, {len(done.report['warnings'])} recommendations open)")


@catalogue_app.command("search")
def search(
    query: str = typer.Argument("", help="Words to find (each also as a prefix); empty lists everything."),
    theme: str | None = typer.Option(None, "--theme", help="EU data theme code, e.g. HEAL, TRAN."),
    publisher: str | None = typer.Option(None, "--publisher"),
    access: str | None = typer.Option(None, "--access", help="public, restricted or non-public."),
    fmt: str | None = typer.Option(None, "--format", help="csv, parquet or json."),
    language: str | None = typer.Option(None, "--language", help="en, fr, de, lb, ..."),
    limit: int = typer.Option(20, "--limit", min=1, max=500),
    as_json: bool = typer.Option(False, "--json"),
    db: str | None = DB,
) -> None:
    """Full-text search with filters, best match first."""
    started = time.perf_counter()
    hits = datasets.search(query, limit=limit, theme=theme, publisher=publisher, access=access, format=fmt,
                           language=language, db=db)
    ms = (time.perf_counter() - started) * 1000
    if as_json:
        typer.echo(json.dumps([h.__dict__ for h in hits], indent=2, ensure_ascii=False))
        return
    table = Table(title=f"{len(hits)} dataset(s) for {query!r}" if query else f"{len(hits)} dataset(s)")
    for col in ("Identifier", "Title", "Publisher", "Access", "Themes"):
        table.add_column(col)
    for h in hits:
        table.add_row(h.identifier, h.title, h.publisher, h.access_rights, " ".join(h.themes))
    out.print(table)
    err.print(f"[dim]{ms:.1f} ms[/dim]")


@catalogue_app.command("show")
def show(identifier: str = typer.Argument(...), db: str | None = DB) -> None:
    """An entry as stored: the metadata and the profile of its sample."""
    typer.echo(json.dumps(datasets.show(identifier, db), indent=2, ensure_ascii=False))


@catalogue_app.command("export")
def export(
    output: Path = typer.Option(..., "--out", "-o", help="catalogue.ttl (Turtle) or catalogue.jsonld (JSON-LD)."),
    base: str = BASE,
    db: str | None = DB,
) -> None:
    """Export the whole catalogue as DCAT-AP 3, validated with SHACL before it is written."""
    try:
        exported = datasets.export(output, base, db)
    except datasets.InvalidCatalogue as exc:
        _print_report(exc.report)
        err.print("[red]not valid DCAT-AP: nothing written[/red]")
        raise typer.Exit(EXIT_GATE) from None
    for note in exported.report["notes"]:
        err.print(f"[dim]{note}[/dim]")
    out.print(f"wrote {output}: {exported.datasets} datasets, valid DCAT-AP 3.0.1 and DCAT-AP-LU "
              f"({len(exported.report['warnings'])} recommendations open)")


@catalogue_app.command("validate")
def validate_file(
    source: Path = typer.Argument(..., help="A DCAT-AP file: .ttl, .jsonld, .rdf or .nt"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Validate a DCAT-AP file against DCAT-AP 3.0.1 and DCAT-AP-LU; exit 1 on any violation."""
    report = datasets.validate(source)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        _print_report(report, limit=100)
        out.print(f"{source}: {'valid' if report['conforms'] else 'NOT valid'} "
                  f"({len(report['violations'])} violations, {len(report['warnings'])} recommendations open)")
    if not report["conforms"]:
        raise typer.Exit(EXIT_GATE)


@catalogue_app.command("harvest")
def harvest(
    source: str = typer.Argument(..., help="Another catalogue's DCAT-AP file, or its http(s) URL."),
    db: str | None = DB,
) -> None:
    """Harvest another DCAT-AP catalogue: new datasets are added, known ones updated."""
    done = datasets.harvest(source, db)
    if not done.report["conforms"]:
        err.print(f"[yellow]{source} is not valid DCAT-AP ({len(done.report['violations'])} violations); "
                  "datasets laif can hold are harvested anyway[/yellow]")
    added, updated, skipped = done.added, done.updated, done.skipped
    for reason in skipped:
        err.print(f"[yellow]skipped[/yellow] {reason}")
    out.print(f"harvested {source}: {added} added, {updated} updated, {len(skipped)} skipped")


@catalogue_app.command("request")
def request(
    identifier: str = typer.Argument(..., help="The dataset's identifier."),
    purpose: str = typer.Option(..., "--purpose", help="What the data is for."),
    who: str | None = AS,
    db: str | None = DB,
) -> None:
    """Ask the holder for access to a restricted or non-public dataset, stating the purpose."""
    request_id = datasets.request_access(identifier, _who(who), purpose, db)
    out.print(f"{request_id}: access to {identifier} requested; the holder decides")


def _act(action: str, request_id: str, message: str, who: str | None, db: str | None) -> None:
    status = datasets.act(request_id, _who(who), action, message, db)
    out.print(f"{request_id}: {status}")


MESSAGE = typer.Option("", "--message", "-m", help="What to tell the other side.")


@catalogue_app.command("approve")
def approve(request_id: str = typer.Argument(...), message: str = MESSAGE, who: str | None = AS,
            db: str | None = DB) -> None:
    """Holder: approve a request (the data itself is then shared outside the catalogue)."""
    _act("approve", request_id, message, who, db)


@catalogue_app.command("reject")
def reject(request_id: str = typer.Argument(...), message: str = MESSAGE, who: str | None = AS,
           db: str | None = DB) -> None:
    """Holder: reject a request, saying why."""
    _act("reject", request_id, message, who, db)


@catalogue_app.command("ask")
def ask(request_id: str = typer.Argument(...), message: str = MESSAGE, who: str | None = AS,
        db: str | None = DB) -> None:
    """Holder: ask the requester for more information."""
    _act("ask", request_id, message, who, db)


@catalogue_app.command("reply")
def reply(request_id: str = typer.Argument(...), message: str = MESSAGE, who: str | None = AS,
          db: str | None = DB) -> None:
    """Requester: answer the holder's question; the request goes back to the holder."""
    _act("reply", request_id, message, who, db)


@catalogue_app.command("requests")
def requests_command(
    dataset: str | None = typer.Option(None, "--dataset", help="Only this dataset's requests."),
    mine: bool = typer.Option(False, "--mine", help="Only requests you made or must decide."),
    who: str | None = AS,
    as_json: bool = typer.Option(False, "--json"),
    db: str | None = DB,
) -> None:
    """Access requests with every step: who did what, when."""
    found = datasets.requests(dataset, _who(who) if mine else None, db)
    if as_json:
        typer.echo(json.dumps(found, indent=2, ensure_ascii=False))
        return
    for r in found:
        out.print(f"[bold]{r['id']}[/bold] {r['dataset']}: {r['status']} (requested by {r['requester']}, "
                  f"holder {r['holder']})")
        for e in r["history"]:
            out.print(f"  {e['at'][:19]}  {e['who']:>16}  {e['action']:<9} {e['message']}")
    if not found:
        err.print("no access requests")

