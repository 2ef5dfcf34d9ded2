"""The AI Act area's query layer and its glue to `laif.services.aiact` and `laif.services.evidence`.

`AiActScope` reads and writes an organisation's AI systems, their qualification answers, control
answers, evidence files and bundles, always within the caller's organisation, and audits every
change. The domain work is the services': a qualification is `aiact.check_answers` then
`aiact.qualify`; verdicts are `aiact.assess_obligations`; bundles are `evidence.build_bundle` and
`evidence.verify_bundle`. Those services read files, so `materialised` writes the system's answers
file and controls file (with its evidence files beside it, as `laif obligations --controls` reads
them) into a temporary folder for the length of one call.

The answers file is the one `laif qualify --answers` reads and `laif qualify --save` writes: YAML
mapping each question id that is asked, in the questionnaire's order, to its answer.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import tempfile
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import defer

from laif._yaml import load_yaml
from laif.errors import BadInput
from laif.portal.aiact_tables import AiBundle, AiControlAnswer, AiEvidenceFile, AiSystem
from laif.portal.scope import NotFound, Refused, Scoped, safe_filename
from laif.portal.settings import PortalSettings
from laif.portal.tables import now
from laif.services import aiact, evidence

MAX_NAME = 200
MAX_NOTE = 5000
#: The name the form's answers go by in the problems check_answers reports.
FORM = "form"


# --- the questionnaire ----------------------------------------------------------------------------


def _number(text: str) -> Any:
    """A number as typed: an int or a float when it reads as one, else the text (check_answers says why)."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def form_answers(form: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The answers a posted questionnaire gives, as `laif qualify` asks them: question by question
    in order, only the questions that apply given the answers before them, unanswered ones left out
    (check_answers then takes their default or says they are missing)."""
    answers: dict[str, Any] = {}
    for q in aiact.questions():
        qid = q["id"]
        if not aiact.applies(qid, answers):
            continue
        values = [v.strip() for v in form.get(qid, []) if v.strip()]
        if not values:
            continue
        if q["kind"] == "multi":
            answers[qid] = values
        elif q["kind"] == "number":
            answers[qid] = _number(values[0])
        else:
            answers[qid] = values[0]
    return answers


def answers_yaml(answers: Mapping[str, Any]) -> str:
    """The answers file, exactly as `laif qualify --save` writes one."""
    return yaml.safe_dump(dict(answers), sort_keys=False)


def _as_text(value: Any) -> list[str]:
    if isinstance(value, bool):
        return ["yes" if value else "no"]
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, date):
        return [value.isoformat()]
    return [] if value is None else [str(value)]


def form_values(answers: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """What the form shows selected: the answers given, else each question's default."""
    if answers:
        return {qid: _as_text(value) for qid, value in answers.items()}
    return {q["id"]: _as_text(q["default"]) for q in aiact.questions() if q["default"] is not None}


@dataclass
class Questionnaire:
    """The questions as the form shows them: those asked given `values`, and how many are not."""

    asked: list[dict[str, Any]]
    skipped: list[dict[str, Any]]
    values: dict[str, list[str]]
    problems: list[str] = field(default_factory=list)
    #: question id -> the problems that name it first
    errors: dict[str, list[str]] = field(default_factory=dict)


def questionnaire(values: Mapping[str, list[str]], problems: Sequence[str] = ()) -> Questionnaire:
    answers = form_answers(values)
    asked, skipped = [], []
    before: dict[str, Any] = {}
    for q in aiact.questions():  # shown when it applies given the answers before it, as laif qualify asks
        if aiact.applies(q["id"], before):
            asked.append(q)
            if q["id"] in answers:
                before[q["id"]] = answers[q["id"]]
        else:
            skipped.append(q)
    errors: dict[str, list[str]] = {}
    for problem in problems:
        first = re.match(r"(?:[^:\s]+:\d+: )?([a-z_]+(?:\.[a-z_]+)*)", problem)
        if first:
            errors.setdefault(first.group(1), []).append(problem)
    return Questionnaire(asked, skipped, dict(values), list(problems), errors)


