"""The Slurm executor on a real one-machine Slurm cluster: the same spec gives the same scores
here and on the cluster, a shard killed mid-run is resubmitted alone and the run completes,
and `laif sandbox status` follows the run."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from laif.configurator.spec import EXAMPLE
from tests.conftest import LAIF, run_laif
from tests.slurm_cluster import slurm_available, slurm_cluster

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def slurm_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    why = slurm_available()
    if why:
        pytest.fail(f"a real Slurm is needed: {why}")
    with slurm_cluster(tmp_path_factory.mktemp("slurm")) as env:
        yield env


def _spec(path: Path, executor: str, **changes: Any) -> Path:
    spec = yaml.safe_load(EXAMPLE)
    spec.update(suites=["factual"], languages=["en", "lb"], limit=1, thresholds={"factual.mean": {"min": 0}},
                executor=executor)
    spec["resources"].update(shards=2, cpus=1, memory="2G", time="00:10:00")
    for key, value in changes.items():
        if key in spec["resources"]:
            spec["resources"][key] = value
        else:
            spec[key] = value
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


def _scores(out: Path) -> dict[str, Any]:
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return {"categories": results["scores"]["categories"], "mean": results["scores"]["mean"],
            "answers": sorted((e["prompt_id"], e["response"]) for e in results["exchanges"])}


def test_one_spec_gives_the_same_scores_here_and_on_slurm(tmp_path: Path, slurm_env: dict[str, str]) -> None:
    local = run_laif("sandbox", "run", str(_spec(tmp_path / "local.yaml", "local")), "--out", str(tmp_path / "l"),
                     "--quiet", env={"LAIF_HOME": str(tmp_path / "home-local")})
    assert local.returncode == 0, local.stderr
    slurm = run_laif("sandbox", "run", str(_spec(tmp_path / "slurm.yaml", "slurm")), "--out", str(tmp_path / "s"),
                     "--quiet", env={**slurm_env, "LAIF_HOME": str(tmp_path / "home-slurm")})
    assert slurm.returncode == 0, slurm.stderr
    assert "submitted 2 shard(s)" in slurm.stderr and "0 asked" in slurm.stderr  # the shards asked everything
    assert _scores(tmp_path / "l") == _scores(tmp_path / "s")
    run_id = json.loads((tmp_path / "s" / "gates.json").read_text(encoding="utf-8"))["runs"]["factual"]
    r = run_laif("sandbox", "status", run_id, env={**slurm_env, "LAIF_HOME": str(tmp_path / "home-slurm")})
    assert r.returncode == 0 and "complete" in r.stdout and "Slurm jobs:" in r.stdout, r.stderr


def _squeue(env: dict[str, str]) -> dict[str, str]:
    done = subprocess.run(["squeue", "-h", "-r", "-o", "%i %T"], capture_output=True, text=True,
                          env={**os.environ, **env})
    return dict(line.split() for line in done.stdout.splitlines() if line.strip())


def test_a_shard_killed_mid_run_is_resubmitted_and_the_run_completes(tmp_path: Path,
                                                                      slurm_env: dict[str, str]) -> None:
    env = {**os.environ, **slurm_env, "LAIF_HOME": str(tmp_path / "home")}
    spec = _spec(tmp_path / "s.yaml", "slurm", limit=8)  # shards long enough to be killed mid-run
    proc = subprocess.Popen([*LAIF, "sandbox", "run", str(spec), "--out",
                             str(tmp_path / "out"), "--quiet"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and time.monotonic() < deadline and proc.poll() is None:
        running = [job for job, state in _squeue(slurm_env).items() if state == "RUNNING" and job.endswith("_0")]
        if running:
            time.sleep(1.5)  # let it store a few answers first
            subprocess.run(["scancel", running[0]], env=env, check=True)
            killed = running[0]
        time.sleep(0.2)
    stdout, stderr = proc.communicate(timeout=600)
    assert killed is not None, stderr
    assert proc.returncode == 0, stderr
    assert f"shard 1/2 failed (job {killed}" in stderr and "resubmitted alone" in stderr, stderr[-3000:]
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert results["status"] == "complete"
    assert all(e["response"] is not None for e in results["exchanges"])
    assert len({e["prompt_id"] for e in results["exchanges"]}) == results["total_prompts"]
