"""The readiness pages of the portal (and their JSON API under /api/v1): the questionnaire as a
form, the results, the history of an organisation's assessments, and the recommended services,
each with its "Request this service" button.

Questions, scoring, findings, use cases, peers and the roadmap are `laif.services.readiness`'s;
these routes read forms, call it through `ReadinessScope` (the organisation's own assessments,
every change audited) and render. The readiness service keeps its own record of each assessment
in laif's database (the portal's), by organisation name, which is how it finds the earlier ones
that progress is measured against; the portal keeps the whole result per organisation id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from laif.errors import BadInput
from laif.portal import i18n
from laif.portal.api import ApiCaller
from laif.portal.catalogue import Service, service_catalogue
from laif.portal.i18n import gettext as _
from laif.portal.readiness_tables import ReadinessAssessment
from laif.portal.render import page_caller, portal_of, render, session_of
from laif.portal.scope import Caller, NotFound, Refused, Scoped
from laif.readiness.bank import LANGUAGES
from laif.services import readiness as service

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["readiness"])
CallerDep = Annotated[Caller, Depends(page_caller)]

#: The language names shown on the language switch, each in its own language.
LANGUAGE_NAMES = {"en": "English", "fr": "Français"}

#: Where each service a readiness roadmap routes to (laif/readiness/data/services.yaml) is in the
#: portal's service catalogue (laif/portal/data/services.yaml), so it can be requested there.
CATALOGUE_OF = {
    "inspire": "business-advisor",
    "fund": "funding",
    "connect": "connect",
    "training": "training",
    "skills_gap": "training",
    "use_case_workshop": "readiness",
    "regulatory_guidance": "ai-act",
    "data_governance": "data-governance",
    "datasets_catalogue": "datasets",
    "data_curation": "datasets",
    "data_access_review": "datasets",
    "ipms": "ipms",
    "secure_processing": "compute",
    "sandbox": "sandbox",
    "evidence": "ai-act",
    "compute_prototype": "compute",
    "compute_production": "serving",
    "reassessment": "monitoring",
    "frugal_ai": "compute",
    "readiness_followup": "readiness",
}

#: One problem line of the readiness service's BadInput: "<source>:<line>: <question id>: <text>".
_PROBLEM = re.compile(r"^[^:\n]*:[^:\n]*: ([A-Za-z0-9_.]+): (.+)$")
FORM_SOURCE = "form"


class BadAnswers(Refused):
    """Answers the readiness service refused; `problems` lists (question id, what is wrong)."""

    def __init__(self, problems: list[tuple[str, str]], text: str) -> None:
        super().__init__(text)
        self.problems = problems


def problems_of(exc: BadInput) -> list[tuple[str, str]]:
    """The readiness service's problems, one per question id, in the order it gave them."""
    found = []
    for line in exc.message.splitlines()[1:] or [exc.message]:
        match = _PROBLEM.match(line)
        found.append((match.group(1), match.group(2)) if match else ("", line))
    return found


def pick_language(lang: str | None) -> str:
    """The questionnaire's language: the one asked for, else the portal's, else English."""
    if lang:
        if lang not in LANGUAGES:
            raise Refused(_("the questionnaire is in {choices}, not {lang!r}").format(
                choices=", ".join(LANGUAGES), lang=lang[:20]))
        return lang
    return i18n.current() if i18n.current() in LANGUAGES else "en"


def form_answers(posted: Mapping[str, list[str]], lang: str) -> dict[str, Any]:
    """The answers of a posted form as the readiness service reads them: a multiple-choice
    question's ticks as a list, any other field as its value (as sent: the service checks it)."""
    kinds = {q["id"]: q["kind"] for q in service.questions(lang)}
    answers: dict[str, Any] = {}
    for key, values in posted.items():
        if key in ("csrf_token", "lang"):
            continue
        if kinds.get(key) == "multi":
            answers[key] = list(values)
        else:
            answers[key] = values[0] if len(values) == 1 else list(values)
    return answers


