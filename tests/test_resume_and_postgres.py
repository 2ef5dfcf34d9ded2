"""A run killed with SIGKILL resumes without losing or repeating an answered prompt;
runs are stored the same way in a real PostgreSQL."""

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from laif.models import EndpointOptions, GenerationParams, open_model
from laif.reports import leaderboard_rows
from laif.runner import Runner, RunSettings
from laif.store import Store
from laif.suites.bias import BiasSuite

from .conftest import ScriptedEndpoint, answered, run_laif


def test_sigkill_halfway_then_resume_completes_without_repeats(tmp_path: Path) -> None:
    env = {**os.environ, "LAIF_HOME": str(tmp_path)}
    args = [sys.executable, "-m", "laif", "assess", "--limit", "1", "--languages", "en", "--quiet",
            "--out", str(tmp_path / "out")]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while answered(tmp_path / "laif.db") < 5 and time.monotonic() < deadline:
        assert proc.poll() is None, "the run ended before it could be killed"
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    kept = answered(tmp_path / "laif.db")
    assert kept >= 5
    assert not (tmp_path / "out" / "results.json").exists()

    resumed = run_laif(*args[3:], env={"LAIF_HOME": str(tmp_path)})
    assert resumed.returncode == 0, resumed.stderr
    m = re.search(r"resumed run (\w+): (\d+) prompts — (\d+) asked, (\d+) from cache, (\d+) already answered",
                  resumed.stderr)
    assert m, resumed.stderr
    run_id, total, asked, cached, already = m.group(1), *map(int, m.groups()[1:])
    assert already >= kept
    assert asked + cached + already == total
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["run_id"] == run_id and results["status"] == "complete"
    prompt_ids = [e["prompt_id"] for e in results["exchanges"]]
    assert len(prompt_ids) == len(set(prompt_ids)) == total
    assert all(e["response"] is not None for e in results["exchanges"])


def test_runs_are_stored_and_ranked_in_postgresql(pg_url: str, scripted: ScriptedEndpoint) -> None:
    store = Store(pg_url)
    model = open_model(f"openai:{scripted.base}#scripted", EndpointOptions(max_concurrency=2))
    settings = RunSettings(languages=("en", "lb"), limit=1, params=GenerationParams(max_tokens=8))
    outcome = asyncio.run(Runner(store, model, BiasSuite(), settings).run())
    assert outcome.run.status == "complete"
    assert len(store.exchanges(outcome.run.id)) == outcome.run.total_prompts
    rows = leaderboard_rows(store, "bias")
    assert [r["run_id"] for r in rows] == [outcome.run.id]
    listed = run_laif("leaderboard", "--format", "json", "--db", pg_url)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["rows"][0]["model"] == "scripted"