def problems_of(exc: BadInput, source: str = FORM) -> list[str]:
    """The problems of a BadInput from check_answers, one a line, without the form's placeholder
    position (`form:1: `); an uploaded file's problems keep their file name and line."""
    lines = str(exc.message).splitlines()
    if len(lines) > 1 and lines[0].endswith("in the answers:"):
        lines = lines[1:]
    if source == FORM:
        lines = [re.sub(rf"(^|contradicts ){FORM}:\d+: ", r"\1", line) for line in lines]
    return lines


def check(answers: Mapping[str, Any], source: str = FORM) -> dict[str, Any]:
    """The answers checked by the service (BadInput lists every problem)."""
    return aiact.check_answers(answers, source)


def read_answers_file(filename: str, content: bytes) -> tuple[dict[str, list[str]], list[str]]:
    """An uploaded answers file, as the form's values and the problems `laif qualify` would name
    (file, line, question id); Refused when it is not a YAML mapping at all."""
    name = safe_filename(filename)
    with tempfile.TemporaryDirectory(prefix="laif-aiact-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(content)
        try:
            data = load_yaml(path)
        except BadInput as exc:
            raise Refused(exc.message.replace(str(path), name)) from None
        if not isinstance(data, dict):
            raise Refused(f"{name}: expected a mapping of question ids to answers (as laif qualify --save writes)")
        problems: list[str] = []
        try:
            aiact.load_answers(path)  # what laif qualify --answers says of the file, line by line
        except BadInput as exc:
            problems = [p.replace(str(path), name) for p in problems_of(exc, name)]
    known = {q["id"] for q in aiact.questions()}
    return {qid: _as_text(value) for qid, value in data.items() if qid in known}, problems


# --- controls -------------------------------------------------------------------------------------


@functools.cache
def scale() -> dict[int, str]:
    """The meaning of each score from 1 to 5, from the obligations catalogue."""
    data = yaml.safe_load(aiact.catalogue_text())
    return {int(k): str(v) for k, v in (data.get("scale") or {}).items()}


@functools.cache
def every_control() -> dict[str, dict[str, Any]]:
    return aiact.controls()


# --- what the services read, written for one call ----------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """A system's answers, control answers and evidence files, read in one transaction and used
    outside it (building a bundle takes seconds)."""

    system_id: int
    organisation_id: int
    name: str
    answers: dict[str, Any] | None
    controls: dict[str, dict[str, Any]]
    files: dict[str, dict[str, bytes]]


@dataclass(frozen=True)
class Inputs:
    folder: Path
    qualification: Path | None
    controls: Path | None


@contextmanager
def materialised(snap: Snapshot) -> Iterator[Inputs]:
    """The answers file and the controls file with its evidence files, in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="laif-aiact-") as tmp:
        folder = Path(tmp)
        qualification = None
        if snap.answers is not None:
            qualification = folder / "answers.yaml"
            qualification.write_text(answers_yaml(snap.answers), encoding="utf-8")
        controls = None
        if snap.controls:
            doc: dict[str, Any] = {}
            for cid, answer in snap.controls.items():
                entry: dict[str, Any] = {"done": answer["done"]} if answer["done"] is not None else {"score": answer["score"]}
                names = []
                for name, data in (snap.files.get(cid) or {}).items():
                    target = folder / "evidence" / cid / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
                    names.append(f"evidence/{cid}/{name}")
                entry |= {"evidence": names, "note": answer["note"], "answered_by": answer["answered_by"]}
                doc[cid] = entry
            controls = folder / "controls.yaml"
            controls.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
        yield Inputs(folder, qualification, controls)


def _plain(exc: BadInput, folder: Path) -> BadInput:
    """The service's message without the temporary folder's path."""
    return BadInput(exc.message.replace(str(folder) + "/", ""), hint=exc.hint)


