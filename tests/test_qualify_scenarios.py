"""The AI Act qualification against a table of scenarios (tests/qualify_scenarios/*.yaml), each
citing the article text it rests on: risk class, roles, obligations, dates and conclusions, and
contradictory answers refused (exit 2) naming both questions.

A scenario file holds `rests_on` (the article text), `answers` (merged over BASE, a provider of
a plain AI system), an optional evaluation `date` (default 2027-09-01, after every Art. 113
date) and `expect`:
- risk_class, roles, scope (in scope or not), general_purpose_model, systemic_risk, training_compute;
- obligations (exactly these ids), includes, excludes;
- dates (obligation -> applies from), applies_now, not_yet, comes_next, not_yet_subject;
- not_applicable (obligation -> the requirement ids its conditions leave out, exactly);
- conclusions (each must be among the rationale's), open_questions (how many);
- option_text (question -> option -> words its text must keep);
- problems (words the answer problems must contain; the answers are refused).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from laif.compliance.qualify import BY_ID, check_answers, qualify
from laif.errors import BadInput
from tests.conftest import run_laif

SCENARIOS = sorted((Path(__file__).parent / "qualify_scenarios").glob("*.yaml"))
BASE: dict[str, Any] = {
    "ai_system.infers": "yes", "ai_system.autonomy": "yes", "role": "provider", "prohibited": ["none"],
    "annex_i.safety_component": "no", "annex_iii.uses": ["none"], "transparency.interacts": "no",
    "transparency.generates": "no", "transparency.emotion_or_categorisation": "no", "transparency.deep_fake": "no",
    "gpai.model": "no",
}
DEFAULT_DATE = date(2027, 9, 1)


def load(path: Path) -> dict[str, Any]:
    scenario: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert scenario["rests_on"].strip(), f"{path.name}: cite the article text the case rests on"
    assert "Art" in scenario["rests_on"] or "Annex" in scenario["rests_on"], path.name
    return scenario


def when(scenario: dict[str, Any]) -> date:
    given = scenario.get("date")
    return date.fromisoformat(str(given)) if given else DEFAULT_DATE


def _ids(items: list[dict[str, Any]]) -> set[str]:
    return {o["id"] for o in items}


def check(result: dict[str, Any], expect: dict[str, Any]) -> None:
    ids = _ids(result["obligations"])
    for key in ("risk_class", "roles", "general_purpose_model", "systemic_risk", "training_compute"):
        if key in expect:
            assert result[key] == expect[key], (key, result[key])
    if "scope" in expect:
        assert result["scope"]["in_scope"] is expect["scope"]
    if "obligations" in expect:
        assert ids == set(expect["obligations"]), sorted(ids)
    assert set(expect.get("includes", [])) <= ids, sorted(ids)
    assert not set(expect.get("excludes", [])) & ids, sorted(ids)
    dated = {o["id"]: o for o in result["obligations"]}
    for oid, start in (expect.get("dates") or {}).items():
        assert dated[oid]["applies_from"] == str(start), (oid, dated[oid])
    assert set(expect.get("applies_now", [])) <= set(result["applies_now"]), result["applies_now"]
    assert not set(expect.get("not_yet", [])) & set(result["applies_now"]), result["applies_now"]
    if "comes_next" in expect:
        assert [n["date"] for n in result["comes_next"]] == [str(d) for d in expect["comes_next"]]
    if "not_yet_subject" in expect:
        assert _ids(result["not_yet_subject"]) >= set(expect["not_yet_subject"])
        assert not _ids(result["not_yet_subject"]) & ids
        if not expect["not_yet_subject"]:
            assert result["not_yet_subject"] == []
    for oid, left_out in (expect.get("not_applicable") or {}).items():
        assert [x["id"] for x in dated[oid]["not_applicable"]] == left_out, dated[oid]["not_applicable"]
    conclusions = [r["conclusion"] for r in result["rationale"]]
    for conclusion in expect.get("conclusions", []):
        assert conclusion in conclusions, conclusions
    if "open_questions" in expect:
        assert len(result["open_questions"]) == expect["open_questions"], result["open_questions"]
    for qid, options in (expect.get("option_text") or {}).items():
        for option, words in options.items():
            assert words in BY_ID[qid].options[option], (qid, option)
    for r in result["rationale"]:
        assert r["cites"], r  # every conclusion names what it rests on
    for o in result["obligations"]:  # and every obligation says how much of its article laif checks
        assert "listed duties checked" in o["coverage"] or o["id"] == "art-5", o  # art-5 forbids; nothing to check


def test_there_are_enough_scenarios() -> None:
    assert len(SCENARIOS) >= 40


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario(path: Path) -> None:
    scenario = load(path)
    expect = scenario["expect"]
    answers = BASE | scenario["answers"]
    if "problems" in expect:
        with pytest.raises(BadInput) as caught:
            check_answers(answers, path)
        for words in expect["problems"]:
            assert words in str(caught.value), str(caught.value)
        return
    result = qualify(check_answers(answers, path), when(scenario))
    assert result["evaluation_date"] == when(scenario).isoformat()
    check(result, expect)


@pytest.mark.parametrize("name", ["002-art27-annex-i-only-when-annex-iii-cleared", "058-dates-placed-before-2026-unchanged",
                                  "065-art50-emotion-recognition-needs-annex-iii"])
def test_scenario_through_the_cli(tmp_path: Path, name: str) -> None:
    """The same answers as a user's answers file: `laif qualify --answers --date --json`, or exit 2
    naming the file, both questions and their lines."""
    path = next(p for p in SCENARIOS if p.stem == name)
    scenario = load(path)
    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump(BASE | scenario["answers"], sort_keys=False), encoding="utf-8")
    r = run_laif("qualify", "--answers", str(answers), "--date", when(scenario).isoformat(), "--json")
    assert "Traceback" not in r.stderr
    if "problems" in scenario["expect"]:
        assert r.returncode == 2 and f"{answers}:" in r.stderr
        for words in scenario["expect"]["problems"]:
            assert words in r.stderr, r.stderr
        return
    assert r.returncode == 0, r.stderr
    check(json.loads(r.stdout), scenario["expect"])
