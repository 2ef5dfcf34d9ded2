"""The language switch: `POST /language` keeps the visitor's choice in the `laif_lang` cookie
(a year, this site only) and sends them back to the page they were on."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.routing import Match

from laif.portal import i18n
from laif.portal.i18n import gettext as _
from laif.portal.render import portal_of
from laif.portal.scope import Refused

router = APIRouter(include_in_schema=False)

#: How long the choice is kept (seconds).
COOKIE_AGE = 365 * 24 * 3600


def _back_to(request: Request, value: str) -> str:
    """Only a path of this site, so a crafted form cannot send the visitor elsewhere, and only one
    that a browser can open (after a form was sent, the page's address may be a form's target,
    such as /members/invitations: the visitor goes to the start page instead of an error)."""
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    scope = {"type": "http", "method": "GET", "path": value.split("?", 1)[0], "root_path": "", "headers": [],
             "query_string": b""}
    if not any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
        return "/"
    return value


@router.post("/language")
def choose_language(request: Request, lang: Annotated[str, Form()] = "",
                    next: Annotated[str, Form()] = "/") -> Response:  # noqa: A002
    if lang not in i18n.LANGUAGES:
        raise Refused(_("unknown language {lang!r}: choose one of {known}").format(
            lang=lang[:20], known=", ".join(i18n.LANGUAGES)))
    response = RedirectResponse(_back_to(request, next), status_code=303)
    response.set_cookie(i18n.COOKIE, lang, max_age=COOKIE_AGE, path="/", httponly=True, samesite="lax",
                        secure=portal_of(request).settings.cookie_secure)
    return response
