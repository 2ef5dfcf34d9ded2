"""Obligations mapped to evidence: the catalogue (`data/obligations.yaml`), the controls a
person answers, and the verdict of every requirement from the measurements of sandbox runs.

Verdicts, worst first: `not met`, `inconclusive` (a 95% interval straddles the threshold),
`not assessed` (no run of the suite, nothing measured, no answer or no evidence file), `met`.
A requirement takes the worst verdict of its evidence, so `met` means every piece of its
evidence is met. Every verdict carries the measurements (run, path, value, interval) or the
control answer (score, files) it rests on.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from laif._yaml import line_of, load_yaml, validate
from laif.compliance.qualify import HIGH_RISK_BY_ROLE, ROLES
from laif.errors import BadInput

VERDICTS = ("not met", "inconclusive", "not assessed", "met")  # worst first
REFERENCE = re.compile(r"^(art-\d+[a-z]?|annex-[ivx]+)(\.[0-9a-z]+)*$")
RISKS = ("high", "limited", "minimal", "gpai", "gpai-systemic")


def unit_suffix(unit: str) -> str:
    """What follows a number: `%` directly, any other unit after a space (`-33 points`)."""
    return unit if unit in ("", "%") else f" {unit}"


def worst(verdicts: list[str]) -> str:
    return min(verdicts, key=VERDICTS.index) if verdicts else "not assessed"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Metric(_Strict):
    title: str
    suite: str
    path: str
    direction: Literal["higher", "lower"]
    threshold: float
    unit: str = "%"
    risk: str = ""  # what a miss means, in the risk summary


class Control(_Strict):
    title: str
    question: str
    evidence_required: bool = False
    passing: int = Field(3, alias="pass", ge=1, le=5)


class Requirement(_Strict):
    id: str
    text: str
    metrics: list[str] = []
    controls: list[str] = []

    @field_validator("id")
    @classmethod
    def _reference(cls, value: str) -> str:
        if not REFERENCE.match(value):
            raise ValueError(f"{value!r} is not a normalised reference such as art-10.2.f or annex-iv.2.g")
        return value

    @model_validator(mode="after")
    def _some_evidence(self) -> Requirement:
        if not self.metrics and not self.controls:
            raise ValueError(f"{self.id}: name at least one metric or control")
        return self


class Obligation(_Strict):
    id: str
    title: str
    requirements: list[Requirement]

    @field_validator("id")
    @classmethod
    def _reference(cls, value: str) -> str:
        return Requirement._reference(value)


class Catalogue(_Strict):
    version: str
    regulation: str
    scale: dict[int, str]
    metrics: dict[str, Metric]
    controls: dict[str, Control]
    obligations: list[Obligation]

    @model_validator(mode="after")
    def _references(self) -> Catalogue:
        problems = []
        for o in self.obligations:
            for r in o.requirements:
                problems += [f"{r.id}: unknown metric {m!r}" for m in r.metrics if m not in self.metrics]
                problems += [f"{r.id}: unknown control {c!r}" for c in r.controls if c not in self.controls]
        if sorted(self.scale) != [1, 2, 3, 4, 5]:
            problems.append("scale: describe the scores 1 to 5")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def obligation(self, oid: str) -> Obligation | None:
        return next((o for o in self.obligations if o.id == oid), None)


@dataclass
class LoadedCatalogue:
    catalogue: Catalogue
    source: str
    sha256: str
    text: bytes


def load_catalogue(path: Path | None = None) -> LoadedCatalogue:
    """The packaged catalogue, or an edited copy of it."""
    if path is None:
        resource = importlib.resources.files("laif.compliance") / "data" / "obligations.yaml"
        with importlib.resources.as_file(resource) as packaged:
            raw, data = packaged.read_bytes(), load_yaml(packaged)
        source = "laif:compliance/data/obligations.yaml"
        where = Path(source)
    else:
        if not path.is_file():
            raise BadInput(f"{path}: no such catalogue", hint="laif obligations catalogue > mine.yaml writes a copy")
        raw = path.read_bytes()
        data, where, source = load_yaml(path), path, str(path)
    return LoadedCatalogue(validate(Catalogue, data, where, every_error=True), source,
                           hashlib.sha256(raw).hexdigest(), raw)


# --- scope ----------------------------------------------------------------------------------------


def scope_from_risk(risk: str, role: str) -> list[str]:
    """The obligations of a risk class and role, as `laif qualify` would conclude them."""
    if risk not in RISKS:
        raise BadInput(f"--risk: {risk!r} is not one of {', '.join(RISKS)}")
    if role not in ROLES:
        raise BadInput(f"--role: {role!r} is not one of {', '.join(ROLES)}")
    ids = ["art-4"]
    if risk == "high":
        ids += HIGH_RISK_BY_ROLE[role]
    elif risk == "limited":
        ids += ["art-50.1", "art-50.2"] if role == "provider" else ["art-50.3", "art-50.4"] if role == "deployer" else []
    elif risk.startswith("gpai"):
        ids = ["art-53"] + (["art-55"] if risk == "gpai-systemic" else [])
    return ids


# --- controls -------------------------------------------------------------------------------------


class ControlAnswer(_Strict):
    score: int = Field(ge=1, le=5)
    evidence: list[str] = []
    note: str = ""
    answered_by: str = ""


@dataclass
class Answers:
    path: Path | None
    answers: dict[str, ControlAnswer]
    files: dict[str, dict[str, bytes]]  # control id -> file name -> bytes


def load_controls(path: Path, catalogue: Catalogue) -> Answers:
    """A controls file: control id -> score (1-5), evidence files (relative to the file), note.
    Every problem is named with the file, line and control id."""
    if not path.is_file():
        raise BadInput(f"{path}: no such controls file", hint="laif obligations controls lists the controls")
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise BadInput(f"{path}: expected a mapping of control ids to answers (score, evidence, note)")
    problems: list[str] = []
    answers: dict[str, ControlAnswer] = {}
    files: dict[str, dict[str, bytes]] = {}
    for cid, raw in data.items():
        where = f"{path}:{line_of(data, (cid,)) or 1}: {cid}"
        if cid not in catalogue.controls:
            problems.append(f"{where}: unknown control (laif obligations controls lists them)")
            continue
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = {"score": raw}
        try:
            answer = ControlAnswer.model_validate(raw)
        except ValidationError as exc:  # one line per field
            for e in exc.errors():
                loc = (cid, *e["loc"])
                problems.append(f"{path}:{line_of(data, loc) or line_of(data, (cid,))}: "
                                f"{'.'.join(map(str, loc))}: {e['msg']}")
            continue
        attached: dict[str, bytes] = {}
        for i, name in enumerate(answer.evidence):
            file = (path.parent / name)
            if not file.is_file():
                problems.append(f"{path}:{line_of(data, (cid, 'evidence', i)) or line_of(data, (cid,))}: "
                                f"{cid}.evidence: no such file {name!r} (paths are relative to {path.name})")
                continue
            if file.name in attached:
                problems.append(f"{path}:{line_of(data, (cid, 'evidence', i)) or line_of(data, (cid,))}: "
                                f"{cid}.evidence: two files named {file.name!r}; the bundle keeps files by name, "
                                "rename one")
                continue
            attached[file.name] = file.read_bytes()
        answers[cid], files[cid] = answer, attached
    if problems:
        raise BadInput(f"{len(problems)} problem(s) in the controls:\n" + "\n".join(problems))
    return Answers(path, answers, files)


# --- verdicts -------------------------------------------------------------------------------------


def _nodes(summary: Any, parts: list[str], at: str = "") -> list[tuple[str, Any]]:
    """(path, node) for every node the path reaches; `*` fans out over a mapping's keys."""
    if not parts:
        return [(at, summary)]
    head, rest = parts[0], parts[1:]
    if not isinstance(summary, dict):
        return []
    keys = [k for k in summary if k not in ("kind",)] if head == "*" else [head] if head in summary else []
    out: list[tuple[str, Any]] = []
    for key in keys:
        out += _nodes(summary[key], rest, f"{at}.{key}" if at else str(key))
    return out


