"""Drafts of the documents the AI Act asks for, filled from what laif knows: the system
description (`--system FILE.yaml`), the qualification, the sandbox runs, the verdicts and the
controls. What laif cannot know is marked `[TO COMPLETE: ...]`, so a draft never looks finished
when it is not. Markdown, to be edited.

- Annex IV technical documentation, points 1 to 9 (Art. 11(1)), where Art. 11 applies;
- Annex V EU declaration of conformity, items 1 to 8 (Art. 47), where Art. 47 applies;
- Art. 27 fundamental rights impact assessment, points (a) to (f), where Art. 27 applies;
- a regulatory sandbox plan (Art. 57(5), Art. 58) and the participant's input to the exit report
  the competent authority writes (Art. 57(7)).

With no sandbox run, a draft says "not tested", never "none found".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from laif import __version__
from laif._yaml import load_yaml, validate
from laif.compliance.exports import describe_measurements
from laif.compliance.obligations import evidence_of
from laif.errors import BadInput


class SystemDescription(BaseModel):
    """What the provider says about the system; every field optional."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    version: str | None = None
    provider: str | None = None
    provider_address: str | None = None
    intended_purpose: str | None = None
    deployer: str | None = None
    deployer_processes: str | None = None
    period_and_frequency: str | None = None
    persons_affected: str | None = None
    human_oversight: str | None = None
    complaint_mechanism: str | None = None
    sandbox_authority: str | None = None
    sandbox_objectives: str | None = None
    sandbox_period: str | None = None


def load_system(path: Path) -> SystemDescription:
    if not path.is_file():
        raise BadInput(f"{path}: no such system description",
                       hint=f"a YAML file with some of: {', '.join(SystemDescription.model_fields)}")
    return validate(SystemDescription, load_yaml(path), path, every_error=True)


def todo(what: str) -> str:
    return f"[TO COMPLETE: {what}]"


def _or(value: str | None, what: str) -> str:
    return value if value else todo(what)


def _control(assessment: dict[str, Any], cid: str) -> dict[str, Any] | None:
    return next((e for _r, e in evidence_of(assessment) if e.get("control") == cid), None)


def _control_line(assessment: dict[str, Any], cid: str, what: str) -> str:
    e = _control(assessment, cid)
    if e is None or (e["score"] is None and e.get("done") is None):
        return todo(what)
    files = ", ".join(f"`controls/{cid}/{f['name']}`" for f in e["files"]) or "no file attached"
    note = f" {e['note']}" if e.get("note") else ""
    answer = ("done" if e["done"] else "not done") if e.get("fact") else f"{e['score']} of 5"
    return f"Self-assessed: {answer} ({e['verdict']}).{note} Evidence: {files}."


def _metric_lines(assessment: dict[str, Any]) -> list[str]:
    seen: dict[str, dict[str, Any]] = {}
    for _r, e in evidence_of(assessment):
        if e["kind"] == "metric":
            seen.setdefault(e["metric"], e)
    lines = []
    for name, e in seen.items():
        run = f"run `{e['run_id']}`" if e["run_id"] else "no run"
        lines.append(f"- **{name}** ({e['title']}; {e['direction']} is better, threshold {e['threshold']:g} "
                     f"{e['unit']}; {run}): {e['verdict']}. {describe_measurements(e)}")
    return lines or [f"- {todo('no sandbox run was bundled')}"]


def _runs_table(results: list[dict[str, Any]]) -> list[str]:
    if not results:
        return [todo("run the sandbox suites and bundle their runs")]
    rows = ["| run | suite (version) | model | languages | prompts | finished |", "|---|---|---|---|---|---|"]
    for r in results:
        rows.append(f"| `{r['run_id']}` | {r['suite']['name']} ({r['suite']['version']}) | {r['model']['name']} | "
                    f"{', '.join(r['languages'])} | {r['total_prompts']} | {r.get('finished_at') or ''} |")
    return rows


def _header(title: str, basis: str, about: dict[str, Any]) -> list[str]:
    return [f"# {title}", "", f"*Draft prepared with laif {__version__} on {about['date']} under {basis}. "
            "Check and complete every part; it is not legal advice.*", ""]


