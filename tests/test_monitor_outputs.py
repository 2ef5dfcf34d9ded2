"""Where laif monitor and laif incidents write: an --out that cannot be written is named with
exit 2 (never a traceback), a plan named other than .html or .pdf is refused, and the Prometheus
file can be read by node_exporter, which runs as a user of its own."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from .conftest import LAIF, make_log, run_laif


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Thirty hours of logs in stream 'bot' (the last ones judged), and an incident on it."""
    here = tmp_path_factory.mktemp("outputs")
    env = {"LAIF_HOME": str(here / "home")}
    log = here / "days.jsonl"
    make_log(log, "--hours", "30", "--per-hour", "200", "--drift-at", "none")
    r = run_laif("monitor", "ingest", str(log), "--stream", "bot", env=env)
    assert r.returncode == 0, r.stderr
    r = run_laif("incidents", "open", "--stream", "bot", "--title", "Wrong language", "--category", "health",
                 "--occurred", "2026-11-23T20:00:00Z", "--aware", "2026-11-24T08:00:00Z", env=env)
    assert r.returncode == 0, r.stderr
    return env


@pytest.mark.parametrize("args", [
    ("monitor", "report", "--stream", "bot", "--out", "{bad}/report.html"),
    ("monitor", "plan", "--stream", "bot", "--out", "{bad}/plan.html"),
    ("monitor", "plan", "--stream", "bot", "--out", "{bad}/plan.pdf"),
    ("monitor", "init", "--out", "{bad}/monitor.yaml"),
    ("monitor", "metrics", "--out", "{bad}/laif.prom"),
    ("monitor", "bundle", "--stream", "bot", "--out", "{bad}/monitoring.zip"),
    ("incidents", "report", "INC-0001", "--out", "{bad}/incident"),
], ids=lambda a: " ".join(a[:2]) + (" pdf" if a[-1].endswith(".pdf") else ""))
def test_an_out_that_cannot_be_written_exits_2_naming_it(env: dict[str, str], tmp_path: Path, args: tuple[str, ...]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    r = run_laif(*(a.format(bad=blocker) for a in args), env=env)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    assert f"{blocker}" in r.stderr and "cannot write" in r.stderr


def test_a_plan_named_neither_html_nor_pdf_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    r = run_laif("monitor", "plan", "--stream", "bot", "--out", str(tmp_path / "plan.docx"), env=env)
    assert r.returncode == 2 and "plan.docx" in r.stderr and ".html or .pdf" in r.stderr
    assert not (tmp_path / "plan.docx").exists()


def test_the_prometheus_file_is_readable_by_node_exporter(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "textfile" / "laif.prom"
    r = subprocess.run([*LAIF, "monitor", "metrics", "--out", str(out)], env={**os.environ, **env}, capture_output=True,
                       text=True, umask=0o022, timeout=300)
    assert r.returncode == 0, r.stderr
    mode = stat.S_IMODE(out.stat().st_mode)
    assert mode == 0o644, oct(mode)  # node_exporter's own user reads it; the umask is respected
    assert "laif_monitor_window_calls" in out.read_text(encoding="utf-8")
    r = subprocess.run([*LAIF, "monitor", "metrics", "--out", str(out)], env={**os.environ, **env}, capture_output=True,
                       text=True, umask=0o027, timeout=300)
    assert r.returncode == 0 and stat.S_IMODE(out.stat().st_mode) == 0o640


def test_the_latest_window_state_is_one_series(env: dict[str, str]) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    r = run_laif("monitor", "metrics", env=env)
    status = run_laif("monitor", "status", "--stream", "bot", "--json", env=env)
    assert r.returncode == 0 and status.returncode == 0, r.stderr + status.stderr
    latest = json.loads(status.stdout)["latest"]["state"]
    samples = {s.name: s.value for f in text_string_to_metric_families(r.stdout) for s in f.samples
               if s.name == "laif_monitor_window_state" and s.labels == {"stream": "bot"}}
    assert samples == {"laif_monitor_window_state": ("ok", "warning", "alert").index(latest)}
