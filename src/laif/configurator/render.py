"""Self-contained bundles of a sandbox spec for other infrastructure.

Every bundle holds the spec as it will run (`sandbox.yaml`: executor local, the system under
test pointing at the served model when there is one), the original spec, and `bundle.json`
with the laif version it needs and both specs' SHA-256. Targets:

- `slurm`: `run.sbatch` requests the spec's resources, checks laif's version and the spec's
  hash, starts the model server on the allocated node when the spec serves one (vLLM on a
  GPU, llama.cpp's server on CPU), waits until it answers, runs the assessment into the
  storage tier's folder, and stops the server whatever happens. `cd BUNDLE && sbatch run.sbatch`.
- `compose`: `compose.yaml` with a model service (health-checked) and the sandbox service.
- `k8s`: `sandbox.k8s.yaml`, a ConfigMap with the spec and a Job whose model server is a
  native sidecar (an init container with restartPolicy Always), so the Job ends with the run.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from laif import __version__
from laif._files import write_atomic
from laif.configurator.spec import SandboxSpec
from laif.errors import BadInput

TARGETS = ("slurm", "compose", "k8s")
IMAGES = {"vllm": "vllm/vllm-openai:v0.6.3", "llamacpp": "ghcr.io/ggml-org/llama.cpp:server"}
LAIF_IMAGE = f"laif:{__version__}"
ALL = "0.0.0.0"  # noqa: S104 - a server in its own container (compose network, pod) must listen beyond loopback


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def bundled_spec(spec: SandboxSpec, model_host: str) -> SandboxSpec:
    """The spec the bundle runs: executed in place, against the served model when there is one."""
    data = spec.model_dump(mode="json")
    data["executor"] = "local"
    if spec.system.serve is not None:
        data["system"] = {"model": f"openai:http://{model_host}:{spec.system.serve.port}/v1#served",
                          "api_key_env": spec.system.api_key_env}
    return SandboxSpec.model_validate(data)


def _vllm_args(spec: SandboxSpec, model: str, host: str) -> list[str]:
    """vLLM's API server arguments, the same from the node's Python and from its image."""
    assert spec.system.serve is not None
    args = ["--model", model, "--served-model-name", "served", "--host", host, "--port", str(spec.system.serve.port)]
    if spec.resources.gpus > 1:
        args += ["--tensor-parallel-size", str(spec.resources.gpus)]
    return args


def _server_command(spec: SandboxSpec, model_path: str, host: str) -> list[str]:
    """The server started by the sbatch script, from the node's Python environment."""
    serve = spec.system.serve
    assert serve is not None
    if serve.engine == "vllm":
        cmd = ["python3", "-m", "vllm.entrypoints.openai.api_server", *_vllm_args(spec, model_path, host)]
    else:
        cmd = ["python3", "-m", "llama_cpp.server", "--model", model_path, "--model_alias", "served",
               "--host", host, "--port", str(serve.port), "--n_threads", str(spec.resources.cpus)]
    return cmd + list(serve.extra_args)


def _image_args(spec: SandboxSpec, inside: str) -> list[str]:
    """Arguments for the server image's own entrypoint (vLLM's API server, llama.cpp's llama-server)."""
    serve = spec.system.serve
    assert serve is not None
    if serve.engine == "vllm":
        # Inside its container the server must listen beyond loopback for the sandbox to reach it.
        args = _vllm_args(spec, inside, ALL)
    else:
        args = ["-m", inside, "--alias", "served", "--host", ALL, "--port", str(serve.port),
                "-t", str(spec.resources.cpus)]
    return args + list(serve.extra_args)


