"""The portal's durable job queue: assessments submitted from the pages or the API wait in the table
`portal_jobs` and are run by workers (`laif worker`, or the thread `laif serve` starts), never in
a web request.

- **Systems under test**: an organisation registers a model endpoint (OpenAI-compatible); its API
  key is a secret of `laif.secrets` (Fernet, the keys kept apart from the database) in the
  organisation's own store beside its runs, and is never returned or shown. A worker decrypts it
  only for a job of that same organisation, and hands it to the model adapter in an environment
  variable of that job alone, for the run only.
- **Jobs** run through the service layer (`laif.services.assessment.run_assessment` for options,
  `run_spec` for an uploaded sandbox spec, which goes to Slurm when its executor says so), into
  the organisation's own run store (`run_db`) and its job folder (`job_dir`).
- **Claiming is atomic**: `UPDATE ... WHERE id = ? AND status = 'queued'`, and the worker that
  changed the row is the one that runs it. A running job's worker refreshes `heartbeat_at`; a
  job whose heartbeat is older than `stale_after_s` is claimed again by another worker, which
  resumes it from the answers already stored (the runner asks only what is missing).
- **Cancelling**: a queued job is cancelled at once; a running one is asked to stop, and stops at
  its next progress report, keeping every answer stored so far.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from laif.errors import BadInput, LaifError
from laif.portal.i18n import gettext as _
from laif.portal.jobs_tables import FINISHED, Job, JobStatus, SystemUnderTest
from laif.portal.scope import Caller, Forbidden, NotFound, Refused, Scoped, audit, safe_filename
from laif.portal.settings import PortalSettings
from laif.portal.tables import Organisation, Role, aware, now
from laif.secrets import SecretStore
from laif.services.progress import ProgressEvent

if TYPE_CHECKING:
    from laif.configurator.spec import SandboxSpec
    from laif.portal.core import Portal
    from laif.services.assessment import SuiteRun

__all__ = [
    "Job", "JobCancelled", "JobStatus", "JobsScope", "SystemUnderTest", "Worker", "job_dir", "run_db",
    "secret_name", "start_worker_thread",
]

log = logging.getLogger("laif.worker")

#: Roles that see (and may cancel) every organisation's jobs.
OPERATORS = (Role.sandbox_operator, Role.platform_admin)
#: The answer modes and languages a job may ask for (the services check them again).
ANSWER_MODES = ("free", "constrained", "likelihood")
MAX_SPEC_BYTES = 64 * 1024
#: Progress is written to the job's row at most this often (seconds), besides messages and the end.
PROGRESS_EVERY_S = 0.5
#: A running job's worker refreshes its heartbeat this often, and a job whose heartbeat is older
#: than STALE_AFTER_S is taken over by another worker.
HEARTBEAT_S = 5.0
STALE_AFTER_S = 60.0
#: Model strings an uploaded spec may name: endpoints and the embedded model, never a file on the server.
_SPEC_MODELS = re.compile(r"^(embedded|llamacpp:embedded|openai:https?://\S+|https?:\S+)$")


def run_db(settings: PortalSettings, organisation_id: int) -> str:
    """The organisation's own run store: one organisation's runs never show in another's leaderboard."""
    path = settings.files() / "orgs" / str(organisation_id) / "runs.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def job_dir(settings: PortalSettings, job: Job) -> Path:
    """Where a job's reports are written: report.html and results.json (a subfolder per suite or
    answer mode when there are several), gates.json of a spec, the spec itself."""
    return settings.files() / "orgs" / str(job.organisation_id) / "jobs" / str(job.id)


def secret_name(organisation_id: int, system_id: int) -> str:
    """The name of a system's API key in laif's secret store."""
    return f"portal.org{organisation_id}.system{system_id}"


@contextmanager
def _secrets(settings: PortalSettings, organisation_id: int) -> Iterator[SecretStore]:
    """The organisation's own secret store, beside its runs: a job is handed this store and no
    other, so no spec or system of one organisation can name another's key."""
    store = SecretStore(run_db(settings, organisation_id))
    try:
        yield store
    finally:
        store.engine.dispose()


