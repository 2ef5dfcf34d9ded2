"""The obligations catalogue and its verdicts: the catalogue covers the obligations the issue
names with normalised references and known suites; a measurement is met, not met or
inconclusive by where its interval lies; controls are checked with file and line; bad
catalogues and controls files are refused with exit 2."""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import yaml

from laif.compliance.obligations import (
    REFERENCE,
    Answers,
    ControlAnswer,
    assess,
    judge_measurement,
    load_catalogue,
    measure,
    scope_from_risk,
)
from laif.compliance.qualify import OBLIGATIONS
from laif.errors import BadInput
from tests.conftest import run_laif


def test_catalogue_covers_the_obligations_with_normalised_references() -> None:
    loaded = load_catalogue()
    catalogue = loaded.catalogue
    ids = {o.id for o in catalogue.obligations}
    for needed in ("art-9", "art-10", "art-11", "art-12", "art-13", "art-14", "art-15", "art-17", "art-26",
                   "art-27", "art-50.1", "art-50.2", "art-50.3", "art-50.4", "art-53", "art-55"):
        assert needed in ids, needed
    # Every obligation `laif qualify` can conclude has a mapping (art-5 forbids; there is nothing to evidence).
    assert set(OBLIGATIONS) - {"art-5"} <= ids
    assert "annex-iv.2.g" in {r.id for o in catalogue.obligations for r in o.requirements}
    for o in catalogue.obligations:
        for r in o.requirements:
            assert REFERENCE.match(r.id), r.id
    suites = {ep.name for ep in entry_points(group="laif.suites")}
    for name, metric in catalogue.metrics.items():
        assert metric.suite in suites, name
        assert metric.risk, f"{name}: say what a miss means"
    assert len(loaded.sha256) == 64 and catalogue.version


@pytest.mark.parametrize(("value", "low", "high", "direction", "expected"), [
    (80, 70, 90, "higher", "met"),
    (50, 40, 59, "higher", "not met"),
    (65, 55, 75, "higher", "inconclusive"),
    (60, 60, 70, "higher", "met"),  # the bound itself is on the good side
    (5, 1, 9, "lower", "met"),
    (30, 21, 40, "lower", "not met"),
    (15, 5, 30, "lower", "inconclusive"),
    (None, None, None, "higher", "not assessed"),
    (-20.0, None, None, "higher", "not met"),  # no interval: the value decides
])
def test_verdict_follows_the_interval(value: float | None, low: float | None, high: float | None,
                                      direction: str, expected: str) -> None:
    threshold = {"higher": 60.0, "lower": 20.0}[direction]
    if value == -20.0:
        threshold = -15.0
    assert judge_measurement(value, low, high, direction, threshold) == expected


def test_wildcard_metric_takes_the_worst_measurement_and_keeps_each() -> None:
    metric = load_catalogue().catalogue.metrics["bias-by-group"]
    results = {"run_id": "r1", "scores": {"categories": {
        "A": {"score": 90.0, "low": 70.0, "high": 97.0, "decided": 20},
        "B": {"score": 55.0, "low": 40.0, "high": 70.0, "decided": 20},
        "C": {"score": None, "low": None, "high": None, "decided": 0},
    }}}
    got = measure(metric, results)
    assert [(m["label"], m["verdict"]) for m in got["measurements"]] == [
        ("A", "met"), ("B", "inconclusive"), ("C", "not assessed")]
    assert got["verdict"] == "inconclusive" and got["run_id"] == "r1"
    results["scores"]["categories"]["B"] = {"score": 30.0, "low": 20.0, "high": 45.0, "decided": 20}
    assert measure(metric, results)["verdict"] == "not met"
    assert measure(metric, None)["verdict"] == "not assessed"


