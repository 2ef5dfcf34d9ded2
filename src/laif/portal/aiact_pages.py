"""The AI Act pages of the portal (and their JSON API under /api/v1): an organisation's AI systems,
each qualified through the questionnaire of `laif qualify` (same question ids, same answers file),
its obligations with their verdicts, its controls answered with evidence files, and signed evidence
bundles built, downloaded and verified. Domain logic lives in `laif.services.aiact` and
`laif.services.evidence`; these routes only read forms, call them through `AiActScope`, and render.

Bundles are built in the request (a second or two, PDF included) from the organisation's own run
store; they are kept under the organisation's folder and served only to its members, as downloads.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from laif.errors import BadInput
from laif.portal import aiact_scope as ai
from laif.portal.aiact_scope import AiActScope
from laif.portal.aiact_tables import AiBundle, AiSystem
from laif.portal.api import api_caller
from laif.portal.i18n import gettext as _
from laif.portal.render import page_caller, portal_of, render, session_of
from laif.portal.scope import Caller, NotFound, Refused, safe_filename
from laif.services import aiact

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["AI Act"])
CallerDep = Annotated[Caller, Depends(page_caller)]
ApiCaller = Annotated[Caller, Depends(api_caller)]
RunIds = Annotated[list[str], Query(alias="run")]

ATTACHMENT = "application/octet-stream"


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _download(data: bytes, name: str, media_type: str = ATTACHMENT) -> Response:
    """Bytes as a download, never rendered by the browser, under a name with no folder in it."""
    return Response(data, media_type=media_type, headers={
        "content-disposition": f"attachment; filename*=UTF-8''{quote(safe_filename(name))}",
        "x-content-type-options": "nosniff", "cache-control": "no-store"})


def _org_runs(request: Request, caller: Caller) -> tuple[str, list[dict[str, Any]]]:
    """The URL of the organisation's run store and its runs (newest first as the jobs layer gives them)."""
    from laif.portal.jobs import JobsScope, run_db

    portal = portal_of(request)
    with portal.session() as s:
        runs = JobsScope(s, caller, portal.settings).runs()
    return run_db(portal.settings, caller.organisation_id), runs


def _chosen_runs(runs: list[dict[str, Any]], wanted: list[str]) -> list[str]:
    """Run ids as asked, each one of the organisation's own runs (others are not found)."""
    known = {str(r.get("id")) for r in runs}
    chosen = [r.strip() for r in wanted if r.strip()]
    for run_id in chosen:
        if run_id not in known:
            raise NotFound(f"no run {run_id} in your organisation's run store")
    return list(dict.fromkeys(chosen))


def _snapshot(request: Request, caller: Caller, system_id: int) -> ai.Snapshot:
    with portal_of(request).session() as s:
        return AiActScope(s, caller).snapshot(system_id)


def _assess(request: Request, caller: Caller, system_id: int,
            wanted: list[str]) -> tuple[aiact.ObligationsAssessment, list[dict[str, Any]], list[str]]:
    snap = _snapshot(request, caller, system_id)
    db, runs = _org_runs(request, caller)
    chosen = _chosen_runs(runs, wanted)
    try:
        return ai.assess(snap, chosen, db), runs, chosen
    except BadInput as exc:
        raise Refused(exc.message) from None


def _build(request: Request, caller: Caller, system_id: int, wanted: list[str]) -> AiBundle:
    snap = _snapshot(request, caller, system_id)
    db, runs = _org_runs(request, caller)
    chosen = _chosen_runs(runs, wanted)
    portal = portal_of(request)
    with tempfile.TemporaryDirectory(prefix="laif-bundle-") as tmp:
        out = Path(tmp) / "bundle.zip"
        try:
            built = ai.build(snap, chosen, db, out)
        except BadInput as exc:
            raise Refused(exc.message) from None
        content = out.read_bytes()
    with portal.session() as s:
        return AiActScope(s, caller).record_bundle(system_id, built, content, portal.settings)


