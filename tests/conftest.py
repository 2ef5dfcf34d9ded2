"""Real parts for the tests: the embedded model, a llama.cpp server on loopback,
a throw-away PostgreSQL cluster, and (only for fault injection) a scripted endpoint."""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from laif.models.llamacpp import embedded_model_path

LAIF = [sys.executable, "-m", "laif"]


def answered(db: Path) -> int:
    """How many answers a run's SQLite database holds so far (0 while it does not exist yet),
    read while another process writes it: for tests that kill a run midway."""
    try:
        con = sqlite3.connect(db, timeout=5)
        try:
            return int(con.execute("select count(*) from exchanges where response is not null").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


CHROMIUM = Path("/usr/bin/chromium")


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's chromium, headless, driven by Playwright (without its sandbox when run as root);
    `playwright install` cannot download browsers here."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed: run `make test`, which installs it (apt-get)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        args = ["--no-sandbox"] if os.geteuid() == 0 else []
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        try:
            yield browser
        finally:
            browser.close()


def wait_healthy(base: str, seconds: float = 60) -> None:
    """Wait until the `laif serve` at `base` answers GET /healthz, for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_log(path: Path, *args: str) -> Path:
    """Production logs written by examples/monitoring/make_week.py (its options in `args`), as a
    user makes them; returns `path`."""
    script = Path(__file__).resolve().parents[1] / "examples" / "monitoring" / "make_week.py"
    subprocess.run([sys.executable, str(script), "--out", str(path), *args], check=True, capture_output=True, timeout=300)
    return path


def run_laif(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LAIF, *args], capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )


@pytest.fixture()
def laif_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("LAIF_HOME", str(home))
    monkeypatch.delenv("LAIF_DB_URL", raising=False)
    return home


@pytest.fixture(scope="session")
def model_path() -> Path:
    return embedded_model_path()


@contextmanager
def llama_server_process(model_path: Path, log: Path, *extra: str) -> Iterator[str]:
    """`python -m llama_cpp.server` on loopback with `extra` arguments; yields the /v1 base URL."""
    port = free_port()
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path), "--host", "127.0.0.1",
             "--port", str(port), "--n_ctx", "2048", "--model_alias", "smollm2", *extra],
            stdout=fh, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/models", timeout=2).status_code in (200, 401):  # 401: it wants a key
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            raise RuntimeError("llama_cpp.server did not start within 120 s")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def llama_server(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The embedded GGUF behind `python -m llama_cpp.server` on loopback; yields the /v1 base URL."""
    with llama_server_process(model_path, tmp_path_factory.mktemp("llama-server") / "server.log") as base:
        yield base


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    matches = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return matches[-1] if matches else None


@contextmanager
def postgres_cluster(root: Path) -> Iterator[str]:
    """A real PostgreSQL cluster under `root`, on a free loopback port; yields its URL."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise RuntimeError("PostgreSQL is not installed: run `make test`, which installs it")
    data = root / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(root, "postgres", "postgres")
        os.chmod(root, 0o755)
        as_user = ["runuser", "-u", "postgres", "--"]
        for parent in root.parents:
            if parent == Path("/"):
                break
            os.chmod(parent, os.stat(parent).st_mode | 0o005)
    port = free_port()
    subprocess.run([*as_user, initdb, "-D", str(data), "-U", "laif", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True)
    subprocess.run(
        [*as_user, pg_ctl, "-D", str(data), "-l", str(root / "pg.log"), "-w", "start",
         "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1"],
        check=True, capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://laif@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "fast", "stop"], capture_output=True)


@pytest.fixture(scope="session")
def pg_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real PostgreSQL cluster of the test session's own."""
    if not _pg_bin("initdb") or not _pg_bin("pg_ctl"):
        pytest.fail("PostgreSQL is not installed: run `make test`, which installs it")
    with postgres_cluster(tmp_path_factory.mktemp("pg")) as url:
        yield url


class ScriptedEndpoint:
    """An OpenAI-style endpoint that replies from a script, for fault injection only.

    Each entry of `script` is consumed by one request: ("ok", text), ("status", code, headers),
    ("sleep", seconds), ("garbage",). When the script is empty every request gets "ok".
    """

    def __init__(self) -> None:
        self.script: list[tuple[Any, ...]] = []
        self.requests = 0
        self.lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, code: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                self._send(200, json.dumps({"data": [{"id": "scripted"}]}).encode())

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                self.rfile.read(length)
                with endpoint.lock:
                    endpoint.requests += 1
                    step = endpoint.script.pop(0) if endpoint.script else ("ok", "No.")
                if step[0] == "sleep":
                    time.sleep(step[1])
                    step = ("ok", "No.")
                if step[0] == "status":
                    self._send(step[1], b'{"error": "scripted"}', step[2] if len(step) > 2 else None)
                elif step[0] == "garbage":
                    self._send(200, b"<html>not json")
                else:
                    body = {"choices": [{"message": {"role": "assistant", "content": step[1]}}],
                            "usage": {"completion_tokens": 2}}
                    self._send(200, json.dumps(body).encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def scripted() -> Iterator[ScriptedEndpoint]:
    endpoint = ScriptedEndpoint()
    yield endpoint
    endpoint.close()
