"""Machine-readable exports of an assessment: OSCAL assessment results (built with
compliance-trestle's OSCAL models, which validate as they are built and again when read back)
and a CycloneDX 1.6 model card (the BOM built with cyclonedx-python-lib; its 11.x releases
have no model-card class, so the `modelCard` object is added to the serialised component and
the whole document is validated against the library's bundled CycloneDX 1.6 JSON schema).
"""

# compliance-trestle's models take their OSCAL names (aliases) and coerce strings to its enums
# and URLs at run time; mypy's pydantic view of them knows neither.
# mypy: disable-error-code="call-arg,arg-type"
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from laif import __version__
from laif.compliance.obligations import unit_suffix
from laif.errors import LaifError

NAMESPACE = uuid.UUID("6f2b1f6e-3c1a-4d8e-9a57-1e2c9b0d4a11")  # laif's, for stable UUIDs
LAIF_NS = "urn:laif:ns:oscal"
OSCAL_STATE = {"met": ("satisfied", "pass"), "not met": ("not-satisfied", "fail"),
               "inconclusive": ("not-satisfied", "other"), "not assessed": ("not-satisfied", "other")}


class ExportInvalid(LaifError):
    """An export failed its schema: a bug in laif, reported rather than shipped."""

    exit_code = 3


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def _fmt(value: float | None, unit: str = "") -> str:
    return "–" if value is None else f"{value:.1f}{unit_suffix(unit)}"


def describe_measurements(e: dict[str, Any]) -> str:
    """One metric's measurements as one line each: path, value, interval, verdict."""
    lines = []
    for m in e["measurements"]:
        interval = f" [{_fmt(m['low'])}–{_fmt(m['high'])}]" if m["low"] is not None and m["high"] is not None else ""
        lines.append(f"{m['path']} = {_fmt(m['value'], e['unit'])}{interval}: {m['verdict']}")
    return "; ".join(lines) or e["reason"]


def oscal_assessment_results(assessment: dict[str, Any], title: str) -> dict[str, Any]:
    """The assessment as OSCAL assessment-results; raises ExportInvalid if the models reject it."""
    from pydantic import ValidationError
    from trestle.oscal import OSCAL_VERSION
    from trestle.oscal import assessment_results as ar
    from trestle.oscal import common as c

    now = datetime.now(UTC)
    key = assessment["catalogue"]["sha256"] + "".join(r["run_id"] for r in assessment["runs"])
    try:
        observations: list[Any] = []
        findings: list[Any] = []
        for o in assessment["obligations"]:
            for r in o["requirements"]:
                related = []
                for e in r["evidence"]:
                    oid = _uuid(key, r["id"], e.get("metric") or e.get("control") or "")
                    related.append(c.RelatedObservation(observation_uuid=oid))
                    if e["kind"] == "metric":
                        evidence = ([c.RelevantEvidence(href=f"runs/{e['run_id']}/results.json",
                                                        description=f"sandbox run {e['run_id']} ({e['suite']})")]
                                    if e["run_id"] else None)
                        observations.append(c.Observation(
                            uuid=oid, title=f"{e['metric']}: {e['title']}", methods=["TEST"], types=["finding"],
                            description=f"{e['suite']} {e['path']}, {e['direction']} is better, threshold "
                                        f"{e['threshold']:g} {e['unit']}. {describe_measurements(e)}",
                            props=[c.Property(name="verdict", ns=LAIF_NS, value=e["verdict"].replace(" ", "-"))],
                            relevant_evidence=evidence, collected=now))
                    else:
                        files = [c.RelevantEvidence(href=f"controls/{e['control']}/{f['name']}",
                                                    description=f"{f['name']} (SHA-256 {f['sha256']})")
                                 for f in e["files"]]
                        observations.append(c.Observation(
                            uuid=oid, title=f"{e['control']}: {e['title']}", methods=["EXAMINE", "INTERVIEW"],
                            description=f"{e['question']} Score: {e['score'] if e['score'] is not None else 'none'} "
                                        f"(met at {e['pass']}). {e['reason']}.",
                            props=[c.Property(name="verdict", ns=LAIF_NS, value=e["verdict"].replace(" ", "-"))],
                            relevant_evidence=files or None, collected=now))
                state, reason = OSCAL_STATE[r["verdict"]]
                findings.append(c.Finding(
                    uuid=_uuid(key, "finding", r["id"]), title=f"{r['id']}: {r['verdict']}", description=r["text"],
                    target=c.FindingTarget(type="objective-id", target_id=r["id"],
                                           status=c.ObjectiveStatus(state=state, reason=reason,
                                                                    remarks=f"laif verdict: {r['verdict']}")),
                    props=[c.Property(name="obligation", ns=LAIF_NS, value=o["id"])],
                    related_observations=related or None))
        selected = [c.SelectControlById(control_id=o["id"]) for o in assessment["obligations"]]
        result = ar.Result(
            uuid=_uuid(key, "result"), title=title,
            description=f"{assessment['regulation']}: {assessment['scope']['risk_class']} risk, "
                        f"{assessment['scope']['role']}; laif catalogue {assessment['catalogue']['version']}.",
            start=min((datetime.fromisoformat(r["finished_at"]) for r in assessment["runs"] if r["finished_at"]),
                      default=now).replace(tzinfo=UTC),
            end=now,
            reviewed_controls=c.ReviewedControls(control_selections=[c.ControlSelections(include_controls=selected)]),
            observations=observations or None, findings=findings or None)
        document = ar.AssessmentResults(
            uuid=_uuid(key, "assessment-results", now.isoformat()),
            metadata=c.Metadata(title=title, last_modified=now, version=__version__, oscal_version=OSCAL_VERSION),
            import_ap=ar.ImportAp(href="obligations/catalogue.yaml",
                                  remarks="laif's obligations catalogue stands for the assessment plan"),
            results=[result])
        data: dict[str, Any] = json.loads(document.model_dump_json(by_alias=True, exclude_none=True))
        ar.AssessmentResults.model_validate(data)  # read back
    except ValidationError as exc:
        raise ExportInvalid(f"OSCAL assessment results rejected by compliance-trestle: {exc}") from None
    return {"assessment-results": data}