def assess(snap: Snapshot, run_ids: list[str], db: str) -> aiact.ObligationsAssessment:
    """The verdicts per obligation of the qualified system, on the runs named (default: the latest
    complete run of each suite in the organisation's run store) and the controls answered."""
    if snap.answers is None:
        raise Refused("qualify the system first: its obligations come from its qualification")
    with materialised(snap) as inputs:
        try:
            return aiact.assess_obligations(run_ids, qualification_file=inputs.qualification,
                                            controls_file=inputs.controls, db=db)
        except BadInput as exc:
            raise _plain(exc, inputs.folder) from None


def build(snap: Snapshot, run_ids: list[str], db: str, out: Path) -> evidence.BuiltBundle:
    """Build the system's signed evidence bundle into `out`."""
    if snap.answers is None:
        raise Refused("qualify the system first: a bundle carries the verdicts of its obligations")
    with materialised(snap) as inputs:
        try:
            return evidence.build_bundle(run_ids, out, qualification=inputs.qualification,
                                         controls=inputs.controls, db=db)
        except BadInput as exc:
            raise _plain(exc, inputs.folder) from None


@dataclass(frozen=True)
class Checked:
    """A bundle's verification, with each file its manifest lists and what was found wrong with it."""

    ok: bool
    problems: list[str]
    signer: str | None
    files: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "problems": self.problems, "signer": self.signer, "files": self.files}


def verify(content: bytes) -> Checked:
    """Verify a bundle (evidence.verify_bundle), and list each file of its manifest with its
    SHA-256, size and status: intact, or the problem verification found with it."""
    with tempfile.TemporaryDirectory(prefix="laif-aiact-") as tmp:
        path = Path(tmp) / "bundle.zip"
        path.write_bytes(content)
        result = evidence.verify_bundle(path)
        listed: dict[str, Any] = {}
        try:
            with zipfile.ZipFile(path) as zf:
                listed = json.loads(zf.read("manifest.json")).get("files") or {}
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, AttributeError):
            listed = {}
    problems = [p.replace(str(path), "the file") for p in result.problems]
    said: dict[str, str] = {}
    for problem in problems:
        name, _, why = problem.partition(": ")
        said.setdefault(name, why)
    files = []
    if isinstance(listed, dict):
        for name in sorted(listed):
            entry = listed[name] if isinstance(listed[name], dict) else {}
            files.append({"name": str(name), "sha256": str(entry.get("sha256", "")), "bytes": entry.get("bytes"),
                          "status": said.get(name, "intact")})
    names = {f["name"] for f in files}
    files += [{"name": name, "sha256": "", "bytes": None, "status": why}
              for name, why in said.items() if name not in names and why.startswith("added")]
    return Checked(result.ok, problems, result.signer, files)


def bundle_path(settings: PortalSettings, organisation_id: int, bundle_id: int) -> Path:
    """Where a bundle's zip is kept: under the organisation's own folder, named by its id only."""
    return settings.files() / "orgs" / str(int(organisation_id)) / "aiact" / "bundles" / f"{int(bundle_id)}.zip"


def slug(system_name: str) -> str:
    """A system's name as a file name's part: letters, digits and dashes only."""
    return re.sub(r"[^A-Za-z0-9]+", "-", system_name).strip("-").lower()[:60] or "system"


def download_name(system_name: str, bundle_id: int) -> str:
    return f"laif-evidence-{slug(system_name)}-{bundle_id}.zip"


# --- the query layer ------------------------------------------------------------------------------


