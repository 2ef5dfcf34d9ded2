"""A third-party suite installed with pip from the test folder runs through `laif assess`,
with no change to laif."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import run_laif

PLUGIN = Path(__file__).parent / "plugins" / "laif-example-suite"


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    target = tmp_path_factory.mktemp("plugin-site")
    # --no-deps: laif itself is already installed; --target keeps the test's environment clean.
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(PLUGIN)],
        check=True, capture_output=True, text=True,
    )
    assert list(target.glob("laif_example_suite-*.dist-info/entry_points.txt"))
    return str(target)


def _env(plugin_path: str, home: Path) -> dict[str, str]:
    return {"PYTHONPATH": os.pathsep.join([plugin_path, os.environ.get("PYTHONPATH", "")]), "LAIF_HOME": str(home)}


def test_installed_plugin_is_listed(plugin_path: str, tmp_path: Path) -> None:
    listed = run_laif("suites", "list", "--json", env=_env(plugin_path, tmp_path))
    assert listed.returncode == 0, listed.stderr
    names = {s["name"] for s in json.loads(listed.stdout)}
    assert {"bias", "factual", "multilingual", "example-arithmetic"} <= names
    without = run_laif("suites", "list", "--json", env={"LAIF_HOME": str(tmp_path)})
    assert "example-arithmetic" not in {s["name"] for s in json.loads(without.stdout)}


def test_plugin_suite_runs_through_assess(plugin_path: str, tmp_path: Path) -> None:
    result = run_laif("assess", "--suite", "example-arithmetic", "--limit", "2", "-l", "en,lb", "--quiet", "--json",
                      "--out", str(tmp_path / "out"), env=_env(plugin_path, tmp_path))
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)
    assert list(row["categories"]) == ["Addition"]
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["suite"]["name"] == "example-arithmetic"
    assert len(results["cases"]) == 4
    metrics = results["scores"]["metrics"]
    assert metrics["asked"] == 4
    assert metrics["exact_sums"] == sum(c["verdict"] == "pass" for c in results["cases"])
    assert "Example-arithmetic assessment" in (tmp_path / "out" / "report.html").read_text()
