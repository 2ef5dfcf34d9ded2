"""`laif sandbox`: one spec file describes a sandbox; write one, check it, print its schema, run it."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from laif._files import write_atomic
from laif.cli._common import err, out
from laif.cli.assess import run_suites
from laif.configurator.spec import EXAMPLE, gates, json_schema, load_spec
from laif.errors import EXIT_GATE, BadInput
from laif.models import EndpointOptions, GenerationParams
from laif.sandbox.asking import RunSettings

sandbox_app = typer.Typer(help="Sandbox specs: init, validate, schema, run.", no_args_is_help=True)


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
    loaded = load_spec(spec)
    if loaded.executor != "local":
        raise BadInput(f"{spec}: executor {loaded.executor!r} is not available in this version of laif; "
                       "use `executor: local`")
    if loaded.system.serve is not None:
        raise BadInput(f"{spec}: system.serve starts a model on a compute node, which the local executor "
                       "does not do; give system.model (e.g. an endpoint you started) instead")
    settings = RunSettings(
        languages=tuple(loaded.languages), limit=loaded.limit, seed=loaded.seed,
        params=GenerationParams(temperature=0.0, max_tokens=loaded.max_tokens, seed=loaded.seed),
    )
    endpoint = EndpointOptions(api_key_env=loaded.system.api_key_env)
    rows = run_suites(loaded.system.model_string(), loaded.suites, settings, endpoint, db, out_dir,
                      quiet=quiet, show=True)
    summaries = {row["suite"]: row["scores"] for row in rows}
    results = gates(loaded, summaries)
    write_atomic(out_dir / "gates.json", json.dumps(
        {"sandbox": loaded.name, "spec_hash": loaded.spec_hash(), "runs": {r["suite"]: r["run_id"] for r in rows},
         "gates": results}, indent=2) + "\n")
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
    missed = [g for g in results if g["met"] is not True]
    if missed:
        err.print("[red]gate failed:[/red] " + "; ".join(
            f"{g['threshold']} = {'not measured' if g['value'] is None else round(g['value'], 2)}" for g in missed))
        raise typer.Exit(EXIT_GATE)
    err.print(f"every threshold met; gates: {out_dir / 'gates.json'}")