class AiActScope(Scoped):
    """The caller's organisation's AI systems and everything attached to them."""

    # --- systems
    def systems(self) -> list[AiSystem]:
        return list(self.s.scalars(select(AiSystem).where(AiSystem.organisation_id == self.caller.organisation_id)
                                   .order_by(AiSystem.updated_at.desc(), AiSystem.id.desc())))

    def system(self, system_id: int) -> AiSystem:
        found = self.s.scalars(select(AiSystem).where(
            AiSystem.id == system_id, AiSystem.organisation_id == self.caller.organisation_id)).first()
        if found is None:
            raise NotFound(f"no AI system {system_id}")
        return found

    def create_system(self, name: str) -> AiSystem:
        name = name.strip()
        if not name or len(name) > MAX_NAME:
            raise Refused(f"give the system a name of 1 to {MAX_NAME} characters")
        row = AiSystem(organisation_id=self.caller.organisation_id, name=name, answers={},
                       created_by=self.caller.account_id)
        self.s.add(row)
        self.s.flush()
        self._audit("aiact.system.create", f"ai_system:{row.id}", name=name)
        return row

    def qualify(self, system_id: int, given: dict[str, Any], on: date | None = None) -> AiSystem:
        """Check the answers (BadInput lists every problem) and qualify the system with them."""
        row = self.system(system_id)
        checked = check(given)
        result = aiact.qualify(checked, on)
        row.answers = dict(given)
        row.result = result
        row.risk_class = str(result["risk_class"])
        row.qualified_on = date.fromisoformat(result["evaluation_date"])
        row.updated_at = now()
        self._audit("aiact.qualify", f"ai_system:{row.id}", risk_class=row.risk_class,
                    answers=hashlib.sha256(answers_yaml(given).encode()).hexdigest())
        return row

    # --- controls and evidence files
    def control_answers(self, system_id: int) -> dict[str, AiControlAnswer]:
        row = self.system(system_id)
        return {a.control_id: a for a in self.s.scalars(
            select(AiControlAnswer).where(AiControlAnswer.system_id == row.id).order_by(AiControlAnswer.id))}

    def evidence_files(self, system_id: int) -> dict[str, list[AiEvidenceFile]]:
        """The system's evidence files by control (their bytes not loaded)."""
        row = self.system(system_id)
        out: dict[str, list[AiEvidenceFile]] = {}
        for f in self.s.scalars(select(AiEvidenceFile).options(defer(AiEvidenceFile.data))
                                .where(AiEvidenceFile.system_id == row.id).order_by(AiEvidenceFile.id)):
            out.setdefault(f.control_id, []).append(f)
        return out

    def evidence_file(self, system_id: int, file_id: int) -> AiEvidenceFile:
        row = self.system(system_id)
        found = self.s.scalars(select(AiEvidenceFile).where(
            AiEvidenceFile.id == file_id, AiEvidenceFile.system_id == row.id)).first()
        if found is None:
            raise NotFound(f"no evidence file {file_id} for system {system_id}")
        return found

    def answer_control(self, system_id: int, control_id: str, *, score: int | None, done: bool | None,
                       note: str, attachment: tuple[str, bytes] | None = None) -> AiControlAnswer:
        """Answer a control (a score from 1 to 5, or done yes/no for a fact), optionally with one
        evidence file; a file of the same name for the same control is replaced."""
        row = self.system(system_id)
        control = every_control().get(control_id)
        if control is None:
            raise NotFound(f"no control {control_id!r} in the obligations catalogue")
        if control["fact"]:
            if done is None or score is not None:
                raise Refused(f"{control_id} is a fact: answer done yes or no")
        elif score is None or not 1 <= score <= 5:
            raise Refused(f"{control_id}: give a score from 1 to 5")
        if len(note) > MAX_NOTE:
            raise Refused(f"a note has at most {MAX_NOTE} characters")
        answer = self.s.scalars(select(AiControlAnswer).where(
            AiControlAnswer.system_id == row.id, AiControlAnswer.control_id == control_id)).first()
        if answer is None:
            answer = AiControlAnswer(system_id=row.id, control_id=control_id)
            self.s.add(answer)
        answer.score, answer.done, answer.note = score, done, note.strip()
        answer.answered_by, answer.updated_at = self.caller.email, now()
        row.updated_at = now()
        self.s.flush()
        self._audit("aiact.control.answer", f"ai_system:{row.id}", control=control_id, score=score, done=done)
        if attachment is not None:
            self._attach_evidence(row, control_id, *attachment)
        return answer

    def _attach_evidence(self, row: AiSystem, control_id: str, filename: str, content: bytes) -> None:
        name = safe_filename(filename)
        if not content:
            raise Refused(f"the file {name!r} is empty")
        digest = hashlib.sha256(content).hexdigest()
        found = self.s.scalars(select(AiEvidenceFile).where(
            AiEvidenceFile.system_id == row.id, AiEvidenceFile.control_id == control_id,
            AiEvidenceFile.filename == name)).first()
        if found is None:
            found = AiEvidenceFile(system_id=row.id, control_id=control_id, filename=name)
            self.s.add(found)
        found.size, found.sha256, found.data = len(content), digest, content
        found.uploaded_by, found.at = self.caller.account_id, now()
        self.s.flush()
        self._audit("aiact.evidence.upload", f"ai_system:{row.id}", control=control_id, file=found.id,
                    filename=name, size=len(content), sha256=digest)

    def remove_evidence(self, system_id: int, file_id: int) -> None:
        found = self.evidence_file(system_id, file_id)
        self.s.delete(found)
        self._audit("aiact.evidence.remove", f"ai_system:{system_id}", control=found.control_id, file=file_id,
                    filename=found.filename)

    def snapshot(self, system_id: int) -> Snapshot:
        row = self.system(system_id)
        answers = {cid: {"score": a.score, "done": a.done, "note": a.note, "answered_by": a.answered_by}
                   for cid, a in self.control_answers(row.id).items()}
        files: dict[str, dict[str, bytes]] = {}
        for f in self.s.scalars(select(AiEvidenceFile).where(AiEvidenceFile.system_id == row.id)
                                .order_by(AiEvidenceFile.id)):
            if f.control_id in answers:
                files.setdefault(f.control_id, {})[f.filename] = f.data
        return Snapshot(row.id, row.organisation_id, row.name, dict(row.answers) if row.result is not None else None,
                        answers, files)

    # --- bundles
    def bundles(self, system_id: int | None = None) -> list[AiBundle]:
        stmt = select(AiBundle).where(AiBundle.organisation_id == self.caller.organisation_id)
        if system_id is not None:
            stmt = stmt.where(AiBundle.system_id == self.system(system_id).id)
        return list(self.s.scalars(stmt.order_by(AiBundle.id.desc())))

    def bundle(self, bundle_id: int) -> AiBundle:
        found = self.s.scalars(select(AiBundle).where(
            AiBundle.id == bundle_id, AiBundle.organisation_id == self.caller.organisation_id)).first()
        if found is None:
            raise NotFound(f"no bundle {bundle_id}")
        return found

    def record_bundle(self, system_id: int, built: evidence.BuiltBundle, content: bytes,
                      settings: PortalSettings) -> AiBundle:
        """Keep a bundle just built (its zip's bytes) under the organisation's folder."""
        row = self.system(system_id)
        about = built.manifest.get("about") or {}
        bundle = AiBundle(organisation_id=row.organisation_id, system_id=row.id, filename="", size=len(content),
                          sha256=hashlib.sha256(content).hexdigest(), signer=built.signer,
                          files=len(built.manifest["files"]), run_ids=[r["run_id"] for r in about.get("runs", [])],
                          summary=dict(about.get("summary") or {}), created_by=self.caller.account_id)
        self.s.add(bundle)
        self.s.flush()
        bundle.filename = download_name(row.name, bundle.id)
        path = bundle_path(settings, row.organisation_id, bundle.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        self._audit("aiact.bundle.build", f"ai_system:{row.id}", bundle=bundle.id, sha256=bundle.sha256,
                    signer=built.signer, runs=bundle.run_ids)
        return bundle

    def known_signer(self, signer: str | None) -> bool:
        """Whether one of the organisation's own bundles was signed with this key."""
        if not signer:
            return False
        return self.s.scalars(select(AiBundle.id).where(
            AiBundle.organisation_id == self.caller.organisation_id, AiBundle.signer == signer)).first() is not None