def _bundle_bytes(request: Request, caller: Caller, bundle_id: int) -> tuple[bytes, str]:
    portal = portal_of(request)
    with portal.session() as s:
        row = AiActScope(s, caller).bundle(bundle_id)
        path, name = ai.bundle_path(portal.settings, row.organisation_id, row.id), row.filename
    if not path.is_file():
        raise NotFound(f"the file of bundle {bundle_id} is no longer kept")
    return path.read_bytes(), name


def _verify(request: Request, caller: Caller, content: bytes) -> tuple[ai.Checked, bool]:
    if not content:
        raise Refused(_("choose a bundle (a .zip file) to verify"))
    checked = ai.verify(content)
    with portal_of(request).session() as s:
        ours = AiActScope(s, caller).known_signer(checked.signer)
    return checked, ours


def _score(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


def _done(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value.strip())


# --- pages: systems -------------------------------------------------------------------------


@router.get("/aiact", response_class=HTMLResponse)
def index(request: Request, caller: CallerDep) -> Response:
    with portal_of(request).session() as s:
        scoped = AiActScope(s, caller)
        systems, bundles = scoped.systems(), scoped.bundles()
    names = {row.id: row.name for row in systems}
    return render(request, "aiact_index.html", {"caller": caller, "systems": systems, "bundles": bundles,
                                                "names": names})


@router.post("/aiact/systems")
def create_system(request: Request, caller: CallerDep, name: Annotated[str, Form()] = "") -> Response:
    with portal_of(request).session() as s:
        system_id = AiActScope(s, caller).create_system(name).id
    session_of(request).flash(_("Answer the questionnaire to qualify the system."))
    return _see_other(f"/aiact/systems/{system_id}/qualify")


@router.get("/aiact/systems/{system_id}", response_class=HTMLResponse)
def system_page(request: Request, caller: CallerDep, system_id: int) -> Response:
    with portal_of(request).session() as s:
        scoped = AiActScope(s, caller)
        row = scoped.system(system_id)
        bundles = scoped.bundles(system_id)
        answered = len(scoped.control_answers(system_id))
    _, runs = _org_runs(request, caller)
    return render(request, "aiact_system.html", {"caller": caller, "system": row, "result": row.result,
                                                 "bundles": bundles, "runs": runs, "answered": answered})


# --- pages: the questionnaire ------------------------------------------------------------------


def _form_values(form: Any) -> dict[str, list[str]]:
    known = {q["id"] for q in aiact.questions()}
    return {key: [str(v) for v in form.getlist(key)] for key in form if key in known}


def _qualify_page(request: Request, caller: Caller, row: AiSystem, values: dict[str, list[str]],
                  problems: list[str] | None = None, status: int = 200, fragment: bool = False,
                  uploaded: str | None = None) -> Response:
    context = {"caller": caller, "system": row, "q": ai.questionnaire(values, problems or []), "uploaded": uploaded}
    return render(request, "aiact_questions.html" if fragment else "aiact_qualify.html", context, status=status)


@router.get("/aiact/systems/{system_id}/qualify", response_class=HTMLResponse)
def qualify_page(request: Request, caller: CallerDep, system_id: int) -> Response:
    with portal_of(request).session() as s:
        row = AiActScope(s, caller).system(system_id)
    return _qualify_page(request, caller, row, ai.form_values(row.answers))


@router.post("/aiact/systems/{system_id}/qualify/form", response_class=HTMLResponse)
async def refresh_questions(request: Request, system_id: int) -> Response:
    """The questions that apply given the answers so far (HTMX swaps them in; without scripts, the page)."""
    form = await request.form()
    values = _form_values(form)
    return await _run(request, lambda caller, row: _qualify_page(
        request, caller, row, values, fragment=bool(request.headers.get("hx-request"))), system_id)


async def _run(request: Request, make: Callable[[Caller, AiSystem], Response], system_id: int) -> Response:
    """`make(caller, system)` in the thread pool, for the routes that read their form themselves."""

    def sync() -> Response:
        caller = page_caller(request)
        with portal_of(request).session() as s:
            row = AiActScope(s, caller).system(system_id)
        return make(caller, row)

    return await run_in_threadpool(sync)


@router.post("/aiact/systems/{system_id}/qualify")
async def qualify(request: Request, system_id: int) -> Response:
    form = await request.form()
    values = _form_values(form)

    def save(caller: Caller, row: AiSystem) -> Response:
        given = ai.form_answers(values)
        try:
            with portal_of(request).session() as s:
                risk = AiActScope(s, caller).qualify(system_id, given).risk_class
        except BadInput as exc:
            return _qualify_page(request, caller, row, values, ai.problems_of(exc), status=400)
        session_of(request).flash(_("Qualified: risk class %(risk)s.") % {"risk": risk})
        return _see_other(f"/aiact/systems/{system_id}")

    return await _run(request, save, system_id)


@router.post("/aiact/systems/{system_id}/answers", response_class=HTMLResponse)
def upload_answers(request: Request, caller: CallerDep, system_id: int,
                   file: Annotated[UploadFile | None, File()] = None) -> Response:
    """An answers file (as `laif qualify --save` writes) fills in the form; nothing is saved until
    the form is sent."""
    with portal_of(request).session() as s:
        row = AiActScope(s, caller).system(system_id)
    if file is None or not file.filename:
        raise Refused(_("choose an answers file (YAML) to upload"))
    try:
        values, problems = ai.read_answers_file(file.filename, file.file.read())
    except Refused as exc:  # not YAML, or not a mapping: said above the form as it was
        return _qualify_page(request, caller, row, ai.form_values(row.answers), [str(exc)], status=400)
    return _qualify_page(request, caller, row, values, problems, uploaded=safe_filename(file.filename))


@router.get("/aiact/systems/{system_id}/answers.yaml")
def download_answers(request: Request, caller: CallerDep, system_id: int) -> Response:
    with portal_of(request).session() as s:
        row = AiActScope(s, caller).system(system_id)
    if row.result is None:
        raise NotFound(f"system {system_id} is not qualified yet")
    return _download(ai.answers_yaml(row.answers).encode("utf-8"), f"{ai.slug(row.name)}-answers.yaml",
                     "application/yaml")


# --- pages: obligations and controls ----------------------------------------------------------------


@router.get("/aiact/systems/{system_id}/obligations", response_class=HTMLResponse)
def obligations_page(request: Request, caller: CallerDep, system_id: int, run: RunIds = []) -> Response:  # noqa: B006
    with portal_of(request).session() as s:
        row = AiActScope(s, caller).system(system_id)
    if row.result is None:
        raise Refused(_("qualify the system first: its obligations come from its qualification"))
    found, runs, chosen = _assess(request, caller, system_id, run)
    return render(request, "aiact_obligations.html", {"caller": caller, "system": row, "result": found.result,
                                                      "runs": runs, "chosen": chosen})


def _controls_context(request: Request, caller: Caller, system_id: int) -> dict[str, Any]:
    with portal_of(request).session() as s:
        scoped = AiActScope(s, caller)
        row = scoped.system(system_id)
        answers, files = scoped.control_answers(system_id), scoped.evidence_files(system_id)
    snap_answers = row.answers if row.result is not None else None
    with ai.materialised(ai.Snapshot(row.id, row.organisation_id, row.name, snap_answers, {}, {})) as inputs:
        try:
            needed = aiact.controls(qualification_file=inputs.qualification) if inputs.qualification else {}
        except BadInput as exc:
            raise Refused(exc.message) from None
    extra = {cid: ai.every_control()[cid] for cid in answers if cid not in needed and cid in ai.every_control()}
    return {"caller": caller, "system": row, "needed": needed, "extra": extra, "answers": answers, "files": files,
            "scale": ai.scale()}


@router.get("/aiact/systems/{system_id}/controls", response_class=HTMLResponse)
def controls_page(request: Request, caller: CallerDep, system_id: int) -> Response:
    return render(request, "aiact_controls.html", _controls_context(request, caller, system_id))


@router.post("/aiact/systems/{system_id}/controls/{control_id}")
def answer_control(request: Request, caller: CallerDep, system_id: int, control_id: str,
                   score: Annotated[str, Form()] = "", done: Annotated[str, Form()] = "",
                   note: Annotated[str, Form()] = "", file: Annotated[UploadFile | None, File()] = None) -> Response:
    attachment = None
    if file is not None and file.filename:
        attachment = (file.filename, file.file.read())  # the size limit was enforced before the body was read
    with portal_of(request).session() as s:
        AiActScope(s, caller).answer_control(system_id, control_id, score=_score(score), done=_done(done), note=note,
                                             attachment=attachment)
    session_of(request).flash(_("Your answer to %(control)s is saved.") % {"control": control_id})
    return _see_other(f"/aiact/systems/{system_id}/controls#control-{control_id}")


@router.get("/aiact/systems/{system_id}/files/{file_id}")
def download_evidence(request: Request, caller: CallerDep, system_id: int, file_id: int) -> Response:
    with portal_of(request).session() as s:
        row = AiActScope(s, caller).evidence_file(system_id, file_id)
        data, name = row.data, row.filename
    return _download(data, name)


@router.post("/aiact/systems/{system_id}/files/{file_id}/remove")
def remove_evidence(request: Request, caller: CallerDep, system_id: int, file_id: int) -> Response:
    with portal_of(request).session() as s:
        AiActScope(s, caller).remove_evidence(system_id, file_id)
    session_of(request).flash(_("The file is removed."))
    return _see_other(f"/aiact/systems/{system_id}/controls")


# --- pages: bundles -------------------------------------------------------------------------------


@router.post("/aiact/systems/{system_id}/bundles")
def build_bundle(request: Request, caller: CallerDep, system_id: int,
                 run: Annotated[list[str] | None, Form()] = None) -> Response:
    bundle = _build(request, caller, system_id, run or [])
    session_of(request).flash(_("Bundle %(name)s built: %(files)s files, signed.")
                              % {"name": bundle.filename, "files": bundle.files})
    return _see_other(f"/aiact/systems/{system_id}#bundles")


@router.get("/aiact/bundles/{bundle_id}/download")
def download_bundle(request: Request, caller: CallerDep, bundle_id: int) -> Response:
    data, name = _bundle_bytes(request, caller, bundle_id)
    return _download(data, name, "application/zip")


@router.post("/aiact/bundles/{bundle_id}/verify", response_class=HTMLResponse)
def verify_kept_bundle(request: Request, caller: CallerDep, bundle_id: int) -> Response:
    data, name = _bundle_bytes(request, caller, bundle_id)
    checked, ours = _verify(request, caller, data)
    return render(request, "aiact_verify.html", {"caller": caller, "checked": checked, "ours": ours, "name": name})


@router.get("/aiact/verify", response_class=HTMLResponse)
def verify_page(request: Request, caller: CallerDep) -> Response:
    return render(request, "aiact_verify.html", {"caller": caller, "checked": None, "ours": False, "name": None})


@router.post("/aiact/verify", response_class=HTMLResponse)
def verify_upload(request: Request, caller: CallerDep, file: Annotated[UploadFile | None, File()] = None) -> Response:
    content = file.file.read() if file is not None and file.filename else b""
    checked, ours = _verify(request, caller, content)
    name = safe_filename(file.filename) if file is not None and file.filename else None
    return render(request, "aiact_verify.html", {"caller": caller, "checked": checked, "ours": ours, "name": name})


# --- the JSON API ---------------------------------------------------------------------------------


class SystemIn(BaseModel):
    name: str = Field(min_length=1, max_length=ai.MAX_NAME)


class SystemOut(BaseModel):
    id: int
    name: str
    risk_class: str | None
    qualified_on: str | None
    #: The answers file's content: question id -> answer (what `laif qualify --answers` reads).
    answers: dict[str, Any]
    #: What `laif qualify --json` gives; None until qualified.
    qualification: dict[str, Any] | None = None


class AnswersIn(BaseModel):
    answers: dict[str, Any] = Field(description="question id -> answer, as in an answers file of laif qualify")


class ControlIn(BaseModel):
    score: int | None = Field(None, ge=1, le=5)
    done: bool | None = None
    note: str = Field("", max_length=ai.MAX_NOTE)


class BundleIn(BaseModel):
    run_ids: list[str] = Field(default_factory=list, description="runs of your organisation (default: the latest "
                                                                 "complete run of each suite)")


class BundleOut(BaseModel):
    id: int
    system_id: int
    filename: str
    size: int
    sha256: str
    signer: str
    files: int
    run_ids: list[str]
    summary: dict[str, Any]
    created_at: str
    download: str


def _system_out(row: AiSystem, full: bool = True) -> SystemOut:
    return SystemOut(id=row.id, name=row.name, risk_class=row.risk_class,
                     qualified_on=row.qualified_on.isoformat() if row.qualified_on else None,
                     answers=dict(row.answers or {}), qualification=row.result if full else None)


def _bundle_out(row: AiBundle) -> BundleOut:
    return BundleOut(id=row.id, system_id=row.system_id, filename=row.filename, size=row.size, sha256=row.sha256,
                     signer=row.signer, files=row.files, run_ids=[str(r) for r in row.run_ids],
                     summary=dict(row.summary), created_at=row.created_at.isoformat(),
                     download=f"/api/v1/aiact/bundles/{row.id}/download")


@api.get("/aiact/questions")
def api_questions(caller: ApiCaller) -> list[dict[str, Any]]:
    """The qualification questions with their stable ids (as `laif qualify questions --json`)."""
    return aiact.questions()


@api.get("/aiact/systems")
def api_systems(request: Request, caller: ApiCaller) -> list[SystemOut]:
    with portal_of(request).session() as s:
        return [_system_out(row, full=False) for row in AiActScope(s, caller).systems()]


@api.post("/aiact/systems", status_code=201)
def api_create_system(request: Request, caller: ApiCaller, body: SystemIn) -> SystemOut:
    with portal_of(request).session() as s:
        return _system_out(AiActScope(s, caller).create_system(body.name))


@api.get("/aiact/systems/{system_id}")
def api_system(request: Request, caller: ApiCaller, system_id: int) -> SystemOut:
    with portal_of(request).session() as s:
        return _system_out(AiActScope(s, caller).system(system_id))


@api.put("/aiact/systems/{system_id}/answers", response_model=None)
def api_qualify(request: Request, caller: ApiCaller, system_id: int, body: AnswersIn) -> SystemOut | JSONResponse:
    """Qualify the system with these answers; 400 lists every problem with its question id."""
    try:
        with portal_of(request).session() as s:
            return _system_out(AiActScope(s, caller).qualify(system_id, body.answers))
    except BadInput as exc:
        problems = ai.problems_of(exc)
        return JSONResponse({"error": "; ".join(problems), "problems": problems}, status_code=400)


@api.get("/aiact/systems/{system_id}/answers.yaml")
def api_answers_file(request: Request, caller: ApiCaller, system_id: int) -> Response:
    """The answers file, for `laif qualify --answers`."""
    return download_answers(request, caller, system_id)


@api.get("/aiact/systems/{system_id}/obligations")
def api_obligations(request: Request, caller: ApiCaller, system_id: int, run: RunIds = []) -> dict[str, Any]:  # noqa: B006
    """The verdicts per obligation (what `laif obligations --json` prints), on the runs named by
    `?run=` (default: the latest complete run of each suite) and the controls answered."""
    with portal_of(request).session() as s:
        row = AiActScope(s, caller).system(system_id)
    if row.result is None:
        raise Refused("qualify the system first: its obligations come from its qualification")
    found, _runs, _chosen = _assess(request, caller, system_id, run)
    return found.result


@api.get("/aiact/systems/{system_id}/controls")
def api_controls(request: Request, caller: ApiCaller, system_id: int) -> dict[str, Any]:
    """The controls the system's obligations need, and every answer given with its files."""
    context = _controls_context(request, caller, system_id)
    answers = {cid: {"score": a.score, "done": a.done, "note": a.note, "answered_by": a.answered_by,
                     "files": [{"id": f.id, "name": f.filename, "bytes": f.size, "sha256": f.sha256}
                               for f in context["files"].get(cid, [])]}
               for cid, a in context["answers"].items()}
    return {"needed": context["needed"], "answers": answers}


@api.put("/aiact/systems/{system_id}/controls/{control_id}")
def api_answer_control(request: Request, caller: ApiCaller, system_id: int, control_id: str,
                       body: ControlIn) -> dict[str, Any]:
    with portal_of(request).session() as s:
        a = AiActScope(s, caller).answer_control(system_id, control_id, score=body.score, done=body.done,
                                                 note=body.note)
        return {"control": control_id, "score": a.score, "done": a.done, "note": a.note}


@api.post("/aiact/systems/{system_id}/controls/{control_id}/files", status_code=201)
def api_upload_evidence(request: Request, caller: ApiCaller, system_id: int, control_id: str,
                        file: Annotated[UploadFile, File()]) -> dict[str, Any]:
    """Attach an evidence file to an answered control (multipart, field `file`)."""
    with portal_of(request).session() as s:
        scoped = AiActScope(s, caller)
        answer = scoped.control_answers(system_id).get(control_id)
        if answer is None:
            raise Refused(f"answer the control {control_id} first, then attach its evidence")
        scoped.answer_control(system_id, control_id, score=answer.score, done=answer.done, note=answer.note,
                              attachment=(file.filename or "file", file.file.read()))
        files = scoped.evidence_files(system_id).get(control_id, [])
        return {"control": control_id, "files": [{"id": f.id, "name": f.filename, "bytes": f.size,
                                                  "sha256": f.sha256} for f in files]}


@api.get("/aiact/systems/{system_id}/files/{file_id}")
def api_download_evidence(request: Request, caller: ApiCaller, system_id: int, file_id: int) -> Response:
    return download_evidence(request, caller, system_id, file_id)


@api.get("/aiact/systems/{system_id}/bundles")
def api_bundles(request: Request, caller: ApiCaller, system_id: int) -> list[BundleOut]:
    with portal_of(request).session() as s:
        return [_bundle_out(b) for b in AiActScope(s, caller).bundles(system_id)]


@api.post("/aiact/systems/{system_id}/bundles", status_code=201)
def api_build_bundle(request: Request, caller: ApiCaller, system_id: int, body: BundleIn) -> BundleOut:
    """Build the system's signed evidence bundle from the organisation's runs."""
    return _bundle_out(_build(request, caller, system_id, body.run_ids))


@api.get("/aiact/bundles/{bundle_id}")
def api_bundle(request: Request, caller: ApiCaller, bundle_id: int) -> BundleOut:
    with portal_of(request).session() as s:
        return _bundle_out(AiActScope(s, caller).bundle(bundle_id))


@api.get("/aiact/bundles/{bundle_id}/download")
def api_download_bundle(request: Request, caller: ApiCaller, bundle_id: int) -> Response:
    data, name = _bundle_bytes(request, caller, bundle_id)
    return _download(data, name, "application/zip")


@api.post("/aiact/verify")
def api_verify(request: Request, caller: ApiCaller, file: Annotated[UploadFile, File()]) -> dict[str, Any]:
    """Verify a bundle (multipart, field `file`): its signature and every file's SHA-256."""
    checked, ours = _verify(request, caller, file.file.read())
    return checked.as_dict() | {"signed_by_this_portal": ours}
