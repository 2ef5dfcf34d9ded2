"""Obligations mapped to evidence: the catalogue (`data/obligations.yaml`), the controls a
person answers, and the verdict of every requirement from the measurements of sandbox runs.

Verdicts, worst first: `not met`, `inconclusive` (a 95% interval straddles the threshold),
`not assessed` (no run of the suite, nothing measured, no answer or no evidence file), `met`.
A requirement takes the worst verdict of its evidence, so `met` means every piece of its
evidence is met. Every verdict carries the measurements (run, path, value, interval) or the
control answer (score or fact, files) it rests on, labelled `measured` or `self-assessed`.

What `met` claims, and no more (docs/decisions/0005-what-met-means.md): a documentation duty
is met when the tests were run and recorded, whatever their scores; a performance duty when
every measurement is on the good side of its threshold; output tests count for Art. 10 only
together with the data-governance control; an obligation's verdict says how many of the
article's duties the catalogue checks (`coverage`); runs of different models are never
assessed together.

A metric's path is read by `laif.core.figures.read_figures` (as a sandbox spec's thresholds are),
and judged by its `Bound` on the 95% interval: a run with nothing at the path is `not assessed`.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from laif._yaml import line_of, load_yaml, validate
from laif.compliance.ai_act import ROLES
from laif.compliance.qualify import HIGH_RISK_BY_ROLE
from laif.core.figures import Bound, find_figures
from laif.core.stats import wilson
from laif.core.strict import Strict
from laif.errors import BadInput

VERDICTS = ("not met", "inconclusive", "not assessed", "met")  # worst first
REFERENCE = re.compile(r"^(art-\d+[a-z]?|annex-[ivx]+)(\.[0-9a-z]+)*$")
LAIF_CHECK = re.compile(r"^laif-[a-z0-9]+(-[a-z0-9]+)*$")  # laif's own checks: never article text
#: Chance of a one-sided miss at the 95% two-sided interval, per cell exactly at its threshold.
CHANCE_PER_CELL = 0.025
RISKS = ("high", "limited", "minimal", "gpai", "gpai-systemic")


def unit_suffix(unit: str) -> str:
    """What follows a number: `%` directly, any other unit after a space (`-33 points`)."""
    return unit if unit in ("", "%") else f" {unit}"


def worst(verdicts: list[str]) -> str:
    return min(verdicts, key=VERDICTS.index) if verdicts else "not assessed"


class Metric(Strict):
    title: str
    suite: str
    path: str
    direction: Literal["higher", "lower"]
    threshold: float
    unit: str = "%"
    risk: str = ""  # what a miss means, in the risk summary

    @property
    def bound(self) -> Bound:
        """The threshold, judged on the 95% interval."""
        return Bound(self.direction, self.threshold, on="interval")


class Control(Strict):
    title: str
    question: str
    fact: bool = False  # answered done yes/no with evidence, never scored
    evidence_required: bool = False
    passing: int = Field(3, alias="pass", ge=1, le=5)


def _article(value: str) -> str:
    if not REFERENCE.match(value):
        raise ValueError(f"{value!r} is not a normalised reference such as art-10.2.f or annex-iv.2.g")
    return value


class Requirement(Strict):
    id: str
    text: str
    metrics: list[str] = []
    controls: list[str] = []
    # documentation: tests run, recorded and disclosed (met whatever the scores); performance: thresholds.
    duty: Literal["performance", "documentation"] = "performance"
    indirect: bool = False  # the metrics say something about this duty only together with a control
    laif_specific: bool = False  # laif's own check; `supports` names the article it serves
    supports: str | None = None

    @field_validator("id")
    @classmethod
    def _reference(cls, value: str) -> str:
        return value if LAIF_CHECK.match(value) else _article(value)

    @model_validator(mode="after")
    def _consistent(self) -> Requirement:
        if not self.metrics and not self.controls:
            raise ValueError(f"{self.id}: name at least one metric or control")
        if self.laif_specific:
            if not LAIF_CHECK.match(self.id) or self.supports is None:
                raise ValueError(f"{self.id!r}: a laif-specific check has an id starting laif- and names the "
                                 "article it supports")
            _article(self.supports)
        elif LAIF_CHECK.match(self.id):
            raise ValueError(f"{self.id!r}: mark laif's own checks with laif_specific: true")
        if self.indirect and not self.controls:
            raise ValueError(f"{self.id}: indirect evidence counts only together with a control; name one")
        return self


class Uncovered(Strict):
    id: str
    text: str

    @field_validator("id")
    @classmethod
    def _reference(cls, value: str) -> str:
        return _article(value)


class Obligation(Strict):
    id: str
    title: str
    requirements: list[Requirement]
    not_covered: list[Uncovered] = []  # the article's duties laif does not check

    @field_validator("id")
    @classmethod
    def _reference(cls, value: str) -> str:
        return _article(value)


class Catalogue(Strict):
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


#: With --risk alone, obligations whose conditions only a qualification can decide, and why they are kept.
CONDITIONAL = {
    "art-27": "applies to public bodies, private entities providing public services and deployers of Annex III "
              "5(b) and 5(c) systems, not to point 2 nor to Annex I systems (Art. 27(1)); --qualification decides",
    "art-86": "applies to decisions based on Annex III systems other than point 2 (Art. 86(1)); --qualification "
              "decides",
    "art-49.1": "applies to Annex III systems other than point 2 (Art. 49(1)); --qualification decides",
}


def scope_from_risk(risk: str, role: str) -> list[str]:
    """The obligations of a risk class and role, as `laif qualify` would conclude them; without the
    answers, the conditional ones (CONDITIONAL) are kept and said to be conditional."""
    if risk not in RISKS:
        raise BadInput(f"--risk: {risk!r} is not one of {', '.join(RISKS)}")
    if role not in ROLES:
        raise BadInput(f"--role: {role!r} is not one of {', '.join(ROLES)}")
    if risk.startswith("gpai"):  # the model's obligations bind its provider only (Arts. 53, 55)
        return ["art-53"] + (["art-55"] if risk == "gpai-systemic" else []) if role == "provider" else []
    ids = ["art-4"] if role in ("provider", "deployer") else []  # Art. 4 binds providers and deployers
    if risk == "high":
        ids += HIGH_RISK_BY_ROLE[role]
        ids += {"provider": ["art-49.1"], "deployer": ["art-27", "art-86"]}.get(role, [])
    elif risk == "limited":
        ids += ["art-50.1", "art-50.2"] if role == "provider" else ["art-50.3", "art-50.4"] if role == "deployer" else []
    return ids


# --- controls -------------------------------------------------------------------------------------


class ControlAnswer(Strict):
    score: int | None = Field(default=None, ge=1, le=5)
    done: bool | None = None  # for a fact
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
        elif raw in ("yes", "no") or isinstance(raw, bool):
            raw = {"done": raw}
        try:
            answer = ControlAnswer.model_validate(raw)
        except ValidationError as exc:  # one line per field
            for e in exc.errors():
                loc = (cid, *e["loc"])
                problems.append(f"{path}:{line_of(data, loc) or line_of(data, (cid,))}: "
                                f"{'.'.join(map(str, loc))}: {e['msg']}")
            continue
        control = catalogue.controls[cid]
        if control.fact and (answer.done is None or answer.score is not None):
            problems.append(f"{where}: a fact, not a score: answer done: yes or done: no, with its evidence file")
            continue
        if not control.fact and answer.score is None:
            problems.append(f"{where}: give a score from 1 to 5 (score: 3)")
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


def judge_measurement(value: float | None, low: float | None, high: float | None,
                      direction: Literal["higher", "lower"], threshold: float) -> str:
    """A measurement against a threshold on its interval (laif.core.figures.Bound)."""
    return Bound(direction, threshold, on="interval").judge(value, low, high)


def measure(metric: Metric, results: dict[str, Any] | None) -> dict[str, Any]:
    """One metric against one run's results: each measurement with its verdict, and the worst."""
    base = {"kind": "metric", "suite": metric.suite, "path": metric.path, "direction": metric.direction,
            "threshold": metric.threshold, "unit": metric.unit, "title": metric.title, "risk": metric.risk,
            "basis": "measured"}
    if results is None:
        return base | {"run_id": None, "measurements": [], "verdict": "not assessed",
                       "reason": f"no complete run of the {metric.suite} suite"}
    found = find_figures(results.get("scores") or {}, metric.path)
    measurements: list[dict[str, Any]] = [
        {"path": f.path, "label": " / ".join(f.matched) or f.path.rsplit(".", 1)[-1], "value": f.value,
         "low": f.low, "high": f.high, "n": f.n, "verdict": metric.bound.judge_figure(f)} for f in found]
    if not measurements:
        return base | {"run_id": results["run_id"], "measurements": [], "verdict": "not assessed",
                       "reason": f"the {metric.suite} run has nothing at {metric.path}"}
    verdict = worst([m["verdict"] for m in measurements])
    counts = {v: sum(1 for m in measurements if m["verdict"] == v) for v in VERDICTS}
    reason = ", ".join(f"{n} {v}" for v, n in counts.items() if n) + f" ({metric.bound.text()} {metric.unit})"
    return base | {"run_id": results["run_id"], "measurements": measurements, "verdict": verdict, "reason": reason,
                   "multiplicity": multiplicity(metric, measurements) if len(measurements) > 1 else None}


