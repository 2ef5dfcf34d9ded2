"""One spec, three front ends, one result (issue 14): `laif sandbox run` here, the same spec on a real
one-machine Slurm cluster (shards on compute nodes, scored here) and a small script that calls
`laif.services` directly store the same answers, verdicts and scores, write the same results and
report, and build evidence bundles with the same contents: apart from run ids, timestamps,
latencies and signing keys, byte for byte. The script also scores its stored run again, asking no
model, and gets the same verdicts."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from laif.configurator.spec import EXAMPLE, SandboxSpec
from laif.errors import BadInput
from laif.services import assessment
from laif.store import Store
from tests.conftest import run_laif
from tests.slurm_cluster import slurm_available, slurm_cluster

#: The script a user writes against the service layer: run the spec, score the run again, bundle it.
SCRIPT = """\
import json, sys
from pathlib import Path

from laif.services import assessment, evidence

spec, out, db = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
done = assessment.run_spec(spec, out_dir=out, db=db)
run_id = done.runs[0].run.id
rescored = assessment.score_run(run_id, db)
evidence.build_bundle([run_id], out / "bundle.zip", risk="limited", pdf=False, db=db)
print(json.dumps({"run_id": run_id, "gates": done.gates, "rescored": rescored.summary}))
"""

#: Volatile fields of results.json: when and how fast, never what.
VOLATILE = {"run_id", "created_at", "finished_at", "answered_at", "latency_s"}
STAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(\+00:00|Z)?")
#: Exports name their parts by UUIDs drawn from the run ids.
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _spec(path: Path, executor: str) -> Path:
    spec = yaml.safe_load(EXAMPLE)
    spec.update(suites=["factual"], languages=["en"], limit=1, thresholds={"factual.mean": {"min": 0}},
                executor=executor)
    spec["resources"].update(shards=2, cpus=1, memory="2G", time="00:10:00")
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


def _strip(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _strip(v) for k, v in data.items() if k not in VOLATILE}
    if isinstance(data, list):
        return [_strip(v) for v in data]
    return data


def _in_order(doc: Any) -> Any:
    """A run's results with its exchanges by prompt (they are kept as answered; shards answer in any order)."""
    if isinstance(doc, dict) and isinstance(doc.get("exchanges"), list):
        return doc | {"exchanges": sorted(doc["exchanges"], key=lambda e: e["prompt_id"])}
    return doc


def _text(raw: bytes, run_id: str) -> str:
    return UUID.sub("<uuid>", STAMP.sub("<time>", raw.decode("utf-8").replace(run_id, "<run>")))


def _record(out: Path, db: str) -> dict[str, Any]:
    """What must not depend on the front end: the store, the results and report, the bundle."""
    run_id = json.loads((out / "gates.json").read_text(encoding="utf-8"))["runs"]["factual"]
    store = Store(db)
    run = store.require_run(run_id)
    results = _in_order(json.loads((out / "results.json").read_text(encoding="utf-8")))
    with zipfile.ZipFile(out / "bundle.zip") as zf:
        bundle = {name.replace(run_id, "<run>"): _text(zf.read(name), run_id) for name in zf.namelist()
                  if name not in ("manifest.json", "manifest.sig", "signer.pub")}
        bundle = {name: _strip(_in_order(json.loads(text))) if name.endswith(".json") else text
                  for name, text in bundle.items()}
        manifest = json.loads(zf.read("manifest.json"))
    gates = json.loads((out / "gates.json").read_text(encoding="utf-8"))
    return {
        "status": run.status,
        "summary": run.summary,
        "verdicts": [(v.case_id, v.verdict, v.parsed, v.reason) for v in store.verdicts(run_id)],
        "answers": sorted((e.prompt_id, e.response, e.error) for e in store.exchanges(run_id)),
        "results": _strip(results),
        "report": _text((out / "report.html").read_bytes(), run_id),
        # The spec's own hash names its executor too, so it is left out with the run ids.
        "gates": {k: v for k, v in gates.items() if k not in ("runs", "spec_hash")},
        "bundle": bundle,
        "bundle_about": json.loads(_text(json.dumps(manifest["about"]).encode(), run_id)),
        "bundle_files": sorted(name.replace(run_id, "<run>") for name in manifest["files"]),
    }


def _same(found: dict[str, Any], expected: dict[str, Any]) -> None:
    """Equal, or a failure naming what differs (each file of the bundle on its own)."""
    for key in expected:
        if key == "bundle":
            for name in sorted(set(found[key]) | set(expected[key])):
                assert found[key].get(name) == expected[key].get(name), f"bundle file {name} differs"
        else:
            assert found[key] == expected[key], f"{key} differs"
    assert found.keys() == expected.keys()


