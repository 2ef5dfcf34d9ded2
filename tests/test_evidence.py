"""Evidence bundles: a banking chatbot is qualified and assessed, the bundle is built and
verifies; then one changed byte, a missing file, an added file, a re-signed manifest and a
damaged archive each fail verification, naming what is wrong."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
import yaml

from laif.compliance.evidence import build, fingerprint, signing_key, verify
from tests.conftest import run_laif

BANKING = {
    "ai_system.infers": "yes", "ai_system.autonomy": "yes", "role": "provider", "prohibited": ["none"],
    "annex_i.safety_component": "no", "annex_iii.uses": ["none"], "transparency.interacts": "yes",
    "transparency.generates": "yes", "transparency.emotion_or_categorisation": "no", "transparency.deep_fake": "no",
    "gpai.model": "no",
}


def _rewrite(src: Path, dst: Path, change: dict[str, bytes | None]) -> None:
    """Copy a zip, replacing (bytes), dropping (None) or adding members."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            if name in change:
                if change[name] is not None:
                    zout.writestr(name, change[name])  # type: ignore[arg-type]
            else:
                zout.writestr(name, zin.read(name))
        for name, data in change.items():
            if name not in zin.namelist() and data is not None:
                zout.writestr(name, data)


@pytest.mark.slow
def test_qualify_assess_bundle_verify_and_tamper(tmp_path: Path) -> None:
    env = {"LAIF_HOME": str(tmp_path / "home")}
    answers = tmp_path / "banking.yaml"
    answers.write_text(yaml.safe_dump(BANKING), encoding="utf-8")
    r = run_laif("qualify", "--answers", str(answers), "--json", env=env)
    assert r.returncode == 0 and json.loads(r.stdout)["risk_class"] == "limited", r.stderr
    r = run_laif("assess", "--suite", "injection", "-l", "en", "--limit", "1", "--quiet", "--json",
                 "--out", str(tmp_path / "out"), env=env)
    assert r.returncode == 0, r.stderr
    run_id = json.loads(r.stdout)["run_id"]

    bundle = tmp_path / "bundle.zip"
    r = run_laif("evidence", "build", run_id, "--qualification", str(answers), "--out", str(bundle), env=env)
    assert r.returncode == 0, r.stderr
    signer = r.stdout.split("signed by ")[1].split()[0]
    key_file = tmp_path / "home" / "evidence" / "signing.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    with zipfile.ZipFile(bundle) as zf:
        assert {f"runs/{run_id}/results.json", f"runs/{run_id}/report.html", "qualification.json",
                "manifest.json", "manifest.sig", "signer.pub"} == set(zf.namelist())
        assert json.loads(zf.read("qualification.json"))["risk_class"] == "limited"
    r = run_laif("evidence", "verify", str(bundle), "--signer", signer)
    assert r.returncode == 0 and "intact" in r.stdout, r.stderr

    results = f"runs/{run_id}/results.json"
    with zipfile.ZipFile(bundle) as zf:
        original = zf.read(results)
    changed = bytearray(original)
    changed[len(changed) // 2] ^= 0x01  # one byte
    cases = {
        "changed": ({results: bytes(changed)}, f"{results}: changed"),
        "missing": ({"qualification.json": None}, "qualification.json: missing"),
        "added": ({"runs/extra.txt": b"more"}, "runs/extra.txt: added"),
    }
    for label, (change, message) in cases.items():
        tampered = tmp_path / f"{label}.zip"
        _rewrite(bundle, tampered, change)
        r = run_laif("evidence", "verify", str(tampered))
        assert r.returncode == 1 and message in r.stderr, (label, r.stderr)

    # Re-signing a tampered manifest with another key is caught when the signer is pinned.
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(bundle) as zf:
        files = {n: zf.read(n) for n in zf.namelist() if n not in {"manifest.json", "manifest.sig", "signer.pub"}}
    files[results] = bytes(changed)
    build(files, other, signing_key(tmp_path / "mallory.key"), {})
    assert verify(other).ok  # self-consistent...
    r = run_laif("evidence", "verify", str(other), "--signer", signer)
    assert r.returncode == 1 and "not by the expected" in r.stderr

    # A byte flipped in the archive itself.
    raw = bytearray(bundle.read_bytes())
    raw[len(raw) // 3] ^= 0xFF
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(raw))
    r = run_laif("evidence", "verify", str(damaged))
    assert r.returncode == 1 and "Traceback" not in r.stderr and r.stderr.strip()


def test_bad_requests_to_build(tmp_path: Path) -> None:
    env = {"LAIF_HOME": str(tmp_path)}
    r = run_laif("evidence", "build", "nosuchrun", "--out", str(tmp_path / "b.zip"), env=env)
    assert r.returncode == 2 and "no run 'nosuchrun'" in r.stderr and not (tmp_path / "b.zip").exists()
    key = signing_key(tmp_path / "k.pem")
    assert fingerprint(key.public_key()) == fingerprint(signing_key(tmp_path / "k.pem").public_key())
    with pytest.raises(Exception, match="reserved or unsafe"):
        build({"../escape": b"x"}, tmp_path / "x.zip", key, {})
    shutil.rmtree(tmp_path / "x.zip", ignore_errors=True)