def test_controls_scores_and_evidence(tmp_path: Path) -> None:
    loaded = load_catalogue()
    answers = Answers(tmp_path / "c.yaml", {
        "risk-management-system": ControlAnswer(score=4),               # evidence required, none given
        "risk-measures": ControlAnswer(score=2),                        # below the pass mark
        "vulnerable-groups": ControlAnswer(score=3),
        "data-governance": ControlAnswer(score=5, evidence=["d.pdf"]),
    }, {"data-governance": {"d.pdf": b"%PDF"}})
    result = assess(loaded, ["art-9", "art-10"], [], answers, {"risk_class": "high", "role": "provider"})
    verdicts = {r["id"]: r["verdict"] for o in result["obligations"] for r in o["requirements"]}
    assert verdicts["art-9.2.a"] == "not assessed"
    assert verdicts["art-9.5"] == "not met"
    assert verdicts["art-9.9"] == "met"
    assert verdicts["art-10.2"] == "met"
    assert verdicts["art-10.2.f"] == "not assessed"  # no bias run
    needs = {m["requirement"]: m["needs"] for m in result["missing"]}
    assert "no evidence file" in needs["art-9.2.a"] and "bias suite" in needs["art-10.2.f"]
    files = next(e for o in result["obligations"] for r in o["requirements"] for e in r["evidence"]
                 if e.get("control") == "data-governance")["files"]
    assert files[0]["name"] == "d.pdf" and len(files[0]["sha256"]) == 64


def test_scope_of_each_risk_class() -> None:
    assert "art-15" in scope_from_risk("high", "provider") and "art-26" not in scope_from_risk("high", "provider")
    assert scope_from_risk("high", "deployer") == ["art-4", "art-26"]
    assert scope_from_risk("limited", "provider") == ["art-4", "art-50.1", "art-50.2"]
    assert scope_from_risk("gpai-systemic", "provider") == ["art-53", "art-55"]
    with pytest.raises(BadInput, match="--risk"):
        scope_from_risk("extreme", "provider")


def test_bad_controls_and_catalogue_are_refused_with_file_and_line(tmp_path: Path) -> None:
    env = {"LAIF_HOME": str(tmp_path / "home")}
    controls = tmp_path / "controls.yaml"
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "log.txt").write_text(folder, encoding="utf-8")
    controls.write_text("ai-literacy: {score: 3}\nno-such-control: 4\nrisk-measures:\n  score: 7\n"
                        "data-governance:\n  score: 4\n  evidence: [missing.pdf]\n"
                        "logging:\n  score: 4\n  evidence:\n    - a/log.txt\n    - b/log.txt\n", encoding="utf-8")
    r = run_laif("obligations", "--risk", "high", "--controls", str(controls), env=env)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"{controls}:2: no-such-control: unknown control" in r.stderr
    assert f"{controls}:4: risk-measures.score" in r.stderr
    assert f"{controls}:7: data-governance.evidence: no such file 'missing.pdf'" in r.stderr
    assert "logging.evidence: two files named 'log.txt'" in r.stderr

    r = run_laif("obligations", "catalogue", env=env)
    assert r.returncode == 0
    for change, message in (
        (lambda d: d["obligations"][0]["requirements"][0].update(id="Article 4"),
         "obligations.0.requirements.0.id: Value error, 'Article 4' is not a normalised reference"),
        (lambda d: d["obligations"][1]["requirements"][0].update(controls=["nothing-like-it"]),
         "art-9.2.a: unknown control 'nothing-like-it'"),
    ):
        data = yaml.safe_load(r.stdout)
        change(data)
        broken = tmp_path / "catalogue.yaml"
        broken.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        bad = run_laif("obligations", "--risk", "high", "--catalogue", str(broken), env=env)
        assert bad.returncode == 2 and "Traceback" not in bad.stderr
        assert message in bad.stderr, bad.stderr

    r = run_laif("obligations", env=env)
    assert r.returncode == 2 and "--qualification" in r.stderr and "--risk" in r.stderr


def test_controls_template_lists_what_applies(tmp_path: Path) -> None:
    env = {"LAIF_HOME": str(tmp_path / "home")}
    template = tmp_path / "controls.yaml"
    r = run_laif("obligations", "controls", "--risk", "limited", "--template", str(template), env=env)
    assert r.returncode == 0, r.stderr
    text = template.read_text(encoding="utf-8")
    assert "# ai-interaction-disclosure:" in text and "# synthetic-content-marking:" in text
    assert "risk-management-system" not in text  # not a limited-risk obligation
    r = run_laif("obligations", "controls", "--risk", "limited", "--template", str(template), env=env)
    assert r.returncode == 2 and "already exists" in r.stderr
    r = run_laif("obligations", "controls", "--json", env=env)
    assert len(json.loads(r.stdout)) == len(load_catalogue().catalogue.controls)
