"""The sandbox pages of the portal (and their JSON API under /api/v1): systems under test, new
assessments (options or an uploaded sandbox spec) put in the job queue, a job's live progress,
its report and files, the organisation's leaderboard, and two runs side by side.

Domain logic lives in `laif.services` and the job backend (`laif.portal.jobs`); these routes
only read forms, call them through the scoped query layer (`JobsScope`), and render. An
organisation's runs live in its own run store (`run_db`), so another organisation's run ids
are simply not there (404).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from laif.core.figures import find_figures
from laif.core.suite import Metric
from laif.errors import LaifError
from laif.portal.api import ApiCaller
from laif.portal.i18n import gettext as _
from laif.portal.jobs import Job, JobsScope, SystemUnderTest, job_dir, run_db
from laif.portal.jobs_tables import FINISHED
from laif.portal.render import page_caller, portal_of, render, session_of
from laif.portal.scope import Caller, NotFound, Refused
from laif.portal.settings import PortalSettings
from laif.reports.suites import metrics_of, suite_look
from laif.runner.answer_modes import ANSWER_MODES
from laif.services.leaderboard import Leaderboard, describe_suites, leaderboard
from laif.services.progress import ProgressEvent, sse
from laif.store import Store
from laif.store.db import shared

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["sandbox"])
CallerDep = Annotated[Caller, Depends(page_caller)]

#: How often the events stream looks at the job, and how long it stays quiet before a keep-alive.
EVENTS_POLL_S = 0.5
KEEPALIVE_S = 15.0
#: One part of a job file's path: letters, digits, `._-`, not starting with a dot.
SAFE_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,199}")
#: What a job's files are served as; anything else is a download of opaque bytes.
FILE_TYPES = {".html": "text/html; charset=utf-8", ".json": "application/json", ".png": "image/png",
              ".svg": "image/svg+xml", ".csv": "text/csv; charset=utf-8", ".txt": "text/plain; charset=utf-8",
              ".jsonl": "application/x-ndjson", ".md": "text/plain; charset=utf-8"}
#: A job's files are our reports, but they quote a model's answers: no script runs in them, in an
#: opaque origin (sandbox), with their own inline styles only.
FILE_CSP = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")


# --- what the pages and the API share ---------------------------------------------------------
def _settings(request: Request) -> PortalSettings:
    return portal_of(request).settings


def _scope(request: Request, s: Session, caller: Caller) -> JobsScope:
    return JobsScope(s, caller, _settings(request))


@dataclass(frozen=True)
class SuiteChoice:
    name: str
    title: str
    languages: list[str]


@cache
def suite_choices() -> tuple[SuiteChoice, ...]:
    """The installed suites, described once per process (loading them reads their libraries)."""
    return tuple(SuiteChoice(d["name"], suite_look(d["name"]).title, list(d.get("languages") or []))
                 for d in describe_suites())


def _languages() -> list[str]:
    return list(dict.fromkeys(lang for s in suite_choices() for lang in s.languages))


def _parse_limit(text: str | None) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= 100000:
        raise Refused(_("the limit is a whole number from 1 to 100000, or empty for every test"))
    return int(text)


def _submit(scope: JobsScope, *, system_id: int | None, suites: list[str], languages: list[str],
            limit: int | None, answer_modes: list[str]) -> Job:
    """Queue the job (the scope checks the choices against the installed suites)."""
    try:
        return scope.submit(system_id=system_id, suites=suites, languages=languages, limit=limit,
                            answer_modes=answer_modes or ["free"])
    except LaifError as exc:
        raise Refused(exc.message) from None


def _submit_spec(scope: JobsScope, text: str, filename: str) -> Job:
    if not text.strip():
        raise Refused(_("the sandbox spec {name} is empty").format(name=filename))
    try:
        return scope.submit_spec(text, filename)
    except LaifError as exc:
        raise Refused(exc.message) from None


def _job_file(settings: PortalSettings, job: Job, name: str) -> Path:
    """A file the job wrote into its folder, by its path there; NotFound for anything else
    (a name with `..`, a leading dot or a backslash, a link out of the folder, a folder)."""
    parts = name.split("/")
    if len(parts) > 4 or not all(SAFE_PART.fullmatch(p) and ".." not in p for p in parts):
        raise NotFound(_("no file {name} in job {job}").format(name=name, job=job.id))
    base = job_dir(settings, job).resolve()
    path = (base / name).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        raise NotFound(_("no file {name} in job {job}").format(name=name, job=job.id))
    return path


def _reports(settings: PortalSettings, job: Job) -> list[str]:
    """The run reports a job wrote, by their path in its folder (one per suite and answer mode)."""
    base = job_dir(settings, job)
    if not base.is_dir():
        return []
    found = sorted(p.relative_to(base).as_posix() for p in base.rglob("report.html") if p.is_file())
    return [name for name in found if len(name.split("/")) <= 4]


def _events_of(job: Job) -> ProgressEvent:
    return ProgressEvent(job.stage or job.status, job.done, job.total, job.message or "")


@contextmanager
def _run_store(settings: PortalSettings, caller: Caller) -> Iterator[Store]:
    """The organisation's own run store, closed after use."""
    store = Store(run_db(settings, caller.organisation_id))
    try:
        yield store
    finally:
        store.engine.dispose()


