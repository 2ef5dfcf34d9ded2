"""The portal's pages: sign-in, the service catalogue, the requests queue, notifications, tokens,
members and invitations, and the audit log. Each reads and writes through `Scoped`."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from laif.portal.catalogue import service_catalogue
from laif.portal.core import Throttled
from laif.portal.i18n import gettext as _
from laif.portal.render import (
    address_of,
    optional_caller,
    page_caller,
    portal_of,
    render,
    session_of,
)
from laif.portal.scope import TRANSITIONS, Caller, Forbidden, NotFound, Refused, Scoped, audit
from laif.portal.security import THROTTLE_WINDOW
from laif.portal.tables import AuditEntry, Organisation, RequestStatus, Role

router = APIRouter(include_in_schema=False)
CallerDep = Annotated[Caller, Depends(page_caller)]
MaybeCaller = Annotated[Caller | None, Depends(optional_caller)]


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _safe_next(value: str | None) -> str:
    """Only a path of this site, so a crafted link cannot send a user elsewhere after sign-in."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


# --- sign-in -------------------------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, caller: MaybeCaller, next: str = "/") -> Response:  # noqa: A002
    if caller is not None:
        return _see_other(_safe_next(next))
    return render(request, "login.html", {"next": _safe_next(next), "email": ""})


