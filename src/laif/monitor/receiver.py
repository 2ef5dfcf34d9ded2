"""An OTLP/HTTP receiver for GenAI spans: `POST /v1/traces` with an OTLP/JSON body.

The same reading as files (`otlp.py`); each request is taken in in one transaction, so a bad
request changes nothing and the ones before it are kept. Answers, as OTLP/HTTP expects:

| status | when |
| --- | --- |
| 200 `{"partialSuccess": {}}` | taken in (spans without GenAI attributes are skipped) |
| 400 `{"error": "resourceSpans[0]...: ..."}` | not JSON, or a field is wrong: the message names it |
| 404 | another path |
| 405 | another method than POST |
| 413 | a body over `MAX_BODY` bytes |
| 415 | not `application/json` (OTLP/protobuf is not read) |

Two ways to run it, answering the same (`Receiver.handle`):
- `make_server`: a stand-alone server (`laif monitor receive`);
- `asgi_app`: an ASGI application another process mounts, e.g. the portal:
  `app.mount("/otlp", asgi_app(store, spec))` answers `POST /otlp/v1/traces`. Writing to the
  store runs in a worker thread, so the event loop is never blocked.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from laif.monitor import otlp
from laif.monitor.intake import take
from laif.monitor.spec import MonitorSpec
from laif.monitor.store import MonitorStore

MAX_BODY = 32 * 1024 * 1024
PATH = "/v1/traces"

Answer = tuple[int, dict[str, Any]]


class Receiver:
    """What a request gets, whatever serves it; one writer at a time (SQLite has one, and windows
    are read, merged and written)."""

    def __init__(self, store: MonitorStore, spec: MonitorSpec) -> None:
        self.store, self.spec = store, spec
        self.lock = threading.Lock()

    def check(self, method: str, path: str, content_type: str | None, length: int | None) -> Answer | None:
        """The answer to a request that is refused before its body is read; None to read it."""
        if path.split("?")[0] != PATH:
            return 404, {"error": f"POST spans to {PATH}"}
        if method != "POST":
            return 405, {"error": f"POST spans to {PATH}"}
        if (content_type or "").split(";")[0].strip().lower() != "application/json":
            return 415, {"error": "send OTLP/JSON (Content-Type: application/json)"}
        if length is not None and length > MAX_BODY:
            return 413, {"error": f"body over {MAX_BODY} bytes"}
        return None

    def take(self, body: bytes) -> Answer:
        try:
            calls = otlp.exchanges(json.loads(body))
        except ValueError as exc:  # OtlpError and JSON errors alike
            return 400, {"error": str(exc)}
        with self.lock:
            take(self.store, self.spec, calls)
        return 200, {"partialSuccess": {}}


def make_server(store: MonitorStore, spec: MonitorSpec, host: str = "127.0.0.1", port: int = 4318) -> ThreadingHTTPServer:
    """A server (not yet serving: call `serve_forever`) that takes spans into `spec`'s stream."""
    receiver = Receiver(store, spec)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # requests are not logged: bodies may hold personal data
            pass

        def _answer(self, answer: Answer) -> None:
            status, body = answer
            data = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _refuse(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            refused = receiver.check(method, self.path, self.headers.get("Content-Type"), length)
            self._answer(refused or (405, {"error": f"POST spans to {PATH}"}))

        def do_GET(self) -> None:
            self._refuse("GET")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            refused = receiver.check("POST", self.path, self.headers.get("Content-Type"), length)
            self._answer(refused or receiver.take(self.rfile.read(length)))

    return ThreadingHTTPServer((host, port), Handler)


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def asgi_app(store: MonitorStore, spec: MonitorSpec) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """The receiver as an ASGI application (HTTP only), to mount in a running web process.

    Mounted under a prefix (Starlette's or FastAPI's `mount`), it reads its path below the prefix
    (`root_path`), so `mount("/otlp", ...)` answers `POST /otlp/v1/traces`."""
    receiver = Receiver(store, spec)

    async def answer(send: Send, result: Answer) -> None:
        status, body = result
        data = json.dumps(body).encode("utf-8")
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        path, root = scope["path"], scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root):] or "/"
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        length = int(headers["content-length"]) if headers.get("content-length", "").isdigit() else None
        refused = receiver.check(scope["method"], path, headers.get("content-type"), length)
        if refused is not None:
            return await answer(send, refused)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                return await answer(send, (413, {"error": f"body over {MAX_BODY} bytes"}))
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await answer(send, await asyncio.to_thread(receiver.take, b"".join(chunks)))

    return app