# --- the leaderboard and the comparison ------------------------------------------------------
def _board(settings: PortalSettings, caller: Caller, suite: str, answer_mode: str) -> Leaderboard:
    if suite != "all" and suite not in {s.name for s in suite_choices()}:
        raise Refused(_("unknown suite {name}").format(name=suite))
    try:
        # The organisation's run store, one per process: a store per page would open an engine and
        # check its migrations on every view.
        return leaderboard(suite, answer_mode, store=shared(Store, run_db(settings, caller.organisation_id)))
    except LaifError as exc:
        raise Refused(exc.message) from None


@dataclass(frozen=True)
class Compared:
    """One figure of two runs: its title, each run's value as the reports write it, the difference."""

    title: str
    a: str
    b: str
    difference: str
    better: str  # "a", "b" or "" (equal, unknown, or no direction)


def _value(summary: dict[str, Any], path: str) -> float | None:
    found = find_figures(summary, path)
    return found[0].value if found else None


def _difference(metric: Metric, a: float | None, b: float | None) -> tuple[str, str]:
    if a is None or b is None:
        return "–", ""
    delta = b - a
    unit = " pts" if metric.unit in ("percent", "points") else ""
    text = f"{delta:+.1f}{unit}" if metric.format_spec != "d" else f"{int(round(delta)):+d}"
    if delta == 0 or metric.direction is None:
        return text, ""
    return text, ("b" if (delta > 0) == (metric.direction == "higher") else "a")


def compare_runs(settings: PortalSettings, caller: Caller, a: str, b: str) -> dict[str, Any]:
    """Two runs of the organisation's store, of one suite: each declared metric (and each
    category's score) with both values and the difference, b minus a."""
    runs = []
    with _run_store(settings, caller) as store:
        for run_id in (a, b):
            row = store.get_run(run_id.strip()) if run_id.strip() else None
            if row is None:
                raise NotFound(_("no run {run} in your organisation's runs").format(run=run_id[:64]))
            runs.append(row)
    first, second = runs
    if first.suite != second.suite:
        raise Refused(_("run {a} is of the suite {sa} and run {b} of {sb}: compare two runs of one suite").format(
            a=first.id, sa=first.suite, b=second.id, sb=second.suite))
    sa, sb = first.summary or {}, second.summary or {}
    rows: list[Compared] = []
    for metric in metrics_of(first.suite, sa):
        if not metric.path:
            continue
        va, vb = _value(sa, metric.path), _value(sb, metric.path)
        rows.append(Compared(metric.title, metric.format(va), metric.format(vb), *_difference(metric, va, vb)))
    category = Metric("categories.*", "category")
    for name in dict.fromkeys([*(sa.get("categories") or {}), *(sb.get("categories") or {})]):
        va, vb = _value(sa, f"categories.{name}"), _value(sb, f"categories.{name}")
        rows.append(Compared(name, category.format(va), category.format(vb), *_difference(category, va, vb)))
    return {"a": first, "b": second, "rows": rows}


def _run_label(run: Any) -> str:
    mode = (run.summary or {}).get("answer_mode", "free")
    return f"{run.suite} · {run.model_name} · {mode} · {run.created_at:%Y-%m-%d %H:%M}"


# --- pages ---------------------------------------------------------------------------------
def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/sandbox", response_class=HTMLResponse)
def sandbox_page(request: Request, caller: CallerDep) -> Response:
    with portal_of(request).session() as s:
        scope = _scope(request, s, caller)
        systems = scope.systems()
        jobs = scope.jobs()[:25]
    return render(request, "sandbox_home.html", {
        "caller": caller, "systems": systems, "names": {x.id: x.name for x in systems}, "jobs": jobs,
        "suites": suite_choices(), "languages": _languages(), "answer_modes": ANSWER_MODES})


