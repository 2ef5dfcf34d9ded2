"""The Slurm executor: the prompts of each suite are sharded over a job array (submitit).

1. The run of each suite is created here first, so every shard resumes the same run.
2. One array task per shard answers its share of the prompts and writes each answer to
   the shared store the moment it arrives (the same resume mechanism as a killed local run).
3. A shard that fails (an error, a node lost, a job cancelled) is resubmitted alone; answers
   it already stored are kept, so the retry asks only the rest.
4. When every shard has finished, the local path scores the run: nothing is left to ask.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from laif.compute import endpoint, run_settings
from laif.configurator.spec import SandboxSpec
from laif.errors import BadInput, LaifError
from laif.models import open_model
from laif.runner import Runner, RunOutcome
from laif.runner.asking import RunSettings
from laif.store import Store
from laif.suites import load_suite

MAX_RETRIES = 2
POLL_S = 1.0


@dataclass(frozen=True)
class ShardTask:
    """What one array task needs: plain data, so it pickles to the node."""

    spec: dict[str, Any]
    db: str
    index: int
    count: int


def _run_suite(spec: SandboxSpec, store: Store, name: str, settings: RunSettings) -> RunOutcome:
    """One suite of the spec under `settings`, the model closed afterwards."""

    async def go(runner: Runner) -> RunOutcome:
        try:
            return await runner.run()
        finally:
            await runner.model.aclose()

    model = open_model(spec.system.model_string(), endpoint(spec))
    return asyncio.run(go(Runner(store, model, load_suite(name), settings)))


def run_shard(task: ShardTask) -> dict[str, int]:
    """Runs on the compute node: answer this shard's prompts of every suite of the spec."""
    spec = SandboxSpec.model_validate(task.spec)
    store = Store(task.db)
    settings = run_settings(spec, shard=(task.index, task.count))
    asked = from_cache = 0
    for name in spec.suites:
        outcome = _run_suite(spec, store, name, settings)
        asked += outcome.asked
        from_cache += outcome.from_cache
    return {"shard": task.index, "asked": asked, "from_cache": from_cache}


def prepare_runs(spec: SandboxSpec, db: str) -> dict[str, str]:
    """Create (or find, to resume) the run of every suite; returns suite -> run id."""
    store = Store(db)
    settings = run_settings(spec, prepare_only=True)
    return {name: _run_suite(spec, store, name, settings).run.id for name in spec.suites}


def executor_for(spec: SandboxSpec, folder: Path) -> Any:
    import submitit  # imported here: only the Slurm path needs it

    r = spec.resources
    ex = submitit.AutoExecutor(folder=str(folder), cluster="slurm")
    extra: dict[str, Any] = {}
    if r.account:
        extra["account"] = r.account
    ex.update_parameters(
        name=f"laif-{spec.name}", timeout_min=r.minutes, nodes=r.nodes, tasks_per_node=1,
        cpus_per_task=r.cpus, mem_gb=r.memory_gb, gpus_per_node=r.gpus or None,
        slurm_partition=r.partition, slurm_array_parallelism=r.shards, slurm_additional_parameters=extra,
    )
    return ex


def queued(env: dict[str, str] | None = None) -> set[str]:
    """Job ids Slurm still lists (array tasks one by one)."""
    done = subprocess.run(["squeue", "-h", "-r", "-o", "%i"], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise LaifError(f"squeue failed: {done.stderr.strip()}")
    return set(done.stdout.split())


def wait_for_shards(ex: Any, tasks: list[ShardTask], jobs: list[Any],
                    report: Callable[[str], None], on_jobs: Callable[[list[str]], None]) -> list[dict[str, int]]:
    """Wait for every shard, resubmitting a failed one alone (at most MAX_RETRIES times each)."""
    pending = dict(enumerate(jobs))
    results: dict[int, dict[str, int]] = {}
    retries = dict.fromkeys(range(len(tasks)), 0)
    while pending:
        time.sleep(POLL_S)
        in_queue = queued()
        for index, job in list(pending.items()):
            failure = None
            if job.paths.result_pickle.exists():
                try:
                    results[index] = job.result()
                except Exception as exc:  # the shard raised: submitit hands its error back
                    failure = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            elif str(job.job_id) not in in_queue and not job.paths.result_pickle.exists():
                failure = "the job left the queue without a result (cancelled, killed or its node lost)"
            if index in results:
                del pending[index]
                report(f"shard {index + 1}/{len(tasks)} done (job {job.job_id}): {results[index]['asked']} asked")
            elif failure is not None:
                if retries[index] >= MAX_RETRIES:
                    raise LaifError(f"shard {index + 1} failed {retries[index] + 1} times; last: {failure}. "
                                    "Answers stored so far are kept: run the same command to resume")
                retries[index] += 1
                pending[index] = ex.submit(run_shard, tasks[index])
                report(f"shard {index + 1}/{len(tasks)} failed (job {job.job_id}: {failure}); "
                       f"resubmitted alone as job {pending[index].job_id}")
                on_jobs([str(j.job_id) for j in pending.values()])
    return [results[i] for i in range(len(tasks))]


def submit(spec: SandboxSpec, db: str, folder: Path, report: Callable[[str], None]) -> dict[str, str]:
    """Prepare the runs, run every shard on Slurm, wait; returns suite -> run id (scored afterwards)."""
    if shutil.which("sbatch") is None:
        raise BadInput("executor slurm: sbatch is not on PATH; run where Slurm's client commands are")
    runs = prepare_runs(spec, db)
    store = Store(db)
    ex = executor_for(spec, folder)
    count = spec.resources.shards
    tasks = [ShardTask(spec.model_dump(mode="json"), db, i, count) for i in range(count)]
    jobs = ex.map_array(run_shard, tasks)

    def note_jobs(ids: list[str]) -> None:
        for run_id in runs.values():
            store.update_run(run_id, note=json.dumps({"slurm_jobs": ids}))

    note_jobs([str(j.job_id) for j in jobs])
    report(f"submitted {count} shard(s) as job array {str(jobs[0].job_id).split('_')[0]} "
           f"(runs {', '.join(runs.values())}); logs in {folder}")
    wait_for_shards(ex, tasks, jobs, report, note_jobs)
    return runs


def cancel(job_ids: list[str]) -> None:
    if job_ids:
        subprocess.run(["scancel", *job_ids], capture_output=True)