class ReadinessScope(Scoped):
    """The caller's organisation's readiness assessments."""

    def __init__(self, s: Session, caller: Caller, db_url: str) -> None:
        super().__init__(s, caller)
        self.db_url = db_url

    def assessments(self) -> list[ReadinessAssessment]:
        """The organisation's assessments, the first (T0) first."""
        return list(self.s.scalars(select(ReadinessAssessment).where(
            ReadinessAssessment.organisation_id == self.caller.organisation_id)
            .order_by(ReadinessAssessment.taken_at, ReadinessAssessment.id)))

    def assessment(self, assessment_id: int) -> ReadinessAssessment:
        row = self.s.scalars(select(ReadinessAssessment).where(
            ReadinessAssessment.id == assessment_id,
            ReadinessAssessment.organisation_id == self.caller.organisation_id)).first()
        if row is None:
            raise NotFound(f"no readiness assessment {assessment_id}")
        return row

    def take(self, data: Mapping[str, Any], lang: str) -> ReadinessAssessment:
        """Check and score the answers with the readiness service and keep the result; BadAnswers
        (nothing kept) names every problem by question id."""
        lang = pick_language(lang)
        if "organisation" in data:
            raise BadAnswers([("organisation", "the organisation is the one you are signed in for")],
                             "the answers name an organisation")
        try:
            answers = service.check_answers(data, FORM_SOURCE)
        except BadInput as exc:
            problems = problems_of(exc)
            raise BadAnswers(problems, exc.message) from exc
        result = service.assess(answers, self.caller.organisation_name, db_url=self.db_url, lang=lang)
        row = ReadinessAssessment(
            organisation_id=self.caller.organisation_id, created_by=self.caller.account_id,
            taken_at=datetime.fromisoformat(result["taken_at"]), result_id=result["id"], label=result["label"],
            language=lang, bank_version=result["bank"]["version"], overall=result["scores"]["overall"],
            band=result["scores"]["band"], answers=dict(answers.values), result=result)
        self.s.add(row)
        self.s.flush()
        self._audit("readiness.assess", f"readiness:{row.id}", label=row.label, overall=row.overall, band=row.band)
        return row


def _scope(request: Request, s: Session, caller: Caller) -> ReadinessScope:
    return ReadinessScope(s, caller, portal_of(request).settings.db_url)


async def posted_form(request: Request) -> dict[str, list[str]]:
    """Every field of a posted form with all of its values (checkboxes send one per tick)."""
    async with request.form() as form:
        out: dict[str, list[str]] = {}
        for key, value in form.multi_items():
            if isinstance(value, str):
                out.setdefault(key, []).append(value)
        return out


def recommendations(result: dict[str, Any], label: str) -> list[dict[str, Any]]:
    """The roadmap's stages, each service with the catalogue entry it is requested as and the
    message the request carries (why it was recommended)."""
    catalogue = service_catalogue()
    taken = str(result.get("taken_at", ""))[:10]
    stages = []
    for stage in result.get("roadmap", []):
        services = []
        for entry in stage["services"]:
            target: Service | None = catalogue.get(CATALOGUE_OF.get(entry["id"], ""))
            reasons = "; ".join(r["text"] for r in entry["reasons"])
            message = _("Recommended by our readiness assessment {label} of {date} (overall {overall} %, {band}): "
                        "{title}. Why: {reasons}.").format(
                label=label, date=taken, overall=result["scores"]["overall"], band=result["scores"]["band_text"],
                title=entry["title"], reasons=reasons)
            services.append({**entry, "catalogue": target, "message": message[:5000]})
        stages.append({**stage, "services": services})
    return stages


def _history(rows: list[ReadinessAssessment]) -> list[dict[str, Any]]:
    return [{"id": r.id, "label": r.label, "taken_at": r.taken_at, "overall": r.overall, "band": r.band,
             "dimensions": {d["id"]: d["score"] for d in r.result["scores"]["dimensions"]}} for r in rows]


# --- pages ----------------------------------------------------------------------------------
@router.get("/readiness", response_class=HTMLResponse)
def readiness_home(request: Request, caller: CallerDep) -> Response:
    with portal_of(request).session() as s:
        rows = _scope(request, s, caller).assessments()
    lang = pick_language(None)
    return render(request, "readiness_index.html", {
        "caller": caller, "history": _history(rows), "dimensions": service.dimensions(lang),
        "latest": rows[-1] if rows else None})


