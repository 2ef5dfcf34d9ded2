"""Two ASGI middlewares: server-side sessions behind a signed, HttpOnly, SameSite cookie, and the
CSRF check on every request that changes state (with the upload size limit).

The session's `data` is what `request.session` holds (authlib keeps its OpenID Connect state
there); the cookie carries only a signed random id, and the database keeps its SHA-256.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import timedelta
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from laif.portal.core import Portal
from laif.portal.security import CookieSigner, same, token_hash
from laif.portal.tables import WebSession, aware, now

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "laif_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SessionState:
    """One visitor's session as this request sees it; written back when the response starts."""

    def __init__(self, portal: Portal, session_id: str | None, address: str | None) -> None:
        self.portal = portal
        self.address = address
        self.session_id: str | None = None
        self.account_id: int | None = None
        self.organisation_id: int | None = None
        self.csrf_token: str | None = None
        self.data: dict[str, Any] = {}
        self._saved: dict[str, Any] = {}
        self._dirty = False
        self.cookie_changed = False
        if session_id:
            self._load(session_id)

    def _load(self, session_id: str) -> None:
        with self.portal.session() as s:
            row = s.get(WebSession, token_hash(session_id))
            if row is None or aware(row.expires_at) <= now():
                return
            self.session_id = session_id
            self.account_id, self.organisation_id = row.account_id, row.organisation_id
            self.csrf_token = row.csrf_token
            self.data = dict(row.data or {})
            self._saved = copy.deepcopy(self.data)

    # --- changes made by the request ----------------------------------------------------
    def ensure(self) -> str:
        """The session's CSRF token, making an anonymous session first when there is none."""
        if self.session_id is None:
            self._new()
        assert self.csrf_token is not None
        return self.csrf_token

    def _new(self) -> None:
        self.session_id = secrets.token_urlsafe(32)
        self.csrf_token = secrets.token_urlsafe(32)
        self._dirty = self.cookie_changed = True

    def sign_in(self, account_id: int, organisation_id: int | None = None) -> None:
        """A new session id and CSRF token at sign-in, so an id planted before it is worth nothing."""
        self._drop()
        self._new()
        self.account_id, self.organisation_id = account_id, organisation_id
        self.data.clear()

    def sign_out(self) -> None:
        self._drop()
        self.session_id = self.csrf_token = None
        self.account_id = self.organisation_id = None
        self.data.clear()
        self.cookie_changed = True

    def switch(self, organisation_id: int) -> None:
        self.organisation_id = organisation_id
        self._dirty = True

    def flash(self, text: str) -> None:
        self.data.setdefault("flash", []).append(text[:300])

    def take_flashes(self) -> list[str]:
        return list(self.data.pop("flash", []))

    def _drop(self) -> None:
        if self.session_id is not None:
            old = token_hash(self.session_id)
            with self.portal.session() as s:
                s.execute(delete(WebSession).where(WebSession.id_hash == old))

    def pending(self) -> bool:
        """Whether `save` has anything to write (most requests have not)."""
        if self.session_id is None:
            return bool(self.data)
        return self._dirty or self.data != self._saved

    def save(self) -> None:
        if self.session_id is None and self.data:  # something was put in an anonymous visitor's session
            self._new()
        if self.session_id is None or (not self._dirty and self.data == self._saved):
            return
        key = token_hash(self.session_id)
        with self.portal.session() as s:
            row = s.get(WebSession, key)
            if row is None:
                row = WebSession(id_hash=key, csrf_token=self.csrf_token or secrets.token_urlsafe(32), data={},
                                 expires_at=now() + timedelta(hours=self.portal.settings.session_hours),
                                 address=self.address)
                s.add(row)
            row.account_id, row.organisation_id = self.account_id, self.organisation_id
            row.data = copy.deepcopy(self.data)
        self._saved = copy.deepcopy(self.data)
        self._dirty = False


def _cookies(scope: Scope) -> SimpleCookie:
    jar: SimpleCookie = SimpleCookie()
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # noqa: S112,BLE001 - a malformed cookie header is the same as none
                continue
    return jar


class SessionMiddleware:
    def __init__(self, app: ASGIApp, portal: Portal) -> None:
        self.app = app
        self.portal = portal
        self.signer = CookieSigner(portal.settings.secret_key)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):  # assets need no session
            await self.app(scope, receive, send)
            return
        morsel = _cookies(scope).get(COOKIE)
        session_id = self.signer.loads(morsel.value) if morsel else None
        client = scope.get("client")
        address = client[0] if client else None
        # A request without a session (the API's) reads nothing: no worker thread is taken for it.
        state = (await run_in_threadpool(SessionState, self.portal, session_id, address) if session_id
                 else SessionState(self.portal, None, address))
        scope["laif.session"] = state
        scope["session"] = state.data

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                if state.pending():  # most requests change nothing: no worker thread is taken then
                    await run_in_threadpool(state.save)
                if state.cookie_changed:
                    message.setdefault("headers", []).append((b"set-cookie", self._cookie(state).encode("latin-1")))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _cookie(self, state: SessionState) -> str:
        secure = "; Secure" if self.portal.settings.cookie_secure else ""
        if state.session_id is None:
            return f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{secure}"
        value = self.signer.dumps(state.session_id)
        max_age = self.portal.settings.session_hours * 3600
        return f"{COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"


class CsrfMiddleware:
    """Refuses (403) a state-changing request without the session's CSRF token, in the
    `X-CSRF-Token` header or the `csrf_token` form field, or from another origin; refuses (413) a
    body over the upload limit. The JSON API (`/api/`) is exempt: it takes a bearer token only,
    never the cookie, so a forged cross-site request carries no credential."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        length = headers.get("content-length", "0")
        if not length.isdigit() or int(length) > self.max_body:
            await _refuse(scope, receive, send, 413, f"the request is over the limit of {self.max_body // 1024 // 1024} MiB")
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > self.max_body:
                await _refuse(scope, receive, send, 413, f"the request is over the limit of {self.max_body // 1024 // 1024} MiB")
                return
            if not message.get("more_body"):
                break

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        if not scope["path"].startswith(("/api/", "/otlp/")):  # both take a bearer token, never the cookie
            problem = await self._problem(scope, headers, body)
            if problem:
                await _refuse(scope, receive, send, 403, problem)
                return
        await self.app(scope, replay, send)

    @staticmethod
    async def _problem(scope: Scope, headers: dict[str, str], body: bytes) -> str | None:
        origin = headers.get("origin")
        if origin and origin != "null" and urlsplit(origin).netloc != headers.get("host"):
            return "this form was sent from another site"
        state: SessionState | None = scope.get("laif.session")
        expected = state.csrf_token if state else None
        sent = headers.get(CSRF_HEADER)
        if sent is None and headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")):
            done = False

            async def once() -> Message:
                nonlocal done
                if done:
                    return {"type": "http.disconnect"}
                done = True
                return {"type": "http.request", "body": body, "more_body": False}

            try:
                async with Request(scope, once).form() as form:
                    value = form.get(CSRF_FIELD)
                    sent = value if isinstance(value, str) else None
            except Exception:  # noqa: BLE001 - an unreadable form has no token
                sent = None
        if not expected or not sent or not same(expected, sent):
            return "the form's security token is missing or out of date: reload the page and try again"
        return None


async def _refuse(scope: Scope, receive: Receive, send: Send, code: int, text: str) -> None:
    await PlainTextResponse(text, status_code=code)(scope, receive, send)