def _found_by_sandbox(assessment: dict[str, Any], results: list[dict[str, Any]]) -> str:
    """Requirements the sandbox found open; 'not tested' when nothing ran, never 'none found'."""
    if not results:
        return "not tested (no sandbox run was bundled)"
    found = [f"{r['id']} {r['verdict']}" for o in assessment["obligations"] for r in o["requirements"]
             if r["verdict"] in ("not met", "inconclusive")]
    return "; ".join(found) or "none found by the sandbox runs listed above"


def annex_iv(system: SystemDescription, qualification: dict[str, Any] | None, assessment: dict[str, Any],
             results: list[dict[str, Any]], about: dict[str, Any]) -> str:
    model = results[0]["model"] if results else {}
    gaps = [f"- {m['requirement']}: {m['needs']}" for m in assessment["missing"]]
    lines = _header("Technical documentation (Annex IV)", "Art. 11(1) and Annex IV of Regulation (EU) 2024/1689", about)
    lines += [
        "## 1. General description of the AI system",
        f"- (a) Intended purpose: {_or(system.intended_purpose, 'the intended purpose')}",
        f"- Provider: {_or(system.provider, 'the provider name')}; system: {_or(system.name, 'the system name')}, "
        f"version {_or(system.version, 'the version')}",
        f"- Underlying model assessed: {model.get('name', todo('the model'))}"
        + (f" (`{model['key']}`)" if model.get("key") else ""),
        f"- (b)-(f) Interaction with other hardware or software, versions, forms placed on the market, hardware: "
        f"{todo('describe')}",
        f"- (g) User interface: {todo('describe the interface offered to deployers')}",
        f"- (h) Instructions for use: {_control_line(assessment, 'instructions-for-use', 'attach the instructions')}",
        "",
        "## 2. Elements of the system and its development",
        f"- (a)-(c) Development methods, design choices and architecture: {todo('describe')}",
        f"- (d) Data requirements and datasheets: {_control_line(assessment, 'data-governance', 'describe the data')}",
        f"- (e) Human oversight measures: {_or(system.human_oversight, 'describe the oversight measures')}",
        f"- (f) Pre-determined changes: {todo('describe, or state that there are none')}",
        "- (g) Validation and testing: the laif sandbox runs below, their metrics with 95% intervals, and the "
        "thresholds of the laif obligations catalogue "
        f"{assessment['catalogue']['version']} (SHA-256 `{assessment['catalogue']['sha256'][:16]}…`). "
        "Test logs: `runs/*/results.json` in the evidence bundle (every prompt, answer and verdict).",
        "",
        *_runs_table(results),
        "",
        *_metric_lines(assessment),
        "",
        f"- (h) Cybersecurity measures: {_control_line(assessment, 'cybersecurity-measures', 'describe')}",
        "",
        "## 3. Monitoring, functioning and control",
        "Capabilities and limitations, including accuracy for specific persons or groups: see the metrics above "
        "and the ethics report (per group and language).",
        "Foreseeable unintended outcomes and sources of risk: " + _found_by_sandbox(assessment, results)
        + f". {todo('add those known from use')}",
        "",
        "## 4. Appropriateness of the performance metrics",
        f"{todo('explain why these metrics and thresholds fit the intended purpose')}",
        "",
        "## 5. Risk management system (Art. 9)",
        _control_line(assessment, "risk-management-system", "describe the risk management system"),
        "",
        "## 6. Changes over the lifecycle",
        todo("list relevant changes made to the system"),
        "",
        "## 7. Harmonised standards and other solutions applied",
        todo("list the harmonised standards or common specifications applied, or the other solutions used"),
        "",
        "## 8. EU declaration of conformity",
        "See `drafts/annex-v-declaration-of-conformity.md` (a copy of the signed declaration goes here).",
        "",
        "## 9. Post-market monitoring (Art. 72)",
        _control_line(assessment, "post-market-monitoring", "describe the post-market monitoring plan"),
        "",
        "## Evidence still missing",
        *(gaps or ["None."]),
    ]
    if qualification:
        lines += ["", f"Qualification: {qualification['risk_class']} risk, role {qualification['role']}."]
    return "\n".join(lines) + "\n"


