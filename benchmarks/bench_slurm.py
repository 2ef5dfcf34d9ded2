"""The Slurm path against the local path for the same small assessment, and shard counts.

One spec (factual suite, en and lb, LIMIT templates per topic, default 12, the embedded
model), run with a
fresh store each time so nothing comes from the cache:
- local executor;
- Slurm on the tests' one-machine cluster with 1, 2 and 4 shards (1 CPU per shard).
Prints wall times, the Slurm/local ratios and the 4-shard/1-shard ratio, all measured in this
one run. On a 2-core machine at most two shards run at a time.

Run: .venv/bin/python benchmarks/bench_slurm.py [LIMIT]   (as root, with slurm-wlm and munge installed)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from laif.configurator.spec import EXAMPLE

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' one-machine cluster
from tests.slurm_cluster import slurm_available, slurm_cluster  # noqa: E402

LAIF = [sys.executable, "-m", "laif"]


def timed_run(root: Path, name: str, executor: str, shards: int, env: dict[str, str], limit: int) -> float:
    spec = yaml.safe_load(EXAMPLE)
    spec.update(suites=["factual"], languages=["en", "lb"], limit=limit, thresholds={}, executor=executor)
    spec["resources"].update(shards=shards, cpus=1, memory="2G", time="00:30:00")
    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    started = time.perf_counter()
    done = subprocess.run([*LAIF, "sandbox", "run", str(path), "--out", str(root / name), "--quiet"],
                          env={**os.environ, **env, "LAIF_HOME": str(root / f"home-{name}")},
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{name} failed: {done.stderr[-2000:]}")
    return seconds


def main() -> None:
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    why = slurm_available()
    if why:
        print(f"slurm: not measured ({why})")
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with slurm_cluster(root / "cluster") as env:
            local = timed_run(root, "local", "local", 1, {}, limit)
            figures = {n: timed_run(root, f"slurm-{n}", "slurm", n, env, limit) for n in (1, 2, 4)}
    print(f"local executor: {local:.1f} s")
    for n, seconds in figures.items():
        print(f"slurm, {n} shard(s): {seconds:.1f} s (slurm/local {seconds / local:.2f})")
    print(f"4 shards / 1 shard: {figures[4] / figures[1]:.2f} (below 1 means 4 shards were faster)")


if __name__ == "__main__":
    main()
