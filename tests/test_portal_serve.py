"""`laif serve`: its usage errors (exit 2, never a traceback), the one-time password of the first
admin printed once, and `laif --help` staying free of the portal's imports."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

from .conftest import free_port, run_laif, wait_healthy


def _home(tmp_path: Path) -> dict[str, str]:
    return {"LAIF_HOME": str(tmp_path / "home"), "LAIF_DB_URL": ""}


def test_a_port_that_is_not_a_number_is_a_usage_error(tmp_path: Path) -> None:
    result = run_laif("serve", "--port", "eighty", env=_home(tmp_path))
    assert result.returncode == 2 and "Traceback" not in result.stderr and "--port" in result.stderr


def test_half_of_the_openid_options_is_refused_naming_the_missing_ones(tmp_path: Path) -> None:
    result = run_laif("serve", "--oidc-issuer", "http://127.0.0.1:1", env=_home(tmp_path))
    assert result.returncode == 2
    assert "--oidc-client-id, --oidc-mapping: needed with the other OpenID Connect options" in result.stderr


def test_the_openid_client_secret_must_come_from_the_environment(tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("rules:\n  - {value: a, organisation: Acme, role: sme_member}\n")
    result = run_laif("serve", "--oidc-issuer", "http://127.0.0.1:1", "--oidc-client-id", "laif",
                      "--oidc-mapping", str(mapping), env={**_home(tmp_path), "LAIF_OIDC_CLIENT_SECRET": ""})
    assert result.returncode == 2 and "LAIF_OIDC_CLIENT_SECRET" in result.stderr


def test_a_missing_mapping_file_is_named(tmp_path: Path) -> None:
    result = run_laif("serve", "--oidc-issuer", "http://127.0.0.1:1", "--oidc-client-id", "laif",
                      "--oidc-mapping", str(tmp_path / "nope.yaml"),
                      env={**_home(tmp_path), "LAIF_OIDC_CLIENT_SECRET": "s"})
    assert result.returncode == 2 and "nope.yaml" in result.stderr and "Traceback" not in result.stderr


def test_a_port_in_use_is_refused_with_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_laif("serve", "--port", str(port), env=_home(tmp_path))
    assert result.returncode == 2 and f"--port {port}: cannot listen there" in result.stderr


def test_a_bad_database_url_is_refused_with_exit_2(tmp_path: Path) -> None:
    result = run_laif("serve", "--port", str(free_port()), "--db", "nosuchdb://x", env=_home(tmp_path))
    assert result.returncode == 2 and "--db" in result.stderr and "Traceback" not in result.stderr


def _start(tmp_path: Path) -> tuple[subprocess.Popen[str], list[str], str]:
    port = free_port()
    env = {**os.environ, **_home(tmp_path)}
    env.pop("LAIF_DB_URL")
    proc = subprocess.Popen([sys.executable, "-m", "laif", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    lines = [first]
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base)
    return proc, lines, base


def _stop(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """What the process wrote after its first line. Read through the same file objects as
    `_start`'s readline, which may already hold the next lines in its buffer (communicate()
    reads the pipe underneath and would miss them)."""
    proc.terminate()
    proc.wait(timeout=20)
    assert proc.stdout is not None and proc.stderr is not None
    return proc.stdout.read(), proc.stderr.read()


def test_the_first_start_prints_the_address_and_a_one_time_password_once(tmp_path: Path) -> None:
    proc, lines, base = _start(tmp_path)
    out, err = _stop(proc)
    printed = "".join(lines) + out
    assert printed.startswith(f"laif portal on {base}/")
    found = re.search(r"as 'admin' with the one-time password (\S+)", printed)
    assert found
    password = found.group(1)
    assert password not in err
    stored = b"".join(p.read_bytes() for p in (tmp_path / "home").rglob("*") if p.is_file())
    assert password.encode() not in stored
    # Started again before anyone signed in: a new one-time password replaces the lost one.
    proc, lines, _ = _start(tmp_path)
    out, _ = _stop(proc)
    again = re.search(r"as 'admin' with the one-time password (\S+)", "".join(lines) + out)
    assert again and again.group(1) != password


def test_laif_help_lists_serve_without_importing_the_portal() -> None:
    code = "import sys, laif.cli; print(any(m.startswith(('laif.portal', 'fastapi', 'uvicorn')) for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
    assert "serve" in run_laif("--help").stdout
