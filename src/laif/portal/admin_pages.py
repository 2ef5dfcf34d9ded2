"""The admin pages of the portal (and their JSON API under /api/v1/admin): a health page, users
(deactivate, reactivate, change a membership's role), organisations, the audit log (in
pages.py) and the job queue of every organisation.

Platform admins see all of it; sandbox operators see the health page and the job queue; anyone
else gets 403 on every page and action, and nothing is written. Every change goes through
`AdminScope` (or `JobsScope` for jobs), which writes an audit entry with it.
"""

from __future__ import annotations

import platform
import shutil
import time
from datetime import timedelta
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import delete, distinct, func, select, text
from sqlalchemy.orm import Session

from laif import __version__
from laif.portal import migrate
from laif.portal.api import ApiCaller
from laif.portal.core import Portal
from laif.portal.i18n import gettext as _
from laif.portal.jobs import STALE_AFTER_S, JobsScope
from laif.portal.jobs_tables import Job, JobStatus
from laif.portal.render import page_caller, portal_of, render, session_of
from laif.portal.scope import Caller, Forbidden, NotFound, Refused, Scoped
from laif.portal.tables import Account, Membership, Organisation, Role, WebSession, now

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["admin"])
CallerDep = Annotated[Caller, Depends(page_caller)]

#: Who may open the admin area at all (the health page and the job queue).
ADMIN_AREA = (Role.platform_admin, Role.sandbox_operator)
#: The kinds of organisation (as the create form offers them).
KINDS = ("sme", "data_holder", "authority", "factory")
#: The packages whose versions the health page shows.
PACKAGES = ("fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic", "jinja2", "pydantic")


class AdminScope(Scoped):
    """Accounts, memberships and organisations, as platform admins see and change them."""

    def require_area(self) -> None:
        if self.caller.role not in ADMIN_AREA:
            raise Forbidden(_("this needs the role Platform admin or Sandbox operator"))

    def require_admin(self) -> None:
        if self.caller.role is not Role.platform_admin:
            raise Forbidden(_("this needs the role Platform admin"))

    # --- accounts ---------------------------------------------------------------------
    def accounts(self) -> list[tuple[Account, list[tuple[Membership, str]]]]:
        """Every account with its memberships (and their organisations' names), by e-mail."""
        self.require_admin()
        accounts = list(self.s.scalars(select(Account).order_by(Account.email)))
        rows = self.s.execute(select(Membership, Organisation.name).join(
            Organisation, Organisation.id == Membership.organisation_id).order_by(Organisation.name, Membership.id)).all()
        by_account: dict[int, list[tuple[Membership, str]]] = {}
        for membership, name in rows:
            by_account.setdefault(membership.account_id, []).append((membership, name))
        return [(a, by_account.get(a.id, [])) for a in accounts]

    def account(self, account_id: int) -> Account:
        self.require_admin()
        found = self.s.get(Account, account_id)
        if found is None:
            raise NotFound(_("no account {id}").format(id=account_id))
        return found

    def set_active(self, account_id: int, active: bool) -> Account:
        """Deactivate an account (its sessions end and its tokens stop working at once) or make it
        active again. Nobody deactivates their own account, nor the last active platform admin."""
        account = self.account(account_id)
        if account.active == active:
            return account
        if not active:
            if account.id == self.caller.account_id:
                raise Refused(_("you cannot deactivate your own account"))
            if self._admin_accounts() == {account.id}:
                raise Refused(_("this is the last active platform admin; make another one first"))
            self.s.execute(delete(WebSession).where(WebSession.account_id == account.id))
        account.active = active
        self._audit("account.reactivate" if active else "account.deactivate", f"account:{account.id}",
                    email=account.email)
        return account

    def set_role(self, membership_id: int, role: Role) -> Membership:
        """Give a membership another role (in the same organisation)."""
        self.require_admin()
        membership = self.s.get(Membership, membership_id)
        if membership is None:
            raise NotFound(_("no membership {id}").format(id=membership_id))
        before = Role(membership.role)
        if before is role:
            return membership
        if before is Role.platform_admin and self._admin_accounts() == {membership.account_id} and not any(
                m.role == Role.platform_admin.value for m in self.s.scalars(select(Membership).where(
                    Membership.account_id == membership.account_id, Membership.id != membership.id))):
            raise Refused(_("this is the last platform admin; make another one first"))
        taken = self.s.scalars(select(Membership).where(
            Membership.account_id == membership.account_id, Membership.organisation_id == membership.organisation_id,
            Membership.role == role.value)).first()
        if taken is not None:
            raise Refused(_("this person has the role {role} in this organisation already").format(role=role.label))
        membership.role = role.value
        self._audit("membership.role", f"membership:{membership.id}", account=membership.account_id,
                    organisation=membership.organisation_id, before=before.value, after=role.value)
        return membership

    def _admin_accounts(self) -> set[int]:
        return set(self.s.scalars(select(Membership.account_id).join(Account, Account.id == Membership.account_id)
                                  .where(Membership.role == Role.platform_admin.value, Account.active.is_(True))))

    # --- organisations -------------------------------------------------------------------
    def organisation_rows(self) -> list[tuple[Organisation, int]]:
        """Every organisation with its number of members."""
        self.require_admin()
        counts = dict(self.s.execute(select(Membership.organisation_id, func.count(distinct(Membership.account_id)))
                                     .group_by(Membership.organisation_id)).all())
        return [(o, int(counts.get(o.id, 0))) for o in self.s.scalars(select(Organisation).order_by(Organisation.name))]

    # --- health ----------------------------------------------------------------------------
    def health(self, portal: Portal) -> dict[str, Any]:
        self.require_area()
        return health(portal, self.s)


