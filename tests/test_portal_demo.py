"""The demo `make run` ends in (`laif serve --demo`): a real assessment of the embedded model stored
as `make run` stores it, then seeded into the portal twice (nothing made twice), seen by the demo
SME's owner in the pages, and `laif serve --demo` printing the address and one-time passwords.

Loads the model: run under the heavy lock."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from laif.portal.demo import DEMO_HOLDER, DEMO_ORGANISATION, DEMO_OWNER, DEMO_SYSTEM, run_db, runs_of, seed
from laif.portal.tables import Account, Organisation
from laif.store.db import Store

from .conftest import free_port, run_laif
from .portal_kit import Visitor, make_portal


@dataclass
class MadeRun:
    """A folder like the one `make run` leaves: `laif-out` with results.json, and LAIF_HOME with the store."""

    root: Path
    home: Path
    run_ids: list[str]

    @property
    def out(self) -> Path:
        return self.root / "laif-out"

    @property
    def store_url(self) -> str:
        return f"sqlite:///{self.home / 'laif.db'}"


@pytest.fixture(scope="module")
def made_run(tmp_path_factory: pytest.TempPathFactory) -> MadeRun:
    root = tmp_path_factory.mktemp("make-run")
    home = root / "home"
    result = run_laif("assess", "--model", "embedded", "--suite", "bias", "--languages", "en", "--limit", "1",
                      "--out", str(root / "laif-out"), env={"LAIF_HOME": str(home), "LAIF_DB_URL": ""})
    assert result.returncode == 0, result.stderr
    ids = runs_of(root / "laif-out")
    assert ids and len(ids) == 1
    return MadeRun(root, home, ids)


def test_seeding_twice_makes_nothing_twice(made_run: MadeRun, tmp_path: Path, laif_home: Path) -> None:
    portal, _ = make_portal(f"sqlite:///{tmp_path / 'portal.db'}")
    settings = portal.settings
    first = seed(settings, made_run.store_url, out=made_run.out, portal=portal)
    assert first.runs == first.imported == made_run.run_ids
    assert set(first.passwords) == {DEMO_OWNER, DEMO_HOLDER}
    second = seed(settings, made_run.store_url, out=made_run.out, portal=portal)
    # Nobody has chosen a password yet: new one-time passwords replace the first (perhaps lost) ones.
    assert set(second.passwords) == {DEMO_OWNER, DEMO_HOLDER} and second.passwords[DEMO_OWNER] != first.passwords[DEMO_OWNER]
    assert second.imported == [] and second.runs == made_run.run_ids
    assert (second.organisation_id, second.owner_account_id) == (first.organisation_id, first.owner_account_id)
    with portal.session() as s:
        assert s.scalar(select(func.count()).select_from(Organisation).where(Organisation.name == DEMO_ORGANISATION)) == 1
        owner = s.scalars(select(Account).where(Account.email == DEMO_OWNER)).one()
        assert owner.must_change_password and owner.password_hash and second.passwords[DEMO_OWNER] not in owner.password_hash
        owner.must_change_password = False  # as after the owner's first sign-in
    third = seed(settings, made_run.store_url, out=made_run.out, portal=portal)
    assert set(third.passwords) == {DEMO_HOLDER}  # an account with its own password keeps it
    # The SME's own store holds the run with every answer and verdict of the source.
    source, own = Store(made_run.store_url), Store(run_db(settings, first.organisation_id))
    run_id = made_run.run_ids[0]
    assert own.require_run(run_id).summary == source.require_run(run_id).summary
    assert [e.response for e in own.exchanges(run_id)] == [e.response for e in source.exchanges(run_id)]
    assert [v.verdict for v in own.verdicts(run_id)] == [v.verdict for v in source.verdicts(run_id)]
    source.engine.dispose()
    own.engine.dispose()
    portal.close()


def test_runs_of_an_out_folder_skips_what_is_not_a_results_file(tmp_path: Path) -> None:
    assert runs_of(tmp_path / "missing") is None
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "results.json").write_text("{not json")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "results.json").write_text('{"run_id": "abc123"}')
    (tmp_path / "results.json").write_text("[1, 2]")
    assert runs_of(tmp_path) == ["abc123"]


def test_a_run_the_store_does_not_hold_is_not_imported(made_run: MadeRun, tmp_path: Path, laif_home: Path) -> None:
    out = tmp_path / "laif-out"
    out.mkdir()
    (out / "results.json").write_text('{"run_id": "notstored0000"}')
    portal, _ = make_portal(f"sqlite:///{tmp_path / 'portal.db'}")
    demo = seed(portal.settings, made_run.store_url, out=out, portal=portal)
    assert demo.runs == [] and demo.imported == [] and demo.job_id is None
    portal.close()


def test_the_demo_owner_finds_the_run_its_report_and_the_qualification(made_run: MadeRun, tmp_path: Path,
                                                                        laif_home: Path) -> None:
    portal, app = make_portal(f"sqlite:///{tmp_path / 'portal.db'}")
    demo = seed(portal.settings, made_run.store_url, out=made_run.out, portal=portal)
    owner = Visitor(app)
    assert owner.sign_in(DEMO_OWNER, demo.passwords[DEMO_OWNER]).headers["location"] == "/password"
    owner.get("/password")
    changed = owner.post("/password", {"current": demo.passwords[DEMO_OWNER], "new": "the demo owner's password",
                                       "repeat": "the demo owner's password"})
    assert changed.status_code == 303
    # The sandbox lists the runs of `make run` as a finished job, whose report opens.
    sandbox = owner.get("/sandbox").text
    assert f'href="/sandbox/jobs/{demo.job_id}"' in sandbox and "done" in sandbox
    job = owner.get(f"/sandbox/jobs/{demo.job_id}").text
    assert made_run.run_ids[0] in job and "Read the report" in job
    report = owner.client.get(f"/sandbox/jobs/{demo.job_id}/report", follow_redirects=True)
    assert report.status_code == 200 and made_run.run_ids[0] in report.text
    # The AI Act pages hold the demo system, qualified.
    aiact = owner.get("/aiact").text
    assert DEMO_SYSTEM in aiact
    system = owner.get(f"/aiact/systems/{demo.system_id}").text
    assert DEMO_SYSTEM in system and "limited" in system
    # The catalogue holds the demo data holder's two datasets.
    listed = owner.get("/datasets").text
    assert "Bus punctuality by line and month (demo)" in listed
    assert "Electricity load of two plants, every two hours (demo)" in listed
    assert demo.datasets == ["demo-bus-punctuality", "demo-energy-load"]
    assert "Demo Data Holder" in owner.get("/datasets/demo-energy-load").text
    # Seeding again keeps the one job.
    assert seed(portal.settings, made_run.store_url, out=made_run.out, portal=portal).job_id == demo.job_id
    portal.close()


def _start(made_run: MadeRun) -> tuple[subprocess.Popen[str], str]:
    """`laif serve --demo` from the folder holding laif-out, as `make run` starts it from the
    project's root; returns once it answers."""
    port = free_port()
    env = {**os.environ, "LAIF_HOME": str(made_run.home)}
    env.pop("LAIF_DB_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "laif", "serve", "--demo", "--port", str(port)],
                            cwd=made_run.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    return proc, base


def _stop(proc: subprocess.Popen[str]) -> str:
    """What the process printed (stdout), once stopped; no traceback on stderr."""
    proc.terminate()
    proc.wait(timeout=30)
    assert proc.stdout is not None and proc.stderr is not None
    out, err = proc.stdout.read(), proc.stderr.read()
    assert "Traceback" not in err, err
    return out


def test_laif_serve_demo_prints_the_address_and_one_time_passwords(made_run: MadeRun) -> None:
    proc, base = _start(made_run)
    try:
        client = httpx.Client(base_url=base, timeout=30)
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    finally:
        printed = _stop(proc)
    assert printed.startswith(f"laif portal on {base}/\n")
    assert re.search(r"as 'admin' with the one-time password \S+", printed)
    assert f"demo: '{DEMO_ORGANISATION}' has 1 run(s) of `make run` in its sandbox" in printed
    owner = re.search(rf"login as '{re.escape(DEMO_OWNER)}' with the one-time password (\S+)", printed)
    holder = re.search(rf"login as '{re.escape(DEMO_HOLDER)}' with the one-time password (\S+)", printed)
    assert owner and holder and owner.group(1) != holder.group(1)
    assert token
    # A second start before anyone signed in (the first terminal's passwords lost): new one-time
    # passwords are printed and the first ones no longer sign in.
    proc, base = _start(made_run)
    try:
        client = httpx.Client(base_url=base, timeout=30, follow_redirects=False)
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert token
        signed = client.post("/login", data={"email": DEMO_OWNER, "password": owner.group(1), "next": "/",
                                             "csrf_token": token.group(1)})
        assert signed.status_code == 401
    finally:
        again = _stop(proc)
    renewed = re.search(rf"login as '{re.escape(DEMO_OWNER)}' with the one-time password (\S+)", again)
    assert renewed and renewed.group(1) != owner.group(1)
    assert f"demo: '{DEMO_ORGANISATION}' has 1 run(s)" in again
