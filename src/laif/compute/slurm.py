"""The Slurm executor: the prompts of each suite are sharded over a job array (submitit).

1. The run of each suite is created here first, so every shard resumes the same run.
2. One array task per shard answers its share of the prompts and writes each answer to
   the shared store the moment it arrives (the same resume mechanism as a killed local run).
3. A shard that fails (an error, a node lost, a job cancelled) is resubmitted alone; answers
   it already stored are kept, so the retry asks only the rest.
4. When every shard has finished, the local path scores the run: nothing is left to ask.

The runs are prepared, the shards' work is defined and the runs are scored by the service layer
(`laif.services.assessment`); this module submits, watches and cancels jobs.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from laif.configurator.spec import SandboxSpec
from laif.errors import LaifError
from laif.store import Store

MAX_RETRIES = 2
POLL_S = 1.0

#: What an array task runs: `laif.services.assessment.run_shard`, handed in by the service that submits,
#: so that the executor stays below the service layer.
Shard = Callable[["ShardTask"], dict[str, int]]


@dataclass(frozen=True)
class ShardTask:
    """What one array task needs: plain data, so it pickles to the node."""

    spec: dict[str, Any]
    db: str
    index: int
    count: int


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


def wait_for_shards(ex: Any, shard: Shard, tasks: list[ShardTask], jobs: list[Any],
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
                pending[index] = ex.submit(shard, tasks[index])
                report(f"shard {index + 1}/{len(tasks)} failed (job {job.job_id}: {failure}); "
                       f"resubmitted alone as job {pending[index].job_id}")
                on_jobs([str(j.job_id) for j in pending.values()])
    return [results[i] for i in range(len(tasks))]


def submit(spec: SandboxSpec, db: str, folder: Path, runs: dict[str, str], shard: Shard,
           report: Callable[[str], None]) -> None:
    """Run `shard` for every shard of the spec's prepared runs (suite -> run id) as a Slurm job array
    and wait for them all; the runs are scored afterwards, by the caller."""
    store = Store(db)
    ex = executor_for(spec, folder)
    count = spec.resources.shards
    tasks = [ShardTask(spec.model_dump(mode="json"), db, i, count) for i in range(count)]
    jobs = ex.map_array(shard, tasks)

    def note_jobs(ids: list[str]) -> None:
        for run_id in runs.values():
            store.update_run(run_id, note=json.dumps({"slurm_jobs": ids}))

    note_jobs([str(j.job_id) for j in jobs])
    report(f"submitted {count} shard(s) as job array {str(jobs[0].job_id).split('_')[0]} "
           f"(runs {', '.join(runs.values())}); logs in {folder}")
    wait_for_shards(ex, shard, tasks, jobs, report, note_jobs)


def cancel(job_ids: list[str]) -> None:
    if job_ids:
        subprocess.run(["scancel", *job_ids], capture_output=True)
