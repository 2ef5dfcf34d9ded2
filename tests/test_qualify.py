"""AI Act qualification: the questions' ids, each route through Articles 3, 5, 6, 27, 50 and
51-55, clear errors for bad answers, and the questionnaire in a terminal."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from laif.compliance.qualify import QUESTIONS, check_answers, qualify
from laif.errors import BadInput
from tests.conftest import LAIF, run_laif

BASE: dict[str, Any] = {
    "ai_system.infers": "yes", "ai_system.autonomy": "yes", "role": "provider", "prohibited": ["none"],
    "annex_i.safety_component": "no", "annex_iii.uses": ["none"], "transparency.interacts": "no",
    "transparency.generates": "no", "transparency.emotion_or_categorisation": "no", "transparency.deep_fake": "no",
    "gpai.model": "no",
}


def result(**changes: Any) -> dict[str, Any]:
    return qualify(check_answers(BASE | changes, Path("answers.yaml")))


def ids(r: dict[str, Any]) -> list[str]:
    return [o["id"] for o in r["obligations"]]


FIRST_IDS = ["ai_system.infers", "ai_system.autonomy", "role", "prohibited", "annex_i.safety_component",
             "annex_iii.uses", "annex_iii.exception", "annex_iii.profiling", "transparency.interacts",
             "transparency.generates", "transparency.emotion_or_categorisation", "transparency.deep_fake",
             "gpai.model", "gpai.training_flops", "gpai.designated", "deployer.public_service"]


def test_question_ids_are_stable() -> None:
    # The first version's ids are all still there, in their order; ids added since carry a default,
    # so an answers file written for the first version still qualifies.
    ids = [q.id for q in QUESTIONS]
    assert [i for i in ids if i in FIRST_IDS] == FIRST_IDS
    assert all(q.default is not None for q in QUESTIONS if q.id not in FIRST_IDS)
    r = run_laif("qualify", "questions", "--json")
    assert r.returncode == 0 and [q["id"] for q in json.loads(r.stdout)] == ids


def test_banking_chatbot_that_talks_to_customers_has_limited_risk() -> None:
    r = result(**{"transparency.interacts": "yes", "transparency.generates": "yes"})
    assert r["risk_class"] == "limited" and ids(r) == ["art-4", "art-50.1", "art-50.2"]


def test_credit_scoring_is_high_risk_for_provider_and_deployer() -> None:
    uses = {"annex_iii.uses": ["annex-iii.5.b"], "annex_iii.exception": "none", "annex_iii.profiling": "yes",
            "deployer.public_service": "no"}
    provider = result(**uses)
    assert provider["risk_class"] == "high"
    assert {"art-9", "art-10", "art-11", "art-14", "art-15", "art-17", "art-43", "art-72"} <= set(ids(provider))
    assert any("annex-iii.5.b" in r["cites"] for r in provider["rationale"])
    deployer = result(role="deployer", **uses)
    # credit scoring needs a rights impact assessment (Art. 27(1)); its decisions must be explained (Art. 86)
    assert ids(deployer) == ["art-4", "art-26", "art-27", "art-86"]


def test_article_6_3_exception_only_without_profiling() -> None:
    narrow = {"annex_iii.uses": ["annex-iii.4.a"], "annex_iii.exception": "art-6.3.a", "deployer.public_service": "no"}
    assert result(**narrow, **{"annex_iii.profiling": "no"})["risk_class"] == "minimal"
    # documented and registered all the same (Art. 6(4), Art. 49(2))
    assert {"art-6.4", "art-49.2"} <= set(ids(result(**narrow, **{"annex_iii.profiling": "no"})))
    assert result(**narrow, **{"annex_iii.profiling": "yes"})["risk_class"] == "high"


def test_prohibited_practices_and_non_ai_systems() -> None:
    r = result(prohibited=["art-5.1.c"])
    assert r["risk_class"] == "prohibited" and "art-5" in ids(r)
    assert any(c["cites"] == ["art-5.1.c"] for c in r["rationale"])
    r = result(**{"ai_system.autonomy": "no"})
    assert r["risk_class"] == "not an AI system" and r["obligations"] == []


def test_general_purpose_models_and_systemic_risk() -> None:
    small = result(**{"gpai.model": "yes", "gpai.training_flops": 3e23, "gpai.designated": "no"})
    assert small["general_purpose_model"] and not small["systemic_risk"] and "art-53" in ids(small)
    big = result(**{"gpai.model": "yes", "gpai.training_flops": "2e25", "gpai.designated": "no"})
    assert big["systemic_risk"] and {"art-53", "art-55"} <= set(ids(big))
    designated = result(**{"gpai.model": "yes", "gpai.training_flops": 0, "gpai.designated": "yes"})
    assert designated["systemic_risk"]
    unknown = result(**{"gpai.model": "yes", "gpai.training_flops": "unknown", "gpai.designated": "no"})
    assert not unknown["systemic_risk"] and unknown["training_compute"] == "unknown" and unknown["open_questions"]


def test_bad_answers_name_file_line_and_question(tmp_path: Path) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump(BASE | {"role": "owner", "annex_iii.uses": ["annex-iii.9"], "colour": "blue"},
                                   sort_keys=False), encoding="utf-8")
    r = run_laif("qualify", "--answers", str(path), "--json")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"{path}:" in r.stderr and "unknown question id 'colour'" in r.stderr
    assert "role: 'owner' is not one of provider" in r.stderr and "annex-iii.9" in r.stderr
    with pytest.raises(BadInput, match="gpai.training_flops: missing"):
        check_answers(BASE | {"gpai.model": "yes", "gpai.designated": "no"}, path)


def test_questionnaire_in_a_terminal(tmp_path: Path) -> None:
    # Every question asked, in order: Enter takes a question's default.
    typed_for = {"ai_system.infers": "y", "ai_system.autonomy": "y", "role": "2", "prohibited": "0",
                 "annex_i.safety_component": "n", "annex_iii.uses": "0", "transparency.interacts": "y",
                 "transparency.generates": "n", "transparency.emotion_or_categorisation": "n",
                 "transparency.deep_fake": "n", "gpai.model": "n"}
    asked = [q.id for q in QUESTIONS if q.id in typed_for or (q.default is not None and q.ask_if is None
                                                               and (not q.roles or "deployer" in q.roles))]
    typed = "".join(typed_for.get(qid, "") + "\n" for qid in asked)
    done = subprocess.run([*LAIF, "qualify", "--json", "--save", str(tmp_path / "a.yaml")], input=typed,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    r = json.loads(done.stdout[done.stdout.index("{\n"):])
    assert r["role"] == "deployer" and r["risk_class"] == "limited"
    assert ids(r) == ["art-4"]  # talking to people is the provider's duty to disclose (Art. 50(1))
    saved = yaml.safe_load((tmp_path / "a.yaml").read_text(encoding="utf-8"))
    assert saved["transparency.interacts"] == "yes"
    assert run_laif("qualify", "--answers", str(tmp_path / "a.yaml"), "--json").returncode == 0


def test_older_answers_files_still_qualify_and_say_what_was_assumed(tmp_path: Path) -> None:
    r = result(**{"transparency.interacts": "yes"})
    assert r["assumed"]["scope.union"] == "market" and r["assumed"]["market.placed_on"] == "not yet"
    assert "role" not in r["assumed"]  # answered, not assumed
    assert r["scope"] == {"in_scope": True, "because": r["scope"]["because"], "cites": ["art-2.1"]}


def test_evaluation_date_in_the_json_and_a_bad_date_refused(tmp_path: Path) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text(yaml.safe_dump(BASE | {"transparency.interacts": "yes"}), encoding="utf-8")
    r = run_laif("qualify", "--answers", str(path), "--date", "2026-01-10", "--json")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["evaluation_date"] == "2026-01-10" and got["applies_now"] == ["art-4"]
    assert got["comes_next"] == [{"date": "2026-08-02", "obligations": ["art-50.1"]}]
    r = run_laif("qualify", "--answers", str(path), "--date", "10/01/2026")
    assert r.returncode == 2 and "--date" in r.stderr and "Traceback" not in r.stderr