@router.post("/login")
def login(request: Request, email: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "/") -> Response:  # noqa: A002
    portal = portal_of(request)
    context = {"next": _safe_next(next), "email": email}
    try:
        result = portal.sign_in(email, password, address_of(request))
    except Throttled:
        minutes = int(THROTTLE_WINDOW.total_seconds() // 60)
        return render(request, "login.html", {**context, "error":
                      _("Too many failed attempts. Wait {minutes} minutes, then try again.").format(minutes=minutes)},
                      status=429)
    if result is None:
        return render(request, "login.html", {**context, "error": _("Wrong e-mail or password.")}, status=401)
    session_of(request).sign_in(result.account_id)
    return _see_other("/password" if result.must_change_password else _safe_next(next))


@router.post("/logout")
def logout(request: Request) -> Response:
    caller = optional_caller(request)
    if caller is not None:
        with portal_of(request).session() as s:
            audit(s, caller, "signout", f"account:{caller.account_id}")
    session_of(request).sign_out()
    return _see_other("/login")


@router.get("/password", response_class=HTMLResponse)
def password_page(request: Request, caller: CallerDep) -> Response:
    return render(request, "password.html", {"caller": caller})


@router.post("/password")
def change_password(request: Request, caller: CallerDep, current: Annotated[str, Form()] = "",
                    new: Annotated[str, Form()] = "", repeat: Annotated[str, Form()] = "") -> Response:
    if new != repeat:
        return render(request, "password.html", {"caller": caller, "error": _("The two new passwords differ.")}, status=400)
    try:
        portal_of(request).change_password(caller, current, new)
    except Refused as exc:
        return render(request, "password.html", {"caller": caller, "error": f"{str(exc).capitalize()}."}, status=400)
    session_of(request).flash(_("Your password is changed."))
    return _see_other("/")


@router.get("/invite/{token}", response_class=HTMLResponse)
def invitation_page(request: Request, token: str) -> Response:
    found = portal_of(request).invitation(token)
    if found is None:
        raise NotFound(_("this invitation link is unknown, used or expired; ask for a new one"))
    invitation, organisation = found
    return render(request, "invite.html", {"invitation": invitation, "organisation": organisation,
                                           "role": Role(invitation.role), "token": token})


@router.post("/invite/{token}")
def accept_invitation(request: Request, token: str, name: Annotated[str, Form()] = "",
                      password: Annotated[str, Form()] = "") -> Response:
    portal = portal_of(request)
    found = portal.invitation(token)
    try:
        account_id = portal.accept_invitation(token, name, password, address_of(request))
    except Refused as exc:
        if found is None:
            raise
        return render(request, "invite.html", {"invitation": found[0], "organisation": found[1], "token": token,
                                               "role": Role(found[0].role), "error": f"{str(exc).capitalize()}."},
                      status=400)
    session_of(request).sign_in(account_id, found[0].organisation_id if found else None)
    session_of(request).flash(_("Welcome: your account is ready."))
    return _see_other("/")


@router.post("/organisation")
def switch_organisation(request: Request, caller: CallerDep, organisation_id: Annotated[int, Form()]) -> Response:
    if organisation_id not in {m[0] for m in caller.memberships}:
        raise NotFound(_("no organisation {id}").format(id=organisation_id))
    session_of(request).switch(organisation_id)
    return _see_other("/")


# --- the service catalogue ----------------------------------------------------------------
@router.get("/", response_class=HTMLResponse)
def catalogue(request: Request, caller: MaybeCaller) -> Response:
    return render(request, "catalogue.html", {"caller": caller, "stages": service_catalogue().by_stage()})


@router.get("/services/{service_id}", response_class=HTMLResponse)
def service_page(request: Request, service_id: str, caller: MaybeCaller) -> Response:
    service = service_catalogue().get(service_id)
    if service is None:
        raise NotFound(_("no service {service!r} in the catalogue").format(service=service_id))
    stage = next(s for s in service_catalogue().stages if s.id == service.stage)
    return render(request, "service.html", {"caller": caller, "service": service, "stage": stage})


# --- service requests ------------------------------------------------------------------------
@router.post("/requests")
def open_request(request: Request, caller: CallerDep, service_id: Annotated[str, Form()],
                 message: Annotated[str, Form()] = "") -> Response:
    with portal_of(request).session() as s:
        created = Scoped(s, caller).open_request(service_id, message)
        request_id = created.id
    session_of(request).flash(_("Your request is in the advisors' queue. You will be notified here when they answer."))
    return _see_other(f"/requests/{request_id}")


@router.get("/requests", response_class=HTMLResponse)
def request_list(request: Request, caller: CallerDep, status: str = "") -> Response:
    chosen = RequestStatus(status) if status in RequestStatus.__members__ else None
    with portal_of(request).session() as s:
        rows = Scoped(s, caller).requests(chosen)
    return render(request, "requests.html", {
        "caller": caller, "rows": rows, "status": chosen, "statuses": list(RequestStatus),
        "services": service_catalogue()})


def _request_context(request: Request, caller: Caller, request_id: int) -> dict[str, object]:
    with portal_of(request).session() as s:
        scoped = Scoped(s, caller)
        row = scoped.request(request_id)
        messages = scoped.messages(row)
        files = scoped.attachments(row.id)
        org = s.get(Organisation, row.organisation_id)
    status = RequestStatus(row.status)
    return {"caller": caller, "row": row, "messages": messages, "status": status, "files": files,
            "moves": TRANSITIONS[status] if caller.factory_staff else (),
            "service": service_catalogue().get(row.service_id), "organisation": org.name if org else ""}


@router.get("/requests/{request_id}", response_class=HTMLResponse)
def request_page(request: Request, caller: CallerDep, request_id: int) -> Response:
    return render(request, "request.html", _request_context(request, caller, request_id))


@router.get("/requests/{request_id}/messages", response_class=HTMLResponse)
def request_messages(request: Request, caller: CallerDep, request_id: int) -> Response:
    return render(request, "_messages.html", _request_context(request, caller, request_id))


@router.post("/requests/{request_id}/messages")
def post_message(request: Request, caller: CallerDep, request_id: int, body: Annotated[str, Form()] = "",
                 file: Annotated[UploadFile | None, File()] = None) -> Response:
    attachment = None
    if file is not None and file.filename:
        attachment = (file.filename, file.file.read())  # the size limit was enforced before the body was read
    with portal_of(request).session() as s:
        Scoped(s, caller).post_message(request_id, body, attachment)
    if request.headers.get("hx-request"):
        return render(request, "_messages.html", _request_context(request, caller, request_id))
    return _see_other(f"/requests/{request_id}")


@router.post("/requests/{request_id}/status")
def move_request(request: Request, caller: CallerDep, request_id: int, status: Annotated[str, Form()]) -> Response:
    if status not in RequestStatus.__members__:
        raise Refused(_("unknown state {state!r}").format(state=status))
    with portal_of(request).session() as s:
        Scoped(s, caller).move(request_id, RequestStatus(status))
    session_of(request).flash(_("The request is now {state}.").format(state=_(RequestStatus(status).label)))
    return _see_other(f"/requests/{request_id}")


@router.get("/requests/{request_id}/files/{attachment_id}")
def download(request: Request, caller: CallerDep, request_id: int, attachment_id: int) -> Response:
    """A file of a request, always as a download of opaque bytes: never rendered by the browser."""
    with portal_of(request).session() as s:
        row = Scoped(s, caller).attachment(request_id, attachment_id)
        data, name = row.data, row.filename
    return Response(data, media_type="application/octet-stream", headers={
        "content-disposition": f"attachment; filename*=UTF-8''{quote(name)}", "x-content-type-options": "nosniff"})


# --- notifications -------------------------------------------------------------------------
@router.get("/notifications", response_class=HTMLResponse)
def notifications(request: Request, caller: CallerDep) -> Response:
    with portal_of(request).session() as s:
        rows = Scoped(s, caller).notifications()
    return render(request, "notifications.html", {"caller": caller, "rows": rows})


@router.post("/notifications/read")
def mark_read(request: Request, caller: CallerDep) -> Response:
    with portal_of(request).session() as s:
        Scoped(s, caller).mark_read()
    return _see_other("/notifications")


# --- personal access tokens ------------------------------------------------------------------
@router.get("/account/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, caller: CallerDep) -> Response:
    with portal_of(request).session() as s:
        rows = Scoped(s, caller).tokens()
    return render(request, "tokens.html", {"caller": caller, "rows": rows, "new_token": None})


@router.post("/account/tokens")
def create_token(request: Request, caller: CallerDep, name: Annotated[str, Form()] = "") -> Response:
    with portal_of(request).session() as s:
        scoped = Scoped(s, caller)
        token = scoped.create_token(name)
        rows = scoped.tokens()
    # Shown once, in this response only; never stored in clear nor put in the session.
    return render(request, "tokens.html", {"caller": caller, "rows": rows, "new_token": token})


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(request: Request, caller: CallerDep, token_id: int) -> Response:
    with portal_of(request).session() as s:
        Scoped(s, caller).revoke_token(token_id)
    session_of(request).flash(_("The token is revoked."))
    return _see_other("/account/tokens")


# --- members, organisations and invitations ----------------------------------------------------
@router.get("/members", response_class=HTMLResponse)
def members_page(request: Request, caller: CallerDep) -> Response:
    with portal_of(request).session() as s:
        scoped = Scoped(s, caller)
        context = {"caller": caller, "members": scoped.members(), "invitations": scoped.invitations(),
                   "organisations": scoped.organisations(), "link": None}
    return render(request, "members.html", context)


@router.post("/members/invitations")
def invite(request: Request, caller: CallerDep, email: Annotated[str, Form()] = "",
           organisation_id: Annotated[int | None, Form()] = None, role: Annotated[str, Form()] = "") -> Response:
    if role not in Role.__members__:
        raise Refused(_("unknown role {role!r}").format(role=role))
    with portal_of(request).session() as s:
        scoped = Scoped(s, caller)
        token = scoped.invite(email, organisation_id or caller.organisation_id, Role(role))
        context = {"caller": caller, "members": scoped.members(), "invitations": scoped.invitations(),
                   "organisations": scoped.organisations(),
                   "link": str(request.base_url).rstrip("/") + f"/invite/{token}", "invited": email.strip().lower()}
    return render(request, "members.html", context)


@router.post("/admin/organisations")
def create_organisation(request: Request, caller: CallerDep, name: Annotated[str, Form()] = "",
                        kind: Annotated[str, Form()] = "sme") -> Response:
    with portal_of(request).session() as s:
        org = Scoped(s, caller).create_organisation(name, kind)
        label = org.name
    session_of(request).flash(_("Organisation {name} made.").format(name=label))
    return _see_other("/members")


# --- the audit log --------------------------------------------------------------------------
@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(request: Request, caller: CallerDep) -> Response:
    with portal_of(request).session() as s:
        rows = Scoped(s, caller).audit_log()
    return render(request, "audit.html", {"caller": caller, "rows": rows})


def _audit_dict(row: AuditEntry) -> dict[str, object]:
    return {"id": row.id, "at": row.at.isoformat(), "actor": row.actor, "account_id": row.account_id,
            "organisation_id": row.organisation_id, "action": row.action, "target": row.target,
            "detail": row.detail, "address": row.address}


@router.get("/admin/audit.{fmt}")
def audit_export(request: Request, caller: CallerDep, fmt: str) -> Response:
    if fmt not in ("csv", "jsonl"):
        raise NotFound(_("no export as {format!r}: use audit.csv or audit.jsonl").format(format=fmt))
    with portal_of(request).session() as s:
        rows = [_audit_dict(r) for r in Scoped(s, caller).audit_log(limit=None)]
    headers = {"content-disposition": f'attachment; filename="laif-audit.{fmt}"'}
    if fmt == "jsonl":
        return Response("".join(json.dumps(r) + "\n" for r in rows), media_type="application/x-ndjson",
                        headers=headers)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["id"])
    writer.writeheader()
    for r in rows:
        writer.writerow({**r, "detail": json.dumps(r["detail"])})
    return Response(buffer.getvalue(), media_type="text/csv", headers=headers)


__all__ = ["Forbidden", "router"]
