"""An OTLP/HTTP receiver for GenAI spans: `POST /v1/traces` with an OTLP/JSON body.

The same reading as files (`otlp.py`); each request is taken in in one transaction, so a bad
request changes nothing and the ones before it are kept. Answers, as OTLP/HTTP expects:

| status | when |
| --- | --- |
| 200 `{"partialSuccess": {}}` | taken in (spans without GenAI attributes are skipped) |
| 400 `{"error": "resourceSpans[0]...: ..."}` | not JSON, or a field is wrong: the message names it |
| 404 | another path |
| 413 | a body over `MAX_BODY` bytes |
| 415 | not `application/json` (OTLP/protobuf is not read) |
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from laif.monitor import otlp
from laif.monitor.intake import take
from laif.monitor.spec import MonitorSpec
from laif.monitor.store import MonitorStore

MAX_BODY = 32 * 1024 * 1024
PATH = "/v1/traces"


def make_server(store: MonitorStore, spec: MonitorSpec, host: str = "127.0.0.1", port: int = 4318) -> ThreadingHTTPServer:
    """A server (not yet serving: call `serve_forever`) that takes spans into `spec`'s stream."""
    lock = threading.Lock()  # one writer at a time: SQLite has one, and windows are read-merged-written

    class Receiver(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # requests are not logged: bodies may hold personal data
            pass

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            if self.path.split("?")[0] != PATH:
                return self._answer(404, {"error": f"POST spans to {PATH}"})
            if (self.headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
                return self._answer(415, {"error": "send OTLP/JSON (Content-Type: application/json)"})
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                return self._answer(413, {"error": f"body over {MAX_BODY} bytes"})
            try:
                calls = otlp.exchanges(json.loads(self.rfile.read(length)))
            except ValueError as exc:  # OtlpError and JSON errors alike
                return self._answer(400, {"error": str(exc)})
            with lock:
                take(store, spec, calls)
            return self._answer(200, {"partialSuccess": {}})

    return ThreadingHTTPServer((host, port), Receiver)