@router.post("/sandbox/jobs")
def submit_page(request: Request, caller: CallerDep, system: Annotated[str, Form()] = "",
                suites: Annotated[list[str] | None, Form()] = None,
                languages: Annotated[list[str] | None, Form()] = None,
                limit: Annotated[str, Form()] = "",
                answer_modes: Annotated[list[str] | None, Form()] = None) -> Response:
    if system and not system.isdigit():
        raise Refused(_("choose a system under test from the list"))
    with portal_of(request).session() as s:
        job = _submit(_scope(request, s, caller), system_id=int(system) if system else None, suites=suites or [],
                      languages=languages or [], limit=_parse_limit(limit), answer_modes=answer_modes or [])
        job_id = job.id
    session_of(request).flash(_("The assessment is in the queue as job {job}.").format(job=job_id))
    return _see_other(f"/sandbox/jobs/{job_id}")


@router.post("/sandbox/specs")
def submit_spec_page(request: Request, caller: CallerDep, spec: Annotated[UploadFile | None, File()] = None) -> Response:
    if spec is None or not spec.filename:
        raise Refused(_("choose a sandbox spec file (YAML) to upload"))
    data = spec.file.read()  # the size limit was enforced before the body was read
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(_("the sandbox spec {name} is not UTF-8 text").format(name=spec.filename)) from None
    with portal_of(request).session() as s:
        job_id = _submit_spec(_scope(request, s, caller), text, spec.filename).id
    session_of(request).flash(_("The sandbox spec is in the queue as job {job}.").format(job=job_id))
    return _see_other(f"/sandbox/jobs/{job_id}")


@router.get("/sandbox/systems", response_class=HTMLResponse)
def systems_page(request: Request, caller: CallerDep) -> Response:
    with portal_of(request).session() as s:
        systems = _scope(request, s, caller).systems()
    return render(request, "sandbox_systems.html", {"caller": caller, "systems": systems})


@router.post("/sandbox/systems")
def register_page(request: Request, caller: CallerDep, name: Annotated[str, Form()] = "",
                  base_url: Annotated[str, Form()] = "", model: Annotated[str, Form()] = "",
                  api_key: Annotated[str, Form()] = "") -> Response:
    with portal_of(request).session() as s:
        system = _scope(request, s, caller).register_system(name, base_url, model, api_key or None)
        label = system.name
    session_of(request).flash(_("The system {name} is registered.").format(name=label))
    return _see_other("/sandbox/systems")


@router.post("/sandbox/systems/{system_id}/remove")
def remove_page(request: Request, caller: CallerDep, system_id: int) -> Response:
    with portal_of(request).session() as s:
        scope = _scope(request, s, caller)
        label = scope.system(system_id).name
        scope.remove_system(system_id)
    session_of(request).flash(_("The system {name} is removed.").format(name=label))
    return _see_other("/sandbox/systems")


def _job_context(request: Request, caller: Caller, job_id: int) -> dict[str, Any]:
    with portal_of(request).session() as s:
        scope = _scope(request, s, caller)
        job = scope.job(job_id)
        system = None
        if job.system_id is not None:
            try:
                system = scope.system(job.system_id)
            except NotFound:  # removed since, or another organisation's (an operator looking)
                system = None
    reports = _reports(_settings(request), job) if job.status in FINISHED else []
    return {"caller": caller, "job": job, "system": system, "finished": job.status in FINISHED,
            "reports": reports, "params": job.params or {}}


