"""What every page shares: who is signed in, the page frame's context, and rendering."""

from __future__ import annotations

from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from laif.portal.core import Portal
from laif.portal.scope import Caller, Scoped
from laif.portal.tables import ROLE_LABELS, Role
from laif.portal.web import SessionState


class LoginRequired(Exception):
    """The page needs a signed-in user."""


class PasswordChangeRequired(Exception):
    """The account signed in with a one-time password and must choose its own first."""


def portal_of(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


def session_of(request: Request) -> SessionState:
    state: SessionState = request.scope["laif.session"]
    return state


def address_of(request: Request) -> str | None:
    return request.client.host if request.client else None


def optional_caller(request: Request) -> Caller | None:
    """The signed-in caller, or None (a sync dependency: FastAPI runs it in its thread pool)."""
    cached = request.scope.get("laif.caller", False)
    if cached is not False:
        return cached  # type: ignore[no-any-return]
    state = session_of(request)
    caller = None
    if state.account_id is not None:
        caller = portal_of(request).caller(state.account_id, state.organisation_id, address_of(request))
        if caller is None:  # the account was disabled or lost its last membership
            state.sign_out()
    request.scope["laif.caller"] = caller
    return caller


def page_caller(request: Request) -> Caller:
    """The signed-in caller; a visitor is sent to the sign-in page, a one-time password to be changed."""
    caller = optional_caller(request)
    if caller is None:
        raise LoginRequired()
    if request.url.path != "/password" and caller.must_change_password:
        raise PasswordChangeRequired()
    return caller


def _frame(request: Request, caller: Caller | None) -> dict[str, Any]:
    state = session_of(request)
    unread = 0
    if caller is not None:
        with portal_of(request).session() as s:
            unread = Scoped(s, caller).unread()
    return {
        "request": request,
        "caller": caller,
        "csrf_token": state.ensure(),
        "flashes": state.take_flashes(),
        "unread": unread,
        "roles": ROLE_LABELS,
        "Role": Role,
        "oidc": request.app.state.oidc,
    }


def render_sync(request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    caller = context.pop("caller", None) or optional_caller(request)
    env: jinja2.Environment = request.app.state.templates
    html = env.get_template(template).render({**_frame(request, caller), **context})
    return HTMLResponse(html, status_code=status, headers={"cache-control": "no-store"})


def render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """Render a page from a sync route or handler (database reads happen here, in the calling thread)."""
    return render_sync(request, template, context, status)


async def render_async(request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    return await run_in_threadpool(render_sync, request, template, context, status)
