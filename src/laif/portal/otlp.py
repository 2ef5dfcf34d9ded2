"""The OTLP/HTTP receiver in the portal's process: `POST /otlp/v1/traces` with OTLP/JSON GenAI spans,
taken into the stream of the monitoring spec the portal was started with (`laif serve --monitor-spec`).

It is machine to machine: no session and no CSRF token, but a personal access token of factory
staff (`Authorization: Bearer laif_pat_...`), so nobody else can write into the stream:

| status | when |
| --- | --- |
| 401 | no token, or one that is wrong or revoked |
| 403 | the token's role is not one of `SENDERS` |
| otherwise | the receiver's own answers (`laif.monitor.receiver`): 200, 400 naming the field, 404, 405, 413, 415 |

A refused request is not read and changes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.concurrency import run_in_threadpool

from laif.portal.core import Portal
from laif.portal.tables import Role
from laif.portal.web import ASGIApp, Receive, Scope, Send
from laif.services import monitoring

#: The roles whose tokens may send spans: the factory's staff, who run the monitored systems' intake.
SENDERS = frozenset({Role.platform_admin, Role.advisor, Role.sandbox_operator})
#: Where the portal mounts the receiver.
MOUNT = "/otlp"


def receiver_app(portal: Portal, spec_path: Path) -> ASGIApp:
    """The receiver for the stream of the spec at `spec_path` (read now: a bad file is BadInput naming
    it), on the portal's database, behind the portal's personal access tokens."""
    spec = monitoring.resolve_spec(spec_path, None)
    inner = monitoring.asgi_receiver(spec, monitoring.open_store(portal.settings.db_url))

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return
        header = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == b"authorization"), "")
        scheme, _, token = header.partition(" ")
        client = scope.get("client")
        caller = None
        if scheme.lower() == "bearer" and token.strip():
            caller = await run_in_threadpool(portal.token_caller, token.strip(), client[0] if client else None)
        if caller is None:
            await _answer(send, 401, "a valid personal access token is needed (Authorization: Bearer laif_pat_...)",
                          [(b"www-authenticate", b"Bearer")])
        elif caller.role not in SENDERS:
            await _answer(send, 403, "sending spans needs a token of the factory's staff "
                                     f"({', '.join(sorted(r.label for r in SENDERS))})")
        else:
            await inner(scope, receive, send)

    return app


async def _answer(send: Send, status: int, error: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    data = json.dumps({"error": error}).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": data})