def judge_measurement(value: float | None, low: float | None, high: float | None,
                      direction: str, threshold: float) -> str:
    if value is None:
        return "not assessed"
    lo = value if low is None else low
    hi = value if high is None else high
    if direction == "higher":
        return "met" if lo >= threshold else "not met" if hi < threshold else "inconclusive"
    return "met" if hi <= threshold else "not met" if lo > threshold else "inconclusive"


def measure(metric: Metric, results: dict[str, Any] | None) -> dict[str, Any]:
    """One metric against one run's results: each measurement with its verdict, and the worst."""
    base = {"kind": "metric", "suite": metric.suite, "path": metric.path, "direction": metric.direction,
            "threshold": metric.threshold, "unit": metric.unit, "title": metric.title, "risk": metric.risk}
    if results is None:
        return base | {"run_id": None, "measurements": [], "verdict": "not assessed",
                       "reason": f"no complete run of the {metric.suite} suite"}
    found = _nodes(results.get("scores") or {}, metric.path.split("."))
    measurements: list[dict[str, Any]] = []
    for where, node in found:
        if isinstance(node, dict):
            value = node.get("value", node.get("score"))
            low, high = node.get("low"), node.get("high")
            n = node.get("n", node.get("decided"))
        else:
            value, low, high, n = node, None, None, None
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            continue
        verdict = judge_measurement(value, low, high, metric.direction, metric.threshold)
        stars = [part for pattern, part in zip(metric.path.split("."), where.split("."), strict=True) if pattern == "*"]
        measurements.append({"path": where, "label": " / ".join(stars) or where.rsplit(".", 1)[-1],
                             "value": value, "low": low, "high": high, "n": n, "verdict": verdict})
    if not measurements:
        return base | {"run_id": results["run_id"], "measurements": [], "verdict": "not assessed",
                       "reason": f"the {metric.suite} run has nothing at {metric.path}"}
    verdict = worst([m["verdict"] for m in measurements])
    counts = {v: sum(1 for m in measurements if m["verdict"] == v) for v in VERDICTS}
    reason = ", ".join(f"{n} {v}" for v, n in counts.items() if n) + \
        f" ({'at least' if metric.direction == 'higher' else 'at most'} {metric.threshold:g} {metric.unit})"
    return base | {"run_id": results["run_id"], "measurements": measurements, "verdict": verdict, "reason": reason}


