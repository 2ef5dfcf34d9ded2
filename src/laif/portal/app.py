"""The portal as an ASGI application: `create_app(settings)`.

Pages are rendered on the server (Jinja2) and enhanced with HTMX; every asset is in the package,
so the portal works offline. The JSON API lives under `/api/v1`, described at
`/api/v1/openapi.json`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from laif.portal import admin_pages, aiact_pages, datasets_pages, i18n, i18n_pages, pages, readiness_pages, sandbox_pages
from laif.portal.api import api_router
from laif.portal.core import Portal
from laif.portal.oidc import OidcLogin
from laif.portal.render import LoginRequired, PasswordChangeRequired, render_async
from laif.portal.scope import Forbidden, NotFound, Refused
from laif.portal.settings import PortalSettings
from laif.portal.web import CsrfMiddleware, SessionMiddleware

HERE = Path(__file__).parent

#: Every router of the app, pages and API (the isolation test walks the routes of each).
ROUTERS = (pages.router, api_router, readiness_pages.router, readiness_pages.api, sandbox_pages.router,
           sandbox_pages.api, aiact_pages.router, aiact_pages.api, datasets_pages.router, datasets_pages.api,
           admin_pages.router, admin_pages.api, i18n_pages.router)

#: Sent with every response: no scripts or styles from elsewhere, no framing, no sniffing.
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                 b"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


def create_app(settings: PortalSettings, portal: Portal | None = None) -> FastAPI:
    """The portal's ASGI app on `settings.db_url` (migrated to the newest schema first)."""
    portal = portal or Portal(settings)
    app = FastAPI(title="laif portal API", version="1", docs_url=None, redoc_url=None,
                  openapi_url="/api/v1/openapi.json")
    app.state.portal = portal
    app.state.templates = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.StrictUndefined)
    i18n.install(app.state.templates)
    app.state.oidc = OidcLogin(settings.oidc) if settings.oidc else None
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    if settings.monitor_spec is not None:
        from laif.portal import otlp  # the monitoring stack loads only where it is used

        app.mount(otlp.MOUNT, otlp.receiver_app(portal, settings.monitor_spec))
    for router in ROUTERS:
        app.include_router(router)
    if app.state.oidc is not None:
        app.include_router(app.state.oidc.router)
    _handlers(app)
    app.add_middleware(CsrfMiddleware, max_body=settings.max_upload_bytes)
    app.add_middleware(SessionMiddleware, portal=portal)
    app.add_middleware(_SecurityHeaders)
    app.add_middleware(i18n.LanguageMiddleware)
    return app


class _SecurityHeaders:
    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":  # a response's own header wins (the sandboxing CSP of a job's files)
                present = {name.lower() for name, _ in message.get("headers", [])}
                message.setdefault("headers", []).extend(h for h in SECURITY_HEADERS if h[0] not in present)
            await send(message)

        await self.app(scope, receive, send_with_headers if scope["type"] == "http" else send)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _handlers(app: FastAPI) -> None:
    async def page_or_json(request: Request, status: int, text: str) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": text}, status_code=status)
        return await render_async(request, "error.html", {"status": status, "message": text}, status=status)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        return await page_or_json(request, 404, str(exc))

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return await page_or_json(request, 403, str(exc))

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> Response:
        return await page_or_json(request, 400, str(exc))

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(PasswordChangeRequired)
    async def _password(request: Request, exc: PasswordChangeRequired) -> Response:
        return RedirectResponse("/password", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        text = str(exc.detail) if exc.detail else "error"
        if exc.status_code == 404 and not _wants_json(request):
            text = i18n.gettext("there is no such page")
        response = await page_or_json(request, exc.status_code, text)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @app.get("/healthz", include_in_schema=False)
    def healthz(request: Request) -> JSONResponse:
        from laif.portal import migrate

        portal: Portal = request.app.state.portal
        return JSONResponse({"status": "ok", "schema": migrate.current(portal.engine), "newest": migrate.head()})

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return HTMLResponse("", status_code=204)