def health(portal: Portal, s: Session) -> dict[str, Any]:
    """What an operator checks first: schema, database, workers and queue, disk, versions."""
    engine = portal.engine
    started = time.perf_counter()
    try:
        s.execute(text("SELECT 1"))
        reachable, problem = True, None
    except Exception as exc:  # noqa: BLE001 - the page reports the database's own message
        reachable, problem = False, str(exc).splitlines()[0][:300]
    latency_ms = round(1000 * (time.perf_counter() - started), 2)
    schema, newest = migrate.current(engine), migrate.head()
    cutoff = now() - timedelta(seconds=STALE_AFTER_S)
    counts = dict(s.execute(select(Job.status, func.count()).group_by(Job.status)).all())
    live = sorted(w for w in s.scalars(select(Job.worker).distinct().where(
        Job.status == JobStatus.running.value, Job.heartbeat_at >= cutoff)) if w)
    stale = int(s.scalar(select(func.count()).select_from(Job).where(
        Job.status == JobStatus.running.value, Job.heartbeat_at < cutoff)) or 0)
    files = portal.settings.files()
    disk = shutil.disk_usage(files)
    server = engine.dialect.server_version_info
    versions = {"laif": __version__, "python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            continue
    checks = {"schema": schema == newest, "database": reachable, "workers": stale == 0,
              "disk": disk.free >= 1024 ** 3}
    return {
        "ok": all(checks.values()), "checks": checks,
        "schema": {"current": schema, "newest": newest},
        "database": {"reachable": reachable, "problem": problem, "latency_ms": latency_ms,
                     "dialect": engine.dialect.name, "url": engine.url.render_as_string(hide_password=True),
                     "server_version": ".".join(str(p) for p in server) if server else None},
        "workers": {"in_process": portal.settings.workers, "live": live, "stale_running_jobs": stale,
                    "stale_after_s": STALE_AFTER_S},
        "queue": {"queued": int(counts.get(JobStatus.queued.value, 0)),
                  "running": int(counts.get(JobStatus.running.value, 0)),
                  "by_status": {str(k): int(v) for k, v in counts.items()}},
        "disk": {"path": str(files), "free_bytes": disk.free, "total_bytes": disk.total,
                 "free_gib": round(disk.free / 1024 ** 3, 1), "free_percent": round(100 * disk.free / disk.total, 1)},
        "versions": versions,
    }


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _role(value: str) -> Role:
    if value not in Role.__members__:
        raise Refused(_("unknown role {role!r}: choose one of {roles}").format(
            role=value[:40], roles=", ".join(r.value for r in Role)))
    return Role(value)


# --- pages ------------------------------------------------------------------------------------
@router.get("/admin", response_class=HTMLResponse)
def admin_home(request: Request, caller: CallerDep) -> Response:
    portal = portal_of(request)
    with portal.session() as s:
        report = AdminScope(s, caller).health(portal)
    return render(request, "admin_index.html", {"caller": caller, "health": report})


@router.get("/admin/users", response_class=HTMLResponse)
def admin_users(request: Request, caller: CallerDep) -> Response:
    with portal_of(request).session() as s:
        rows = AdminScope(s, caller).accounts()
    return render(request, "admin_users.html", {"caller": caller, "rows": rows})


@router.post("/admin/users/{account_id}/deactivate")
def admin_deactivate(request: Request, caller: CallerDep, account_id: int) -> Response:
    with portal_of(request).session() as s:
        email = AdminScope(s, caller).set_active(account_id, False).email
    session_of(request).flash(_("{email} is deactivated: signed out everywhere, tokens refused.").format(email=email))
    return _see_other("/admin/users")


@router.post("/admin/users/{account_id}/reactivate")
def admin_reactivate(request: Request, caller: CallerDep, account_id: int) -> Response:
    with portal_of(request).session() as s:
        email = AdminScope(s, caller).set_active(account_id, True).email
    session_of(request).flash(_("{email} is active again.").format(email=email))
    return _see_other("/admin/users")


@router.post("/admin/memberships/{membership_id}/role")
def admin_set_role(request: Request, caller: CallerDep, membership_id: int,
                   role: Annotated[str, Form()] = "") -> Response:
    with portal_of(request).session() as s:
        scope = AdminScope(s, caller)
        scope.require_admin()
        membership = scope.set_role(membership_id, _role(role))
        account = s.get(Account, membership.account_id)
        email = account.email if account else str(membership.account_id)
    session_of(request).flash(_("{email} is now {role}.").format(email=email, role=Role(role).label))
    return _see_other("/admin/users")


@router.get("/admin/organisations", response_class=HTMLResponse)
def admin_organisations(request: Request, caller: CallerDep) -> Response:
    with portal_of(request).session() as s:
        rows = AdminScope(s, caller).organisation_rows()
    return render(request, "admin_organisations.html", {"caller": caller, "rows": rows, "kinds": KINDS})


def _jobs(request: Request, s: Session, caller: Caller) -> JobsScope:
    return JobsScope(s, caller, portal_of(request).settings)


@router.get("/admin/jobs", response_class=HTMLResponse)
def admin_jobs(request: Request, caller: CallerDep) -> Response:
    with portal_of(request).session() as s:
        scope = _jobs(request, s, caller)
        rows = [j for j in scope.jobs(every_organisation=True) if j.status in (JobStatus.queued.value,
                                                                              JobStatus.running.value)]
        names = scope.organisation_names(rows)
    return render(request, "admin_jobs.html", {"caller": caller, "rows": rows, "names": names})


@router.post("/admin/jobs/{job_id}/cancel")
def admin_cancel_job(request: Request, caller: CallerDep, job_id: int) -> Response:
    with portal_of(request).session() as s:
        scope = _jobs(request, s, caller)
        scope.jobs(every_organisation=True, status=JobStatus.queued.value)  # 403 for anyone but operators and admins
        job = scope.cancel(job_id)
        status = job.status
    session_of(request).flash(_("Job {id}: {status}.").format(
        id=job_id, status=_("cancelled") if status == JobStatus.cancelled.value else _("cancel requested")))
    return _see_other("/admin/jobs")


# --- the JSON API -------------------------------------------------------------------------------
class MembershipOut(BaseModel):
    id: int
    organisation_id: int
    organisation: str
    role: Role


class AccountOut(BaseModel):
    id: int
    email: str
    name: str
    active: bool
    memberships: list[MembershipOut]


class ActiveIn(BaseModel):
    active: bool


class RoleIn(BaseModel):
    role: Role


class OrganisationOut(BaseModel):
    id: int
    name: str
    kind: str
    members: int


class OrganisationIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field("sme", description="sme, data_holder, authority or factory")


class JobOut(BaseModel):
    id: int
    organisation_id: int
    organisation: str
    kind: str
    status: str
    stage: str
    done: int | None
    total: int | None
    worker: str | None
    cancel_requested: bool


def _account_out(account: Account, memberships: list[tuple[Membership, str]]) -> AccountOut:
    return AccountOut(id=account.id, email=account.email, name=account.name, active=account.active,
                      memberships=[MembershipOut(id=m.id, organisation_id=m.organisation_id, organisation=name,
                                                 role=Role(m.role)) for m, name in memberships])


def _job_out(job: Job, names: dict[int, str]) -> JobOut:
    return JobOut(id=job.id, organisation_id=job.organisation_id, organisation=names.get(job.organisation_id, ""),
                  kind=job.kind, status=job.status, stage=job.stage or "", done=job.done, total=job.total,
                  worker=job.worker, cancel_requested=bool(job.cancel_requested))


@api.get("/admin/health")
def api_health(request: Request, caller: ApiCaller) -> dict[str, Any]:
    """Schema revision, database, workers and queue, disk and versions (admins and operators)."""
    portal = portal_of(request)
    with portal.session() as s:
        return AdminScope(s, caller).health(portal)


@api.get("/admin/users")
def api_users(request: Request, caller: ApiCaller) -> list[AccountOut]:
    """Every account with its memberships (platform admins)."""
    with portal_of(request).session() as s:
        return [_account_out(a, ms) for a, ms in AdminScope(s, caller).accounts()]


@api.post("/admin/users/{account_id}/active")
def api_set_active(request: Request, caller: ApiCaller, account_id: int, body: ActiveIn) -> AccountOut:
    """Deactivate or reactivate an account (platform admins)."""
    with portal_of(request).session() as s:
        scope = AdminScope(s, caller)
        scope.set_active(account_id, body.active)
        return next(_account_out(a, ms) for a, ms in scope.accounts() if a.id == account_id)


@api.post("/admin/memberships/{membership_id}/role")
def api_set_role(request: Request, caller: ApiCaller, membership_id: int, body: RoleIn) -> AccountOut:
    """Change the role of one membership (platform admins)."""
    with portal_of(request).session() as s:
        scope = AdminScope(s, caller)
        account_id = scope.set_role(membership_id, body.role).account_id
        return next(_account_out(a, ms) for a, ms in scope.accounts() if a.id == account_id)


@api.get("/admin/organisations")
def api_organisations(request: Request, caller: ApiCaller) -> list[OrganisationOut]:
    """Every organisation with its number of members (platform admins)."""
    with portal_of(request).session() as s:
        return [OrganisationOut(id=o.id, name=o.name, kind=o.kind, members=n)
                for o, n in AdminScope(s, caller).organisation_rows()]


@api.post("/admin/organisations", status_code=201)
def api_create_organisation(request: Request, caller: ApiCaller, body: OrganisationIn) -> OrganisationOut:
    """Make an organisation (platform admins)."""
    with portal_of(request).session() as s:
        org = Scoped(s, caller).create_organisation(body.name, body.kind)
        return OrganisationOut(id=org.id, name=org.name, kind=org.kind, members=0)


@api.get("/admin/jobs")
def api_jobs(request: Request, caller: ApiCaller, status: str | None = None) -> list[JobOut]:
    """Every organisation's jobs, newest first, optionally of one status (sandbox operators and admins)."""
    with portal_of(request).session() as s:
        scope = JobsScope(s, caller, portal_of(request).settings)
        rows = scope.jobs(every_organisation=True, status=status)
        names = scope.organisation_names(rows)
        return [_job_out(j, names) for j in rows]


@api.post("/admin/jobs/{job_id}/cancel")
def api_cancel_job(request: Request, caller: ApiCaller, job_id: int) -> JobOut:
    """Cancel any organisation's job (sandbox operators and admins)."""
    with portal_of(request).session() as s:
        scope = JobsScope(s, caller, portal_of(request).settings)
        scope.jobs(every_organisation=True, status=JobStatus.queued.value)  # 403 for anyone else
        job = scope.cancel(job_id)
        return _job_out(job, scope.organisation_names([job]))


__all__ = ["AdminScope", "api", "health", "router"]
