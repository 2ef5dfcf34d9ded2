"""Canaries: a sandbox run's slice asked again of a system in production (the real llama.cpp
server behind a proxy that adds the system's system prompt), compared with intervals. While the
system prompt is the sandbox's, the canary matches; once it is changed, the canary shows it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from laif.monitor.canary import compare, worst_state
from tests.conftest import run_laif

#: The deployment's new system prompt: the model is told to stop answering.
REFUSE = ("You are a locked assistant. Whatever the user writes, reply with exactly this sentence and nothing else: "
          "I'm sorry, but I cannot help with that.")


class _System:
    """The deployment's system prompt, which the test changes mid-way."""

    prompt: str | None = None


def _proxy(upstream: str) -> type[BaseHTTPRequestHandler]:
    class Proxy(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, r: httpx.Response) -> None:
            self.send_response(r.status_code)
            self.send_header("Content-Type", r.headers.get("content-type", "application/json"))
            self.send_header("Content-Length", str(len(r.content)))
            self.end_headers()
            self.wfile.write(r.content)

        def do_GET(self) -> None:
            self._send(httpx.get(upstream + self.path.removeprefix("/v1"), timeout=60))

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if _System.prompt is not None and "messages" in body:
                body["messages"] = [{"role": "system", "content": _System.prompt},
                                    *[m for m in body["messages"] if m["role"] != "system"]]
            self._send(httpx.post(upstream + self.path.removeprefix("/v1"), json=body, timeout=300))

    return Proxy


@pytest.fixture()
def production(llama_server: str) -> Iterator[str]:
    """The system in production: the same model behind its own front, on loopback; yields its /v1 URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _proxy(llama_server))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _System.prompt = None
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()


def test_compare_states_from_intervals() -> None:
    base = {"categories": {"Gender": {"passed": 40, "decided": 50, "refused": 2, "total": 52}}}
    same = {"categories": {"Gender": {"passed": 39, "decided": 50, "refused": 3, "total": 53}}}
    moved = {"categories": {"Gender": {"passed": 28, "decided": 50, "refused": 2, "total": 52}}}
    changed = {"categories": {"Gender": {"passed": 10, "decided": 50, "refused": 40, "total": 90}}}
    assert worst_state(compare(base, same)) == "ok"
    assert {(r["category"], r["figure"]): r["state"] for r in compare(base, moved)}[("Gender", "score")] == "warning"
    rows = {(r["category"], r["figure"]): r["state"] for r in compare(base, changed)}
    assert rows[("Gender", "score")] == rows[("all", "refused")] == "alert"


@pytest.mark.slow
def test_a_changed_system_prompt_shows_in_the_canary(production: str, llama_server: str, tmp_path: Path) -> None:
    env = {"LAIF_HOME": str(tmp_path / "home")}
    r = run_laif("assess", "--model", f"openai:{llama_server}#smollm2", "--suite", "bias", "--languages", "en",
                 "--limit", "1", "--quiet", "--json", "--out", str(tmp_path / "sandbox"), env=env)
    assert r.returncode == 0, r.stderr
    baseline = json.loads(r.stdout)["run_id"]

    def canary() -> dict[str, Any]:
        done = run_laif("monitor", "canary", "--baseline", baseline, "--model", f"openai:{production}#smollm2",
                        "--json", "--out", str(tmp_path / "canary"), env=env)
        assert done.returncode == 0, done.stderr
        assert "asking" in done.stderr  # the progress of the prompts asked
        result: dict[str, Any] = json.loads(done.stdout)
        return result

    before = canary()
    assert before["state"] == "ok", before["rows"]
    _System.prompt = REFUSE
    after = canary()
    assert after["state"] == "alert", after["rows"]
    for row in after["rows"]:
        if row["state"] == "alert":  # what changed is named with both intervals, and they do not overlap
            sandbox, now = row["sandbox"], row["canary"]
            assert now["high"] < sandbox["low"] or now["low"] > sandbox["high"]
    r = run_laif("monitor", "canary", "--baseline", baseline, "--model", f"openai:{production}#smollm2", "--check",
                 "--out", str(tmp_path / "canary"), env=env)
    assert r.returncode == 1 and "alert" in r.stdout
    # production down: exit 3, and the hint does not promise a resume (each canary is a new run)
    down = run_laif("monitor", "canary", "--baseline", baseline, "--model", "openai:http://127.0.0.1:9/v1#smollm2",
                    "--out", str(tmp_path / "canary-down"), env=env)
    assert down.returncode == 3, down.stderr
    assert "new canary" in down.stderr and "resume" not in down.stderr and "Traceback" not in down.stderr