@router.get("/sandbox/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, caller: CallerDep, job_id: int) -> Response:
    return render(request, "sandbox_job.html", _job_context(request, caller, job_id))


@router.get("/sandbox/jobs/{job_id}/progress", response_class=HTMLResponse)
def job_progress(request: Request, caller: CallerDep, job_id: int) -> Response:
    """The live part of the job page, polled by HTMX; 286 (HTMX: stop polling) once the job ended."""
    context = _job_context(request, caller, job_id)
    return render(request, "sandbox_progress.html", context, status=286 if context["finished"] else 200)


@router.post("/sandbox/jobs/{job_id}/cancel")
def cancel_page(request: Request, caller: CallerDep, job_id: int) -> Response:
    with portal_of(request).session() as s:
        _scope(request, s, caller).cancel(job_id)
    session_of(request).flash(_("Cancelling job {job}: it stops after the answer it is waiting for.").format(job=job_id))
    return _see_other(f"/sandbox/jobs/{job_id}")


@router.get("/sandbox/jobs/{job_id}/report")
def report_page(request: Request, caller: CallerDep, job_id: int) -> Response:
    """The job's run report, served from its folder (so that its relative links reach its files);
    several reports (several suites or answer modes) are listed."""
    context = _job_context(request, caller, job_id)
    reports = _reports(_settings(request), context["job"])
    if not reports:
        raise NotFound(_("job {job} has written no report (yet)").format(job=job_id))
    if len(reports) == 1 or "report.html" in reports:
        return _see_other(f"/sandbox/jobs/{job_id}/files/{reports[0] if len(reports) == 1 else 'report.html'}")
    return render(request, "sandbox_reports.html", context)


@router.get("/sandbox/jobs/{job_id}/files/{name:path}")
def job_file(request: Request, caller: CallerDep, job_id: int, name: str) -> Response:
    """One file of the job's folder: reports shown in a sandbox without scripts, data as is,
    anything else as a download."""
    with portal_of(request).session() as s:
        job = _scope(request, s, caller).job(job_id)
    path = _job_file(_settings(request), job, name)
    media = FILE_TYPES.get(path.suffix.lower())
    headers = {"content-security-policy": FILE_CSP, "x-content-type-options": "nosniff", "cache-control": "no-store"}
    if media is None:
        headers["content-disposition"] = f'attachment; filename="{path.name}"'
    return Response(path.read_bytes(), media_type=media or "application/octet-stream", headers=headers)


@router.get("/sandbox/leaderboard", response_class=HTMLResponse)
def leaderboard_page(request: Request, caller: CallerDep, suite: str = "bias", answer_mode: str = "free") -> Response:
    board = _board(_settings(request), caller, suite, answer_mode)
    return render(request, "sandbox_leaderboard.html", {
        "caller": caller, "board": board, "suite": suite, "answer_mode": answer_mode,
        "suites": suite_choices(), "answer_modes": (*ANSWER_MODES, "all")})


@router.get("/sandbox/compare", response_class=HTMLResponse)
def compare_page(request: Request, caller: CallerDep, a: str = "", b: str = "") -> Response:
    settings = _settings(request)
    compared = compare_runs(settings, caller, a, b) if a or b else None
    with _run_store(settings, caller) as store:
        runs = sorted(store.runs(), key=lambda r: r.created_at, reverse=True)[:200]
    return render(request, "sandbox_compare.html", {
        "caller": caller, "compared": compared, "runs": [(r.id, _run_label(r)) for r in runs], "a": a, "b": b})


# --- the JSON API --------------------------------------------------------------------------
class SystemIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="How the organisation calls the system")
    base_url: str = Field(min_length=1, max_length=500, description="The OpenAI-compatible endpoint, e.g. https://llm.example.lu/v1")
    model: str = Field(min_length=1, max_length=200, description="The model name the endpoint serves")
    api_key: str | None = Field(None, max_length=2000,
                                description="The endpoint's key; stored encrypted, never returned")


class SystemOut(BaseModel):
    id: int
    name: str
    base_url: str
    model: str
    has_key: bool = Field(description="A key is stored (the key itself is never returned)")
    created_at: datetime


class JobIn(BaseModel):
    system_id: int | None = Field(None, description="A system from GET /api/v1/systems; none: the embedded model")
    suites: list[str] = Field(default_factory=lambda: ["bias"], description="Suite names (GET /api/v1/suites)")
    languages: list[str] = Field(default_factory=lambda: ["en"])
    limit: int | None = Field(None, ge=1, le=100000, description="Templates per category and language; none: all")
    answer_modes: list[str] = Field(default_factory=lambda: ["free"], description="free, constrained, likelihood")
    spec: str | None = Field(None, max_length=1_000_000,
                             description="A sandbox spec (YAML text); when given, the other fields are ignored")
    spec_name: str = Field("spec.yaml", max_length=200, description="The spec's file name, for messages")