def multiplicity(metric: Metric, measurements: list[dict[str, Any]]) -> dict[str, Any]:
    """Many cells, many chances: how many `not met` cells chance alone would give, and how many stay
    `not met` when every interval is widened by a Bonferroni correction.

    Each cell is judged at its own 95% interval, so a cell exactly at its threshold is `not met`
    with probability 2.5%; over k such cells about 0.025 k would be `not met` by chance alone.
    The corrected count recomputes the Wilson interval of each `not met` cell at 1 - 0.05/k
    confidence (percentages with their number of decided cases only; otherwise it is None)."""
    k = len(measurements)
    missed = [m for m in measurements if m["verdict"] == "not met"]
    z = NormalDist().inv_cdf(1 - CHANCE_PER_CELL / k)
    corrected: int | None = 0
    for m in missed:
        n, value = m.get("n"), m["value"]
        if corrected is None or metric.unit != "%" or not isinstance(n, int) or n <= 0 or value is None:
            corrected = None
            continue
        low, high = wilson(round(value / 100 * n), n, z)
        if metric.bound.judge(value, low * 100, high * 100) == "not met":
            corrected += 1
    return {"cells": k, "not_met": len(missed), "expected_by_chance": round(CHANCE_PER_CELL * k, 2),
            "not_met_bonferroni": corrected, "confidence_bonferroni": round(100 * (1 - 2 * CHANCE_PER_CELL / k), 3),
            "method": "per-cell 95% Wilson intervals; expected chance misses 0.025 k; Bonferroni-corrected recount"}


