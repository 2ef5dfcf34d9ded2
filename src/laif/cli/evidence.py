"""`laif evidence`: signed bundles of sandbox evidence, and their verification."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from laif.cli._common import err, out
from laif.compliance.evidence import build, fingerprint, signing_key, verify
from laif.compliance.qualify import load_answers, qualify
from laif.errors import EXIT_GATE, BadInput
from laif.reports import render_run_report, run_results
from laif.store import Store

evidence_app = typer.Typer(help="Evidence bundles: build (signed with Ed25519) and verify.", no_args_is_help=True)


@evidence_app.command("build")
def build_command(
    run_ids: list[str] = typer.Argument(..., help="Run ids (laif leaderboard and laif sandbox run print them)."),
    output: Path = typer.Option(..., "--out", "-o", help="The bundle, e.g. bundle.zip."),
    answers: Path | None = typer.Option(None, "--qualification", help="Answers file of `laif qualify`."),
    db: str | None = typer.Option(None, "--db", help="Database URL."),
) -> None:
    """Bundle run records, reports and the qualification, with a signed manifest of their SHA-256."""
    store = Store(db)
    files: dict[str, bytes] = {}
    about: dict[str, Any] = {"runs": []}
    for run_id in dict.fromkeys(run_ids):
        if store.get_run(run_id) is None:
            raise BadInput(f"no run {run_id!r}", hint="laif leaderboard --json lists the runs")
        results = run_results(store, run_id)
        if results.get("status") != "complete":
            raise BadInput(f"run {run_id} is {results.get('status')}; finish it before bundling it as evidence")
        files[f"runs/{run_id}/results.json"] = json.dumps(results, ensure_ascii=False, indent=1).encode("utf-8")
        files[f"runs/{run_id}/report.html"] = render_run_report(results).encode("utf-8")
        about["runs"].append({"run_id": run_id, "suite": results["suite"]["name"], "model": results["model"]["name"]})
    if answers is not None:
        qualification = qualify(load_answers(answers))
        files["qualification.json"] = json.dumps(qualification, ensure_ascii=False, indent=2).encode("utf-8")
        about["risk_class"] = qualification["risk_class"]
    key = signing_key()
    manifest = build(files, output, key, about)
    out.print(f"wrote {output}: {len(manifest['files'])} files, signed by {fingerprint(key.public_key())}")


@evidence_app.command("verify")
def verify_command(
    bundle: Path = typer.Argument(...),
    signer: str | None = typer.Option(None, "--signer", help="The fingerprint the bundle must be signed with."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Exit 0 for an intact bundle; exit 1 naming every changed, missing or added file."""
    result = verify(bundle, signer)
    if as_json:
        typer.echo(json.dumps(result.__dict__, indent=2))
    elif result.ok:
        out.print(f"{bundle}: intact, {result.files} files, signed by {result.signer}")
    for problem in result.problems:
        err.print(f"[red]{problem}[/red]")
    if not result.ok:
        raise typer.Exit(EXIT_GATE)