class JobOut(BaseModel):
    id: int
    kind: str = Field(description="options or spec")
    status: str = Field(description="queued, running, done, failed or cancelled")
    finished: bool
    system_id: int | None
    params: dict[str, Any]
    stage: str | None
    done: int | None
    total: int | None
    message: str | None
    run_ids: list[str]
    verdict: dict[str, Any] | None = Field(None, description="Once done: for a spec, {passed, gates} (each threshold "
                                           "measured); for an assessment by options, {runs} with each run's mean")
    passed: bool | None = Field(None, description="A spec's verdict: every threshold met (none until measured, "
                                                  "and for an assessment by options)")
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    cancel_requested: bool
    report: str | None = Field(None, description="The report's page, once written")


class SuiteOut(BaseModel):
    name: str
    title: str
    languages: list[str]


class RunOut(BaseModel):
    id: str
    suite: str
    model: str
    answer_mode: str
    created: datetime | None
    status: str
    job_id: int | None


class MetricOut(BaseModel):
    path: str
    title: str
    direction: str | None
    unit: str


class LeaderboardOut(BaseModel):
    suite: str = Field(description="The suite, or all: the mean score of each suite")
    title: str
    categories: list[str] = Field(description="The columns: the suite's categories (the suites, for all)")
    rows: list[dict[str, Any]] = Field(description="One per model, best mean first: model, run_id, categories, "
                                                   "intervals, mean, answer_mode, figures of the metrics")
    metrics: list[MetricOut]


class ComparedOut(BaseModel):
    title: str
    a: str
    b: str
    difference: str
    better: str = Field(description="a, b, or empty when equal, unknown or without a direction")


class ComparisonOut(BaseModel):
    a: str
    b: str
    suite: str
    rows: list[ComparedOut]


def _system_out(row: SystemUnderTest) -> SystemOut:
    return SystemOut(id=row.id, name=row.name, base_url=row.base_url, model=row.model, has_key=row.has_key,
                     created_at=row.created_at)


def _job_out(settings: PortalSettings, job: Job) -> JobOut:
    finished = job.status in FINISHED
    report = f"/sandbox/jobs/{job.id}/report" if finished and _reports(settings, job) else None
    return JobOut(id=job.id, kind=job.kind, status=job.status, finished=finished, system_id=job.system_id,
                  params=job.params or {}, stage=job.stage, done=job.done, total=job.total, message=job.message,
                  run_ids=list(job.run_ids or []), verdict=job.verdict,
                  passed=(job.verdict or {}).get("passed") if job.kind == "spec" else None, error=job.error,
                  created_at=job.created_at,
                  started_at=job.started_at, finished_at=job.finished_at, cancel_requested=bool(job.cancel_requested),
                  report=report)


@api.get("/suites", summary="The installed suites")
def api_suites(caller: ApiCaller) -> list[SuiteOut]:
    return [SuiteOut(name=s.name, title=s.title, languages=s.languages) for s in suite_choices()]


@api.get("/systems", summary="The organisation's systems under test")
def api_systems(request: Request, caller: ApiCaller) -> list[SystemOut]:
    with portal_of(request).session() as s:
        return [_system_out(x) for x in _scope(request, s, caller).systems()]


@api.post("/systems", status_code=201, summary="Register a system under test (its key stored encrypted)")
def api_register(request: Request, caller: ApiCaller, body: SystemIn) -> SystemOut:
    with portal_of(request).session() as s:
        return _system_out(_scope(request, s, caller).register_system(body.name, body.base_url, body.model, body.api_key))


@api.get("/systems/{system_id}", summary="One system under test")
def api_system(request: Request, caller: ApiCaller, system_id: int) -> SystemOut:
    with portal_of(request).session() as s:
        return _system_out(_scope(request, s, caller).system(system_id))


@api.delete("/systems/{system_id}", status_code=204, summary="Remove a system under test and its key")
def api_remove(request: Request, caller: ApiCaller, system_id: int) -> Response:
    with portal_of(request).session() as s:
        _scope(request, s, caller).remove_system(system_id)
    return Response(status_code=204)


@api.get("/jobs", summary="The organisation's jobs, newest first")
def api_jobs(request: Request, caller: ApiCaller, status: str | None = None) -> list[JobOut]:
    settings = _settings(request)
    with portal_of(request).session() as s:
        return [_job_out(settings, job) for job in _scope(request, s, caller).jobs(status=status)]


