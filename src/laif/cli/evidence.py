"""`laif evidence`: signed bundles of sandbox evidence, and their verification."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape

from laif.cli._common import err, out
from laif.errors import EXIT_GATE
from laif.services import evidence
from laif.services.progress import ProgressEvent

evidence_app = typer.Typer(help="Evidence bundles: build (signed with Ed25519), verify and extract.",
                           no_args_is_help=True)


def _said(event: ProgressEvent) -> None:
    if event.stage == "runs only":
        err.print(f"[dim]no --qualification or --risk: {escape(event.message)}[/dim]")
    elif event.message:
        err.print(escape(event.message))


@evidence_app.command("build")
def build_command(
    run_ids: list[str] = typer.Argument(..., help="Run ids (laif leaderboard and laif sandbox run print them)."),
    output: Path = typer.Option(..., "--out", "-o", help="The bundle, e.g. bundle.zip."),
    answers: Path | None = typer.Option(None, "--qualification", help="Answers file of `laif qualify`."),
    risk: str | None = typer.Option(None, "--risk", help="Instead of a qualification: high, limited, minimal, gpai, "
                                    "gpai-systemic."),
    role: str = typer.Option("provider", "--role", help="With --risk: provider, deployer, importer, distributor."),
    controls: Path | None = typer.Option(None, "--controls", help="Controls file: scores 1-5 and evidence files."),
    catalogue: Path | None = typer.Option(None, "--catalogue", help="An edited copy of the obligations catalogue."),
    system: Path | None = typer.Option(None, "--system", help="System description (YAML) for the drafts."),
    pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="Render the four reports as PDF too."),
    monitoring: list[str] = typer.Option([], "--monitoring", help="A monitored stream (laif monitor ingest) whose "
                                         "windows, alerts, canaries, incidents, report and Art. 72 plan go in too; "
                                         "repeat for several."),
    db: str | None = typer.Option(None, "--db", help="Database URL."),
) -> None:
    """Bundle runs, verdicts per obligation, controls, exports (OSCAL, CycloneDX), drafts and four reports,
    with a signed manifest of their SHA-256."""
    built = evidence.build_bundle(run_ids, output, qualification=answers, risk=risk, role=role, controls=controls,
                                  catalogue=catalogue, system=system, pdf=pdf, monitoring=monitoring, db=db,
                                  progress=_said)
    out.print(f"wrote {output}: {len(built.manifest['files'])} files, signed by {built.signer}")
    if built.missing:
        err.print(f"[dim]{len(built.missing)} pieces of evidence missing (laif obligations lists them)[/dim]")


@evidence_app.command("verify")
def verify_command(
    bundle: Path = typer.Argument(...),
    signer: str | None = typer.Option(None, "--signer", help="The fingerprint the bundle must be signed with."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Exit 0 for an intact bundle; exit 1 naming every changed, missing or added file."""
    result = evidence.verify_bundle(bundle, signer)
    if as_json:
        typer.echo(json.dumps(result.__dict__, indent=2))
    elif result.ok:
        out.print(f"{bundle}: intact, {result.files} files, signed by {result.signer}")
    for problem in result.problems:
        err.print(f"[red]{problem}[/red]")
    if not result.ok:
        raise typer.Exit(EXIT_GATE)


@evidence_app.command("extract")
def extract_command(
    bundle: Path = typer.Argument(...),
    directory: Path = typer.Argument(..., help="Where to put the files (created; must be empty)."),
    signer: str | None = typer.Option(None, "--signer", help="The fingerprint the bundle must be signed with."),
) -> None:
    """Verify the bundle, then extract it to read the reports and drafts; nothing is extracted from a bundle
    that fails verification."""
    extracted = evidence.extract_bundle(bundle, directory, signer)
    result = extracted.verification
    for problem in result.problems:
        err.print(f"[red]{problem}[/red]")
    if not result.ok:
        raise typer.Exit(EXIT_GATE)
    out.print(f"{bundle}: intact; {result.files} files in {directory}")
    for report in extracted.reports:
        out.print(f"  {report}")