def _cli(tmp_path: Path, name: str, executor: str, env: dict[str, str]) -> dict[str, Any]:
    out, db = tmp_path / name, f"sqlite:///{tmp_path / name}.db"
    env = env | {"LAIF_HOME": str(tmp_path / f"home-{name}")}
    r = run_laif("sandbox", "run", str(_spec(tmp_path / f"{name}.yaml", executor)), "--out", str(out), "--db", db,
                 "--quiet", env=env)
    assert r.returncode == 0, r.stderr
    run_id = json.loads((out / "gates.json").read_text(encoding="utf-8"))["runs"]["factual"]
    r = run_laif("evidence", "build", run_id, "--risk", "limited", "--no-pdf", "--db", db, "--out",
                 str(out / "bundle.zip"), env=env)
    assert r.returncode == 0, r.stderr
    return _record(out, db)


def _script(tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    out, db = tmp_path / "script", f"sqlite:///{tmp_path / 'script'}.db"
    script = tmp_path / "assess.py"
    script.write_text(SCRIPT, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script), str(_spec(tmp_path / "script.yaml", "local")), str(out), db],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "LAIF_HOME": str(tmp_path / "home-script")})
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # a service prints nothing
    return _record(out, db), json.loads(done.stdout)


@pytest.fixture(scope="module")
def here(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`laif sandbox run` and `laif evidence build` on this machine."""
    found = _cli(tmp_path_factory.mktemp("cli"), "cli", "local", {})
    assert found["status"] == "complete" and len(found["answers"]) == 3
    assert found["gates"]["gates"][0]["met"] is True
    assert {"runs/<run>/results.json", "runs/<run>/report.html"} <= set(found["bundle"])
    return found


@pytest.mark.slow
def test_a_script_calling_the_services_gives_what_the_cli_gives(tmp_path: Path, here: dict[str, Any]) -> None:
    script, printed = _script(tmp_path)
    assert printed["rescored"] == script["summary"]  # scoring the stored run again changes nothing
    _same(script, here)


@pytest.mark.slow
def test_the_slurm_executor_gives_what_the_cli_gives(tmp_path: Path, here: dict[str, Any]) -> None:
    why = slurm_available()
    if why:
        pytest.skip(f"the Slurm third of the comparison needs a real Slurm: {why}")
    with slurm_cluster(tmp_path / "slurm") as slurm_env:
        on_slurm = _cli(tmp_path, "slurm", "slurm", slurm_env)
    _same(on_slurm, here)


@pytest.mark.usefixtures("laif_home")
def test_a_run_is_scored_again_only_when_it_can_be(tmp_path: Path) -> None:
    """Scoring a stored run asks no model, so it refuses a run with answers missing, one whose
    suite library changed, and one whose settings cannot be rebuilt; each names the run."""
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    spec = SandboxSpec.model_validate(yaml.safe_load(_spec(tmp_path / "s.yaml", "local").read_text(encoding="utf-8")))
    run_id = assessment.prepare_runs(spec, db)["factual"]  # created, nothing asked
    with pytest.raises(BadInput, match=f"run {run_id}: 0 of 3 prompts answered; run the same assessment again"):
        assessment.score_run(run_id, db)
    store = Store(db)
    store.update_run(run_id, spec_hash="0" * 64)
    with pytest.raises(BadInput, match=f"run {run_id}: its settings cannot be rebuilt"):
        assessment.score_run(run_id, db)
    store.update_run(run_id, library_hash="0" * 64)
    with pytest.raises(BadInput, match=f"run {run_id}: the factual suite's library changed since the run"):
        assessment.score_run(run_id, db)
    with pytest.raises(BadInput, match="no run 'nope'"):
        assessment.score_run("nope", db)


@pytest.mark.usefixtures("laif_home")
def test_a_spec_that_serves_its_own_model_is_refused_before_anything_runs(tmp_path: Path) -> None:
    data = yaml.safe_load(_spec(tmp_path / "s.yaml", "local").read_text(encoding="utf-8"))
    data["system"] = {"serve": {"engine": "llamacpp", "model_path": "/models/x.gguf"}}
    served = tmp_path / "served.yaml"
    served.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(BadInput, match=f"{served}: system.serve starts a model on a compute node"):
        assessment.run_spec(served, out_dir=tmp_path / "out", db=f"sqlite:///{tmp_path / 'runs.db'}")
    assert not (tmp_path / "out").exists()
