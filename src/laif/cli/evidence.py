"""`laif evidence`: signed bundles of sandbox evidence, and their verification."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from laif.cli._common import err, out
from laif.cli.obligations import collect_results, evaluate
from laif.compliance.drafts import SystemDescription, all_drafts, load_system
from laif.compliance.evidence import build, fingerprint, signing_key, verify
from laif.compliance.exports import cyclonedx_model_card, oscal_assessment_results
from laif.errors import EXIT_GATE, BadInput
from laif.reports import render_run_report
from laif.reports.audience import context, render_all
from laif.store import Store

evidence_app = typer.Typer(help="Evidence bundles: build (signed with Ed25519), verify and extract.",
                           no_args_is_help=True)


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


def _monitoring_files(streams: list[str], db: str | None) -> dict[str, bytes]:
    """Each stream's monitoring record (Art. 72) and its incidents (Art. 73), under monitoring/ and incidents/."""
    if not streams:
        return {}
    from laif.monitor.bundle import monitoring_files
    from laif.monitor.store import MonitorStore

    store = MonitorStore(db)
    for stream in streams:
        store.stream(stream)  # BadInput naming an unknown stream
    files: dict[str, bytes] = {}
    for stream in streams:
        files.update(monitoring_files(store, stream))
    err.print(f"monitoring: {', '.join(streams)} (windows, alerts, canaries, incidents, report, plan)")
    return files


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
    about: dict[str, Any] = {"runs": []}
    files = _monitoring_files(monitoring, db)  # first: an unknown stream is refused before any work
    if monitoring:
        about["monitoring"] = list(monitoring)
    if answers is None and risk is None:
        results = collect_results(Store(db), run_ids)
        err.print("[dim]no --qualification or --risk: bundling the runs only (no obligations, exports, drafts or "
                  "reports)[/dim]")
        assessment = qualification = None
    else:
        description = load_system(system) if system else SystemDescription()
        assessment, loaded, qualification, control_answers, results = evaluate(
            run_ids, answers, risk, role, controls, catalogue, db)
        err.print(f"obligations: {len(assessment['obligations'])}; requirements "
                  + ", ".join(f"{n} {v}" for v, n in assessment["summary"].items()))
        files["obligations/catalogue.yaml"] = loaded.text
        files["obligations/assessment.json"] = _json(assessment)
        if control_answers is not None and controls is not None:
            files["controls/controls.yaml"] = controls.read_bytes()
            for cid, attached in control_answers.files.items():
                for name, data in attached.items():
                    files[f"controls/{cid}/{name}"] = data
        name = description.name or (results[0]["model"]["name"] if results else "AI system")
        title = f"{name}: AI Act evidence"
        err.print("exports: OSCAL assessment results, CycloneDX model card")
        files["exports/oscal-assessment-results.json"] = _json(oscal_assessment_results(assessment, title))
        files["exports/cyclonedx-model-card.json"] = _json(cyclonedx_model_card(results, assessment))
        when = {"date": datetime.now(UTC).strftime("%Y-%m-%d")}
        drafts = all_drafts(description, qualification, assessment, results, when)
        files.update({path: text.encode("utf-8") for path, text in drafts.items()})
        err.print("reports: technical, risk, legal, ethics" + (" (HTML and PDF)" if pdf else " (HTML)"))
        files.update(render_all(context(assessment, results, qualification, description.name, list(drafts)), pdf=pdf))
        about |= {"scope": assessment["scope"], "catalogue": assessment["catalogue"]["version"],
                  "summary": assessment["summary"]}
    for results_one in results:
        run_id = results_one["run_id"]
        files[f"runs/{run_id}/results.json"] = _json(results_one)
        files[f"runs/{run_id}/report.html"] = render_run_report(results_one).encode("utf-8")
        about["runs"].append({"run_id": run_id, "suite": results_one["suite"]["name"],
                              "model": results_one["model"]["name"]})
    if qualification is not None:
        files["qualification.json"] = json.dumps(qualification, ensure_ascii=False, indent=2).encode("utf-8")
        about["risk_class"] = qualification["risk_class"]
    key = signing_key()
    manifest = build(files, output, key, about)
    out.print(f"wrote {output}: {len(manifest['files'])} files, signed by {fingerprint(key.public_key())}")
    if assessment is not None and assessment["missing"]:
        err.print(f"[dim]{len(assessment['missing'])} pieces of evidence missing (laif obligations lists them)[/dim]")


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


@evidence_app.command("extract")
def extract_command(
    bundle: Path = typer.Argument(...),
    directory: Path = typer.Argument(..., help="Where to put the files (created; must be empty)."),
    signer: str | None = typer.Option(None, "--signer", help="The fingerprint the bundle must be signed with."),
) -> None:
    """Verify the bundle, then extract it to read the reports and drafts; nothing is extracted from a bundle
    that fails verification."""
    result = verify(bundle, signer)
    for problem in result.problems:
        err.print(f"[red]{problem}[/red]")
    if not result.ok:
        raise typer.Exit(EXIT_GATE)
    if directory.exists() and any(directory.iterdir()):
        raise BadInput(f"{directory}: not empty; extract into a new directory")
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(directory)  # noqa: S202 - names were checked at build and by verify (no '..', no '/')
    out.print(f"{bundle}: intact; {result.files} files in {directory}")
    for name in ("reports/technical.pdf", "reports/risk.pdf", "reports/legal.pdf", "reports/ethics.pdf"):
        if (directory / name).is_file():
            out.print(f"  {directory / name}")

