"""Monitoring results and incidents go into the evidence bundle beside the sandbox runs
(AI Act Art. 72 and 73): `laif evidence build RUN --monitoring STREAM`."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from .conftest import make_log, run_laif


@pytest.fixture(scope="module")
def monitored(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], str, Path]:
    """A real run, a day of production logs ingested as stream 'bot', and an incident on it."""
    home = tmp_path_factory.mktemp("evmon")
    env = {"LAIF_HOME": str(home / "home")}
    week = home / "day.jsonl"
    make_log(week, "--hours", "30", "--per-hour", "40", "--drift-at", "none")
    r = run_laif("monitor", "ingest", str(week), "--stream", "bot", env=env)
    assert r.returncode == 0, r.stderr
    r = run_laif("incidents", "open", "--title", "Answers in the wrong language", "--category", "fundamental_rights",
                 "--occurred", "2026-11-23T20:00:00Z", "--aware", "2026-11-24T02:00:00Z", "--stream", "bot", env=env)
    assert r.returncode == 0, r.stderr
    r = run_laif("assess", "--suite", "factual", "--languages", "en", "--limit", "1", "--max-tokens", "16", "--quiet",
                 "--json", env=env)
    assert r.returncode == 0, r.stderr
    return env, json.loads(r.stdout)["run_id"], home


def test_bundle_carries_the_stream_and_its_incident_and_verifies(monitored: tuple[dict[str, str], str, Path]) -> None:
    env, run_id, home = monitored
    bundle = home / "bundle.zip"
    r = run_laif("evidence", "build", run_id, "--monitoring", "bot", "--out", str(bundle), "--no-pdf", env=env)
    assert r.returncode == 0, r.stderr
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
        incident = json.loads(zf.read("incidents/INC-0001.json"))
        windows = json.loads(zf.read("monitoring/bot/windows.json"))
    assert {f"runs/{run_id}/results.json", "monitoring/bot/report.html", "monitoring/bot/plan.html",
            "monitoring/bot/alerts.json", "incidents/INC-0001.json"} <= names
    assert incident["title"] == "Answers in the wrong language"
    assert len(windows) >= 24
    assert manifest["about"]["monitoring"] == ["bot"]
    check = run_laif("evidence", "verify", str(bundle), env=env)
    assert check.returncode == 0, check.stdout + check.stderr


def test_an_unknown_stream_is_refused_before_anything_is_written(monitored: tuple[dict[str, str], str, Path]) -> None:
    env, run_id, home = monitored
    bundle = home / "never.zip"
    r = run_laif("evidence", "build", run_id, "--monitoring", "bto", "--out", str(bundle), "--no-pdf", env=env)
    assert r.returncode == 2
    assert "bto" in r.stderr and "Traceback" not in r.stderr
    assert not bundle.exists()
