"""`laif sandbox`: one spec file describes a sandbox; write one, check it, print its schema, run it."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from laif._files import write_atomic
from laif.cli._common import err, out
from laif.cli.assess import suite_printer
from laif.configurator.spec import EXAMPLE, json_schema, load_spec
from laif.errors import EXIT_GATE, BadInput
from laif.services import assessment
from laif.services.progress import TerminalProgress

sandbox_app = typer.Typer(help="Sandbox specs: init, validate, schema, run (here or on Slurm), status, cancel, render.",
                          no_args_is_help=True)


@sandbox_app.command("init")
def init(output: Path = typer.Option(Path("sandbox.yaml"), "--out", "-o", help="Where to write the example.")) -> None:
    """Write a commented example spec to start from."""
    if output.exists():
        raise BadInput(f"--out {output}: exists already; name another file or remove it")
    write_atomic(output, EXAMPLE)
    out.print(f"wrote {output}; check it with  laif sandbox validate {output}")


@sandbox_app.command("validate")
def validate_command(spec: Path = typer.Argument(..., help="The sandbox spec (YAML).")) -> None:
    """Check a spec: every error with its YAML path and line, exit 2."""
    loaded = load_spec(spec)
    out.print(f"{spec}: valid (sandbox {loaded.name}, {len(loaded.suites)} suite(s), executor {loaded.executor}, "
              f"spec hash {loaded.spec_hash()[:12]})")


@sandbox_app.command("schema")
def schema(output: Path | None = typer.Option(None, "--out", "-o", help="Write the schema here instead of stdout.")) -> None:
    """Print the spec's JSON Schema (generated from the model laif validates with)."""
    text = json.dumps(json_schema(), indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        write_atomic(output, text)
        out.print(f"wrote {output}")


@sandbox_app.command("run")
def run(
    spec: Path = typer.Argument(..., help="The sandbox spec (YAML)."),
    out_dir: Path = typer.Option(Path("laif-out"), "--out", "-o", help="Folder for reports, results and gates.json."),
    db: str | None = typer.Option(None, "--db", help="Database URL (default: SQLite under $LAIF_HOME or ~/.laif)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Run the sandbox's suites; exit 1 naming each threshold that is missed."""
    with TerminalProgress(err, bar=not quiet) as bar:
        done = assessment.run_spec(spec, out_dir=out_dir, db=db, progress=bar, on_suite=suite_printer(bar))
    loaded, results = done.spec, done.gates
    if results:
        table = Table(title=f"Thresholds of {loaded.name}")
        for col in ("Threshold", "Bound", "Measured", "Result"):
            table.add_column(col)
        for g in results:
            bound = " and ".join(b for b in (f">= {g['min']}" if g["min"] is not None else "",
                                             f"<= {g['max']}" if g["max"] is not None else "") if b)
            measured = "–" if g["value"] is None else f"{g['value']:.1f}"
            verdict = {True: "[green]met[/green]", False: "[red]missed[/red]", None: "[yellow]not measured[/yellow]"}
            table.add_row(g["threshold"], bound, measured, verdict[g["met"]])
        out.print(table)
    missed = done.missed
    if missed:
        err.print("[red]gate failed:[/red] " + "; ".join(
            f"{g['threshold']} = {'not measured' if g['value'] is None else round(g['value'], 2)}" for g in missed))
        raise typer.Exit(EXIT_GATE)
    err.print(f"every threshold met; gates: {done.gates_path}")


@sandbox_app.command("status")
def status(
    run_id: str = typer.Argument(..., help="A run id, as `laif sandbox run` prints it."),
    db: str | None = typer.Option(None, "--db", help="Database URL."),
) -> None:
    """How far a run is: answers stored, its state, and its Slurm jobs still queued."""
    found = assessment.run_status(run_id, db)
    row = found.run
    out.print(f"run {row.id} ({row.suite}, {row.model_name}): {row.status}, {found.answered}/{row.total_prompts} answered")
    if found.jobs:
        out.print(f"Slurm jobs: {', '.join(found.jobs)}; still queued or running: {', '.join(found.queued) or 'none'}")


@sandbox_app.command("cancel")
def cancel(
    run_id: str = typer.Argument(...),
    db: str | None = typer.Option(None, "--db", help="Database URL."),
) -> None:
    """Cancel a run's Slurm jobs; the answers stored so far are kept, and the run can be resumed."""
    row, jobs = assessment.cancel_run(run_id, db)
    out.print(f"cancelled {len(jobs)} Slurm job(s) of run {row.id}; run the same spec again to resume")


@sandbox_app.command("render")
def render_command(
    spec: Path = typer.Argument(..., help="The sandbox spec (YAML)."),
    target: str = typer.Option(..., "--target", "-t", help="slurm, compose or k8s."),
    output: Path = typer.Option(..., "--out", "-o", help="A new folder for the bundle."),
) -> None:
    """Write a self-contained bundle: an sbatch script, a compose file or a Kubernetes Job."""
    from laif.configurator.render import render

    written = render(load_spec(spec), target, output)
    out.print(f"wrote {len(written)} files to {output}: {', '.join(p.name for p in written)}")