def _check_spec(text: str, filename: str) -> SandboxSpec:
    """The uploaded spec validated as `laif sandbox run` validates a file (errors name the file,
    line and field), then held to what the portal allows."""
    from laif.configurator.spec import load_spec

    name = safe_filename(filename or "sandbox.yaml")
    with tempfile.TemporaryDirectory(prefix="laif-spec-") as folder:
        path = Path(folder) / name
        path.write_text(text, encoding="utf-8")
        try:
            spec = load_spec(path)
        except BadInput as exc:
            raise Refused(exc.message.replace(str(path), name)) from None
    system = spec.system
    if system.serve is not None:
        raise Refused(_("{name}: system.serve starts a model on a compute node, which the portal does not do; "
                        "give system.model").format(name=name))
    if system.api_key_env:
        raise Refused(_("{name}: system.api_key_env reads a variable of the server; name the key of one of your "
                        "registered systems with system.api_key_secret instead").format(name=name))
    if not _SPEC_MODELS.match(system.model or ""):
        raise Refused(_("{name}: system.model {model!r}: the portal runs the embedded model or an endpoint "
                        "(openai:BASE_URL#MODEL, http:URL)").format(name=name, model=system.model))
    return spec


class JobsScope(Scoped):
    """The caller's systems under test, jobs and runs: `JobsScope(session, caller, settings)`.
    Everything is the caller's organisation's, except that sandbox operators and platform admins
    see and cancel every organisation's jobs.

    Give the portal's settings: without them, the session's database and the default file folder
    (`$LAIF_HOME/portal`) are assumed."""

    def __init__(self, s: Session, caller: Caller, settings: PortalSettings | None = None) -> None:
        super().__init__(s, caller)
        self.settings = settings or PortalSettings(
            db_url=s.get_bind().engine.url.render_as_string(hide_password=False), secret_key="")

    @property
    def operator(self) -> bool:
        return self.caller.role in OPERATORS

    # --- systems under test ----------------------------------------------------------
    def systems(self) -> list[SystemUnderTest]:
        return list(self.s.scalars(select(SystemUnderTest).where(
            SystemUnderTest.organisation_id == self.caller.organisation_id).order_by(SystemUnderTest.name)))

    def system(self, system_id: int) -> SystemUnderTest:
        found = self.s.scalars(select(SystemUnderTest).where(
            SystemUnderTest.id == system_id, SystemUnderTest.organisation_id == self.caller.organisation_id)).first()
        if found is None:
            raise NotFound(_("no system {id}").format(id=system_id))
        return found

    def register_system(self, name: str, base_url: str, model: str, api_key: str | None) -> SystemUnderTest:
        """A model endpoint of the organisation; its key, when given, is stored encrypted and never
        returned."""
        name, base_url, model = name.strip(), base_url.strip().rstrip("/"), model.strip()
        if not name or len(name) > 100:
            raise Refused(_("a system needs a name of 1 to 100 characters"))
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(base_url) > 500 or re.search(r"[\s#]", base_url):
            raise Refused(_("the base URL must be an http:// or https:// address such as https://api.example.com/v1"))
        if not model or len(model) > 200 or re.search(r"\s", model):
            raise Refused(_("give the model's name at the endpoint (1 to 200 characters, no spaces)"))
        if self.s.scalars(select(SystemUnderTest).where(SystemUnderTest.organisation_id == self.caller.organisation_id,
                                                        SystemUnderTest.name == name)).first() is not None:
            raise Refused(_("your organisation has a system named {name!r} already").format(name=name))
        row = SystemUnderTest(organisation_id=self.caller.organisation_id, name=name, base_url=base_url, model=model,
                              created_by=self.caller.account_id)
        self.s.add(row)
        self.s.flush()
        key = (api_key or "").strip()
        if key:
            row.secret_name = secret_name(row.organisation_id, row.id)
            with _secrets(self.settings, row.organisation_id) as store:
                store.set(row.secret_name, key)
        self._audit("system.register", f"system:{row.id}", name=name, base_url=base_url, model=model, key=bool(key))
        return row

    def remove_system(self, system_id: int) -> None:
        row = self.system(system_id)
        if row.secret_name is not None:
            with _secrets(self.settings, row.organisation_id) as store, suppress(BadInput):  # BadInput: gone already
                store.delete(row.secret_name)
        self.s.delete(row)
        self._audit("system.remove", f"system:{system_id}", name=row.name)

    # --- submitting ------------------------------------------------------------------
    def submit(self, *, system_id: int | None, suites: list[str], languages: list[str], limit: int | None,
               answer_modes: list[str]) -> Job:
        """Queue an assessment of one of the organisation's systems (None: the embedded model)."""
        from laif.suites import available_suites, load_suite

        suites = list(dict.fromkeys(s.strip() for s in suites if s.strip()))
        languages = list(dict.fromkeys(lang.strip() for lang in languages if lang.strip()))
        answer_modes = list(dict.fromkeys(m.strip() for m in answer_modes if m.strip())) or ["free"]
        if system_id is not None:
            self.system(system_id)
        if not suites:
            raise Refused(_("choose at least one suite"))
        if not languages:
            raise Refused(_("choose at least one language"))
        if limit is not None and limit < 1:
            raise Refused(_("the limit is a number of templates per category, 1 or more"))
        unknown = [m for m in answer_modes if m not in ANSWER_MODES]
        if unknown:
            raise Refused(_("unknown answer mode {mode!r}; choose from {modes}").format(
                mode=unknown[0], modes=", ".join(ANSWER_MODES)))
        known = available_suites()
        for name in suites:
            if name not in known:
                raise Refused(_("unknown suite {name!r}").format(name=name))
            try:
                load_suite(name).cases(languages, limit, 0)  # as the service checks it, before it runs
            except BadInput as exc:
                raise Refused(exc.message) from None
        params = {"suites": suites, "languages": languages, "limit": limit, "answer_modes": answer_modes}
        return self._queue("options", system_id, params)

    def submit_spec(self, text: str, filename: str) -> Job:
        """Queue an uploaded sandbox spec. Its `system.api_key_secret`, if any, names one of the
        organisation's registered systems, whose key the run gets."""
        if len(text.encode("utf-8")) > MAX_SPEC_BYTES:
            raise Refused(_("a sandbox spec has at most {n} KB").format(n=MAX_SPEC_BYTES // 1024))
        spec = _check_spec(text, filename)
        system_id = None
        if spec.system.api_key_secret:
            found = self.s.scalars(select(SystemUnderTest).where(
                SystemUnderTest.organisation_id == self.caller.organisation_id,
                SystemUnderTest.name == spec.system.api_key_secret)).first()
            if found is None or not found.has_key:
                raise Refused(_("system.api_key_secret {name!r}: name one of your registered systems that has a key")
                              .format(name=spec.system.api_key_secret))
            system_id = found.id
        params = {"filename": safe_filename(filename or "sandbox.yaml"), "spec": text, "name": spec.name,
                  "suites": spec.suites, "executor": spec.executor}
        return self._queue("spec", system_id, params)

    def _queue(self, kind: str, system_id: int | None, params: dict[str, Any]) -> Job:
        job = Job(organisation_id=self.caller.organisation_id, system_id=system_id, kind=kind, params=params,
                  status=JobStatus.queued.value, stage="queued", message="", run_ids=[],
                  created_by=self.caller.account_id)
        self.s.add(job)
        self.s.flush()
        self._audit("job.submit", f"job:{job.id}", kind=kind, system=system_id,
                    **{k: v for k, v in params.items() if k != "spec"})
        return job

    # --- reading and cancelling --------------------------------------------------------
    def jobs(self, *, every_organisation: bool = False, status: str | None = None) -> list[Job]:
        """Newest first: the organisation's, or with `every_organisation` every one (operators and
        admins only)."""
        stmt = select(Job).order_by(Job.id.desc())
        if every_organisation:
            if not self.operator:
                raise Forbidden(_("only sandbox operators and platform admins see every organisation's jobs"))
        else:
            stmt = stmt.where(Job.organisation_id == self.caller.organisation_id)
        if status is not None:
            if status not in {s.value for s in JobStatus}:
                raise Refused(_("unknown job status {status!r}").format(status=status))
            stmt = stmt.where(Job.status == status)
        return list(self.s.scalars(stmt))

    def organisation_names(self, jobs: list[Job]) -> dict[int, str]:
        """The names of the organisations of these (visible) jobs, for an operator's listing."""
        ids = {j.organisation_id for j in jobs}
        if not ids:
            return {}
        rows = self.s.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))).all()
        return {org_id: name for org_id, name in rows}

    def job(self, job_id: int) -> Job:
        stmt = select(Job).where(Job.id == job_id)
        if not self.operator:
            stmt = stmt.where(Job.organisation_id == self.caller.organisation_id)
        found = self.s.scalars(stmt).first()
        if found is None:
            raise NotFound(_("no job {id}").format(id=job_id))
        return found

    def cancel(self, job_id: int) -> Job:
        """A queued job is cancelled now; a running one stops at its next progress report."""
        job = self.job(job_id)
        if job.status in FINISHED:
            raise Refused(_("job {id} is {status} already").format(id=job.id, status=job.status))
        if job.status == JobStatus.queued.value:
            job.status, job.finished_at, job.stage = JobStatus.cancelled.value, now(), "cancelled"
        else:
            job.cancel_requested = True
            job.message = "cancel requested"
        self._audit("job.cancel", f"job:{job.id}", organisation=job.organisation_id, status=job.status)
        return job

    def runs(self) -> list[dict[str, Any]]:
        """The organisation's stored runs, newest first, with the job that made each (None for a run
        that came another way, such as the demo's)."""
        from laif.store import Store
        from laif.store.db import RunRow, shared

        path = self.settings.files() / "orgs" / str(self.caller.organisation_id) / "runs.db"
        if not path.exists():
            return []
        by_run: dict[str, int] = {}
        for job_id, run_ids in self.s.execute(select(Job.id, Job.run_ids).where(
                Job.organisation_id == self.caller.organisation_id).order_by(Job.id)).all():
            for run_id in run_ids or []:
                by_run[run_id] = job_id
        # The columns shown only, the answer mode read in SQL: a full run decodes five JSON columns
        # (70 ms for 1,000 runs); the store is the process's one for the organisation's file.
        mode = func.coalesce(RunRow.summary["answer_mode"].as_string(), "free")
        with shared(Store, run_db(self.settings, self.caller.organisation_id)).session() as runs:
            rows = runs.execute(select(RunRow.id, RunRow.suite, RunRow.model_name, RunRow.model_spec, mode,
                                    RunRow.created_at, RunRow.status, RunRow.total_prompts
                                    ).order_by(RunRow.created_at)).all()
        return [{"id": r[0], "suite": r[1], "model": r[2], "model_spec": r[3], "answer_mode": r[4],
                 "created": aware(r[5]), "status": r[6], "total_prompts": r[7], "job_id": by_run.get(r[0])}
                for r in sorted(rows, key=lambda r: aware(r[5]), reverse=True)]


