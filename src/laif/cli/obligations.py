"""`laif obligations`: what the AI Act asks of a system, and which evidence is there or missing."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from laif.cli._common import err, out
from laif.cli.qualify import DATE_HELP, evaluation_date
from laif.services import aiact
from laif.services.aiact import RISKS

obligations_app = typer.Typer(help="Obligations mapped to evidence: verdicts per requirement, and what is missing.",
                              invoke_without_command=True)

COLOURS = {"met": "green", "not met": "red", "inconclusive": "yellow", "not assessed": "dim"}


@obligations_app.callback()
def obligations_command(
    ctx: typer.Context,
    run: list[str] = typer.Option([], "--run", help="A run to use as evidence (repeat); default: the latest "
                                  "complete run of each suite."),
    qualification: Path | None = typer.Option(None, "--qualification", help="Answers file of `laif qualify`."),
    risk: str | None = typer.Option(None, "--risk", help=f"Instead of a qualification: {', '.join(RISKS)}."),
    role: str = typer.Option("provider", "--role",
                             help="With --risk: provider, deployer, importer, distributor, representative."),
    controls: Path | None = typer.Option(None, "--controls", help="Controls file: scores 1-5 and evidence files."),
    catalogue: Path | None = typer.Option(None, "--catalogue", help="An edited copy of the catalogue."),
    db: str | None = typer.Option(None, "--db", help="Database URL."),
    as_json: bool = typer.Option(False, "--json"),
    on: str | None = typer.Option(None, "--date", help=DATE_HELP),
) -> None:
    """Each applicable obligation, requirement by requirement: met, not met, inconclusive or not assessed."""
    if ctx.invoked_subcommand is not None:
        return
    result = aiact.assess_obligations(run, qualification_file=qualification, risk=risk, role=role,
                                      controls_file=controls, catalogue_file=catalogue, db=db,
                                      on=evaluation_date(on)).result
    if as_json:
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    scope = result["scope"]
    out.print(f"[bold]{scope['risk_class']} risk, {', '.join(scope['roles'])}[/bold]"
              + (f" at {scope['evaluation_date']}" if scope.get("evaluation_date") else "")
              + f": {len(result['obligations'])} obligations, "
              f"catalogue {result['catalogue']['version']}; runs: "
              + (", ".join(f"{r['suite']} {r['run_id']}" for r in result["runs"]) or "none"))
    table = Table(show_lines=False)
    for col in ("Requirement", "Verdict", "Evidence"):
        table.add_column(col)
    dates = scope.get("applies_from") or {}
    for o in result["obligations"]:
        since = f" [dim](from {dates[o['id']]})[/dim]" if dates.get(o["id"]) else ""
        table.add_row(f"[bold]{o['id']}[/bold] {o['title']}{since}", f"[{COLOURS[o['verdict']]}]{o['verdict']}[/]",
                      o["coverage"]["text"])
        for r in o["requirements"]:
            evidence = "; ".join(f"{e.get('metric') or e.get('control')} ({e['basis']}): {e['reason']}"
                                 for e in r["evidence"])
            table.add_row(f"  {r['id']}", f"[{COLOURS[r['verdict']]}]{r['verdict']}[/]", evidence)
        for x in o["not_applicable"]:
            table.add_row(f"  [dim]{x['id']}[/dim]", "[dim]not applicable[/dim]", f"[dim]{x['because']}[/dim]")
    out.print(table)
    s = result["summary"]
    out.print("requirements: " + ", ".join(f"[{COLOURS[v]}]{n} {v}[/]" for v, n in s.items()))
    for oid, why in (scope.get("conditional") or {}).items():
        err.print(f"[yellow]{oid} is conditional: {why}[/yellow]")
    if result["missing"]:
        err.print(f"[dim]{len(result['missing'])} pieces of evidence missing; --json lists them[/dim]")


@obligations_app.command("catalogue")
def catalogue_command(catalogue: Path | None = typer.Option(None, "--catalogue")) -> None:
    """Print the catalogue (YAML): copy it, edit thresholds, pass it back with --catalogue."""
    typer.echo(aiact.catalogue_text(catalogue), nl=False)


@obligations_app.command("controls")
def controls_command(
    qualification: Path | None = typer.Option(None, "--qualification"),
    risk: str | None = typer.Option(None, "--risk"),
    role: str = typer.Option("provider", "--role"),
    template: Path | None = typer.Option(None, "--template", help="Write a controls file to fill in."),
    catalogue: Path | None = typer.Option(None, "--catalogue"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The manual controls: every one, or with --risk/--qualification those that apply."""
    if template is not None:
        aiact.write_controls_template(template, qualification, risk, role, catalogue)
        err.print(f"wrote {template}")
        return
    listed = aiact.controls(qualification, risk, role, catalogue)
    if as_json:
        typer.echo(json.dumps(listed, indent=2, ensure_ascii=False))
        return
    for cid, c in listed.items():
        out.print(f"[bold]{cid}[/bold] {c['title']}: {c['question']}")
