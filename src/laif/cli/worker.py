"""`laif worker`: run the portal's queued jobs (assessments submitted in the portal or its API)."""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType

import typer

from laif.cli._common import err


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def worker(
    db: str | None = typer.Option(None, "--db", help="The portal's database URL (default: LAIF_DB_URL, else SQLite "
                                  "under LAIF_HOME), as given to `laif serve`."),
    name: str = typer.Option("worker", "--name", help="A name for this worker in the job list and the audit log."),
    once: bool = typer.Option(False, "--once", help="Run the jobs queued now, then stop (instead of waiting for more)."),
    poll: float = typer.Option(1.0, "--poll", min=0.1, max=3600, help="Seconds between looks at an empty queue."),
    stale_after: float = typer.Option(
        60.0, "--stale-after", min=1, max=86400,
        help="Take over a running job whose worker has not been heard of for this many seconds; it resumes "
             "from its stored answers."),
) -> None:
    """Run the portal's queued jobs, one at a time; start several for more at once, on this machine or
    others sharing the database and the portal's file folder. `laif serve` runs one itself unless
    started with --workers 0. Ctrl-C or SIGTERM puts the running job back in the queue, where a
    worker resumes it from the answers already stored."""
    from laif.portal.jobs import Job, Worker
    from laif.portal.settings import PortalSettings
    from laif.store.db import default_url

    settings = PortalSettings(db_url=db or default_url(), secret_key="")  # a worker signs no cookies
    the_worker = Worker(settings, name, stale_after_s=stale_after)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    err.print(f"laif worker {the_worker.name}: taking jobs from the portal's queue" + (" (Ctrl-C stops)" if not once else ""))
    try:
        while True:
            try:  # between jobs (claiming, waiting, saying how the last one ended): nothing to put back
                job_id = the_worker.claim()
                if job_id is None:
                    if once:
                        err.print("no job left in the queue; stopping")
                        return
                    time.sleep(poll)
                    continue
            except KeyboardInterrupt:
                err.print("stopped; no job was running")
                return
            err.print(f"job {job_id}: started")
            the_worker.run_job(job_id)  # stopped in here: the job goes back to the queue (exit 130)
            try:
                with the_worker.session() as s:
                    job = s.get(Job, job_id)
                    status = job.status if job is not None else "gone"
                    error = job.error if job is not None else None
                err.print(f"job {job_id}: {status}" + (f" ({error})" if error else ""), soft_wrap=True, markup=False)
            except KeyboardInterrupt:
                err.print("stopped; no job was running")
                return
    finally:
        the_worker.close()