def _form_context(caller: Caller, lang: str, given: Mapping[str, Any],
                  problems: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    questions = service.questions(lang)
    titles = {d["id"]: d["title"] for d in service.dimensions(lang)}
    groups: list[dict[str, Any]] = []
    for q in questions:
        if not groups or groups[-1]["id"] != q["dimension"]:
            groups.append({"id": q["dimension"], "title": titles.get(q["dimension"], _("Your organisation")),
                           "questions": []})
        groups[-1]["questions"].append(q)
    chosen = {k: (v if isinstance(v, list) else [v]) for k, v in given.items()}
    wrong: dict[str, list[str]] = {}
    for qid, text in problems or []:
        wrong.setdefault(qid, []).append(text)
    return {"caller": caller, "lang": lang, "languages": {k: LANGUAGE_NAMES.get(k, k) for k in LANGUAGES},
            "groups": groups, "chosen": chosen, "problems": problems or [], "wrong": wrong,
            "known": {q["id"] for q in questions}}


@router.get("/readiness/new", response_class=HTMLResponse)
def readiness_form(request: Request, caller: CallerDep, lang: str | None = None) -> Response:
    lang = pick_language(lang)
    with portal_of(request).session() as s:
        rows = _scope(request, s, caller).assessments()
    given = dict(rows[-1].answers) if rows else {}  # start from the last answers: only what changed needs a click
    return render(request, "readiness_form.html", _form_context(caller, lang, given))


@router.post("/readiness")
def take_assessment(request: Request, caller: CallerDep,
                    posted: Annotated[dict[str, list[str]], Depends(posted_form)]) -> Response:
    lang = pick_language(next(iter(posted.get("lang", [])), None))
    data = form_answers(posted, lang)
    try:
        with portal_of(request).session() as s:
            row = _scope(request, s, caller).take(data, lang)
            assessment_id, label = row.id, row.label
    except BadAnswers as exc:
        return render(request, "readiness_form.html", _form_context(caller, lang, data, exc.problems), status=400)
    session_of(request).flash(_("Assessment {label} is kept. Your results and the services we recommend are below.")
                              .format(label=label))
    return RedirectResponse(f"/readiness/{assessment_id}", status_code=303)


@router.get("/readiness/{assessment_id}", response_class=HTMLResponse)
def readiness_result(request: Request, caller: CallerDep, assessment_id: int) -> Response:
    with portal_of(request).session() as s:
        scope = _scope(request, s, caller)
        row = scope.assessment(assessment_id)
        rows = scope.assessments()
    result = row.result
    earlier = [r for r in rows if (r.taken_at, r.id) < (row.taken_at, row.id)]
    return render(request, "readiness_result.html", {
        "caller": caller, "row": row, "result": result, "stages": recommendations(result, row.label),
        "previous": earlier[-1] if earlier else None, "history": _history(rows)})


@router.get("/readiness/{assessment_id}/result.json")
def readiness_download(request: Request, caller: CallerDep, assessment_id: int) -> Response:
    with portal_of(request).session() as s:
        row = _scope(request, s, caller).assessment(assessment_id)
        result, label = row.result, row.label
    return JSONResponse(result, headers={"content-disposition": f'attachment; filename="readiness-{label}.json"'})


# --- the JSON API ---------------------------------------------------------------------------
class AssessmentIn(BaseModel):
    answers: dict[str, Any] = Field(description="Question id -> option key (a list of keys for a multiple-choice "
                                                "question), as GET /api/v1/readiness/questions lists them")
    lang: str = Field("en", description="The language of the result's texts (en or fr)")


class AssessmentSummary(BaseModel):
    id: int
    label: str
    taken_at: datetime
    language: str
    overall: float
    band: str
    dimensions: dict[str, float]


class AssessmentOut(AssessmentSummary):
    result: dict[str, Any]
    recommended_services: list[str] = Field(description="Catalogue ids (GET /api/v1/services) of the services the "
                                                        "roadmap recommends, to request with POST /api/v1/requests")


def _summary(row: ReadinessAssessment) -> AssessmentSummary:
    return AssessmentSummary(id=row.id, label=row.label, taken_at=row.taken_at, language=row.language,
                             overall=row.overall, band=row.band,
                             dimensions={d["id"]: d["score"] for d in row.result["scores"]["dimensions"]})


def _full(row: ReadinessAssessment) -> AssessmentOut:
    ids = [CATALOGUE_OF[e["id"]] for stage in row.result.get("roadmap", []) for e in stage["services"]
           if e["id"] in CATALOGUE_OF]
    return AssessmentOut(**_summary(row).model_dump(), result=row.result, recommended_services=list(dict.fromkeys(ids)))


@api.get("/readiness/questions")
def api_questions(caller: ApiCaller, lang: str = "en") -> dict[str, Any]:
    """The questionnaire: dimensions and questions with their ids and options."""
    lang = pick_language(lang)
    return {"language": lang, "languages": list(LANGUAGES), "dimensions": service.dimensions(lang),
            "questions": service.questions(lang)}


@api.get("/readiness/assessments")
def api_assessments(request: Request, caller: ApiCaller) -> list[AssessmentSummary]:
    """The organisation's assessments, T0 first."""
    with portal_of(request).session() as s:
        return [_summary(r) for r in _scope(request, s, caller).assessments()]


@api.post("/readiness/assessments", status_code=201, responses={400: {"description": "bad answers"}})
def api_take(request: Request, caller: ApiCaller, body: AssessmentIn) -> Response:
    """Answer the questionnaire: 201 with the result, or 400 listing each problem by question id."""
    try:
        with portal_of(request).session() as s:
            row = _scope(request, s, caller).take(body.answers, body.lang)
            out = _full(row)
    except BadAnswers as exc:
        return JSONResponse({"error": _("the answers have {n} problem(s)").format(n=len(exc.problems)),
                             "problems": [{"question": q, "problem": p} for q, p in exc.problems]}, status_code=400)
    return JSONResponse(out.model_dump(mode="json"), status_code=201)


@api.get("/readiness/assessments/{assessment_id}")
def api_assessment(request: Request, caller: ApiCaller, assessment_id: int) -> AssessmentOut:
    """One assessment with its whole result."""
    with portal_of(request).session() as s:
        return _full(_scope(request, s, caller).assessment(assessment_id))