# --- the worker ---------------------------------------------------------------------------------


class JobCancelled(Exception):
    """Raised inside a run when its job was cancelled: the runner keeps what was answered."""


class LeaseLost(Exception):
    """Another worker took the job over (this one was thought lost): stop without writing."""


class _Tracker:
    """The run's progress callback: writes stage and counts to the job's row (at most every
    PROGRESS_EVERY_S), keeps the heartbeat fresh from a thread of its own, and stops the run when
    the job is cancelled or taken over."""

    def __init__(self, worker: Worker, job_id: int) -> None:
        self.worker, self.job_id = worker, job_id
        self.cancelled = threading.Event()
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._last = 0.0
        self._lock = threading.Lock()
        self._beat = threading.Thread(target=self._heartbeat, name=f"laif-job-{job_id}-heartbeat", daemon=True)

    def __enter__(self) -> _Tracker:
        self._beat.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._beat.join()

    def _mine(self) -> Any:
        return and_(Job.id == self.job_id, Job.worker == self.worker.name, Job.status == JobStatus.running.value)

    def _write(self, **values: Any) -> None:
        """Update the row if this worker still holds the job; note a cancel request."""
        with self._lock, self.worker.session() as s:
            result = s.execute(update(Job).where(self._mine()).values(heartbeat_at=now(), **values))
            if result.rowcount != 1:  # type: ignore[attr-defined]
                self.lost.set()
                return
            if s.scalar(select(Job.cancel_requested).where(Job.id == self.job_id)):
                self.cancelled.set()

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.worker.heartbeat_s):
            try:
                self._write()
            except Exception:  # noqa: BLE001 - a busy database now and then: the next beat tries again
                log.warning("job %s: heartbeat not written", self.job_id, exc_info=True)

    def check(self) -> None:
        if self.lost.is_set():
            raise LeaseLost()
        if self.cancelled.is_set():
            raise JobCancelled()

    def __call__(self, event: ProgressEvent) -> None:
        self.check()
        moment = time.monotonic()
        counted = event.done is not None and event.total is not None and event.done >= event.total
        if event.message or counted or moment - self._last >= self.worker.progress_every_s:
            self._last = moment
            values: dict[str, Any] = {"stage": event.stage[:64]}
            if event.message:
                values["message"] = event.message[:2000]
            else:
                values |= {"done": event.done, "total": event.total}
            self._write(**values)
            self.check()

    def suite_done(self, run: SuiteRun) -> None:
        """Record each finished run's id on the job as it arrives."""
        with self.worker.session() as s:
            job = s.get(Job, self.job_id)
            if job is not None and job.worker == self.worker.name:
                job.run_ids = list(dict.fromkeys([*(job.run_ids or []), run.run.id]))


