"""The readiness assessment end to end through `laif readiness`: the three example SMEs get the
bands, findings, use cases and roadmaps a reader would expect; progress T0 -> T1; peers from ten
organisations; the questionnaire in a terminal; the report in HTML and PDF; PostgreSQL."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import termios
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from laif.readiness.bank import Answers, load_answers, load_bank
from laif.services import readiness as service
from tests.conftest import LAIF, run_laif

EXAMPLES = Path(__file__).parent.parent / "examples" / "readiness"


def assess(name: str, out: Path, *extra: str) -> dict[str, Any]:
    r = run_laif("readiness", "assess", "--answers", str(EXAMPLES / f"{name}.yaml"), "--out", str(out), "--json", *extra)
    assert r.returncode == 0, r.stderr
    result: dict[str, Any] = json.loads(r.stdout)
    return result


def finding_ids(r: dict[str, Any]) -> set[str]:
    return {f["id"] for f in r["findings"]}


def routed(r: dict[str, Any]) -> dict[str, str]:
    """service id -> stage of the roadmap."""
    return {s["id"]: stage["id"] for stage in r["roadmap"] for s in stage["services"]}


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    root = tmp_path_factory.mktemp("readiness")
    env = {"LAIF_HOME": str(root / "home")}
    results = {}
    for name in ("bakery-chain", "fintech", "logistics"):
        r = run_laif("readiness", "assess", "--answers", str(EXAMPLES / f"{name}.yaml"), "--out", str(root / name),
                     "--json", "--no-pdf", env=env)
        assert r.returncode == 0, r.stderr
        results[name] = json.loads(r.stdout) | {"_out": str(root / name)}
    return results


def test_bands_order_the_three_smes_as_a_reader_would(examples: dict[str, dict[str, Any]]) -> None:
    bakery, fintech, logistics = (examples[n]["scores"] for n in ("bakery-chain", "fintech", "logistics"))
    assert bakery["band"] == "Basic"
    assert logistics["band"] in ("Average", "Moderately advanced")
    assert fintech["band"] == "Advanced"
    assert bakery["overall"] < logistics["overall"] < fintech["overall"]
    dims = {name: {d["id"]: d["score"] for d in r["scores"]["dimensions"]} for name, r in examples.items()}
    # the logistics firm has data but no governance
    assert dims["logistics"]["data_for_ai"] >= 50 > dims["logistics"]["governance"]
    assert dims["logistics"]["data_for_ai"] > dims["bakery-chain"]["data_for_ai"]
    assert dims["fintech"]["governance"] > dims["logistics"]["governance"]


def test_findings_differ_and_name_the_answers_they_rest_on(examples: dict[str, dict[str, Any]]) -> None:
    bakery, fintech, logistics = (finding_ids(examples[n]) for n in ("bakery-chain", "fintech", "logistics"))
    assert {"ai_without_governance", "personal_data_not_pseudonymised", "compute_gap"} <= logistics
    assert "ambition_without_data" not in logistics  # it has the data
    assert {"shadow_ai", "no_ai_skills", "ai_literacy_missing"} <= bakery
    assert "ai_without_governance" not in bakery  # nothing built or bought, only staff trying tools
    assert not [f for f in examples["fintech"]["findings"] if f["severity"] == "high"]
    assert "no_ai_incident_process" in fintech  # its one gap: Art. 73 reporting
    assert "personal_data_not_pseudonymised" not in fintech
    gov = next(f for f in examples["logistics"]["findings"] if f["id"] == "ai_without_governance")
    assert {"question": "automation_ai.use", "answer": "purchased"}.items() <= gov["rests_on"][0].items()
    assert gov["rests_on"][1]["dimension"] == "governance" and gov["rests_on"][1]["score"] == 8.3


def test_use_cases_follow_the_sector_and_carry_eurostat_keys(examples: dict[str, dict[str, Any]]) -> None:
    first = {n: [u["id"] for u in r["use_cases"]] for n, r in examples.items()}
    assert "demand_forecasting" in first["bakery-chain"]
    assert {"route_optimisation", "delivery_eta"} & set(first["logistics"][:2])
    assert {"fraud_detection", "aml_screening", "credit_scoring"} <= set(first["fintech"])
    assert "credit_scoring" not in first["logistics"]
    for r in examples.values():
        for u in r["use_cases"]:
            assert u["technology_text"] and u["purpose_text"]
        feas = [u["feasibility"] for u in r["use_cases"]]
        assert feas == sorted(feas, reverse=True)


def test_roadmaps_route_to_different_services_with_reasons(examples: dict[str, dict[str, Any]]) -> None:
    bakery, fintech, logistics = (routed(examples[n]) for n in ("bakery-chain", "fintech", "logistics"))
    assert bakery["inspire"] == "discover" and bakery["training"] == "get_ready"
    assert {"regulatory_guidance", "sandbox", "ipms"} <= set(logistics)
    assert logistics["ipms"] == "build_test" and logistics["compute_prototype"] == "build_test"
    assert fintech["compute_production"] == "scale_run" and "inspire" not in fintech
    reasons = {s["id"]: s["reasons"] for stage in examples["fintech"]["roadmap"] for s in stage["services"]}
    assert [x["kind"] for x in reasons["ipms"]] == ["use case"]  # for AML screening, not for a gap
    logistics_reasons = {s["id"]: s["reasons"] for stage in examples["logistics"]["roadmap"] for s in stage["services"]}
    assert {"kind": "finding", "ref": "personal_data_not_pseudonymised"}.items() <= logistics_reasons["ipms"][0].items()
    assert bakery != logistics != fintech
    for r in examples.values():
        for stage in r["roadmap"]:
            for s in stage["services"]:
                assert s["reasons"] and all(x["text"] for x in s["reasons"]) and s["partner"]


def test_below_ten_peers_the_eurostat_rate_for_the_size_class_is_shown(examples: dict[str, dict[str, Any]]) -> None:
    peers = examples["logistics"]["peers"]
    assert peers["kind"] == "eurostat" and peers["organisations"] == 1
    assert (peers["size_class"], peers["rate"], peers["year"]) == ("medium", 20.97, 2024)
    assert "isoc_eb_ai" in peers["source"]


def test_report_html_and_pdf(tmp_path: Path, laif_home: Path) -> None:
    result = assess("logistics", tmp_path / "out")
    html = (tmp_path / "out" / "report.html").read_text()
    assert "<svg class=\"radar\"" in html and "Example Freight Lines" in html
    assert "AI in use without governance" in html and "isoc_eb_ai" in html
    for d in result["scores"]["dimensions"]:
        assert d["title"].replace("&", "&amp;") in html
    pdf = (tmp_path / "out" / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    saved = json.loads((tmp_path / "out" / "result.json").read_text())
    assert saved["id"] == result["id"] and saved["scores"] == result["scores"]


def test_progress_from_t0_to_t1_per_dimension(tmp_path: Path, laif_home: Path) -> None:
    t0 = assess("logistics", tmp_path / "t0", "--no-pdf")
    better = (EXAMPLES / "logistics.yaml").read_text().replace("governance.controls: [none]",
                                                               "governance.controls: [usage_policy, testing, literacy]")
    (tmp_path / "t1.yaml").write_text(better.replace("governance.inventory: \"no\"", "governance.inventory: classified"))
    r = run_laif("readiness", "assess", "--answers", str(tmp_path / "t1.yaml"), "--out", str(tmp_path / "t1"), "--json",
                 "--no-pdf")
    t1 = json.loads(r.stdout)
    assert (t0["label"], t1["label"]) == ("T0", "T1")
    assert t1["progress"]["previous"]["label"] == "T0"
    assert t1["progress"]["change"]["governance"] > 0 and t1["progress"]["change"]["data_for_ai"] == 0.0
    assert t1["progress"]["overall_change"] == round(t1["scores"]["overall"] - t0["scores"]["overall"], 1)
    assert "ai_without_governance" in finding_ids(t0)
    assert "Change (T0)" in (tmp_path / "t1" / "report.html").read_text()
    listed = run_laif("readiness", "history", "--org", "Example Freight Lines", "--json")
    rows = json.loads(listed.stdout)
    assert [x["label"] for x in rows] == ["T0", "T1"] and rows[1]["id"] == t1["id"]
    table = run_laif("readiness", "history", "--org", "Example Freight Lines").stdout
    assert "T0" in table and "T1" in table and f"{t1['scores']['overall']:.1f}%" in table


def _peer_answers(level: int) -> Answers:
    """Logistics answers moved `level` options up (or down) on every scored single-choice question."""
    base = load_answers(EXAMPLES / "logistics.yaml")
    values = dict(base.values)
    for q in load_bank().bank.questions:
        if q.kind == "single" and q.scored:
            keys = list(q.options)
            values[q.id] = keys[max(0, min(len(keys) - 1, keys.index(str(values[q.id])) + level))]
    return Answers(values, None, "peers")


def test_percentiles_once_a_sector_size_cell_holds_ten_organisations(laif_home: Path) -> None:
    start = datetime(2026, 1, 5, tzinfo=UTC)
    for i in range(9):
        service.assess(_peer_answers(i % 3 - 1), f"Peer {i}", taken_at=start + timedelta(hours=i))
    ninth = service.assess(_peer_answers(0), "Peer 9 first try", keep=False)
    assert ninth["peers"]["kind"] == "percentiles"  # nine stored + this one
    service.assess(_peer_answers(0), "Peer 0", taken_at=start + timedelta(days=1))  # a T1 replaces its T0
    mine = service.assess(_peer_answers(1), "Example Freight Lines")
    peers = mine["peers"]
    assert peers["kind"] == "percentiles" and peers["organisations"] == 10
    assert 50 < peers["overall_percentile"] <= 100
    for d in peers["dimensions"].values():
        assert d["p25"] <= d["p50"] <= d["p75"]
    assert "Peer" not in json.dumps(peers)  # no organisation is named
    html_band = service.write_report(mine, laif_home / "r", pdf=False)["html"].read_text()
    assert 'class="band"' in html_band


def test_questions_json_and_french(laif_home: Path) -> None:
    r = run_laif("readiness", "questions", "--json")
    listed = json.loads(r.stdout)
    assert [q["id"] for q in listed] == [q.id for q in load_bank().bank.questions]
    assert listed[0]["id"] == "profile.sector" and listed[0]["options"][0]["key"] == "manufacturing"
    fr = json.loads(run_laif("readiness", "questions", "--json", "--lang", "fr").stdout)
    assert fr[3]["text"] == "Existe-t-il un plan d'investissement numérique et IA ?"
    assert [q["id"] for q in fr] == [q["id"] for q in listed]
    plain = run_laif("readiness", "questions", "--lang", "fr").stdout
    assert "data_for_ai.rights" in plain and "Jamais envisagé" in plain


def test_a_french_report(tmp_path: Path, laif_home: Path) -> None:
    r = assess("bakery-chain", tmp_path / "fr", "--lang", "fr", "--no-pdf")
    assert r["scores"]["band_text"] == "Basique"
    assert any(f["title"] == "Le personnel utilise des outils d'IA sans politique d'usage" for f in r["findings"])
    assert "Feuille de route" in (tmp_path / "fr" / "report.html").read_text()


def _typed_answers() -> list[str]:
    """The bakery example as numbers typed at the prompts."""
    example = load_answers(EXAMPLES / "bakery-chain.yaml")
    typed = []
    for q in load_bank().bank.questions:
        keys = [k for k in q.options if not (q.kind == "multi" and k == "none")]
        given = example.get(q.id)
        if isinstance(given, list):
            typed.append(",".join(str(keys.index(k) + 1) for k in given) or "0")
        else:
            typed.append(str(keys.index(str(given)) + 1))
    return typed


def _in_a_terminal(typed: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`laif readiness assess ARGS` with a pseudo-terminal as stdin, fed `typed`."""
    master, slave = pty.openpty()
    attrs = termios.tcgetattr(slave)
    attrs[3] &= ~termios.ECHO  # what is typed is not echoed back into our reading end
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    proc = subprocess.Popen([*LAIF, "readiness", "assess", *args], stdin=slave, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    os.close(slave)
    os.write(master, typed.encode())
    stdout, stderr = proc.communicate(timeout=120)
    os.close(master)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def test_questionnaire_in_a_terminal(tmp_path: Path, laif_home: Path) -> None:
    lines = ["Typed Bakery", "99", "x", *_typed_answers()]  # two bad entries are asked again
    done = _in_a_terminal("\n".join(lines) + "\n", "--json", "--no-pdf", "--out", str(tmp_path / "o"),
                          "--save", str(tmp_path / "saved.yaml"))
    stdout, stderr = done.stdout, done.stderr
    assert done.returncode == 0, stderr
    result = json.loads(stdout[stdout.index('{\n  "schema"'):])
    assert result["organisation"] == "Typed Bakery"
    assert "type one number between 1 and 11" in stderr
    from_file = assess("bakery-chain", tmp_path / "f", "--no-pdf", "--no-keep")
    assert result["scores"] == from_file["scores"] and result["answers"] == from_file["answers"]
    saved = load_answers(tmp_path / "saved.yaml")
    assert saved.organisation == "Typed Bakery" and saved.values == result["answers"]


def test_end_of_input_in_the_questionnaire_keeps_nothing(tmp_path: Path, laif_home: Path) -> None:
    stopped = _in_a_terminal("Half Done\n1\n2\n\x04", "--no-pdf", "--out", str(tmp_path / "o"))
    assert stopped.returncode == 130 and "Traceback" not in stopped.stderr
    assert "no assessment was made or kept" in stopped.stderr
    assert service.history("Half Done") == [] and not (tmp_path / "o").exists()


def test_assessments_kept_in_postgresql(tmp_path: Path, pg_url: str) -> None:
    answers = load_answers(EXAMPLES / "fintech.yaml")
    org = f"Example Payments {tmp_path.name}"
    first = service.assess(answers, org, db_url=pg_url)
    second = service.assess(answers, org, db_url=pg_url)
    assert (first["label"], second["label"]) == ("T0", "T1")
    assert [h["id"] for h in service.history(org, pg_url)] == [first["id"], second["id"]]
    assert second["progress"]["overall_change"] == 0.0


def test_micro_enterprises_get_the_small_enterprise_rate_and_are_told_why(tmp_path: Path, laif_home: Path) -> None:
    answers = load_answers(EXAMPLES / "bakery-chain.yaml")
    micro = Answers(dict(answers.values) | {"profile.size": "micro"}, "Tiny Bakery", "test")
    result = service.assess(micro)
    peers = result["peers"]
    assert (peers["size"], peers["size_class"], peers["rate"]) == ("micro", "small", 11.21)
    assert "10 or more persons" in peers["note"]
    html = service.write_report(result, tmp_path, pdf=False)["html"].read_text()
    assert "the rate shown is that of small enterprises" in html