def annex_v(system: SystemDescription, assessment: dict[str, Any], results: list[dict[str, Any]],
            about: dict[str, Any]) -> str:
    lines = _header("EU declaration of conformity (Annex V)", "Art. 47 and Annex V of Regulation (EU) 2024/1689",
                    about)
    lines += [
        f"1. AI system: {_or(system.name, 'name and type')}, version {_or(system.version, 'version')}; "
        f"model assessed: {results[0]['model']['name'] if results else todo('model')}.",
        f"2. Provider: {_or(system.provider, 'name')}, {_or(system.provider_address, 'address')}.",
        "3. This declaration of conformity is issued under the sole responsibility of the provider.",
        "4. The AI system described above is in conformity with Regulation (EU) 2024/1689"
        f" {todo('and, where applicable, other Union law providing for this declaration')}.",
        "5. Personal data: " + todo("a statement of compliance with Regulations (EU) 2016/679 and 2018/1725 and "
                                    "Directive (EU) 2016/680, where personal data are processed"),
        f"6. Harmonised standards or common specifications: {todo('references')}",
        "7. Notified body and conformity assessment procedure: "
        + todo("name, number, procedure and certificate, where applicable"),
        f"8. Place and date: {todo('place')}, {todo('date')}. Signed for and on behalf of "
        f"{_or(system.provider, 'the provider')}: {todo('name, function, signature')}",
        "",
        f"*Open requirements at the time of drafting: {assessment['summary']['not met']} not met, "
        f"{assessment['summary']['inconclusive']} inconclusive, {assessment['summary']['not assessed']} not assessed. "
        "Do not sign while any requirement is open.*",
    ]
    return "\n".join(lines) + "\n"


def fria(system: SystemDescription, assessment: dict[str, Any], results: list[dict[str, Any]],
         about: dict[str, Any]) -> str:
    harms = []
    for key in ("bias-by-group", "bias-by-group-and-language", "gap-to-english", "language-fidelity"):
        for e in (e for _r, e in evidence_of(assessment) if e.get("metric") == key):
            harms += [f"- {m['path']} ({e['title']}): {m['value']:.0f} {e['unit']} against {e['threshold']:g}, "
                      f"{m['verdict']}. {e['risk']}" for m in e["measurements"] if m["verdict"] in ("not met", "inconclusive")]
    harms = list(dict.fromkeys(harms))
    lines = _header("Fundamental rights impact assessment (Art. 27)", "Art. 27 of Regulation (EU) 2024/1689", about)
    lines += [
        f"Deployer: {_or(system.deployer, 'the deployer')}. System: {_or(system.name, 'the system')}.",
        "",
        "**(a) Processes in which the system is used:** "
        + _or(system.deployer_processes, "describe, in line with the intended purpose"),
        "",
        f"**(b) Period and frequency of use:** {_or(system.period_and_frequency, 'period and frequency')}",
        "",
        f"**(c) Categories of persons and groups likely to be affected:** {_or(system.persons_affected, 'list them')}",
        "",
        "**(d) Specific risks of harm to those categories** (from the sandbox; add those the provider's "
        "instructions name under Art. 13):",
        *(harms or ["- Not tested: no sandbox run was bundled; the risks of harm are not known from testing."
                    if not results else "- The sandbox runs found no group or language below its threshold."]),
        "",
        f"**(e) Human oversight measures:** {_or(system.human_oversight, 'describe, following the instructions for use')}",
        "",
        f"**(f) Measures if the risks materialise, internal governance and complaints:** "
        f"{_or(system.complaint_mechanism, 'describe')}",
        "",
        "Notification of the results to the market surveillance authority (Art. 27(3)): "
        + _control_line(assessment, "fria-notification", "state when and how"),
    ]
    return "\n".join(lines) + "\n"


