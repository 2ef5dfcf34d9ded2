"""The language switch: `POST /language` keeps the visitor's choice in the `laif_lang` cookie
(a year, this site only) and sends them back to the page they were on."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from laif.portal import i18n
from laif.portal.i18n import gettext as _
from laif.portal.render import portal_of
from laif.portal.scope import Refused

router = APIRouter(include_in_schema=False)

#: How long the choice is kept (seconds).
COOKIE_AGE = 365 * 24 * 3600


def _back_to(value: str) -> str:
    """Only a path of this site, so a crafted form cannot send the visitor elsewhere."""
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


@router.post("/language")
def choose_language(request: Request, lang: Annotated[str, Form()] = "",
                    next: Annotated[str, Form()] = "/") -> Response:  # noqa: A002
    if lang not in i18n.LANGUAGES:
        raise Refused(_("unknown language {lang!r}: choose one of {known}").format(
            lang=lang[:20], known=", ".join(i18n.LANGUAGES)))
    response = RedirectResponse(_back_to(next), status_code=303)
    response.set_cookie(i18n.COOKIE, lang, max_age=COOKIE_AGE, path="/", httponly=True, samesite="lax",
                        secure=portal_of(request).settings.cookie_secure)
    return response
