"""The OTLP/HTTP receiver as an ASGI application mounted in a web app (as the portal mounts it):
same answers as the stand-alone server, its path read below the mount, nothing taken from a
refused request."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from laif.monitor import receiver
from laif.monitor.receiver import asgi_app
from laif.monitor.spec import MonitorSpec
from laif.monitor.store import MonitorStore
from tests.test_monitor_otlp import _request, _span


@pytest.fixture()
def store(tmp_path: Path) -> MonitorStore:
    return MonitorStore(f"sqlite:///{tmp_path / 'laif.db'}")


@pytest.fixture()
def client(store: MonitorStore) -> TestClient:
    app = FastAPI()

    @app.get("/")
    def home() -> dict[str, str]:
        return {"portal": "yes"}

    app.mount("/otlp", asgi_app(store, MonitorSpec(name="live")))
    return TestClient(app)


def test_mounted_receiver_takes_spans_and_names_a_bad_field(client: TestClient, store: MonitorStore) -> None:
    ok = client.post("/otlp/v1/traces", json=_request(_span(0), _span(1)))
    assert (ok.status_code, ok.json()) == (200, {"partialSuccess": {}})
    bad = client.post("/otlp/v1/traces", json=_request(_span(2), _span(3, endTimeUnixNano="later")))
    assert bad.status_code == 400
    assert bad.json()["error"] == ("resourceSpans[0].scopeSpans[0].spans[2].endTimeUnixNano: "
                                   "not a time in nanoseconds: 'later'")
    assert client.post("/otlp/v1/traces", content=b"{", headers={"Content-Type": "application/json"}).status_code == 400
    assert sum(w.n for w in store.windows("live")) == 2  # the bad requests changed nothing
    assert client.get("/").json() == {"portal": "yes"}  # the app around it is untouched


def test_mounted_receiver_refuses_what_it_does_not_read(client: TestClient, monkeypatch: pytest.MonkeyPatch,
                                                        store: MonitorStore) -> None:
    proto = client.post("/otlp/v1/traces", content=b"\x0a\x00", headers={"Content-Type": "application/x-protobuf"})
    assert proto.status_code == 415 and "OTLP/JSON" in proto.json()["error"]
    assert client.post("/otlp/v1/logs", json={}).status_code == 404
    assert client.get("/otlp/v1/traces").status_code == 405
    monkeypatch.setattr(receiver, "MAX_BODY", 100)
    big = client.post("/otlp/v1/traces", json=_request(_span(0)))
    assert big.status_code == 413 and big.json() == {"error": "body over 100 bytes"}
    assert store.windows("live") == []


def test_the_receiver_alone_as_an_asgi_app(store: MonitorStore) -> None:
    with TestClient(asgi_app(store, MonitorSpec(name="alone"))) as client:  # lifespan too
        assert client.post("/v1/traces", json=_request(_span(0))).status_code == 200
    assert sum(w.n for w in store.windows("alone")) == 1
