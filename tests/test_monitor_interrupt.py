"""Ctrl-C during `laif monitor ingest`: exit 130 with what is kept said, and the same command
goes on from where the intake stopped, so every call is counted once."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from laif.monitor.store import MonitorStore
from tests.conftest import LAIF, make_log, run_laif


def test_ctrl_c_keeps_what_was_taken_in_and_the_same_command_goes_on(tmp_path: Path, laif_home: Path) -> None:
    log = tmp_path / "week.jsonl"
    make_log(log, "--hours", "480", "--per-hour", "600")
    lines = sum(1 for _ in log.open("rb"))
    db = f"sqlite:///{tmp_path / 'm.db'}"
    args = ["monitor", "ingest", str(log), "--stream", "bank-bot", "--db", db]
    proc = subprocess.Popen([*LAIF, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    store = MonitorStore(db)
    while proc.poll() is None:  # wait for the first flush of windows, then press Ctrl-C
        if (tmp_path / "m.db").exists() and store.windows("bank-bot"):
            break
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "kept" in stderr and "Traceback" not in stderr
    kept = sum(w.n for w in store.windows("bank-bot"))
    assert 0 < kept < lines
    again = run_laif(*args)
    assert again.returncode == 0, again.stderr
    assert f"went on after line {kept}" in again.stdout + again.stderr
    assert sum(w.n for w in store.windows("bank-bot")) == lines