class Worker:
    """Takes jobs from the queue and runs them, one at a time. Several workers (threads or
    processes, on one machine or several sharing the database) never run the same job."""

    def __init__(self, settings: PortalSettings, name: str | None = None, *, portal: Portal | None = None,
                 stale_after_s: float = STALE_AFTER_S, heartbeat_s: float | None = None) -> None:
        from laif.portal.core import Portal

        self.settings = settings
        self.name = f"{socket.gethostname()}:{os.getpid()}:{name or 'worker'}:{secrets.token_hex(3)}"[:200]
        self._own = portal is None
        self.portal = portal or Portal(settings)
        self.stale_after_s = stale_after_s
        self.heartbeat_s = heartbeat_s if heartbeat_s is not None else min(HEARTBEAT_S, stale_after_s / 3)
        #: Progress is written (and a cancel request looked for) at most this often.
        self.progress_every_s = PROGRESS_EVERY_S

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.portal.session() as s:
            yield s

    def close(self) -> None:
        if self._own:
            self.portal.close()

    # --- claiming -------------------------------------------------------------------
    def claim(self) -> int | None:
        """Take one job: the oldest queued one, or one whose worker stopped beating. Returns its id."""
        cutoff = now() - timedelta(seconds=self.stale_after_s)
        with self.session() as s:
            candidates = s.execute(
                select(Job.id, Job.status, Job.worker).where(or_(
                    Job.status == JobStatus.queued.value,
                    and_(Job.status == JobStatus.running.value, Job.heartbeat_at < cutoff),
                )).order_by(Job.id).limit(20)
            ).all()
        for job_id, status, holder in candidates:
            with self.session() as s:
                if status == JobStatus.queued.value:
                    stmt = update(Job).where(Job.id == job_id, Job.status == JobStatus.queued.value).values(
                        status=JobStatus.running.value, worker=self.name, heartbeat_at=now(), started_at=now(),
                        attempts=Job.attempts + 1, stage="starting", message="")
                else:
                    same_holder = Job.worker.is_(None) if holder is None else Job.worker == holder
                    stmt = update(Job).where(Job.id == job_id, Job.status == JobStatus.running.value, same_holder,
                                             Job.heartbeat_at < cutoff).values(
                        worker=self.name, heartbeat_at=now(), attempts=Job.attempts + 1,
                        message="resumed from its stored answers: its worker stopped")
                if s.execute(stmt).rowcount == 1:  # type: ignore[attr-defined]
                    job = s.get(Job, job_id)
                    assert job is not None
                    audit(s, None, "job.claim" if status == JobStatus.queued.value else "job.resume", f"job:{job_id}",
                          {"worker": self.name, "attempt": job.attempts}, actor=f"worker {self.name}"[:320],
                          organisation_id=job.organisation_id)
                    return job_id
        return None

    def run_once(self) -> bool:
        """Claim one job and run it to its end; False when there was none to claim."""
        job_id = self.claim()
        if job_id is None:
            return False
        self.run_job(job_id)
        return True

    def run(self, stop: threading.Event, poll_s: float = 1.0) -> None:
        """Run jobs until `stop` is set, looking for new ones every `poll_s` seconds when idle."""
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # noqa: BLE001 - the database away for a moment must not end the worker
                log.exception("worker %s: could not take a job", self.name)
                busy = False
            if not busy:
                stop.wait(poll_s)

    # --- running one job ----------------------------------------------------------------
    def _finish(self, job_id: int, status: JobStatus, **values: Any) -> None:
        with self.session() as s:
            result = s.execute(update(Job).where(Job.id == job_id, Job.worker == self.name).values(
                status=status.value, finished_at=now(), heartbeat_at=now(), **values))
            if result.rowcount == 1:  # type: ignore[attr-defined]
                job = s.get(Job, job_id)
                assert job is not None
                audit(s, None, f"job.{status.value}", f"job:{job_id}", {"worker": self.name},
                      actor=f"worker {self.name}"[:320], organisation_id=job.organisation_id)

    def run_job(self, job_id: int) -> None:
        """Run a job this worker has claimed; its end (done, failed, cancelled) is written to its row."""
        with self.session() as s:
            job = s.get(Job, job_id)
            if job is None or job.worker != self.name:
                return
            s.expunge(job)
        if job.cancel_requested:
            self._finish(job_id, JobStatus.cancelled, stage="cancelled", message="cancelled")
            return
        folder = job_dir(self.settings, job)
        folder.mkdir(parents=True, exist_ok=True)
        tracker = _Tracker(self, job_id)
        try:
            with tracker, self._key(job) as key_var:
                if job.kind == "spec":
                    values = self._run_spec(job, key_var, folder, tracker)
                else:
                    values = self._run_options(job, key_var, folder, tracker)
            self._finish(job_id, JobStatus.done, stage="done", message="", **values)
        except JobCancelled:
            self._finish(job_id, JobStatus.cancelled, stage="cancelled",
                         message="cancelled; the answers stored so far are kept")
        except LeaseLost:
            log.warning("job %s: taken over by another worker; this one stops", job_id)
        except LaifError as exc:
            self._finish(job_id, JobStatus.failed, stage="failed", error=exc.message[:4000])
        except (KeyboardInterrupt, SystemExit):
            # Stopped on purpose: back to the queue, where a worker resumes it from its stored answers.
            with self.session() as s:
                s.execute(update(Job).where(Job.id == job_id, Job.worker == self.name).values(
                    status=JobStatus.queued.value, worker=None, stage="queued",
                    message="its worker stopped; it resumes from its stored answers"))
            raise
        except Exception as exc:  # noqa: BLE001 - a job's failure is the job's, not the worker's
            log.exception("job %s failed", job_id)
            self._finish(job_id, JobStatus.failed, stage="failed", error=f"{type(exc).__name__}: {exc}"[:4000])

    @contextmanager
    def _key(self, job: Job) -> Iterator[str | None]:
        """The job's system's key in a variable of this job alone while the block runs; its name is
        yielded (None without a key). The system is looked up in the job's own organisation only."""
        if job.system_id is None:
            yield None
            return
        with self.session() as s:
            system = s.scalars(select(SystemUnderTest).where(
                SystemUnderTest.id == job.system_id, SystemUnderTest.organisation_id == job.organisation_id)).first()
            name = system.secret_name if system is not None else None
        if system is None:
            raise BadInput("the job's system under test was removed")
        if name is None:
            yield None
            return
        if name != secret_name(job.organisation_id, system.id):
            raise BadInput("the job's system has a key of another organisation; it is not used")
        variable = f"LAIF_JOB_{job.id}_KEY"
        with _secrets(self.settings, job.organisation_id) as store:
            os.environ[variable] = store.get(name)
        try:
            yield variable
        finally:
            os.environ.pop(variable, None)

    def _system(self, job: Job) -> SystemUnderTest | None:
        if job.system_id is None:
            return None
        with self.session() as s:
            return s.scalars(select(SystemUnderTest).where(
                SystemUnderTest.id == job.system_id, SystemUnderTest.organisation_id == job.organisation_id)).first()

    def _run_options(self, job: Job, key_var: str | None, folder: Path, tracker: _Tracker) -> dict[str, Any]:
        from laif.models import EndpointOptions
        from laif.runner import RunSettings
        from laif.services.assessment import AssessmentOptions, run_assessment

        system = self._system(job)
        if job.system_id is not None and system is None:
            raise BadInput("the job's system under test was removed")
        p = job.params
        options = AssessmentOptions(
            model=system.model_string() if system is not None else "embedded",
            suites=tuple(p["suites"]), settings=RunSettings(languages=tuple(p["languages"]), limit=p.get("limit")),
            endpoint=EndpointOptions(api_key_env=key_var), answer_modes=tuple(p.get("answer_modes") or ["free"]),
            db=run_db(self.settings, job.organisation_id), out_dir=folder,
        )
        done = run_assessment(options, progress=tracker, on_suite=tracker.suite_done)
        rows = [r.as_row() for r in done.runs]
        return {"run_ids": [r.run.id for r in done.runs],
                "verdict": {"runs": [{k: row.get(k) for k in ("suite", "answer_mode", "run_id", "mean")}
                                     for row in rows]}}

    def _run_spec(self, job: Job, key_var: str | None, folder: Path, tracker: _Tracker) -> dict[str, Any]:
        from laif.services.assessment import run_spec

        spec = _check_spec(job.params["spec"], job.params.get("filename", "sandbox.yaml"))
        if spec.system.api_key_secret:
            if key_var is None:
                raise BadInput("system.api_key_secret: the system it names has no key any more")
            spec = spec.model_copy(update={"system": spec.system.model_copy(
                update={"api_key_secret": None, "api_key_env": key_var})})
        (folder / job.params.get("filename", "sandbox.yaml")).write_text(job.params["spec"], encoding="utf-8")
        done = run_spec(spec, out_dir=folder, db=run_db(self.settings, job.organisation_id), progress=tracker,
                        on_suite=tracker.suite_done)
        return {"run_ids": [r.run.id for r in done.runs],
                "verdict": {"passed": not done.missed, "gates": done.gates}}


def start_worker_thread(settings: PortalSettings, *, portal: Portal | None = None,
                        poll_s: float = 1.0) -> tuple[threading.Thread, threading.Event]:
    """One worker in a daemon thread of this process (what `laif serve` starts); set the event to
    stop it after its current job."""
    stop = threading.Event()
    worker = Worker(settings, "serve", portal=portal)

    def work() -> None:
        try:
            worker.run(stop, poll_s)
        finally:
            worker.close()

    thread = threading.Thread(target=work, name="laif-worker", daemon=True)
    thread.start()
    return thread, stop