def _sbatch(spec: SandboxSpec, spec_sha: str) -> str:
    r = spec.resources
    lines = ["#!/bin/bash", f"#SBATCH --job-name=laif-{spec.name}", f"#SBATCH --nodes={r.nodes}",
             "#SBATCH --ntasks-per-node=1", f"#SBATCH --cpus-per-task={r.cpus}", f"#SBATCH --mem={r.memory}",
             f"#SBATCH --time={r.time}", "#SBATCH --output=laif-%j.out"]
    if r.partition:
        lines.append(f"#SBATCH --partition={r.partition}")
    if r.account:
        lines.append(f"#SBATCH --account={r.account}")
    if r.gpus:
        lines.append(f"#SBATCH --gres=gpu:{r.gpus}")
    tier = "${LAIF_SCRATCH:-${SCRATCH:-$BUNDLE/results}}" if r.storage == "scratch" \
        else "${LAIF_PROJECT:-${PROJECT:-$BUNDLE/results}}"
    lines += [
        f"# Rendered by laif {__version__} for sandbox {spec.name}; spec sha256 {spec_sha}",
        "# Submit from the bundle's folder:  cd BUNDLE && sbatch run.sbatch",
        "set -euo pipefail",
        'BUNDLE="${SLURM_SUBMIT_DIR:-$(pwd)}"',
        'PY="${LAIF_PYTHON:-python3}"',
        f'"$PY" -c \'import laif, sys; sys.exit(laif.__version__ != "{__version__}")\' || '
        f'{{ echo "this bundle needs laif {__version__}" >&2; exit 2; }}',
        '(cd "$BUNDLE" && sha256sum --quiet -c spec.sha256) || '
        '{ echo "sandbox.yaml differs from the rendered one" >&2; exit 2; }',
        f'OUT="{tier}/laif-{spec.name}-${{SLURM_JOB_ID:-local}}"',
        'mkdir -p "$OUT"',
        'export LAIF_HOME="${LAIF_HOME:-$OUT/.laif}"',
    ]
    serve = spec.system.serve
    if serve is not None:
        command = " ".join(shlex.quote(c) for c in _server_command(spec, serve.model_path, "127.0.0.1"))
        command = command.replace("python3", '"$PY"', 1)
        lines += [
            f"echo \"starting the {serve.engine} server on $(hostname)\"",
            f'{command} > "$OUT/server.log" 2>&1 &',
            "SERVER=$!",
            'trap \'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true\' EXIT',
            '"$PY" - <<\'WAIT\' || { echo "the model server did not start; see $OUT/server.log" >&2; exit 3; }',
            "import time, urllib.request",
            "for _ in range(900):",
            "    try:",
            f"        urllib.request.urlopen('http://127.0.0.1:{serve.port}/v1/models', timeout=2)",
            "        raise SystemExit(0)",
            "    except OSError:",
            "        time.sleep(1)",
            "raise SystemExit(1)",
            "WAIT",
        ]
    lines += [
        'status=0',
        '"$PY" -m laif sandbox run "$BUNDLE/sandbox.yaml" --out "$OUT" --quiet || status=$?',
        'echo "results in $OUT (exit $status)"',
        'exit "$status"',
    ]
    return "\n".join(lines) + "\n"


def _compose(spec: SandboxSpec) -> dict[str, Any]:
    sandbox: dict[str, Any] = {
        "image": LAIF_IMAGE,
        "command": ["laif", "sandbox", "run", "/bundle/sandbox.yaml", "--out", "/results", "--quiet"],
        "volumes": ["./:/bundle:ro", "./results:/results"],
        "environment": {"LAIF_HOME": "/results/.laif"},
    }
    if spec.system.api_key_env:  # the name travels, the value comes from the caller's environment
        sandbox["environment"][spec.system.api_key_env] = f"${{{spec.system.api_key_env}:?set it before running}}"
    doc: dict[str, Any] = {"services": {"sandbox": sandbox}}
    serve = spec.system.serve
    if serve is not None:
        folder = str(Path(serve.model_path).parent) if serve.engine == "llamacpp" else serve.model_path
        inside = f"/models/{Path(serve.model_path).name}" if serve.engine == "llamacpp" else "/models"
        model: dict[str, Any] = {
            "image": IMAGES[serve.engine],
            "command": _image_args(spec, inside),
            "volumes": [f"{folder}:/models:ro"],
            "healthcheck": {"test": ["CMD-SHELL", f"curl -fsS http://127.0.0.1:{serve.port}/v1/models || exit 1"],
                            "interval": "10s", "timeout": "5s", "retries": 60},
        }
        if spec.resources.gpus:
            model["deploy"] = {"resources": {"reservations": {"devices": [
                {"driver": "nvidia", "count": spec.resources.gpus, "capabilities": ["gpu"]}]}}}
        doc["services"]["model"] = model
        sandbox["depends_on"] = {"model": {"condition": "service_healthy"}}
    return doc


