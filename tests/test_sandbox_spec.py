"""Sandbox specs: the example, the published JSON Schema, every error with its line, and a
local run on the embedded model whose thresholds gate the exit code."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from laif.configurator.spec import EXAMPLE, SandboxSpec, gates, json_schema
from laif.errors import BadInput
from tests.conftest import run_laif

BAD = """\
version: 1
name: bad name
system:
  model: embedded
suites: [factual, nosuch]
resources:
  memory: lots
  time: "25:99:00"
  gpus: -1
"""


def test_example_is_valid_for_laif_and_for_its_json_schema(tmp_path: Path) -> None:
    r = run_laif("sandbox", "init", "--out", str(tmp_path / "sandbox.yaml"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "sandbox.yaml").read_text(encoding="utf-8") == EXAMPLE
    r = run_laif("sandbox", "validate", str(tmp_path / "sandbox.yaml"))
    assert r.returncode == 0 and "valid" in r.stdout, r.stderr
    r = run_laif("sandbox", "schema")
    schema = json.loads(r.stdout)
    assert schema == json.loads(json.dumps(json_schema()))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(yaml.safe_load(EXAMPLE), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(yaml.safe_load(BAD), schema)
    assert run_laif("sandbox", "init", "--out", str(tmp_path / "sandbox.yaml")).returncode == 2  # never overwrites


def test_validate_reports_every_error_with_its_line(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(BAD, encoding="utf-8")
    r = run_laif("sandbox", "validate", str(spec))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    for line, field in ((2, "name"), (5, "suites"), (7, "resources.memory"), (8, "resources.time"),
                        (9, "resources.gpus")):
        assert f"{spec}:{line}: {field}:" in r.stderr, r.stderr
    assert "unknown suite(s) nosuch" in r.stderr


def test_thresholds_must_name_the_specs_suites_and_real_figures() -> None:
    base = yaml.safe_load(EXAMPLE)
    with pytest.raises(ValueError, match="threshold 'bias.mean'"):
        SandboxSpec.model_validate(base | {"thresholds": {"bias.mean": {"min": 1}}})
    with pytest.raises(ValueError, match="give `min` or `max`"):
        SandboxSpec.model_validate(base | {"thresholds": {"factual.mean": {}}})
    spec = SandboxSpec.model_validate(base)
    summaries = {"factual": {"mean": 30.0}, "injection": {"metrics": {"overall": {"leak_rate": {"value": 60.0}}}}}
    assert [(g["threshold"], g["met"]) for g in gates(spec, summaries)] == [
        ("factual.mean", True), ("injection.metrics.overall.leak_rate", False)]
    summaries["factual"]["mean"] = None  # type: ignore[assignment]
    assert gates(spec, summaries)[0]["met"] is None
    with pytest.raises(BadInput, match="results have no 'overall'"):
        gates(spec, {"factual": {"mean": 1.0}, "injection": {"metrics": {}}})


@pytest.mark.slow
def test_local_run_on_the_embedded_model_gates_the_exit_code(tmp_path: Path) -> None:
    env = {"LAIF_HOME": str(tmp_path / "home")}
    spec = yaml.safe_load(EXAMPLE)
    spec.update(suites=["factual"], languages=["en"], thresholds={"factual.mean": {"min": 0},
                                                                  "factual.metrics.overall.accuracy": {"max": -1}})
    path = tmp_path / "sandbox.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    r = run_laif("sandbox", "run", str(path), "--out", str(tmp_path / "out"), "--quiet", env=env)
    assert r.returncode == 1, r.stderr
    assert "gate failed" in r.stderr and "factual.metrics.overall.accuracy" in r.stderr
    assert "factual.mean" not in r.stderr.split("gate failed")[1]
    gates_file = json.loads((tmp_path / "out" / "gates.json").read_text(encoding="utf-8"))
    assert [g["met"] for g in gates_file["gates"]] == [True, False]
    assert (tmp_path / "out" / "report.html").is_file() and gates_file["runs"]["factual"]
    accuracy = gates_file["gates"][1]["value"]
    assert 0 <= accuracy <= 100
    # Same spec with a bound the measured figure meets: exit 0, answers come from the cache.
    spec["thresholds"] = {"factual.metrics.overall.accuracy": {"min": accuracy}}
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    r = run_laif("sandbox", "run", str(path), "--out", str(tmp_path / "out2"), "--quiet", env=env)
    assert r.returncode == 0, r.stderr
    assert "every threshold met" in r.stderr
    spec["executor"] = "slurm"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    r = run_laif("sandbox", "run", str(path), "--quiet", env={**env, "PATH": str(tmp_path)})  # no sbatch here
    assert r.returncode == 2 and "sbatch is not on PATH" in r.stderr