def sandbox_plan(system: SystemDescription, assessment: dict[str, Any], results: list[dict[str, Any]],
                 about: dict[str, Any]) -> str:
    metrics = _metric_lines(assessment)
    lines = _header("AI regulatory sandbox plan", "Art. 57(5) and Art. 58 of Regulation (EU) 2024/1689", about)
    lines += [
        f"- Competent authority: {_or(system.sandbox_authority, 'the authority')}",
        f"- Participant: {_or(system.provider, 'the prospective provider')}; system: {_or(system.name, 'name')}",
        f"- Objectives: {_or(system.sandbox_objectives, 'what the sandbox is to establish')}",
        f"- Period: {_or(system.sandbox_period, 'start and end dates')}",
        f"- Risk class (laif qualification): {assessment['scope']['risk_class']}, role {assessment['scope']['role']}",
        "- Methodology: the laif sandbox suites, run on the system with fixed seeds and recorded prompts and "
        "answers; each obligation's requirements judged against the thresholds of laif's catalogue "
        f"{assessment['catalogue']['version']}, edited where the authority agrees other thresholds.",
        "- Obligations in scope: " + ", ".join(o["id"] for o in assessment["obligations"]),
        "- Tests and thresholds:",
        *[f"  {line}" for line in metrics],
        f"- Safeguards for personal data and for people affected during testing: {todo('describe')}",
        f"- Exit criteria: every requirement met, or a remediation agreed with the authority. {todo('confirm')}",
    ]
    return "\n".join(lines) + "\n"


def exit_report(system: SystemDescription, assessment: dict[str, Any], results: list[dict[str, Any]],
                about: dict[str, Any]) -> str:
    s = assessment["summary"]
    lines = _header("Participant's input to the sandbox exit report",
                    "Art. 57(7) and Art. 58 of Regulation (EU) 2024/1689", about)
    lines += [
        f"Participant: {_or(system.provider, 'the provider')}; system: {_or(system.name, 'name')}; authority: "
        f"{_or(system.sandbox_authority, 'the authority')}.",
        "",
        "The exit report is the competent authority's: under Art. 57(7) it provides, at the provider's request, "
        "written proof of the activities successfully carried out in the sandbox and an exit report detailing "
        "the activities, their results and the learning outcomes. This document is the participant's account of "
        "those activities and results, for the authority to use in its report; it is not the exit report itself.",
        "",
        "## Activities carried out",
        *_runs_table(results),
        "",
        "## Results",
        (f"Requirements: {s['met']} met, {s['not met']} not met, {s['inconclusive']} inconclusive, "
         f"{s['not assessed']} not assessed." if results else
         "Not tested: no sandbox run was bundled; the verdicts below rest on the controls answered only."),
        "",
        "| obligation | requirement | verdict |", "|---|---|---|",
        *[f"| {o['id']} | {r['id']} {r['text']} | {r['verdict']} |" for o in assessment["obligations"]
          for r in o["requirements"]],
        "",
        "## Learning outcomes",
        todo("what was learnt, by the participant and by the authority"),
        "",
        "## Evidence",
        "This report travels in a signed laif evidence bundle; `laif evidence verify` checks every file.",
    ]
    return "\n".join(lines) + "\n"


def all_drafts(system: SystemDescription, qualification: dict[str, Any] | None, assessment: dict[str, Any],
               results: list[dict[str, Any]], about: dict[str, Any]) -> dict[str, str]:
    """The drafts of the documents the obligations in scope ask for: Annex IV only where Art. 11
    applies (a high-risk provider), Annex V where Art. 47 does, the FRIA where Art. 27 does; the
    sandbox plan and the participant's exit-report input always."""
    applies = {o["id"] for o in assessment["obligations"]}
    drafts: dict[str, str] = {}
    if "art-11" in applies:
        drafts["drafts/annex-iv-technical-documentation.md"] = annex_iv(system, qualification, assessment, results,
                                                                        about)
    if "art-47" in applies:
        drafts["drafts/annex-v-declaration-of-conformity.md"] = annex_v(system, assessment, results, about)
    if "art-27" in applies:
        drafts["drafts/art-27-fundamental-rights-impact-assessment.md"] = fria(system, assessment, results, about)
    drafts["drafts/art-58-sandbox-plan.md"] = sandbox_plan(system, assessment, results, about)
    drafts["drafts/art-58-sandbox-exit-report.md"] = exit_report(system, assessment, results, about)
    return drafts
