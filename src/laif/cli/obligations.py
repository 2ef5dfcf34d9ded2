"""`laif obligations`: what the AI Act asks of a system, and which evidence is there or missing."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from laif.cli._common import err, out, write_atomic
from laif.cli.qualify import DATE_HELP, evaluation_date
from laif.compliance.obligations import (
    RISKS,
    Answers,
    LoadedCatalogue,
    assess,
    controls_for,
    controls_template,
    load_catalogue,
    load_controls,
    resolve_scope,
)
from laif.compliance.qualify import load_answers, qualify
from laif.errors import BadInput
from laif.reports import run_results
from laif.store import Store

obligations_app = typer.Typer(help="Obligations mapped to evidence: verdicts per requirement, and what is missing.",
                              invoke_without_command=True)

COLOURS = {"met": "green", "not met": "red", "inconclusive": "yellow", "not assessed": "dim"}


def collect_results(store: Store, run_ids: list[str]) -> list[dict[str, Any]]:
    """The results of the named runs, or else the latest complete run of each suite in the store for
    the model of the latest run (runs of different models are never assessed together)."""
    if not run_ids:
        stored = store.runs()
        model = stored[-1].model_key if stored else None
        latest = {r.suite: r.id for r in stored if r.model_key == model}
        run_ids = list(latest.values())
    results = []
    for run_id in dict.fromkeys(run_ids):
        r = run_results(store, store.require_run(run_id).id)
        if r.get("status") != "complete":
            raise BadInput(f"run {run_id} is {r.get('status')}; finish it before using it as evidence")
        results.append(r)
    return results


def evaluate(run_ids: list[str], qualification_file: Path | None, risk: str | None, role: str,
             controls_file: Path | None, catalogue_file: Path | None, db: str | None, on: date | None = None,
             ) -> tuple[dict[str, Any], LoadedCatalogue, dict[str, Any] | None, Answers | None, list[dict[str, Any]]]:
    """Everything `laif obligations` and `laif evidence build` share: scope, runs, controls, verdicts."""
    loaded = load_catalogue(catalogue_file)
    qualification = qualify(load_answers(qualification_file), on) if qualification_file else None
    ids, scope = resolve_scope(qualification, risk, role)
    answers = load_controls(controls_file, loaded.catalogue) if controls_file else None
    results = collect_results(Store(db), run_ids)
    return assess(loaded, ids, results, answers, scope), loaded, qualification, answers, results


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
    result, *_ = evaluate(run, qualification, risk, role, controls, catalogue, db, evaluation_date(on))
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
    typer.echo(load_catalogue(catalogue).text.decode("utf-8"), nl=False)


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
    loaded = load_catalogue(catalogue)
    left_out: dict[str, list[dict[str, str]]] = {}
    if qualification or risk:
        ids, scope = resolve_scope(qualify(load_answers(qualification)) if qualification else None, risk, role)
        left_out = scope.get("not_applicable") or {}
    else:
        ids = [o.id for o in loaded.catalogue.obligations]
    if template is not None:
        if template.exists():
            raise BadInput(f"{template}: already exists; not overwriting your answers")
        write_atomic(template, controls_template(loaded.catalogue, ids, left_out) + "\n")
        err.print(f"wrote {template}")
        return
    wanted = controls_for(loaded.catalogue, ids, left_out)
    listed = {cid: c.model_dump(by_alias=True) for cid, c in loaded.catalogue.controls.items() if cid in wanted}
    if as_json:
        typer.echo(json.dumps(listed, indent=2, ensure_ascii=False))
        return
    for cid, c in listed.items():
        out.print(f"[bold]{cid}[/bold] {c['title']}: {c['question']}")
