"""The obligations catalogue and its verdicts: the catalogue covers the obligations the issue
names with normalised references and known suites; a measurement is met, not met or
inconclusive by where its interval lies; controls are checked with file and line; bad
catalogues and controls files are refused with exit 2."""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
import yaml

from laif.compliance.obligations import (
    LAIF_CHECK,
    REFERENCE,
    Answers,
    ControlAnswer,
    assess,
    controls_template,
    judge_measurement,
    load_catalogue,
    load_controls,
    measure,
    resolve_scope,
    scope_from_risk,
)
from laif.compliance.qualify import OBLIGATIONS, check_answers, qualify
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
            # article text, or laif's own check marked as such with the article it supports
            assert REFERENCE.match(r.id) or (r.laif_specific and LAIF_CHECK.match(r.id) and r.supports), r.id
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
    # Art. 27 and Art. 86 may apply to a high-risk deployer; without answers they are kept, marked conditional.
    assert scope_from_risk("high", "deployer") == ["art-4", "art-26", "art-27", "art-86"]
    assert scope_from_risk("limited", "provider") == ["art-4", "art-50.1", "art-50.2"]
    assert scope_from_risk("gpai-systemic", "provider") == ["art-53", "art-55"]
    # Arts. 53 and 55 bind model providers only; Art. 4 binds providers and deployers only.
    assert scope_from_risk("gpai-systemic", "deployer") == [] and scope_from_risk("gpai", "importer") == []
    assert scope_from_risk("high", "importer") == ["art-23"] and scope_from_risk("limited", "distributor") == []
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


def _run(suite: str, scores: dict[str, Any], model: str = "m-key", run_id: str | None = None) -> dict[str, Any]:
    return {"run_id": run_id or f"{suite}-run", "suite": {"name": suite, "version": "1"}, "status": "complete",
            "finished_at": "2026-11-30T10:00:00", "model": {"name": model, "key": model}, "scores": scores}


FACTUAL_LOW = {"metrics": {"overall": {"accuracy": {"value": 20.0, "low": 12.0, "high": 30.0, "n": 80},
                                       "hallucination_rate": {"value": 50.0, "low": 40.0, "high": 60.0, "n": 80}}}}


def _verdicts(result: dict[str, Any]) -> dict[str, str]:
    return {r["id"]: r["verdict"] for o in result["obligations"] for r in o["requirements"]}


def test_laif_checks_are_marked_and_never_look_like_article_text() -> None:
    catalogue = load_catalogue().catalogue
    ids = {r.id for o in catalogue.obligations for r in o.requirements}
    assert "art-50.1.languages" not in ids and "laif-language-fidelity" in ids
    check = next(r for o in catalogue.obligations for r in o.requirements if r.id == "laif-language-fidelity")
    assert check.laif_specific and check.supports == "art-50.1" and "not article text" in check.text


def test_documentation_duty_is_met_by_the_record_and_performance_by_the_threshold() -> None:
    result = assess(load_catalogue(), ["art-11", "art-13", "art-15"], [_run("factual", FACTUAL_LOW)], None,
                    {"risk_class": "high", "role": "provider"})
    verdicts = _verdicts(result)
    # A low accuracy does not breach the duty to test and document (Annex IV 2(g)); the flip-rate has no run.
    evidence = next(e for o in result["obligations"] for r in o["requirements"] for e in r["evidence"]
                    if r["id"] == "annex-iv.2.g" and e.get("metric") == "factual-accuracy")
    assert evidence["verdict"] == "met" and evidence["judged"] == "documentation" and "whatever the scores" in \
        evidence["reason"]
    assert verdicts["annex-iv.2.g"] == "not assessed"  # flip-rate: no robustness run, so not everything is recorded
    assert verdicts["art-15.1"] == "not met"  # the threshold is judged where accuracy is a duty (Art. 15(1))


def test_output_bias_tests_count_for_article_10_only_with_data_governance(tmp_path: Path) -> None:
    cell = {"score": 90.0, "low": 80.0, "high": 95.0, "decided": 60}
    bias = _run("bias", {"categories": {"A": cell}, "by_language": {"en": {"A": cell}}})
    scope = {"risk_class": "high", "role": "provider"}
    alone = _verdicts(assess(load_catalogue(), ["art-10"], [bias], None, scope))
    assert alone["art-10.2.f"] == "not assessed"  # measured met, but output tests alone say nothing of the data
    answers = Answers(tmp_path / "c.yaml", {"data-governance": ControlAnswer(score=4, evidence=["d.pdf"])},
                      {"data-governance": {"d.pdf": b"%PDF"}})
    together = assess(load_catalogue(), ["art-10"], [bias], answers, scope)
    assert _verdicts(together)["art-10.2.f"] == "met"
    requirement = next(r for r in together["obligations"][0]["requirements"] if r["id"] == "art-10.2.f")
    assert requirement["indirect"] and requirement["basis"] == "measured and self-assessed"