def cyclonedx_model_card(results: list[dict[str, Any]], assessment: dict[str, Any]) -> dict[str, Any]:
    """A CycloneDX 1.6 BOM whose one component is the model, with its model card of metrics."""
    from cyclonedx.model import HashAlgorithm, HashType
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output.json import JsonV1Dot6
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    model: dict[str, Any] = results[0]["model"] if results else {"name": "unknown model"}
    sha256 = (model.get("details") or {}).get("sha256")
    component = Component(name=str(model.get("name")), type=ComponentType.MACHINE_LEARNING_MODEL,
                          bom_ref="model", description=f"assessed with laif {__version__}",
                          hashes=[HashType(alg=HashAlgorithm.SHA_256, content=sha256)] if sha256 else None)
    bom = Bom(components=[component])
    bom.metadata.component = None
    data: dict[str, Any] = json.loads(JsonV1Dot6(bom).output_as_string())
    metrics = []
    for e in assessment["measured"]:
        for m in e["measurements"]:
            if m["value"] is None:
                continue
            entry: dict[str, Any] = {"type": f"{e['suite']}: {e['title']} ({e['unit']})",
                                     "value": f"{m['value']:.2f}", "slice": m["path"]}
            if m["low"] is not None and m["high"] is not None:
                entry["confidenceInterval"] = {"lowerBound": f"{m['low']:.2f}", "upperBound": f"{m['high']:.2f}"}
            metrics.append(entry)
    failing = [f"{e['title']} ({e['suite']}): {e['verdict']}, {e['reason']}" for e in assessment["measured"]
               if e["verdict"] in ("not met", "inconclusive")]
    groups = [m for e in assessment["measured"] if e["metric"] == "bias-by-group"
              for m in e["measurements"] if m["verdict"] != "met"]
    data["components"][0]["modelCard"] = {
        "modelParameters": {"task": "text generation"},
        "quantitativeAnalysis": {"performanceMetrics": metrics},
        "considerations": {
            "technicalLimitations": failing or ["no sandbox threshold was missed"],
            "fairnessAssessments": [
                {"groupAtRisk": g["label"],
                 "harms": f"answers free of the stereotype: {g['value']:.0f}% ({g['verdict']} against the threshold)"}
                for g in groups if g["value"] is not None],
        },
    }
    data.setdefault("metadata", {})["tools"] = {"components": [{"type": "application", "name": "laif",
                                                                "version": __version__}]}
    problem = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(data))
    if problem is not None:
        raise ExportInvalid(f"CycloneDX model card fails the 1.6 schema: {problem}")
    return data