def check_control(cid: str, control: Control, answers: Answers | None) -> dict[str, Any]:
    base = {"kind": "control", "control": cid, "title": control.title, "question": control.question,
            "pass": "yes" if control.fact else control.passing, "evidence_required": control.evidence_required,
            "fact": control.fact, "basis": "self-assessed"}
    answer = answers.answers.get(cid) if answers else None
    if answers is None or answer is None:
        return base | {"score": None, "done": None, "files": [], "verdict": "not assessed", "reason": "not answered"}
    files = [{"name": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
             for name, data in (answers.files.get(cid) or {}).items()]
    got = base | {"score": answer.score, "done": answer.done, "files": files, "note": answer.note,
                  "answered_by": answer.answered_by}
    if control.fact:
        if not answer.done:
            return got | {"verdict": "not met", "reason": "answered: not done"}
        if control.evidence_required and not files:
            return got | {"verdict": "not assessed", "reason": "answered done, but no evidence file is attached"}
        names = ", ".join(str(f["name"]) for f in files)
        return got | {"verdict": "met", "reason": f"done, with {names}" if names else "done"}
    if answer.score is None:  # load_controls refuses this; an Answers built in code may not
        return got | {"verdict": "not assessed", "reason": "no score"}
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


def one_model(results: list[dict[str, Any]]) -> None:
    """Refuse runs of different models: an assessment is of one system."""
    models: dict[str, list[str]] = {}
    for r in results:
        models.setdefault(r["model"].get("key") or r["model"]["name"], []).append(r["run_id"])
    if len(models) > 1:
        listed = "; ".join(f"{m}: {', '.join(ids)}" for m, ids in models.items())
        raise BadInput(f"runs of different models cannot be assessed together ({listed})",
                       hint="pass --run for the runs of one model")


def _documented(e: dict[str, Any]) -> dict[str, Any]:
    """A metric as evidence for a documentation duty: met when the tests ran and are recorded."""
    if e["run_id"] is None or not e["measurements"]:
        return e | {"judged": "documentation"}
    return e | {"judged": "documentation", "verdict": "met",
                "reason": f"tested and recorded in run {e['run_id']} ({e['reason']}); a duty to test, document "
                          "and disclose is met by the record, whatever the scores"}


def _requirement(req: Requirement, measured: dict[str, dict[str, Any]], catalogue: Catalogue,
                 answers: Answers | None) -> dict[str, Any]:
    evidence = [measured[m] for m in req.metrics]
    if req.duty == "documentation":
        evidence = [_documented(e) for e in evidence]
    evidence += [check_control(c, catalogue.controls[c], answers) for c in req.controls]
    return {"id": req.id, "text": req.text, "verdict": worst([e["verdict"] for e in evidence]),
            "duty": req.duty, "indirect": req.indirect, "laif_specific": req.laif_specific, "supports": req.supports,
            "basis": " and ".join(sorted({e["basis"] for e in evidence})), "evidence": evidence}


def _needs(e: dict[str, Any]) -> str:
    if e["kind"] == "metric" and e["run_id"] is None:
        return f"a complete run of the {e['suite']} suite"
    return f"control {e['control']}: {e['reason']}" if e["kind"] == "control" else str(e["reason"])


def assess(loaded: LoadedCatalogue, obligation_ids: list[str], results: list[dict[str, Any]],
           answers: Answers | None, scope: dict[str, Any]) -> dict[str, Any]:
    """Every applicable obligation, requirement by requirement, with its verdict and evidence, its
    coverage of the article, and the requirements its conditions leave out (scope `not_applicable`)."""
    one_model(results)
    catalogue = loaded.catalogue
    runs = latest_by_suite(results)
    # Each metric is measured once; requirements that share it share its result.
    measured = {name: measure(metric, runs.get(metric.suite)) | {"metric": name}
                for name, metric in catalogue.metrics.items()}
    left_out: dict[str, list[dict[str, str]]] = scope.get("not_applicable") or {}
    out_obligations: list[dict[str, Any]] = []
    missing: list[dict[str, str]] = []
    for oid in obligation_ids:
        obligation = catalogue.obligation(oid)
        if obligation is None:
            out_obligations.append({"id": oid, "title": "(not in the catalogue)", "verdict": "not assessed",
                                    "requirements": [], "not_applicable": [], "coverage": _coverage([], [], []),
                                    "verdict_text": "not assessed: not in the catalogue"})
            missing.append({"requirement": oid, "needs": f"a mapping in catalogue {catalogue.version}"})
            continue
        skipped = left_out.get(oid, [])
        requirements = [_requirement(req, measured, catalogue, answers) for req in obligation.requirements
                        if req.id not in {x["id"] for x in skipped}]
        missing += [{"requirement": r["id"], "needs": _needs(e)} for r in requirements for e in r["evidence"]
                    if e["verdict"] == "not assessed"]
        verdict = worst([r["verdict"] for r in requirements])
        coverage = _coverage(requirements, [u.model_dump() for u in obligation.not_covered], skipped)
        out_obligations.append({"id": oid, "title": obligation.title, "verdict": verdict,
                                "verdict_text": f"{verdict}: {coverage['text']}", "coverage": coverage,
                                "not_applicable": skipped, "requirements": requirements})
    every = [r["verdict"] for o in out_obligations for r in o["requirements"]]
    return {
        "catalogue": {"version": catalogue.version, "source": loaded.source, "sha256": loaded.sha256},
        "regulation": catalogue.regulation,
        "scope": scope,
        "runs": [{"run_id": r["run_id"], "suite": name, "model": r["model"]["name"],
                  "finished_at": r.get("finished_at")} for name, r in sorted(runs.items())],
        "controls_file": str(answers.path) if answers and answers.path else None,
        "summary": {v: every.count(v) for v in VERDICTS},
        "by_basis": {b: {v: sum(1 for o in out_obligations for r in o["requirements"]
                                if r["basis"] == b and r["verdict"] == v) for v in VERDICTS}
                     for b in ("measured", "self-assessed", "measured and self-assessed")},
        # Every metric of the catalogue on the runs given, whether or not an obligation in scope needs it
        # (the model card and the ethics view report them all).
        "measured": [e for e in measured.values() if e["suite"] in runs],
        "obligations": out_obligations,
        "missing": list({(m["requirement"], m["needs"]): m for m in missing}.values()),
    }


def _coverage(requirements: list[dict[str, Any]], not_covered: list[dict[str, str]],
              not_applicable: list[dict[str, str]]) -> dict[str, Any]:
    """How much of the article the verdict rests on: requirements checked (laif's own checks apart)
    against the article's duties the catalogue lists as not checked."""
    checked = [r for r in requirements if not r["laif_specific"]]
    total = len(checked) + len(not_covered)
    text = f"{len(checked)} of {total} listed duties of the article checked"
    if not_applicable:
        text += f"; {len(not_applicable)} not applicable"
    return {"checked": len(checked), "of": total, "not_covered": not_covered, "complete": not not_covered,
            "text": text}


def evidence_of(assessment: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(requirement, evidence) for every piece of evidence of every obligation in an assessment."""
    for o in assessment["obligations"]:
        for r in o["requirements"]:
            for e in r["evidence"]:
                yield r, e


def controls_for(catalogue: Catalogue, obligation_ids: list[str],
                 left_out: dict[str, list[dict[str, str]]] | None = None) -> dict[str, str]:
    """The controls the obligations need, each with the first requirement that names it, in order;
    requirements the qualification leaves out (`left_out`, obligation -> requirements) need none."""
    found: dict[str, str] = {}
    for oid in obligation_ids:
        obligation = catalogue.obligation(oid)
        skip = {x["id"] for x in (left_out or {}).get(oid, [])}
        for req in obligation.requirements if obligation else []:
            if req.id in skip:
                continue
            for cid in req.controls:
                found.setdefault(cid, req.id)
    return found


def resolve_scope(qualification: dict[str, Any] | None, risk: str | None, role: str) -> tuple[list[str], dict[str, Any]]:
    """The obligations that apply: the qualification's (with the requirements its conditions leave
    out and the date each applies from), or those of --risk and --role."""
    if qualification is not None:
        ids = [o["id"] for o in qualification["obligations"]]
        return ids, {"from": "qualification", "risk_class": qualification["risk_class"], "role": qualification["role"],
                     "roles": qualification.get("roles", [qualification["role"]]),
                     "evaluation_date": qualification.get("evaluation_date"),
                     "in_scope": qualification.get("scope", {}).get("in_scope", True),
                     "applies_from": {o["id"]: o.get("applies_from") for o in qualification["obligations"]},
                     "not_applicable": {o["id"]: o.get("not_applicable", []) for o in qualification["obligations"]
                                        if o.get("not_applicable")}}
    if risk is None:
        raise BadInput("say what applies: --qualification ANSWERS.yaml (from laif qualify) or --risk "
                       f"{'|'.join(RISKS)}")
    ids = scope_from_risk(risk, role)
    return ids, {"from": "--risk", "risk_class": risk, "role": role, "roles": [role],
                 "conditional": {k: v for k, v in CONDITIONAL.items() if k in ids}}


def controls_template(catalogue: Catalogue, obligation_ids: list[str],
                      left_out: dict[str, list[dict[str, str]]] | None = None) -> str:
    """A controls file to fill in: every control the obligations need, its question as a comment."""
    lines = ["# Controls: score each from 1 to 5 and attach the evidence files (paths relative to this file).",
             *[f"#   {k}: {v}" for k, v in sorted(catalogue.scale.items())], ""]
    for cid, rid in controls_for(catalogue, obligation_ids, left_out).items():
        c = catalogue.controls[cid]
        if c.fact:  # a fact is done or not, with the file that shows it
            lines += [f"# {c.title} ({rid}). {c.question}", "# met when done, with its evidence file",
                      f"# {cid}:", "#   done: no", "#   evidence: [file.pdf]", "#   note: ''", ""]
            continue
        lines += [f"# {c.title} ({rid}). {c.question}",
                  f"# met at {c.passing} or more" + (", with at least one evidence file" if c.evidence_required else ""),
                  f"# {cid}:", "#   score: 3", "#   evidence: [file.pdf]", "#   note: ''", ""]
    return "\n".join(lines)
