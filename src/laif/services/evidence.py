"""Evidence bundles as services: build one (signed with Ed25519), verify it, extract it.

    from laif.services import evidence
    built = evidence.build_bundle(["3f2a9c1b7d4e"], Path("bundle.zip"), risk="high")
    built.signer, len(built.manifest["files"])
    evidence.verify_bundle(Path("bundle.zip"), signer=built.signer).ok

A bundle holds the runs (results and report of each), and with a qualification or a risk class the
verdicts per obligation, the controls, the exports (OSCAL, CycloneDX), the drafts and four reports;
with monitored streams their monitoring record and incidents. `laif.compliance.evidence` writes and
checks the signed zip; this module gathers what goes in. Nothing here prints: steps are reported
through a `laif.services.progress.Progress` callback. Bad input raises `laif.errors.BadInput`.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from laif.compliance.drafts import SystemDescription, all_drafts, load_system
from laif.compliance.evidence import Verification, build, fingerprint, signing_key, verify
from laif.compliance.exports import cyclonedx_model_card, oscal_assessment_results
from laif.errors import BadInput
from laif.reports import render_run_report
from laif.reports.audience import context, render_all
from laif.services.aiact import ObligationsAssessment, assess_obligations, collect_results
from laif.services.progress import Progress, ProgressEvent

__all__ = ["BuiltBundle", "Extracted", "Verification", "build_bundle", "extract_bundle", "verify_bundle"]

#: The reports `extract_bundle` points a reader to, when the bundle has them.
REPORTS = ("reports/technical.pdf", "reports/risk.pdf", "reports/legal.pdf", "reports/ethics.pdf")


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


def _say(progress: Progress | None, stage: str, message: str) -> None:
    if progress is not None:
        progress(ProgressEvent(stage, message=message))


def _monitoring_files(streams: list[str], db: str | None, progress: Progress | None) -> dict[str, bytes]:
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
    _say(progress, "monitoring", f"monitoring: {', '.join(streams)} (windows, alerts, canaries, incidents, report, plan)")
    return files


@dataclass(frozen=True)
class BuiltBundle:
    path: Path
    #: The signed manifest: laif version, creation time, `about`, and every file's SHA-256 and size.
    manifest: dict[str, Any]
    #: The fingerprint of the signing key (SHA-256 of the raw Ed25519 public key).
    signer: str
    #: The verdicts per obligation, when a qualification or a risk class was given.
    obligations: ObligationsAssessment | None

    @property
    def missing(self) -> list[Any]:
        """Evidence the obligations ask for and the bundle lacks."""
        return list(self.obligations.result["missing"]) if self.obligations is not None else []


def build_bundle(
    run_ids: list[str], output: Path, *, qualification: Path | None = None, risk: str | None = None,
    role: str = "provider", controls: Path | None = None, catalogue: Path | None = None, system: Path | None = None,
    pdf: bool = True, monitoring: list[str] | None = None, db: str | None = None, progress: Progress | None = None,
) -> BuiltBundle:
    """Bundle the runs (default: the latest complete run of each suite) and, with `qualification` (an
    answers file of `laif qualify`) or `risk` and `role`, the verdicts per obligation, the `controls`
    file and its attachments, the exports, drafts (from the `system` description) and four reports
    (PDF too unless `pdf` is False), with a manifest of their SHA-256 signed by the builder's key."""
    streams = list(monitoring or [])
    about: dict[str, Any] = {"runs": []}
    files = _monitoring_files(streams, db, progress)  # first: an unknown stream is refused before any work
    if streams:
        about["monitoring"] = streams
    found: ObligationsAssessment | None = None
    qualified: dict[str, Any] | None = None
    if qualification is None and risk is None:
        results = collect_results(db, run_ids)
        _say(progress, "runs only", "bundling the runs only (no obligations, exports, drafts or reports)")
    else:
        description = load_system(system) if system else SystemDescription()
        found = assess_obligations(run_ids, qualification_file=qualification, risk=risk, role=role,
                                   controls_file=controls, catalogue_file=catalogue, db=db)
        assessment, qualified, results = found.result, found.qualification, found.runs
        _say(progress, "obligations", f"obligations: {len(assessment['obligations'])}; requirements "
             + ", ".join(f"{n} {v}" for v, n in assessment["summary"].items()))
        files["obligations/catalogue.yaml"] = found.catalogue.text
        files["obligations/assessment.json"] = _json(assessment)
        if found.controls is not None and controls is not None:
            files["controls/controls.yaml"] = controls.read_bytes()
            for cid, attached in found.controls.files.items():
                for name, data in attached.items():
                    files[f"controls/{cid}/{name}"] = data
        name = description.name or (results[0]["model"]["name"] if results else "AI system")
        title = f"{name}: AI Act evidence"
        _say(progress, "exports", "exports: OSCAL assessment results, CycloneDX model card")
        files["exports/oscal-assessment-results.json"] = _json(oscal_assessment_results(assessment, title))
        files["exports/cyclonedx-model-card.json"] = _json(cyclonedx_model_card(results, assessment))
        when = {"date": datetime.now(UTC).strftime("%Y-%m-%d")}
        drafts = all_drafts(description, qualified, assessment, results, when)
        files.update({path: text.encode("utf-8") for path, text in drafts.items()})
        _say(progress, "reports", "reports: technical, risk, legal, ethics" + (" (HTML and PDF)" if pdf else " (HTML)"))
        files.update(render_all(context(assessment, results, qualified, description.name, list(drafts)), pdf=pdf))
        about |= {"scope": assessment["scope"], "catalogue": assessment["catalogue"]["version"],
                  "summary": assessment["summary"]}
    for results_one in results:
        run_id = results_one["run_id"]
        files[f"runs/{run_id}/results.json"] = _json(results_one)
        files[f"runs/{run_id}/report.html"] = render_run_report(results_one).encode("utf-8")
        about["runs"].append({"run_id": run_id, "suite": results_one["suite"]["name"],
                              "model": results_one["model"]["name"]})
    if qualified is not None:
        files["qualification.json"] = json.dumps(qualified, ensure_ascii=False, indent=2).encode("utf-8")
        about["risk_class"] = qualified["risk_class"]
    key = signing_key()
    manifest = build(files, output, key, about)
    return BuiltBundle(output, manifest, fingerprint(key.public_key()), found)


def verify_bundle(bundle: Path, signer: str | None = None) -> Verification:
    """Check the signature (and the signer, when its fingerprint is given), then every file against
    the manifest; `problems` names every changed, missing or added file."""
    return verify(bundle, signer)


@dataclass(frozen=True)
class Extracted:
    verification: Verification
    #: The reports a reader opens first, as extracted (empty when nothing was extracted).
    reports: list[Path]


def extract_bundle(bundle: Path, directory: Path, signer: str | None = None) -> Extracted:
    """Verify the bundle, then extract it into `directory` (new or empty); nothing is extracted from
    a bundle that fails verification (`verification.ok` is False)."""
    result = verify(bundle, signer)
    if not result.ok:
        return Extracted(result, [])
    if directory.exists() and any(directory.iterdir()):
        raise BadInput(f"{directory}: not empty; extract into a new directory")
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(directory)  # noqa: S202 - names were checked at build and by verify (no '..', no '/')
    return Extracted(result, [directory / name for name in REPORTS if (directory / name).is_file()])
