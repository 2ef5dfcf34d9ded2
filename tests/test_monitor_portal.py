"""The OTLP/HTTP receiver mounted in the portal (`laif serve --monitor-spec`): machine to machine,
so no session or CSRF token, but a staff member's personal access token; a refused or bad request
writes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from laif.monitor.store import MonitorStore
from laif.portal.app import create_app
from laif.portal.core import Portal
from laif.portal.scope import Scoped, caller_for
from laif.portal.settings import PortalSettings
from laif.portal.tables import Account, Membership
from tests.conftest import free_port, run_laif, wait_healthy
from tests.portal_kit import SECRET, Seeded, seed_people
from tests.test_monitor_otlp import _request, _span

SPEC = "name: live\nwindow: {by: count, size: '1000'}\nmin_window: 1\n"


def _spec(tmp_path: Path) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def _token(portal: Portal, email: str) -> str:
    """A personal access token of `email`, made as the token page makes it."""
    with portal.session() as s:
        account = s.scalars(select(Account).where(Account.email == email)).one()
        membership = s.scalars(select(Membership).where(Membership.account_id == account.id)).one()
        caller = caller_for(s, account.id, membership.organisation_id, None)
        assert caller is not None
        return Scoped(s, caller).create_token("otlp exporter")


def _taken(db_url: str) -> int:
    return sum(w.n for w in MonitorStore(db_url).windows("live"))


@pytest.fixture()
def seeded(tmp_path: Path) -> Seeded:
    settings = PortalSettings(db_url=f"sqlite:///{tmp_path / 'portal.db'}", secret_key=SECRET,
                              monitor_spec=_spec(tmp_path))
    portal = Portal(settings)
    return Seeded(portal, create_app(settings, portal), seed_people(portal))


def test_spans_are_taken_with_a_staff_token_and_refused_without(seeded: Seeded) -> None:
    db = seeded.portal.settings.db_url
    client = TestClient(seeded.app)
    url = "/otlp/v1/traces"
    missing = client.post(url, json=_request(_span(0)))
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert "personal access token" in missing.json()["error"]
    wrong = client.post(url, json=_request(_span(0)), headers={"Authorization": "Bearer laif_pat_wrong"})
    assert wrong.status_code == 401
    assert client.post(url, json=_request(_span(0)), headers={"Authorization": "Basic YTpi"}).status_code == 401
    member = {"Authorization": f"Bearer {_token(seeded.portal, 'member@acme.lu')}"}
    sme = client.post(url, json=_request(_span(0)), headers=member)
    assert sme.status_code == 403 and "factory's staff" in sme.json()["error"]
    assert _taken(db) == 0  # nothing refused was written

    staff = {"Authorization": f"Bearer {_token(seeded.portal, 'operator@factory.lu')}"}
    ok = client.post(url, json=_request(_span(0), _span(1)), headers=staff)  # no session, no CSRF token
    assert (ok.status_code, ok.json()) == (200, {"partialSuccess": {}})
    assert _taken(db) == 2


def test_a_bad_payload_names_the_field_and_writes_nothing(seeded: Seeded) -> None:
    db = seeded.portal.settings.db_url
    client = TestClient(seeded.app)
    staff = {"Authorization": f"Bearer {_token(seeded.portal, 'advisor@factory.lu')}"}
    assert client.post("/otlp/v1/traces", json=_request(_span(0)), headers=staff).status_code == 200
    bad = client.post("/otlp/v1/traces", json=_request(_span(1), _span(2, endTimeUnixNano="later")), headers=staff)
    assert bad.status_code == 400
    assert bad.json()["error"] == ("resourceSpans[0].scopeSpans[0].spans[2].endTimeUnixNano: "
                                   "not a time in nanoseconds: 'later'")
    not_json = client.post("/otlp/v1/traces", content=b"{", headers={**staff, "Content-Type": "application/json"})
    assert not_json.status_code == 400
    assert _taken(db) == 1  # the first request's span only
    assert client.get("/otlp/v1/traces", headers=staff).status_code == 405


def test_a_signed_in_session_is_not_enough(seeded: Seeded) -> None:
    visitor = seeded.visitor("admin@factory.lu")
    answer = visitor.client.post("/otlp/v1/traces", json=_request(_span(0)))
    assert answer.status_code == 401  # the cookie is no credential here
    assert _taken(seeded.portal.settings.db_url) == 0


def test_without_a_monitoring_spec_nothing_is_mounted(tmp_path: Path) -> None:
    settings = PortalSettings(db_url=f"sqlite:///{tmp_path / 'portal.db'}", secret_key=SECRET)
    portal = Portal(settings)
    seed_people(portal)
    client = TestClient(create_app(settings, portal))
    answer = client.post("/otlp/v1/traces", json=_request(_span(0)),
                         headers={"Authorization": f"Bearer {_token(portal, 'admin@factory.lu')}"})
    assert answer.status_code == 404


def test_a_bad_monitoring_spec_is_refused_with_exit_2(tmp_path: Path) -> None:
    env = {"LAIF_HOME": str(tmp_path / "home"), "LAIF_DB_URL": ""}
    missing = run_laif("serve", "--port", str(free_port()), "--monitor-spec", str(tmp_path / "nope.yaml"), env=env)
    assert missing.returncode == 2 and "nope.yaml" in missing.stderr and "Traceback" not in missing.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: live\nwindow: {by: weekday, size: 1}\n", encoding="utf-8")
    wrong = run_laif("serve", "--port", str(free_port()), "--monitor-spec", str(bad), env=env)
    assert wrong.returncode == 2 and "bad.yaml" in wrong.stderr and "window" in wrong.stderr
    assert "Traceback" not in wrong.stderr


def test_laif_serve_receives_spans_over_http(tmp_path: Path) -> None:
    """A real `laif serve --monitor-spec` (uvicorn) takes spans sent with a staff token."""
    port, db = free_port(), f"sqlite:///{tmp_path / 'laif.db'}"
    env = {**os.environ, "LAIF_HOME": str(tmp_path / "home"), "LAIF_DB_URL": db}
    proc = subprocess.Popen([sys.executable, "-m", "laif", "serve", "--port", str(port), "--monitor-spec",
                             str(_spec(tmp_path))], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base)
        portal = Portal(PortalSettings(db_url=db, secret_key=SECRET))
        seed_people(portal)
        token = _token(portal, "admin@factory.lu")
        url = f"{base}/otlp/v1/traces"
        assert httpx.post(url, json=_request(_span(0))).status_code == 401
        sent = httpx.post(url, json=_request(_span(0), _span(1), _span(2)), headers={"Authorization": f"Bearer {token}"})
        assert (sent.status_code, sent.json()) == (200, {"partialSuccess": {}})
        assert _taken(db) == 3
    finally:
        proc.terminate()
        proc.wait(timeout=20)
