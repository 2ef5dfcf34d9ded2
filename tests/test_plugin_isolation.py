"""Plugin suites run in their own process: a time limit, a memory limit, only the variables
they need, and a result that cannot smuggle code into laif."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_laif

PLUGIN = Path(__file__).parent / "plugins" / "laif-hostile-suite"


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    target = tmp_path_factory.mktemp("hostile-site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                    str(PLUGIN)], check=True, capture_output=True, text=True)
    return str(target)


def _env(plugin_path: str, home: Path, **extra: str) -> dict[str, str]:
    return {"PYTHONPATH": os.pathsep.join([plugin_path, os.environ.get("PYTHONPATH", "")]), "LAIF_HOME": str(home),
            **extra}


def _assess(suite: str, plugin_path: str, tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return run_laif("assess", "--suite", suite, "-l", "en", "--quiet", "--out", str(tmp_path / "out"),
                    env=_env(plugin_path, tmp_path, **extra), timeout=120)


def test_a_plugin_past_its_time_limit_is_stopped(plugin_path: str, tmp_path: Path) -> None:
    r = _assess("hostile-sleepy", plugin_path, tmp_path, LAIF_PLUGIN_SECONDS="5")
    assert r.returncode == 2 and "ran past its time limit of 5 s" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()


def test_a_plugin_past_its_memory_limit_is_stopped(plugin_path: str, tmp_path: Path) -> None:
    r = _assess("hostile-hungry", plugin_path, tmp_path, LAIF_PLUGIN_MEMORY_MB="1024")
    assert r.returncode == 2 and "hostile-hungry" in r.stderr and "memory" in r.stderr, r.stderr


def test_a_plugin_sees_only_the_variables_it_needs(plugin_path: str, tmp_path: Path) -> None:
    secrets = {"LAIF_SECRETS_KEYS": "not-a-real-key", "LAIF_IPMS_SECRET": "a master secret of many bytes",
               "MY_API_TOKEN": "sk-should-not-be-seen", "WEATHER_API_URL": "http://weather.invalid"}
    r = run_laif("suites", "list", "--json",
                 env=_env(plugin_path, tmp_path, **secrets, LAIF_PLUGIN_ENV="WEATHER_API_URL"))
    assert r.returncode == 0, r.stderr
    nosy = next(s for s in json.loads(r.stdout) if s["name"] == "hostile-nosy")
    seen = set(nosy["seen_env"])
    assert "WEATHER_API_URL" in seen and "PATH" in seen
    assert not seen & {"LAIF_SECRETS_KEYS", "LAIF_IPMS_SECRET", "MY_API_TOKEN", "LAIF_HOME"}


def test_a_plugins_result_cannot_run_code_in_laif(plugin_path: str, tmp_path: Path) -> None:
    marker = Path("/tmp/laif-sneaky-was-here")
    marker.unlink(missing_ok=True)
    r = _assess("hostile-sneaky", plugin_path, tmp_path)
    assert r.returncode == 2 and "will not load" in r.stderr and "posix.system" in r.stderr, r.stderr
    assert not marker.exists()
