"""Progress on long work: `laif monitor ingest` of a large file shows a bar in bytes on a terminal
(it read nothing for a minute and more on a million lines), and nothing extra when piped."""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

import pytest

from laif.services import monitoring

from .conftest import LAIF, make_log, run_laif


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 6.5 MB of logs: over the size from which the bar shows."""
    log = tmp_path_factory.mktemp("progress") / "days.jsonl"
    make_log(log, "--hours", "40", "--drift-at", "none")
    from laif.cli.monitor import PROGRESS_FROM_BYTES

    assert log.stat().st_size > PROGRESS_FROM_BYTES
    return log


def _on_a_terminal(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run with stdout and stderr on a pseudo-terminal; its exit code and what it showed."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdout=slave, stderr=slave, env={**os.environ, **env, "TERM": "xterm-256color",
                                                                    "COLUMNS": "120"})
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    return proc.wait(timeout=600), shown.decode("utf-8", "replace")


def test_a_large_intake_shows_a_bar_on_a_terminal(big_log: Path, tmp_path: Path) -> None:
    env = {"LAIF_HOME": str(tmp_path / "home")}
    code, shown = _on_a_terminal([*LAIF, "monitor", "ingest", str(big_log), "--stream", "bot"], env)
    assert code == 0, shown
    assert f"taking in {big_log.name}" in shown and "MB" in shown
    assert "Traceback" not in shown
    assert monitoring.intake_progress(big_log, "bot", f"sqlite:///{tmp_path / 'home' / 'laif.db'}") == big_log.stat().st_size


def test_no_bar_when_piped(big_log: Path, tmp_path: Path) -> None:
    r = run_laif("monitor", "ingest", str(big_log), "--stream", "bot", env={"LAIF_HOME": str(tmp_path / "home")})
    assert r.returncode == 0, r.stderr
    assert "taking in" not in r.stderr and f"{big_log}:" in r.stderr