def check_control(cid: str, control: Control, answers: Answers | None) -> dict[str, Any]:
    base = {"kind": "control", "control": cid, "title": control.title, "question": control.question,
            "pass": control.passing, "evidence_required": control.evidence_required}
    answer = answers.answers.get(cid) if answers else None
    if answers is None or answer is None:
        return base | {"score": None, "files": [], "verdict": "not assessed", "reason": "not answered"}
    files = [{"name": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
             for name, data in (answers.files.get(cid) or {}).items()]
    got = base | {"score": answer.score, "files": files, "note": answer.note, "answered_by": answer.answered_by}
    if answer.score < control.passing:
        return got | {"verdict": "not met", "reason": f"scored {answer.score}, needs {control.passing}"}
    if control.evidence_required and not files:
        return got | {"verdict": "not assessed", "reason": f"scored {answer.score} but no evidence file is attached"}
    return got | {"verdict": "met", "reason": f"scored {answer.score} of 5 (needs {control.passing})"}


def latest_by_suite(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The latest complete run of each suite among `results`."""
    chosen: dict[str, dict[str, Any]] = {}
    for r in sorted(results, key=lambda r: r.get("finished_at") or ""):
        if r.get("status") == "complete":
            chosen[r["suite"]["name"]] = r
    return chosen


def assess(loaded: LoadedCatalogue, obligation_ids: list[str], results: list[dict[str, Any]],
           answers: Answers | None, scope: dict[str, Any]) -> dict[str, Any]:
    """Every applicable obligation, requirement by requirement, with its verdict and evidence."""
    catalogue = loaded.catalogue
    runs = latest_by_suite(results)
    # Each metric is measured once; requirements that share it share its result.
    measured = {name: measure(metric, runs.get(metric.suite)) | {"metric": name}
                for name, metric in catalogue.metrics.items()}
    out_obligations: list[dict[str, Any]] = []
    missing: list[dict[str, str]] = []
    for oid in obligation_ids:
        obligation = catalogue.obligation(oid)
        if obligation is None:
            out_obligations.append({"id": oid, "title": "(not in the catalogue)", "verdict": "not assessed",
                                    "requirements": []})
            missing.append({"requirement": oid, "needs": f"a mapping in catalogue {catalogue.version}"})
            continue
        requirements: list[dict[str, Any]] = []
        for req in obligation.requirements:
            evidence = [measured[m] for m in req.metrics]
            evidence += [check_control(c, catalogue.controls[c], answers) for c in req.controls]
            for e in evidence:
                if e["verdict"] == "not assessed":
                    needs = (f"a complete run of the {e['suite']} suite" if e["kind"] == "metric" and e["run_id"] is None
                             else f"control {e['control']}: {e['reason']}" if e["kind"] == "control"
                             else e["reason"])
                    missing.append({"requirement": req.id, "needs": needs})
            requirements.append({"id": req.id, "text": req.text, "verdict": worst([e["verdict"] for e in evidence]),
                                 "evidence": evidence})
        out_obligations.append({"id": oid, "title": obligation.title,
                                "verdict": worst([r["verdict"] for r in requirements]), "requirements": requirements})
    every = [r["verdict"] for o in out_obligations for r in o["requirements"]]
    return {
        "catalogue": {"version": catalogue.version, "source": loaded.source, "sha256": loaded.sha256},
        "regulation": catalogue.regulation,
        "scope": scope,
        "runs": [{"run_id": r["run_id"], "suite": name, "model": r["model"]["name"],
                  "finished_at": r.get("finished_at")} for name, r in sorted(runs.items())],
        "controls_file": str(answers.path) if answers and answers.path else None,
        "summary": {v: every.count(v) for v in VERDICTS},
        # Every metric of the catalogue on the runs given, whether or not an obligation in scope needs it
        # (the model card and the ethics view report them all).
        "measured": [e for e in measured.values() if e["suite"] in runs],
        "obligations": out_obligations,
        "missing": list({(m["requirement"], m["needs"]): m for m in missing}.values()),
    }


def evidence_of(assessment: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(requirement, evidence) for every piece of evidence of every obligation in an assessment."""
    for o in assessment["obligations"]:
        for r in o["requirements"]:
            for e in r["evidence"]:
                yield r, e


def controls_for(catalogue: Catalogue, obligation_ids: list[str]) -> dict[str, str]:
    """The controls the obligations need, each with the first requirement that names it, in order."""
    found: dict[str, str] = {}
    for oid in obligation_ids:
        obligation = catalogue.obligation(oid)
        for req in obligation.requirements if obligation else []:
            for cid in req.controls:
                found.setdefault(cid, req.id)
    return found


def resolve_scope(qualification: dict[str, Any] | None, risk: str | None, role: str) -> tuple[list[str], dict[str, Any]]:
    """The obligations that apply: the qualification's, or those of --risk and --role."""
    if qualification is not None:
        ids = [o["id"] for o in qualification["obligations"]]
        return ids, {"from": "qualification", "risk_class": qualification["risk_class"], "role": qualification["role"]}
    if risk is None:
        raise BadInput("say what applies: --qualification ANSWERS.yaml (from laif qualify) or --risk "
                       f"{'|'.join(RISKS)}")
    return scope_from_risk(risk, role), {"from": "--risk", "risk_class": risk, "role": role}


def controls_template(catalogue: Catalogue, obligation_ids: list[str]) -> str:
    """A controls file to fill in: every control the obligations need, its question as a comment."""
    lines = ["# Controls: score each from 1 to 5 and attach the evidence files (paths relative to this file).",
             *[f"#   {k}: {v}" for k, v in sorted(catalogue.scale.items())], ""]
    for cid, rid in controls_for(catalogue, obligation_ids).items():
        c = catalogue.controls[cid]
        lines += [f"# {c.title} ({rid}). {c.question}",
                  f"# met at {c.passing} or more" + (", with at least one evidence file" if c.evidence_required else ""),
                  f"# {cid}:", "#   score: 3", "#   evidence: [file.pdf]", "#   note: ''", ""]
    return "\n".join(lines)
