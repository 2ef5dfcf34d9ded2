"""The portal's job queue: jobs are queued by the scoped layer, claimed atomically and run by
workers through the service layer (the embedded model, really), scoped to their organisation;
a system's key is stored encrypted, never shown, and only its own organisation's jobs get it."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from laif.portal.app import create_app
from laif.portal.core import Portal
from laif.portal.jobs import Job, JobsScope, Worker, job_dir, run_db, secret_name, start_worker_thread
from laif.portal.scope import Forbidden, NotFound, Refused, caller_for
from laif.portal.settings import PortalSettings
from laif.portal.tables import Account, AuditEntry
from laif.store import Store

from .conftest import LAIF, free_port, run_laif
from .portal_kit import SECRET, Seeded, seed_people

KEY = "sk-test-" + "0123456789abcdef" * 2


class Portalled:
    def __init__(self, root: Path, db_url: str | None = None) -> None:
        self.settings = PortalSettings(db_url=db_url or f"sqlite:///{root / 'portal.db'}", secret_key=SECRET,
                                       data_dir=root / "files")
        self.portal = Portal(self.settings)
        self.orgs = seed_people(self.portal)

    @contextmanager
    def scope(self, email: str) -> Iterator[JobsScope]:
        with self.portal.session() as s:
            account = s.scalars(select(Account).where(Account.email == email)).one()
            caller = caller_for(s, account.id, None, "127.0.0.1")
            assert caller is not None
            yield JobsScope(s, caller, self.settings)

    def job(self, job_id: int) -> Job:
        with self.portal.session() as s:
            job = s.get(Job, job_id)
            assert job is not None
            s.expunge(job)
            return job


@pytest.fixture()
def p(tmp_path: Path, laif_home: Path) -> Iterator[Portalled]:
    portalled = Portalled(tmp_path)
    yield portalled
    portalled.portal.close()


def _bias_job(p: Portalled, email: str = "member@acme.lu", **extra: Any) -> int:
    with p.scope(email) as scope:
        return scope.submit(system_id=extra.get("system_id"), suites=["bias"], languages=["en"], limit=1,
                            answer_modes=["free"]).id


# --- queueing, reading, cancelling (no model) -----------------------------------------------------------

def test_a_submitted_job_waits_in_the_queue_with_its_parameters(p: Portalled) -> None:
    job = p.job(_bias_job(p))
    assert (job.status, job.kind, job.organisation_id) == ("queued", "options", p.orgs["Acme"])
    assert job.params == {"suites": ["bias"], "languages": ["en"], "limit": 1, "answer_modes": ["free"]}
    with p.portal.session() as s:
        assert s.scalars(select(AuditEntry.action).where(AuditEntry.target == f"job:{job.id}")).all() == ["job.submit"]


@pytest.mark.parametrize(("field", "value", "said"), [
    ("suites", ["nope"], "unknown suite"),
    ("suites", [], "at least one suite"),
    ("languages", [], "at least one language"),
    ("limit", 0, "1 or more"),
    ("answer_modes", ["guess"], "unknown answer mode"),
    ("system_id", 999, "no system 999"),
])
def test_a_bad_submission_is_refused_and_nothing_is_queued(p: Portalled, field: str, value: Any, said: str) -> None:
    args: dict[str, Any] = {"system_id": None, "suites": ["bias"], "languages": ["en"], "limit": 1,
                            "answer_modes": ["free"]} | {field: value}
    with pytest.raises((Refused, NotFound), match=said), p.scope("member@acme.lu") as scope:
        scope.submit(**args)
    with p.scope("member@acme.lu") as scope:
        assert scope.jobs() == []


def test_a_queued_job_is_cancelled_and_never_runs(p: Portalled) -> None:
    job_id = _bias_job(p)
    with p.scope("member@acme.lu") as scope:
        assert scope.cancel(job_id).status == "cancelled"
    with pytest.raises(Refused, match="cancelled already"), p.scope("member@acme.lu") as scope:
        scope.cancel(job_id)
    worker = Worker(p.settings, portal=p.portal)
    assert worker.run_once() is False
    assert p.job(job_id).status == "cancelled" and p.job(job_id).run_ids == []


def test_operators_see_every_organisations_jobs_and_members_only_their_own(p: Portalled) -> None:
    acme, beta = _bias_job(p, "member@acme.lu"), _bias_job(p, "owner@beta.lu")
    with p.scope("member@acme.lu") as scope:
        assert [j.id for j in scope.jobs()] == [acme]
        with pytest.raises(Forbidden):
            scope.jobs(every_organisation=True)
        with pytest.raises(NotFound):
            scope.job(beta)
        with pytest.raises(NotFound):
            scope.cancel(beta)
    for email in ("operator@factory.lu", "admin@factory.lu"):
        with p.scope(email) as scope:
            every = scope.jobs(every_organisation=True)
            assert [j.id for j in every] == [beta, acme]
            assert set(scope.organisation_names(every).values()) == {"Acme", "Beta"}
            assert scope.jobs() == []  # their own organisation's: none
            assert scope.job(beta).id == beta
    with p.scope("operator@factory.lu") as scope:
        assert scope.cancel(beta).status == "cancelled"
        assert [j.id for j in scope.jobs(every_organisation=True, status="queued")] == [acme]
        with pytest.raises(Refused):
            scope.jobs(status="sleeping")


def test_a_running_job_is_asked_to_stop(p: Portalled) -> None:
    job_id = _bias_job(p)
    worker = Worker(p.settings, portal=p.portal)
    assert worker.claim() == job_id
    with p.scope("member@acme.lu") as scope:
        assert scope.cancel(job_id).status == "running"
    assert p.job(job_id).cancel_requested
    worker.run_job(job_id)  # it stops before it asks anything
    assert p.job(job_id).status == "cancelled"


def _claim_race(p: Portalled) -> None:
    jobs = [_bias_job(p) for _ in range(6)]
    one, two = Worker(p.settings, "one"), Worker(p.settings, "two")
    claimed: dict[str, list[int]] = {"one": [], "two": []}
    start = threading.Barrier(2)

    def take(worker: Worker, name: str) -> None:
        start.wait()
        while (job_id := worker.claim()) is not None:
            claimed[name].append(job_id)

    threads = [threading.Thread(target=take, args=(w, n)) for w, n in ((one, "one"), (two, "two"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed["one"] + claimed["two"]) == jobs
    assert not set(claimed["one"]) & set(claimed["two"])
    assert {p.job(j).worker for j in claimed["one"]} <= {one.name}
    assert all(p.job(j).attempts == 1 for j in jobs)
    one.close()
    two.close()


def test_two_workers_never_claim_the_same_job(p: Portalled) -> None:
    _claim_race(p)


def test_on_postgresql_two_workers_never_claim_the_same_job_and_a_job_runs(
        tmp_path: Path, laif_home: Path, pg_url: str, recorder: tuple[str, list[str]]) -> None:
    from laif.portal.schema import metadata
    from laif.portal.tables import VERSION_TABLE

    p = Portalled(tmp_path, pg_url)
    try:
        _claim_race(p)
        base, seen = recorder
        with p.scope("owner@acme.lu") as scope:
            system = scope.register_system("Bot", base, "recorder", KEY).id
        job_id = _bias_job(p, "owner@acme.lu", system_id=system)
        assert Worker(p.settings, portal=p.portal).run_once()
        job = p.job(job_id)
        assert job.status == "done" and job.done == job.total and len(job.run_ids) == 1, job.error
        assert set(seen) == {f"Bearer {KEY}"}
    finally:
        with p.portal.engine.begin() as connection:
            metadata.drop_all(connection)
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {VERSION_TABLE}")
        p.portal.close()


def test_a_job_whose_worker_stopped_beating_is_taken_over_and_a_fresh_one_is_not(p: Portalled) -> None:
    job_id = _bias_job(p)
    lost = Worker(p.settings, "lost", portal=p.portal)
    assert lost.claim() == job_id
    patient = Worker(p.settings, "patient", portal=p.portal, stale_after_s=3600)
    assert patient.claim() is None  # its heartbeat is fresh
    eager = Worker(p.settings, "eager", portal=p.portal, stale_after_s=0)
    assert eager.claim() == job_id
    job = p.job(job_id)
    assert (job.worker, job.attempts, job.status) == (eager.name, 2, "running")
    with p.portal.session() as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.target == f"job:{job_id}")).all()
    assert actions == ["job.submit", "job.claim", "job.resume"]


# --- systems under test and their keys --------------------------------------------------------------------

def test_a_systems_key_is_stored_encrypted_and_never_shown(p: Portalled, tmp_path: Path) -> None:
    with p.scope("owner@acme.lu") as scope:
        system = scope.register_system("Chatbot", "https://api.example.com/v1/", "gpt-x", KEY)
        system_id = system.id
        assert system.has_key and system.base_url == "https://api.example.com/v1"
        assert KEY not in repr(vars(system))
    listed = run_laif("secrets", "list", "--db", run_db(p.settings, p.orgs["Acme"]))
    assert secret_name(p.orgs["Acme"], system_id) in listed.stdout and KEY not in listed.stdout
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    with p.scope("owner@acme.lu") as scope:
        assert [s.name for s in scope.systems()] == ["Chatbot"]
        with pytest.raises(Refused, match="already"):
            scope.register_system("Chatbot", "https://api.example.com/v1", "gpt-x", None)
    with p.scope("owner@beta.lu") as scope:
        assert scope.systems() == []
        with pytest.raises(NotFound):
            scope.system(system_id)
        with pytest.raises(NotFound):
            scope.remove_system(system_id)
        with pytest.raises(NotFound):
            scope.submit(system_id=system_id, suites=["bias"], languages=["en"], limit=1, answer_modes=["free"])
    with p.scope("owner@acme.lu") as scope:
        scope.remove_system(system_id)
        assert scope.systems() == []
    listed = run_laif("secrets", "list", "--db", run_db(p.settings, p.orgs["Acme"]))
    assert listed.returncode == 0 and secret_name(p.orgs["Acme"], system_id) not in listed.stdout


@pytest.mark.parametrize(("base_url", "model", "said"), [
    ("ftp://example.com", "m", "http"),
    ("https://", "m", "http"),
    ("https://example.com/v1#x", "m", "http"),
    ("https://example.com/v1", "", "model"),
    ("https://example.com/v1", "two words", "model"),
])
def test_a_bad_system_is_refused(p: Portalled, base_url: str, model: str, said: str) -> None:
    with pytest.raises(Refused, match=said), p.scope("owner@acme.lu") as scope:
        scope.register_system("S", base_url, model, None)


class _Recorder(BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint that records the Authorization header of every request."""

    seen: list[str] = []
    posts: list[int] = []
    #: Called with the number of completions asked so far, before answering (a test's fault to inject).
    hook: Callable[[int], None] | None = None

    def log_message(self, *args: object) -> None:
        pass

    def _reply(self, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        self.seen.append(self.headers.get("Authorization", ""))
        self._reply({"data": [{"id": "recorder"}]})

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.seen.append(self.headers.get("Authorization", ""))
        self.posts.append(1)
        if self.hook is not None:
            type(self).hook(len(self.posts))  # type: ignore[misc]
        self._reply({"choices": [{"message": {"content": "Yes."}, "finish_reason": "stop"}],
                     "usage": {"completion_tokens": 2}})


@pytest.fixture()
def recorder_handler() -> type[_Recorder]:
    return type("Handler", (_Recorder,), {"seen": [], "posts": [], "hook": None})


@pytest.fixture()
def recorder(recorder_handler: type[_Recorder]) -> Iterator[tuple[str, list[str]]]:
    seen, handler = recorder_handler.seen, recorder_handler
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen
    finally:
        server.shutdown()
        server.server_close()


def test_a_job_gets_its_own_organisations_key_and_never_another(p: Portalled, recorder: tuple[str, list[str]],
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    base, seen = recorder
    beta_key = "sk-beta-" + "b" * 32
    with p.scope("owner@acme.lu") as scope:
        acme_system = scope.register_system("Bot", base, "recorder", KEY).id
    with p.scope("owner@beta.lu") as scope:
        scope.register_system("Bot", base, "recorder", beta_key)
    job_id = _bias_job(p, "owner@acme.lu", system_id=acme_system)
    worker = Worker(p.settings, portal=p.portal)
    assert worker.run_once()
    job = p.job(job_id)
    assert job.status == "done", job.error
    assert seen and set(seen) == {f"Bearer {KEY}"}
    assert not any(k.startswith("LAIF_JOB_") for k in os.environ)  # the variable lived for the run only
    assert KEY not in json.dumps(job.params) and KEY not in (job.message or "")
    assert KEY not in caplog.text

    # Nowhere in the pages, the API or the audit log, for the organisation or the admin.
    seeded = Seeded(p.portal, create_app(p.settings, p.portal), p.orgs)
    owner = seeded.visitor("owner@acme.lu")
    for path in ("/sandbox", "/sandbox/systems", f"/sandbox/jobs/{job_id}", f"/sandbox/jobs/{job_id}/progress",
                 f"/sandbox/jobs/{job_id}/report"):
        response = owner.get(path)
        assert response.status_code in (200, 286) and KEY not in response.text, path  # 286: HTMX stops polling
    with p.scope("owner@acme.lu") as scope:
        token = scope.create_token("ci")
    for path in ("/api/v1/systems", f"/api/v1/systems/{acme_system}", "/api/v1/jobs", f"/api/v1/jobs/{job_id}",
                 "/api/v1/runs"):
        response = owner.client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200 and KEY not in response.text, path
    admin = seeded.visitor("admin@factory.lu")
    for path in ("/admin/audit", "/admin/audit.jsonl", "/admin/audit.csv"):
        response = admin.get(path)
        assert response.status_code == 200 and KEY not in response.text, path
    assert "system.register" in admin.get("/admin/audit.jsonl").text

    # A job of Beta pointed (by a forged row) at Acme's system finds no such system in Beta: it fails
    # without asking anything, and Acme's key is never read for it.
    seen.clear()
    with p.portal.session() as s:
        forged = Job(organisation_id=p.orgs["Beta"], system_id=acme_system, kind="options",
                     params={"suites": ["bias"], "languages": ["en"], "limit": 1, "answer_modes": ["free"]},
                     status="queued", stage="queued", message="", run_ids=[])
        s.add(forged)
        s.flush()
        forged_id = forged.id
    assert worker.run_once()
    failed = p.job(forged_id)
    assert failed.status == "failed" and "removed" in (failed.error or "")
    assert seen == []


def test_a_running_job_cancelled_midway_stops_and_keeps_its_answers(
        p: Portalled, recorder: tuple[str, list[str]], recorder_handler: type[_Recorder]) -> None:
    base, seen = recorder
    with p.scope("owner@acme.lu") as scope:
        system = scope.register_system("Bot", base, "recorder", None).id
    job_id = _bias_job(p, "owner@acme.lu", system_id=system)

    def cancel_at_five(count: int) -> None:
        if count == 5:
            with p.scope("owner@acme.lu") as scope:
                scope.cancel(job_id)

    recorder_handler.hook = cancel_at_five
    worker = Worker(p.settings, portal=p.portal)
    worker.progress_every_s = 0  # each answer looks for the request: the stop comes at the next answer
    worker.run_once()
    job = p.job(job_id)
    assert job.status == "cancelled" and "answers stored so far are kept" in job.message
    store = Store(run_db(p.settings, p.orgs["Acme"]))
    try:
        (run,) = store.runs(status=None)
        kept = len(store.answered_prompt_ids(run.id))
    finally:
        store.engine.dispose()
    assert run.status == "incomplete" and 1 <= kept < run.total_prompts
    with p.scope("owner@acme.lu") as scope:
        assert [r["status"] for r in scope.runs()] == ["incomplete"]


# --- uploaded sandbox specs --------------------------------------------------------------------------

SPEC = """\
name: acme-check
system:
  model: {model}
suites: [bias]
languages: [en]
limit: 1
thresholds:
  bias.mean: {{min: 0}}
"""


@pytest.mark.parametrize(("text", "said"), [
    ("name: x\n", "system"),
    (SPEC.format(model="llamacpp:/etc/passwd"), "embedded model or an endpoint"),
    (SPEC.format(model="embedded") + "  api_key_env: HOME\n", "api_key_env"),
    (SPEC.format(model="embedded").replace("  model: embedded", "  model: embedded\n  api_key_secret: Bot"),
     "registered systems"),
])
def test_a_spec_the_portal_does_not_run_is_refused_naming_the_file(p: Portalled, text: str, said: str) -> None:
    with pytest.raises(Refused, match=said) as caught, p.scope("member@acme.lu") as scope:
        scope.submit_spec(text, "../my spec.yaml")
    assert "/tmp" not in str(caught.value)


def test_a_spec_job_can_name_its_organisations_system_by_name(p: Portalled) -> None:
    with p.scope("owner@acme.lu") as scope:
        bot = scope.register_system("Bot", "http://127.0.0.1:9/v1", "m", KEY).id
        text = SPEC.format(model="openai:http://127.0.0.1:9/v1#m").replace(
            "#m\n", "#m\n  api_key_secret: Bot\n")
        job = scope.submit_spec(text, "acme.yaml")
        assert (job.kind, job.system_id, job.params["name"]) == ("spec", bot, "acme-check")
    with pytest.raises(Refused, match="registered systems"), p.scope("owner@beta.lu") as scope:
        scope.submit_spec(text, "beta.yaml")


# --- with the embedded model ---------------------------------------------------------------------------

@pytest.mark.slow
def test_a_job_runs_in_a_worker_with_the_embedded_model(p: Portalled) -> None:
    job_id = _bias_job(p)
    with p.scope("owner@acme.lu") as scope:
        spec_id = scope.submit_spec(SPEC.format(model="embedded"), "acme.yaml").id
    thread, stop = start_worker_thread(p.settings, poll_s=0.2)
    try:
        deadline_jobs = {job_id, spec_id}
        while deadline_jobs:
            thread.join(0.5)
            deadline_jobs = {j for j in deadline_jobs if p.job(j).status in ("queued", "running")}
    finally:
        stop.set()
        thread.join()
    job = p.job(job_id)
    assert job.status == "done", job.error
    assert len(job.run_ids) == 1 and job.done == job.total and job.total
    folder = job_dir(p.settings, job)
    assert (folder / "report.html").is_file()
    results = json.loads((folder / "results.json").read_text())
    assert results["run_id"] == job.run_ids[0] and results["status"] == "complete"
    store = Store(run_db(p.settings, p.orgs["Acme"]))
    assert store.require_run(job.run_ids[0]).status == "complete"
    store.engine.dispose()

    spec_job = p.job(spec_id)
    assert spec_job.status == "done", spec_job.error
    assert spec_job.verdict is not None and spec_job.verdict["passed"] is True
    assert (job_dir(p.settings, spec_job) / "gates.json").is_file()
    assert (job_dir(p.settings, spec_job) / "acme.yaml").is_file()

    with p.scope("member@acme.lu") as scope:
        runs = scope.runs()
    assert {r["job_id"] for r in runs} == {job_id, spec_id}
    assert {r["suite"] for r in runs} == {"bias"}
    with p.scope("owner@beta.lu") as scope:
        assert scope.runs() == []


# --- laif worker ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["--poll", "0"], ["--stale-after", "0"], ["--bogus"], ["--db", "nonsense://"], ["extra"],
])
def test_laif_worker_usage_errors_exit_2(laif_home: Path, args: list[str]) -> None:
    done = run_laif("worker", "--once", *args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr


def test_laif_worker_once_with_nothing_queued_exits_0(tmp_path: Path, laif_home: Path) -> None:
    done = run_laif("worker", "--once", "--db", f"sqlite:///{tmp_path / 'portal.db'}")
    assert done.returncode == 0, done.stderr
    assert "no job left" in done.stderr


def test_laif_serve_workers_below_0_is_a_usage_error(laif_home: Path) -> None:
    done = run_laif("serve", "--workers", "-1")
    assert done.returncode == 2 and "--workers" in done.stderr and "Traceback" not in done.stderr


def test_laif_serve_runs_the_queued_jobs_in_its_own_worker(tmp_path: Path, laif_home: Path,
                                                           recorder: tuple[str, list[str]]) -> None:
    p = Portalled(tmp_path)
    p.settings = PortalSettings(db_url=p.settings.db_url, secret_key=SECRET)  # laif serve's file folder
    base, seen = recorder
    with p.scope("owner@acme.lu") as scope:
        system = scope.register_system("Bot", base, "recorder", KEY).id
    job_id = _bias_job(p, "owner@acme.lu", system_id=system)
    serving = subprocess.Popen([*LAIF, "serve", "--port", str(free_port()), "--db", p.settings.db_url],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 120
        while p.job(job_id).status in ("queued", "running") and time.monotonic() < deadline:
            assert serving.poll() is None, serving.stderr.read() if serving.stderr else ""
            time.sleep(0.2)
    finally:
        serving.terminate()
        _, err = serving.communicate(timeout=60)
    job = p.job(job_id)
    assert job.status == "done", (job.error, err)
    assert job.worker is not None and ":serve:" in job.worker
    assert set(seen) == {f"Bearer {KEY}"} and KEY.encode() not in err
    p.portal.close()


def test_laif_worker_stopped_by_sigterm_mid_job_puts_it_back_and_the_next_worker_resumes_it(
        tmp_path: Path, laif_home: Path, recorder: tuple[str, list[str]], recorder_handler: type[_Recorder]) -> None:
    p = Portalled(tmp_path)
    p.settings = PortalSettings(db_url=p.settings.db_url, secret_key=SECRET)  # laif worker's file folder
    base, _ = recorder
    with p.scope("owner@acme.lu") as scope:
        system = scope.register_system("Bot", base, "recorder", None).id
    job_id = _bias_job(p, "owner@acme.lu", system_id=system)
    asked = threading.Event()

    def slowly(count: int) -> None:
        if count >= 5:
            asked.set()
            time.sleep(0.5)  # keeps the job running while the worker is stopped

    recorder_handler.hook = slowly
    working = subprocess.Popen([*LAIF, "worker", "--db", p.settings.db_url, "--poll", "0.2"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ))
    assert asked.wait(120)
    working.send_signal(signal.SIGTERM)
    _, err = working.communicate(timeout=60)
    assert working.returncode == 130, err
    stopped = p.job(job_id)
    assert (stopped.status, stopped.worker) == ("queued", None), err
    assert "resumes from its stored answers" in stopped.message

    recorder_handler.hook = None
    again = run_laif("worker", "--once", "--db", p.settings.db_url)
    assert again.returncode == 0, again.stderr
    done = p.job(job_id)
    assert (done.status, done.attempts) == ("done", 2), done.error
    store = Store(run_db(p.settings, p.orgs["Acme"]))
    try:
        run = store.require_run(done.run_ids[0])
        assert run.status == "complete" and len(store.exchanges(run.id)) == run.total_prompts
    finally:
        store.engine.dispose()
    p.portal.close()