@api.post("/jobs", status_code=201, summary="Submit an assessment (options or a sandbox spec) to the job queue")
def api_submit(request: Request, caller: ApiCaller, body: JobIn) -> JobOut:
    with portal_of(request).session() as s:
        scope = _scope(request, s, caller)
        if body.spec is not None:
            job = _submit_spec(scope, body.spec, body.spec_name)
        else:
            job = _submit(scope, system_id=body.system_id, suites=body.suites, languages=body.languages,
                          limit=body.limit, answer_modes=body.answer_modes)
        s.flush()
        return _job_out(_settings(request), job)


@api.get("/jobs/{job_id}", summary="A job: status, progress, run ids and verdict")
def api_job(request: Request, caller: ApiCaller, job_id: int) -> JobOut:
    with portal_of(request).session() as s:
        return _job_out(_settings(request), _scope(request, s, caller).job(job_id))


@api.post("/jobs/{job_id}/cancel", summary="Cancel a queued or running job")
def api_cancel(request: Request, caller: ApiCaller, job_id: int) -> JobOut:
    with portal_of(request).session() as s:
        return _job_out(_settings(request), _scope(request, s, caller).cancel(job_id))


def _read_job(request: Request, caller: Caller, job_id: int) -> Job:
    with portal_of(request).session() as s:
        return _scope(request, s, caller).job(job_id)


async def _events(request: Request, caller: Caller, job: Job) -> AsyncIterator[str]:
    """`progress` events (laif.services.progress.sse) whenever the job moves, then one `end` event
    with the job's final state; a comment now and then keeps proxies from closing a quiet stream."""
    last: ProgressEvent | None = None
    quiet = 0.0
    while True:
        event = _events_of(job)
        if event != last:
            yield sse(event)
            last, quiet = event, 0.0
        elif quiet >= KEEPALIVE_S:
            yield ": still running\n\n"
            quiet = 0.0
        if job.status in FINISHED:
            final = {"id": job.id, "status": job.status, "run_ids": list(job.run_ids or []), "verdict": job.verdict,
                     "passed": (job.verdict or {}).get("passed") if job.kind == "spec" else None, "error": job.error}
            yield f"event: end\ndata: {json.dumps(final, ensure_ascii=False, default=str)}\n\n"
            return
        if await request.is_disconnected():
            return
        await asyncio.sleep(EVENTS_POLL_S)
        quiet += EVENTS_POLL_S
        job = await run_in_threadpool(_read_job, request, caller, job.id)


@api.get("/jobs/{job_id}/events", summary="A job's progress as server-sent events, until it ends",
         response_class=StreamingResponse,
         responses={200: {"content": {"text/event-stream": {}},
                          "description": "`event: progress` with {stage, done, total, message, heading} as data, "
                                         "whenever the job moves; then `event: end` with {id, status, run_ids, verdict, error}"}})
def api_events(request: Request, caller: ApiCaller, job_id: int) -> StreamingResponse:
    job = _read_job(request, caller, job_id)  # 404 here, before the stream starts
    return StreamingResponse(_events(request, caller, job), media_type="text/event-stream",
                             headers={"cache-control": "no-store", "x-accel-buffering": "no"})


@api.get("/runs", summary="The organisation's stored runs")
def api_runs(request: Request, caller: ApiCaller) -> list[RunOut]:
    with portal_of(request).session() as s:
        rows = _scope(request, s, caller).runs()
    return [RunOut(id=str(r["id"]), suite=str(r["suite"]), model=str(r["model"]), answer_mode=str(r["answer_mode"]),
                   created=r.get("created"), status=str(r["status"]), job_id=r.get("job_id")) for r in rows]


@api.get("/leaderboard", summary="The organisation's leaderboard of a suite")
def api_leaderboard(request: Request, caller: ApiCaller, suite: str = "bias",
                    answer_mode: Annotated[str, Query(description="free, constrained, likelihood or all")] = "free",
                    ) -> LeaderboardOut:
    board = _board(_settings(request), caller, suite, answer_mode)
    return LeaderboardOut(suite=board.suite, title=board.title, categories=board.categories, rows=board.rows,
                          metrics=[MetricOut(path=m.path, title=m.title, direction=m.direction, unit=m.unit)
                                   for m in board.metrics])


@api.get("/compare", summary="Two of the organisation's runs of one suite side by side")
def api_compare(request: Request, caller: ApiCaller, a: str, b: str) -> ComparisonOut:
    found = compare_runs(_settings(request), caller, a, b)
    return ComparisonOut(a=found["a"].id, b=found["b"].id, suite=found["a"].suite,
                         rows=[ComparedOut(**vars(r)) for r in found["rows"]])