def test_facts_are_yes_or_no_with_evidence(tmp_path: Path) -> None:
    (tmp_path / "ce.jpg").write_bytes(b"photo")
    controls = tmp_path / "controls.yaml"
    controls.write_text("ce-marking: {done: yes, evidence: [ce.jpg]}\ndeclaration-of-conformity: no\n"
                        "registration: {done: yes}\n", encoding="utf-8")
    catalogue = load_catalogue()
    answers = load_controls(controls, catalogue.catalogue)
    verdicts = _verdicts(assess(catalogue, ["art-47", "art-48", "art-49.1"], [], answers, {"risk_class": "high",
                                                                                           "role": "provider"}))
    assert verdicts == {"art-48": "met", "art-47.1": "not met", "art-49.1": "not assessed"}  # no file: not shown
    controls.write_text("ce-marking: 4\nai-literacy: yes\n", encoding="utf-8")
    r = run_laif("obligations", "--risk", "high", "--controls", str(controls), env={"LAIF_HOME": str(tmp_path / "h")})
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"{controls}:1: ce-marking: a fact, not a score" in r.stderr
    assert f"{controls}:2: ai-literacy: give a score from 1 to 5" in r.stderr


def test_every_verdict_says_how_much_of_the_article_it_covers() -> None:
    result = assess(load_catalogue(), ["art-9", "art-48"], [], None, {"risk_class": "high", "role": "provider"})
    art9, art48 = result["obligations"]
    assert art9["coverage"]["checked"] == 4 and art9["coverage"]["of"] == 8 and not art9["coverage"]["complete"]
    assert art9["verdict_text"].endswith("4 of 8 listed duties of the article checked")
    assert art48["coverage"]["complete"] and art48["verdict_text"] == "not assessed: 1 of 1 listed duties of the article checked"


def test_requirements_the_conditions_leave_out_are_not_assessed() -> None:
    scope = {"risk_class": "high", "role": "deployer",
             "not_applicable": {"art-26": [{"id": "art-26.7", "because": "not used at the workplace"}]}}
    art26 = assess(load_catalogue(), ["art-26"], [], None, scope)["obligations"][0]
    assert "art-26.7" not in {r["id"] for r in art26["requirements"]} and art26["not_applicable"][0]["id"] == "art-26.7"
    assert "1 not applicable" in art26["coverage"]["text"]


def test_runs_of_different_models_are_never_combined() -> None:
    runs = [_run("factual", FACTUAL_LOW, model="model-a"), _run("bias", {"categories": {}}, model="model-b")]
    with pytest.raises(BadInput, match="different models") as caught:
        assess(load_catalogue(), ["art-15"], runs, None, {"risk_class": "high", "role": "provider"})
    assert "model-a: factual-run" in str(caught.value) and "model-b: bias-run" in str(caught.value)


def test_many_cells_say_what_chance_alone_would_give() -> None:
    metric = load_catalogue().catalogue.metrics["bias-by-group-and-language"]  # at least 50%
    cells = {f"l{i}": {f"g{j}": {"score": 40.0, "low": 20.0, "high": 49.0, "decided": 20} for j in range(5)}
             for i in range(8)}
    cells["l0"]["g0"] = {"score": 10.0, "low": 3.0, "high": 30.0, "decided": 20}  # far below
    got = measure(metric, {"run_id": "r", "scores": {"by_language": cells}})["multiplicity"]
    assert got["cells"] == 40 and got["not_met"] == 40 and got["expected_by_chance"] == 1.0
    # Corrected (99.875% intervals), 8 of 20 decided is no longer surely below 50%; 2 of 20 still is.
    assert got["not_met_bonferroni"] == 1


def test_qualification_scope_carries_dates_and_left_out_requirements() -> None:
    answers = check_answers({"ai_system.infers": "yes", "ai_system.autonomy": "yes", "role": "deployer",
                             "prohibited": ["none"], "annex_i.safety_component": "no",
                             "annex_iii.uses": ["annex-iii.4.a"], "annex_iii.exception": "none",
                             "annex_iii.profiling": "no", "deployer.public_service": "no",
                             "transparency.interacts": "no", "transparency.generates": "no",
                             "transparency.emotion_or_categorisation": "no", "transparency.deep_fake": "no",
                             "gpai.model": "no"}, Path("a.yaml"))
    ids, scope = resolve_scope(qualify(answers), None, "provider")
    assert ids == ["art-4", "art-26", "art-86"] and scope["applies_from"]["art-26"] == "2026-08-02"
    assert [x["id"] for x in scope["not_applicable"]["art-26"]] == ["art-26.7", "art-26.8"]


def test_controls_template_skips_what_the_qualification_leaves_out_and_asks_facts_as_done() -> None:
    catalogue = load_catalogue().catalogue
    left_out = {"art-26": [{"id": "art-26.7", "because": "not used at the workplace"}]}
    assert "# worker-information:" in controls_template(catalogue, ["art-26"])
    assert "# worker-information:" not in controls_template(catalogue, ["art-26"], left_out)
    text = controls_template(catalogue, ["art-48"])
    assert "# ce-marking:\n#   done: no\n#   evidence: [file.pdf]" in text and "score" not in text.split("# ce-marking:")[1]
    ids = {r.id for o in catalogue.obligations for r in o.requirements}
    assert {"art-16.l", "art-18.1", "art-19.1", "art-20.1", "art-26.8", "art-26.11", "art-86.1"} <= ids