def _k8s(spec: SandboxSpec, text: str) -> list[dict[str, Any]]:
    name = f"laif-{spec.name.lower().replace('_', '-')}"
    r = spec.resources
    limits: dict[str, Any] = {"cpu": str(r.cpus), "memory": r.memory + ("i" if r.memory[-1] in "KMGT" else "")}
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"{name}-spec"},
              "data": {"sandbox.yaml": text}}
    sandbox: dict[str, Any] = {
        "name": "sandbox", "image": LAIF_IMAGE,
        "command": ["laif", "sandbox", "run", "/bundle/sandbox.yaml", "--out", "/results", "--quiet"],
        "env": [{"name": "LAIF_HOME", "value": "/results/.laif"}],
        "volumeMounts": [{"name": "spec", "mountPath": "/bundle", "readOnly": True},
                         {"name": "results", "mountPath": "/results"}],
        "resources": {"limits": limits, "requests": limits},
    }
    if spec.system.api_key_env:
        sandbox["env"].append({"name": spec.system.api_key_env, "valueFrom": {"secretKeyRef": {
            "name": f"{name}-credentials", "key": spec.system.api_key_env}}})
    volumes: list[dict[str, Any]] = [{"name": "spec", "configMap": {"name": f"{name}-spec"}},
                                     {"name": "results", "emptyDir": {}}]
    pod: dict[str, Any] = {"restartPolicy": "Never", "containers": [sandbox], "volumes": volumes}
    serve = spec.system.serve
    if serve is not None:
        inside = f"/models/{Path(serve.model_path).name}" if serve.engine == "llamacpp" else "/models"
        server: dict[str, Any] = {
            "name": "model", "image": IMAGES[serve.engine], "restartPolicy": "Always",
            "args": _image_args(spec, inside),
            "ports": [{"containerPort": serve.port}],
            "readinessProbe": {"httpGet": {"path": "/v1/models", "port": serve.port}, "periodSeconds": 5},
            "startupProbe": {"httpGet": {"path": "/v1/models", "port": serve.port}, "periodSeconds": 10,
                             "failureThreshold": 90},
            "volumeMounts": [{"name": "model", "mountPath": "/models", "readOnly": True}],
        }
        if r.gpus:
            server["resources"] = {"limits": {"nvidia.com/gpu": r.gpus}}
        folder = str(Path(serve.model_path).parent) if serve.engine == "llamacpp" else serve.model_path
        volumes.append({"name": "model", "hostPath": {"path": folder, "type": "Directory"}})
        pod["initContainers"] = [server]
    job = {"apiVersion": "batch/v1", "kind": "Job",
           "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "laif", "laif/version": __version__}},
           "spec": {"backoffLimit": 1, "template": {"metadata": {"labels": {"app.kubernetes.io/name": "laif"}},
                                                    "spec": pod}}}
    return [config, job]


def render(spec: SandboxSpec, target: str, out: Path) -> list[Path]:
    """Write the bundle for `target` into `out`; returns the files written."""
    if target not in TARGETS:
        raise BadInput(f"--target {target}: use one of {', '.join(TARGETS)}")
    if out.exists() and any(out.iterdir()):
        raise BadInput(f"--out {out}: not empty; render into a new folder")
    host = {"slurm": "127.0.0.1", "compose": "model", "k8s": "127.0.0.1"}[target]
    runs = bundled_spec(spec, host)
    text = yaml.safe_dump(runs.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
    original = yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
    files = {"sandbox.yaml": text, "original-spec.yaml": original,
             "spec.sha256": f"{_sha256(text)}  sandbox.yaml\n"}
    if target == "slurm":
        files["run.sbatch"] = _sbatch(spec, _sha256(text))
    elif target == "compose":
        files["compose.yaml"] = yaml.safe_dump(_compose(spec), sort_keys=False)
    else:
        files["sandbox.k8s.yaml"] = yaml.safe_dump_all(_k8s(spec, text), sort_keys=False)
    files["bundle.json"] = json.dumps({
        "laif_version": __version__, "target": target, "sandbox": spec.name,
        "spec_hash": spec.spec_hash(), "bundled_spec_sha256": _sha256(text), "original_spec_sha256": _sha256(original),
        "rendered_at": datetime.now(UTC).isoformat(timespec="seconds"), "files": sorted(files),
    }, indent=2) + "\n"
    written = []
    for name, content in files.items():
        write_atomic(out / name, content)
        written.append(out / name)
    if target == "slurm":
        (out / "run.sbatch").chmod(0o755)
    return written
