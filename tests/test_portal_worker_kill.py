"""A `laif worker` killed with SIGKILL in the middle of a job: another worker takes the job over once
the first one's heartbeat is stale, resumes it from the answers stored, and completes it with every
prompt answered exactly once (the embedded model, really)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from laif.portal.core import Portal
from laif.portal.jobs import Job, JobsScope, job_dir, run_db
from laif.portal.scope import caller_for
from laif.portal.settings import PortalSettings
from laif.portal.tables import Account

from .conftest import answered
from .portal_kit import SECRET, seed_people


def _rows(db: Path) -> list[tuple[str, int, str, str]]:
    """(prompt id, row id, answered at, response) of every stored answer."""
    con = sqlite3.connect(db, timeout=5)
    try:
        return sorted(con.execute("select prompt_id, id, answered_at, response from exchanges "
                                  "where response is not null").fetchall())
    finally:
        con.close()


def _job(portal: Portal, job_id: int) -> Job:
    with portal.session() as s:
        job = s.get(Job, job_id)
        assert job is not None
        s.expunge(job)
        return job


def _worker(db_url: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as fh:
        return subprocess.Popen([sys.executable, "-m", "laif", "worker", "--db", db_url, "--poll", "0.2",
                                 "--stale-after", "2"], stdout=fh, stderr=subprocess.STDOUT, env=dict(os.environ))


@pytest.mark.slow
def test_a_worker_killed_mid_job_is_resumed_by_another_with_no_answer_lost_or_repeated(
        tmp_path: Path, laif_home: Path) -> None:
    settings = PortalSettings(db_url=f"sqlite:///{tmp_path / 'portal.db'}", secret_key=SECRET)
    portal = Portal(settings)
    try:
        orgs = seed_people(portal)
        with portal.session() as s:
            account = s.scalars(select(Account).where(Account.email == "member@acme.lu")).one()
            caller = caller_for(s, account.id, None, None)
            assert caller is not None
            job_id = JobsScope(s, caller, settings).submit(system_id=None, suites=["bias"], languages=["en"],
                                                           limit=1, answer_modes=["free"]).id
        store = Path(run_db(settings, orgs["Acme"]).removeprefix("sqlite:///"))
        log = tmp_path / "workers.log"

        first = _worker(settings.db_url, log)
        deadline = time.monotonic() + 300
        while answered(store) < 5 and time.monotonic() < deadline:
            assert first.poll() is None, log.read_text()
            time.sleep(0.1)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        before = _rows(store)
        killed = _job(portal, job_id)
        assert len(before) >= 5, log.read_text()
        assert (killed.status, killed.attempts) == ("running", 1)
        assert killed.total is not None and len(before) < killed.total, "the job ended before it was killed"

        second = _worker(settings.db_url, log)
        try:
            deadline = time.monotonic() + 600
            # Until the worker has said how the job ended: it is then between jobs.
            while f"job {job_id}: done" not in log.read_text() and time.monotonic() < deadline:
                assert second.poll() is None, log.read_text()
                time.sleep(0.5)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=60)
        done = _job(portal, job_id)
        assert done.status == "done", (done.error, log.read_text())
        assert done.attempts == 2 and done.worker != killed.worker
        assert "stopped; no job was running" in log.read_text()

        after = _rows(store)
        prompt_ids = [row[0] for row in after]
        assert len(prompt_ids) == len(set(prompt_ids)) == done.total  # every prompt answered, each once
        assert set(before) <= set(after)  # the answers stored before the kill kept as they were, not asked again
        con = sqlite3.connect(store)
        try:
            runs = con.execute("select id, status, total_prompts from runs").fetchall()
        finally:
            con.close()
        assert runs == [(done.run_ids[0], "complete", done.total)]
        assert (job_dir(settings, done) / "report.html").is_file()
    finally:
        portal.close()
