"""Serious incidents: Art. 73 deadlines per category, versions, and a signed snapshot that verifies."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from laif.compliance.evidence import fingerprint, signing_key, verify
from laif.errors import BadInput
from laif.monitor.bundle import snapshot, stream_bundle
from laif.monitor.incidents import deadline, describe, open_incident, update_incident
from laif.monitor.intake import ingest
from laif.monitor.spec import MonitorSpec, Reference, Window
from laif.monitor.store import MonitorStore
from tests.conftest import run_laif

AWARE = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(("category", "widespread", "days", "rule"), [
    ("death", False, 10, "Art. 73(4)"),
    ("health", False, 15, "Art. 73(2)"),
    ("critical_infrastructure", False, 2, "Art. 73(3)"),
    ("fundamental_rights", False, 15, "Art. 73(2)"),
    ("fundamental_rights", True, 2, "Art. 73(3)"),
    ("property_environment", False, 15, "Art. 73(2)"),
    ("death", True, 2, "Art. 73(3)"),
])
def test_deadline_per_category(category: str, widespread: bool, days: int, rule: str) -> None:
    due = deadline(category, widespread, AWARE)
    assert due["due"] == AWARE + timedelta(days=days)
    assert (due["days"], due["rule"]) == (days, rule)


@pytest.fixture()
def store(tmp_path: Path) -> MonitorStore:
    return MonitorStore(f"sqlite:///{tmp_path / 'laif.db'}")


def test_versions_keep_reports_root_cause_and_actions(store: MonitorStore) -> None:
    aware = datetime.now(UTC) - timedelta(days=1)
    row = open_incident(store, title="Wrong loan advice", category="fundamental_rights",
                        occurred=aware - timedelta(days=1), aware=aware)
    assert row.id == "INC-0001"
    assert update_incident(store, row.id, report="initial") == 2
    update_incident(store, row.id, root_cause="system prompt changed", actions=["prompt restored", "canary added"])
    update_incident(store, row.id, report="complete", status="closed")
    info = describe(store, row.id)
    assert [v["version"] for v in info["versions"]] == [1, 2, 3, 4]
    assert [r["kind"] for r in info["reports"]] == ["initial", "complete"]
    assert info["root_cause"] == "system prompt changed"
    assert info["corrective_actions"] == ["prompt restored", "canary added"]
    assert info["status"] == "closed"
    assert info["deadline"]["met"] is True


def test_a_report_after_the_deadline_is_late(store: MonitorStore) -> None:
    aware = datetime.now(UTC) - timedelta(days=3)
    row = open_incident(store, title="Grid scheduling halted", category="critical_infrastructure",
                        occurred=aware, aware=aware)
    assert describe(store, row.id)["deadline"]["hours_left"] < 0
    update_incident(store, row.id, report="initial")
    assert describe(store, row.id)["deadline"]["met"] is False


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"category": "annoyance"}, "--category 'annoyance'"),
    ({"aware": AWARE - timedelta(days=3)}, "--aware .* before the occurrence"),
    ({"causal_link": AWARE - timedelta(days=3)}, "--causal-link .* before the occurrence"),
    ({"title": "  "}, "--title"),
    ({"stream": "nope"}, "no monitored stream 'nope'"),
])
def test_bad_incidents_are_refused(store: MonitorStore, kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"title": "t", "category": "health", "occurred": AWARE - timedelta(days=1), "aware": AWARE}
    with pytest.raises(BadInput, match=message):
        open_incident(store, **(args | kwargs))  # type: ignore[arg-type]


def test_an_update_must_say_something(store: MonitorStore) -> None:
    row = open_incident(store, title="t", category="health", occurred=AWARE, aware=AWARE)
    with pytest.raises(BadInput, match="nothing to record"):
        update_incident(store, row.id)
    with pytest.raises(BadInput, match="no incident 'INC-0099'"):
        update_incident(store, "INC-0099", note="x")


def test_snapshot_holds_the_windows_around_the_incident_and_is_signed(tmp_path: Path, store: MonitorStore) -> None:
    lines = [json.dumps({"time": f"2026-11-23T{h:02d}:{m:02d}:00Z", "prompt": "How do I block my card today?",
                         "answer": "You can block it in the app under the cards menu.", "latency_s": 0.4 + m / 100})
             for h in range(12) for m in range(0, 60, 5)]
    log = tmp_path / "log.jsonl"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    spec = MonitorSpec(name="bot", window=Window(by="time", size="1h"), reference=Reference(windows=3), min_window=5)
    ingest(store, spec, log)
    row = open_incident(store, title="t", category="health", occurred=datetime(2026, 11, 23, 6, 10, tzinfo=UTC),
                        aware=AWARE, stream="bot")
    key = signing_key(tmp_path / "signing.key")
    bundle = tmp_path / "snap.zip"
    manifest = snapshot(store, row.id, bundle, key, around=2)
    assert set(manifest["files"]) == {"incident.json", "monitoring/spec.json", "monitoring/windows.json",
                                      "monitoring/alerts.json"}
    with zipfile.ZipFile(bundle) as zf:
        windows = json.loads(zf.read("monitoring/windows.json"))
    assert [w["start"][11:16] for w in windows] == ["04:00", "05:00", "06:00", "07:00", "08:00"]
    check = verify(bundle, fingerprint(key.public_key()))
    assert check.ok, check.problems


def test_cli_open_list_update_report(tmp_path: Path) -> None:
    env = {"LAIF_HOME": str(tmp_path / "home")}
    r = run_laif("incidents", "open", "--title", "Advice in the wrong language", "--category", "death",
                 "--occurred", "2026-11-27T08:00:00+01:00", "--aware", "2026-11-27T10:00:00+01:00", "--json", env=env)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["deadline"]["due"] == "2026-12-07T09:00:00+00:00" and info["deadline"]["rule"] == "Art. 73(4)"
    r = run_laif("incidents", "update", "INC-0001", "--report", "initial", "--action", "rolled back", env=env)
    assert r.returncode == 0, r.stderr
    r = run_laif("incidents", "list", "--json", env=env)
    assert [x["status"] for x in json.loads(r.stdout)] == ["reported"]
    r = run_laif("incidents", "report", "INC-0001", "--out", str(tmp_path / "rep"), env=env)
    assert r.returncode == 0, r.stderr
    assert "rolled back" in (tmp_path / "rep" / "INC-0001.html").read_text()
    r = run_laif("evidence", "verify", str(tmp_path / "rep" / "INC-0001-snapshot.zip"), env=env)
    assert r.returncode == 0, r.stdout + r.stderr


def test_cli_bad_time_exits_2(tmp_path: Path) -> None:
    r = run_laif("incidents", "open", "--title", "t", "--category", "health", "--occurred", "2026-11-27 08:00",
                 env={"LAIF_HOME": str(tmp_path / "home")})
    assert r.returncode == 2 and "--occurred: '2026-11-27 08:00' has no time zone" in r.stderr


def test_monitoring_results_and_incidents_go_into_a_signed_bundle(tmp_path: Path, store: MonitorStore) -> None:
    log = tmp_path / "log.jsonl"
    log.write_text("".join(json.dumps({"time": f"2026-11-23T{h:02d}:{m:02d}:00Z", "prompt": "How do I block my card?",
                                       "answer": "In the app, under cards.", "latency_s": 0.5}) + "\n"
                           for h in range(6) for m in range(0, 60, 10)), encoding="utf-8")
    ingest(store, MonitorSpec(name="bot", reference=Reference(windows=2), min_window=3), log)
    open_incident(store, title="t", category="health", occurred=AWARE, aware=AWARE, stream="bot")
    key = signing_key(tmp_path / "signing.key")
    manifest = stream_bundle(store, "bot", tmp_path / "monitoring.zip", key)
    assert {"monitoring/bot/report.html", "monitoring/bot/plan.html", "monitoring/bot/windows.json",
            "monitoring/bot/alerts.json", "incidents/INC-0001.json"} <= set(manifest["files"])
    with zipfile.ZipFile(tmp_path / "monitoring.zip") as zf:
        windows = json.loads(zf.read("monitoring/bot/windows.json"))
    assert [w["state"] for w in windows] == ["reference", "reference", "ok", "ok", "ok", "ok"]
    assert verify(tmp_path / "monitoring.zip", fingerprint(key.public_key())).ok
