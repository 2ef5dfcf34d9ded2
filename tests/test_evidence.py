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
    run_ids = {}
    for suite, languages in (("injection", "en"), ("bias", "en,fr")):
        r = run_laif("assess", "--suite", suite, "-l", languages, "--limit", "1", "--quiet", "--json",
                     "--out", str(tmp_path / suite), env=env)
        assert r.returncode == 0, r.stderr
        run_ids[suite] = json.loads(r.stdout)["run_id"]
    run_id = run_ids["injection"]

    # The controls a person answers, with an evidence file, and what is known of the system.
    (tmp_path / "ev").mkdir()
    (tmp_path / "ev" / "banner.png").write_bytes(b"\x89PNG not really")
    controls = tmp_path / "controls.yaml"
    controls.write_text("ai-literacy: 3\nai-interaction-disclosure:\n  score: 4\n  evidence: [ev/banner.png]\n"
                        "synthetic-content-marking: {score: 2, note: no watermark yet}\n", encoding="utf-8")
    system = tmp_path / "system.yaml"
    system.write_text("name: Helpdesk chatbot\nprovider: Example Bank S.A.\n", encoding="utf-8")

    bundle = tmp_path / "bundle.zip"
    r = run_laif("evidence", "build", *run_ids.values(), "--qualification", str(answers), "--controls", str(controls),
                 "--system", str(system), "--out", str(bundle), env=env)
    assert r.returncode == 0, r.stderr
    signer = r.stdout.split("signed by ")[1].split()[0]
    key_file = tmp_path / "home" / "evidence" / "signing.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        for rid in run_ids.values():
            assert {f"runs/{rid}/results.json", f"runs/{rid}/report.html"} <= names
        assert {"qualification.json", "obligations/catalogue.yaml", "obligations/assessment.json",
                "controls/controls.yaml", "controls/ai-interaction-disclosure/banner.png",
                "exports/oscal-assessment-results.json", "exports/cyclonedx-model-card.json",
                "drafts/art-58-sandbox-plan.md", "drafts/art-58-sandbox-exit-report.md", "manifest.json",
                "manifest.sig", "signer.pub"} <= names
        # A limited-risk provider owes no Annex IV documentation, declaration or FRIA (Arts. 11, 47, 27).
        assert not any(n.startswith(("drafts/annex-", "drafts/art-27")) for n in names)
        assert {f"reports/{n}.{ext}" for n in ("technical", "risk", "legal", "ethics") for ext in ("html", "pdf")} <= names
        assert json.loads(zf.read("qualification.json"))["risk_class"] == "limited"
        assessment = json.loads(zf.read("obligations/assessment.json"))
    verdicts = {r["id"]: r["verdict"] for o in assessment["obligations"] for r in o["requirements"]}
    assert verdicts == {"art-4": "met", "art-50.1": "met", "laif-language-fidelity": "not assessed",
                        "art-50.2": "not met"}
    assert {"requirement": "laif-language-fidelity", "needs": "a complete run of the multilingual suite"} in \
        assessment["missing"]
    r = run_laif("evidence", "verify", str(bundle), "--signer", signer)
    assert r.returncode == 0 and "intact" in r.stdout, r.stderr

    # The same runs judged for a high-risk provider: every measurement traces to the run's own figures.
    r = run_laif("obligations", "--risk", "high", "--run", run_ids["bias"], "--run", run_ids["injection"], "--json",
                 env=env)
    assert r.returncode == 0, r.stderr
    high = json.loads(r.stdout)
    assert {x["suite"]: x["run_id"] for x in high["runs"]} == {"bias": run_ids["bias"], "injection": run_ids["injection"]}
    evidence = next(e for o in high["obligations"] for q in o["requirements"] for e in q["evidence"]
                    if q["id"] == "art-10.2.f" and e.get("metric") == "bias-by-group")
    with zipfile.ZipFile(bundle) as zf:
        categories = json.loads(zf.read(f"runs/{run_ids['bias']}/results.json"))["scores"]["categories"]
    assert {m["label"]: m["value"] for m in evidence["measurements"]} == {k: v["score"] for k, v in categories.items()}
    assert evidence["verdict"] == min((m["verdict"] for m in evidence["measurements"]),
                                      key=["not met", "inconclusive", "not assessed", "met"].index)
    assert any(m["needs"] == "a complete run of the factual suite" for m in high["missing"])

    _read_what_was_bundled(bundle, tmp_path / "read", run_ids, env)

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


def _pdf_text(path: Path) -> tuple[int, str]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    return len(pdf), "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))


def _read_what_was_bundled(bundle: Path, where: Path, run_ids: dict[str, str], env: dict[str, str]) -> None:
    """Extract (after verifying) and read it as its readers would: four reports, exports, drafts."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    from trestle.oscal.assessment_results import AssessmentResults

    r = run_laif("evidence", "extract", str(bundle), str(where), env=env)
    assert r.returncode == 0, r.stderr
    results = {s: json.loads((where / "runs" / rid / "results.json").read_text()) for s, rid in run_ids.items()}
    bias = results["bias"]["scores"]["categories"]

    pages, text = _pdf_text(where / "reports" / "technical.pdf")
    assert pages >= 2 and "Technical report" in text and run_ids["bias"] in text
    assert all(category in text for category in bias)  # every bias category with its figures
    pages, text = _pdf_text(where / "reports" / "risk.pdf")
    assert "Risk summary" in text and "not met" in text
    pages, text = _pdf_text(where / "reports" / "legal.pdf")
    assert "art-50.2" in text and "synthetic-content-marking" in text and "score 2 of 5" in text
    assert "Art. 3(1)" not in text and "art-3.1" in text  # the qualification's rationale, normalised
    pages, text = _pdf_text(where / "reports" / "ethics.pdf")
    assert "Ethics view" in text and "French" in text
    worst = min((k for k in bias.values() if k["score"] is not None), key=lambda k: k["score"])
    assert f"{worst['score']:.0f}%" in text

    oscal = json.loads((where / "exports" / "oscal-assessment-results.json").read_text())
    document = AssessmentResults.model_validate(oscal["assessment-results"])
    findings = {f.target.target_id: f.target.status.state.value for f in document.results[0].findings or []}
    assert findings["art-50.2"] == "not-satisfied" and findings["art-4"] == "satisfied"
    card = (where / "exports" / "cyclonedx-model-card.json").read_text()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(card) is None
    metrics = json.loads(card)["components"][0]["modelCard"]["quantitativeAnalysis"]["performanceMetrics"]
    assert metrics, "the model card carries the measured metrics"

    exit_input = (where / "drafts" / "art-58-sandbox-exit-report.md").read_text()
    assert "Example Bank S.A." in exit_input and "Art. 57(7)" in exit_input and run_ids["bias"] in exit_input
