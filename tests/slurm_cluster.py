"""A real single-node Slurm cluster on this machine, for tests and benchmarks.

Debian's slurm-wlm and munge (the Makefile installs them), a slurm.conf of the test's own
(SLURM_CONF), slurmctld and slurmd started as root and stopped by the pids in their pid
files, never by name. The recipe is ../shared/docs/SLURM-TESTING.md.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path


def slurm_available() -> str | None:
    """None when a cluster can be started here, else why not."""
    missing = [b for b in ("slurmctld", "slurmd", "munged", "sbatch") if not shutil.which(b)]
    if missing:
        return f"not installed: {', '.join(missing)} (make test installs slurm-wlm and munge)"
    if os.geteuid() != 0:
        return "slurmd needs root in this one-machine recipe"
    return None


def _munge() -> None:
    if subprocess.run(["bash", "-c", "munge -n | unmunge"], capture_output=True).returncode == 0:
        return
    Path("/run/munge").mkdir(parents=True, exist_ok=True)
    shutil.chown("/run/munge", "munge", "munge")
    subprocess.run(["munged", "--force"], check=True, capture_output=True)
    for _ in range(50):
        if subprocess.run(["bash", "-c", "munge -n | unmunge"], capture_output=True).returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError("munged did not start")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def slurm_cluster(root: Path, memory_mb: int = 8000) -> Iterator[dict[str, str]]:
    """Start the cluster under `root`; yield the environment (SLURM_CONF) its clients need."""
    why = slurm_available()
    if why:
        raise RuntimeError(why)
    _munge()
    host = socket.gethostname().split(".")[0]
    for sub in ("state", "spool", "log"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    conf = root / "slurm.conf"
    conf.write_text(f"""\
ClusterName=laif-test
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
StateSaveLocation={root / 'state'}
SlurmdSpoolDir={root / 'spool'}
SlurmctldPidFile={root / 'slurmctld.pid'}
SlurmdPidFile={root / 'slurmd.pid'}
SlurmctldLogFile={root / 'log' / 'slurmctld.log'}
SlurmdLogFile={root / 'log' / 'slurmd.log'}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MpiDefault=none
# submitit lets SIGTERM pass; a cancelled job is killed 2 s later instead of the default 30 s.
KillWait=2
NodeName={host} CPUs={os.cpu_count()} RealMemory={memory_mb} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
""", encoding="utf-8")
    env = {**os.environ, "SLURM_CONF": str(conf)}
    subprocess.run(["slurmctld"], env=env, check=True, capture_output=True)
    subprocess.run(["slurmd"], env=env, check=True, capture_output=True)
    try:
        for _ in range(100):
            state = subprocess.run(["sinfo", "-h", "-o", "%t"], env=env, capture_output=True, text=True).stdout
            if state.strip() in {"idle", "mix", "alloc"}:
                break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"the Slurm node did not come up; see {root / 'log'}")
        yield {"SLURM_CONF": str(conf)}
    finally:
        for pid_file in ("slurmd.pid", "slurmctld.pid"):
            path = root / pid_file
            if path.exists():
                with suppress(ProcessLookupError, ValueError):
                    os.kill(int(path.read_text().strip()), signal.SIGTERM)
        time.sleep(0.5)
