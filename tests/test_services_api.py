"""The service layer called the way a script or the web portal calls it, on real SQLite files: each
result equals what the command line gives for the same input (the same qualification JSON, the same
obligations verdicts, the same catalogue hits and export, the same pseudonymised bytes, the same
readiness scores, the same monitoring status). No model is needed."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from laif.errors import BadInput
from laif.services import aiact, datasets, monitoring, pseudonymise
from laif.services import readiness as readiness_service
from tests.conftest import run_laif

ON = "2026-09-01"
ANSWERS: dict[str, Any] = {
    "ai_system.infers": "yes", "ai_system.autonomy": "yes", "role": "provider", "prohibited": ["none"],
    "annex_i.safety_component": "no", "annex_iii.uses": ["annex-iii.5.b"], "annex_iii.exception": "none",
    "annex_iii.profiling": "yes", "transparency.interacts": "yes", "transparency.generates": "no",
    "transparency.emotion_or_categorisation": "no", "transparency.deep_fake": "no", "gpai.model": "no",
}
SECRET = "a master secret of the holder, 32+ bytes long"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "readiness"


def _json(*args: str, env: dict[str, str] | None = None) -> Any:
    r = run_laif(*args, env=env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


# --- the AI Act ---------------------------------------------------------------------------------


def test_qualification_and_obligations_equal_the_cli(tmp_path: Path, laif_home: Path) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump(ANSWERS), encoding="utf-8")
    on = date.fromisoformat(ON)
    result = aiact.qualify_file(answers, on)
    assert result == _json("qualify", "--answers", str(answers), "--date", ON, "--json")
    assert result["risk_class"] == "high"
    # A form posts a mapping: the same checks, the same result.
    assert aiact.qualify(aiact.check_answers(ANSWERS, "portal"), on) == result
    assert aiact.questions() == _json("qualify", "questions", "--json")
    assert aiact.applies("annex_iii.exception", {"annex_iii.uses": ["annex-iii.5.b"]})
    assert not aiact.applies("annex_iii.exception", {"annex_iii.uses": ["none"]})

    controls = tmp_path / "controls.yaml"
    controls.write_text("ai-literacy: {score: 4}\n", encoding="utf-8")
    db = _url(tmp_path / "laif.db")
    found = aiact.assess_obligations(qualification_file=answers, controls_file=controls, db=db, on=on)
    assert found.result == _json("obligations", "--qualification", str(answers), "--controls", str(controls),
                                 "--db", db, "--date", ON, "--json")
    assert found.qualification == result and found.runs == [] and found.controls is not None
    by_risk = aiact.assess_obligations(risk="limited", db=db).result
    assert by_risk == _json("obligations", "--risk", "limited", "--db", db, "--json")
    assert aiact.controls(risk="high") == _json("obligations", "controls", "--risk", "high", "--json")
    r = run_laif("obligations", "catalogue")
    assert r.returncode == 0 and aiact.catalogue_text() == r.stdout

    template = aiact.write_controls_template(tmp_path / "mine.yaml", qualification_file=answers)
    r = run_laif("obligations", "controls", "--qualification", str(answers), "--template", str(tmp_path / "cli.yaml"))
    assert r.returncode == 0 and template.read_bytes() == (tmp_path / "cli.yaml").read_bytes()


def test_aiact_bad_input_is_raised_not_printed(tmp_path: Path, laif_home: Path) -> None:
    with pytest.raises(BadInput, match=r"portal:1: annex_iii.uses"):
        aiact.check_answers(ANSWERS | {"annex_iii.uses": ["annex-iii.99"]}, "portal")
    with pytest.raises(BadInput, match="unknown question id 'no.such'"):
        aiact.applies("no.such", {})
    with pytest.raises(BadInput, match="say what applies"):
        aiact.assess_obligations(db=_url(tmp_path / "laif.db"))
    with pytest.raises(BadInput, match="no run 'nope'|nope"):
        aiact.assess_obligations(["nope"], risk="high", db=_url(tmp_path / "laif.db"))
    kept = tmp_path / "kept.yaml"
    kept.write_text("ai-literacy: {score: 5}\n", encoding="utf-8")
    with pytest.raises(BadInput, match="already exists"):
        aiact.write_controls_template(kept, risk="high")
    assert kept.read_text(encoding="utf-8") == "ai-literacy: {score: 5}\n"


# --- the datasets catalogue ---------------------------------------------------------------------


def _entry(folder: Path, identifier: str, **changes: Any) -> Path:
    data: dict[str, Any] = {
        "identifier": identifier, "title": "Hospital stays by diagnosis",
        "description": "Anonymised counts of hospital stays by diagnosis group and region.",
        "publisher": "Santé Observatory", "contact": {"name": "Data desk", "email": "desk@sante.example.lu"},
        "licence": "CC_BY_4_0", "access_rights": "restricted", "themes": ["HEAL"],
        "keywords": ["hospital", "diagnosis"], "languages": ["en", "fr"],
        "temporal": {"start": "2020-01-01", "end": "2022-12-31"},
        "profile": {"format": "csv", "rows": 10, "columns": [], "personal_data": []},
    } | changes
    path = folder / f"{identifier}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_datasets_publish_search_request_and_export_equal_the_cli(tmp_path: Path, laif_home: Path) -> None:
    db = _url(tmp_path / "catalogue.db")
    first = datasets.publish(_entry(tmp_path, "hospital-stays"), "alice", db=db)
    assert first.new and first.identifier == "hospital-stays" and first.report["conforms"]
    r = run_laif("catalogue", "publish", str(_entry(tmp_path, "commuter-flows", title="Commuter flows by canton",
                                                       themes=["TRAN"], keywords=["mobility", "commuters"],
                                                       access_rights="public")),
                 "--as", "bob", "--db", db)
    assert r.returncode == 0, r.stderr

    for query, filters, options in [("hosp", {}, []), ("", {"theme": "TRAN"}, ["--theme", "TRAN"]),
                                    ("diagnosis santé", {"access": "restricted"}, ["--access", "restricted"])]:
        hits = datasets.search(query, db=db, **filters)
        assert [h.__dict__ for h in hits] == _json("catalogue", "search", query, *options, "--json", "--db", db)
    assert [h.identifier for h in datasets.search("", db=db)] == ["commuter-flows", "hospital-stays"]
    assert datasets.show("commuter-flows", db) == _json("catalogue", "show", "commuter-flows", "--db", db)

    request_id = datasets.request_access("hospital-stays", "carol", "A study of stays by region, for planning.", db)
    r = run_laif("catalogue", "ask", request_id, "-m", "Which regions?", "--as", "alice", "--db", db)
    assert r.returncode == 0 and f"{request_id}: more-info" in r.stdout
    assert datasets.act(request_id, "carol", "reply", "All of them.", db) == "pending"
    assert datasets.requests(db=db) == _json("catalogue", "requests", "--json", "--db", db)
    assert datasets.requests(who="bob", db=db) == []

    exported = datasets.export(tmp_path / "service.ttl", db=db)
    assert exported.datasets == 2 and exported.report["conforms"]
    r = run_laif("catalogue", "export", "--out", str(tmp_path / "cli.ttl"), "--db", db)
    assert r.returncode == 0 and (tmp_path / "service.ttl").read_bytes() == (tmp_path / "cli.ttl").read_bytes()
    assert datasets.validate(tmp_path / "cli.ttl") == _json("catalogue", "validate", str(tmp_path / "cli.ttl"), "--json")

    other = _url(tmp_path / "other.db")
    harvested = datasets.harvest(str(tmp_path / "cli.ttl"), other)
    assert (harvested.added, harvested.updated, harvested.skipped) == (2, 0, [])
    assert [h.identifier for h in datasets.search("", db=other)] == ["commuter-flows", "hospital-stays"]


def test_datasets_refusals_name_the_problem(tmp_path: Path, laif_home: Path) -> None:
    db = _url(tmp_path / "catalogue.db")
    datasets.publish(_entry(tmp_path, "hospital-stays"), "alice", db=db)
    with pytest.raises(BadInput, match="already in the catalogue"):
        datasets.publish(_entry(tmp_path, "hospital-stays"), "alice", db=db)
    with pytest.raises(BadInput, match="only they can replace it"):
        datasets.publish(_entry(tmp_path, "hospital-stays"), "mallory", replace=True, db=db)
    with pytest.raises(BadInput, match="only the holder"):
        datasets.act(datasets.request_access("hospital-stays", "carol", "For a study of stays.", db), "carol",
                     "approve", db=db)
    with pytest.raises(BadInput, match="unknown action 'grant'"):
        datasets.act("req-0", "alice", "grant", db=db)
    with pytest.raises(BadInput, match="use a .ttl or .jsonld"):
        datasets.export(tmp_path / "catalogue.xml", db=db)
    with pytest.raises(BadInput, match="no such file"):
        datasets.harvest(str(tmp_path / "nothing.ttl"), db)
    assert not (tmp_path / "catalogue.xml").exists()


# --- the pseudonymiser --------------------------------------------------------------------------


def _register(path: Path) -> Path:
    path.write_text("record_id;first_name;last_name;birth_date;matricule;postcode;diagnosis\n"
                    "A-1;Anne;Weber;1980-03-07;1980 0307 123-45;L-1234;flu\n"
                    "A-2;Léa;Muller;07.03.1991;19910307456;L-1234;asthma\n"
                    "A-3;Jos;Schmit;1975-12-01;19751201789;L-4321;flu\n"
                    "A-4;Marie;Hoffmann;1988-06-30;19880630111;L-4321;flu\n", encoding="utf-8")
    return path


def test_pseudonymised_bytes_equal_the_cli_and_the_key_stays_hidden(tmp_path: Path, laif_home: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAIF_IPMS_SECRET", SECRET)
    source = _register(tmp_path / "register.csv")
    (tmp_path / "svc").mkdir()
    (tmp_path / "cli").mkdir()
    done = pseudonymise.pseudonymise_file(source, tmp_path / "svc" / "out.csv",
                                          "record_id:id,first_name,last_name,birth_date:date,matricule:id",
                                          domain="study-42")
    r = run_laif("ipms", "pseudonymise", str(source), "--columns",
                 "record_id:id,first_name,last_name,birth_date:date,matricule:id", "--domain", "study-42",
                 "--out", str(tmp_path / "cli" / "out.csv"))
    assert r.returncode == 0, r.stderr
    assert done.output.read_bytes() == (tmp_path / "cli" / "out.csv").read_bytes()
    assert done.manifest_path.read_bytes() == (tmp_path / "cli" / "out.csv.ipms.json").read_bytes()
    assert (done.rows, done.values) == (4, 20) and f"key check {done.key_check}" in r.stderr
    # A mapping of columns gives the same file; nothing the service hands back holds the secret.
    again = pseudonymise.pseudonymise_file(source, tmp_path / "svc" / "again.csv",
                                           {"record_id": "id", "first_name": "text", "last_name": "text",
                                            "birth_date": "date", "matricule": "id"},
                                           domain="study-42", like=done.manifest_path)
    assert again.output.read_bytes() == done.output.read_bytes()
    for shown in (repr(done), repr(again), json.dumps(done.manifest)):
        assert SECRET not in shown and SECRET.encode().hex() not in shown

    assert pseudonymise.detect_file(source) == _json("ipms", "detect", str(source), "--json")
    assert pseudonymise.detect_text("write to anne@example.lu") == _json("ipms", "detect", "--text",
                                                                          "write to anne@example.lu", "--json")
    checked = pseudonymise.check_anonymity(source, ["postcode"], ["diagnosis"], k=2)
    assert checked == _json("ipms", "check", str(source), "--quasi", "postcode", "--sensitive", "diagnosis",
                            "--k", "2", "--json")
    assert checked["missed"] == []

    encoded = pseudonymise.encode_file(source, tmp_path / "svc" / "a.enc", "record_id", ["first_name", "last_name"],
                                       "birth_date", "study-42")
    r = run_laif("ipms", "encode", str(source), "--id", "record_id", "--names", "first_name,last_name",
                 "--birth", "birth_date", "--domain", "study-42", "--out", str(tmp_path / "cli" / "a.enc"))
    assert r.returncode == 0 and encoded.output.read_bytes() == (tmp_path / "cli" / "a.enc").read_bytes()
    assert SECRET not in repr(encoded)
    linked = pseudonymise.link_files(encoded.output, tmp_path / "cli" / "a.enc", tmp_path / "svc" / "pairs.csv")
    r = run_laif("ipms", "link", str(encoded.output), str(tmp_path / "cli" / "a.enc"), "--out",
                 str(tmp_path / "cli" / "pairs.csv"))
    assert r.returncode == 0 and linked.output.read_bytes() == (tmp_path / "cli" / "pairs.csv").read_bytes()
    assert len(linked.linkage.pairs) == 4 and linked.how == "bloom"


def test_pseudonymiser_refusals(tmp_path: Path, laif_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _register(tmp_path / "register.csv")
    monkeypatch.delenv("LAIF_IPMS_SECRET", raising=False)
    with pytest.raises(BadInput, match="--key-env LAIF_IPMS_SECRET: the variable is not set"):
        pseudonymise.pseudonymise_file(source, tmp_path / "out.csv", "last_name", domain="study-42")
    monkeypatch.setenv("LAIF_IPMS_SECRET", SECRET)
    with pytest.raises(BadInput, match="would overwrite the input"):
        pseudonymise.pseudonymise_file(source, source, "last_name", domain="study-42")
    with pytest.raises(BadInput, match="unknown kind 'name'"):
        pseudonymise.pseudonymise_file(source, tmp_path / "out.csv", {"last_name": "name"}, domain="study-42")
    with pytest.raises(BadInput, match="no column"):
        pseudonymise.pseudonymise_file(source, tmp_path / "out.csv", "surname", domain="study-42")
    with pytest.raises(BadInput, match="--id goes with --on"):
        pseudonymise.link_files(source, source, tmp_path / "pairs.csv", id_column="record_id")
    with pytest.raises(BadInput, match="--quasi"):
        pseudonymise.check_anonymity(source, [])
    assert not (tmp_path / "out.csv").exists()


# --- readiness ----------------------------------------------------------------------------------


def test_readiness_equals_the_cli(tmp_path: Path, laif_home: Path) -> None:
    answers = EXAMPLES / "fintech.yaml"
    db = _url(tmp_path / "readiness.db")
    result = readiness_service.assess(readiness_service.load_answers(answers), db_url=db, keep=False)
    cli = _json("readiness", "assess", "--answers", str(answers), "--json", "--no-keep", "--no-pdf",
                "--out", str(tmp_path / "out"), "--db", db)
    varying = ("id", "taken_at")
    assert {k: v for k, v in result.items() if k not in varying} == {k: v for k, v in cli.items() if k not in varying}
    assert readiness_service.history(result["organisation"], db) == []
    assert readiness_service.questions("fr") == _json("readiness", "questions", "--json", "--lang", "fr")


# --- monitoring ---------------------------------------------------------------------------------


def _calls(path: Path, count: int) -> Path:
    lines = []
    for i in range(count):
        drifted = i >= count - 20  # the last window answers at length, slowly
        lines.append(json.dumps({
            "time": f"2026-11-23T08:{i // 60:02d}:{i % 60:02d}Z", "prompt": "How do I block my bank card?",
            "answer": ("You can block it in the app, under Cards. " * (6 if drifted else 1)).strip(),
            "latency_s": (3.0 if drifted else 0.5) + (i % 7) / 100, "input_tokens": 40,
            "output_tokens": (120 if drifted else 20) + i % 5, "user_id": f"customer-{i}", "model": "bot-1"}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_monitoring_and_incidents_equal_the_cli(tmp_path: Path, laif_home: Path) -> None:
    spec_file = tmp_path / "monitor.yaml"
    spec_file.write_text("name: bot\nwindow: {by: count, size: '20'}\nreference: {windows: 3}\nmin_window: 10\n",
                         encoding="utf-8")
    log = _calls(tmp_path / "calls.jsonl", 100)
    svc, cli = _url(tmp_path / "service.db"), _url(tmp_path / "cli.db")
    store = monitoring.open_store(svc)
    spec = monitoring.resolve_spec(spec_file, None, store)
    intake = monitoring.ingest_file(log, spec, db=store)
    assert (intake.lines, intake.calls, len(intake.windows)) == (100, 100, 5)
    judged = monitoring.judge(spec.name, store)
    assert judged.changes and judged.evaluation.windows[-1].state == "alert"
    status = monitoring.status_of(judged.evaluation, store)
    r = run_laif("monitor", "ingest", str(log), "--spec", str(spec_file), "--db", cli)
    assert r.returncode == 0, r.stderr
    cli_status = _json("monitor", "status", "--json", "--db", cli)

    def unstamped(data: dict[str, Any]) -> dict[str, Any]:
        return data | {"history": [{k: v for k, v in h.items() if k != "noticed_at"} for h in data["history"]]}

    assert unstamped(status) == unstamped(cli_status)
    assert monitoring.stream_name(None, store) == "bot" and monitoring.resolve_spec(None, "bot", svc) == spec
    assert monitoring.metrics(store) == run_laif("monitor", "metrics", "--db", cli).stdout
    assert "<html" in monitoring.write_report(judged.evaluation, tmp_path / "report.html", store).read_text()

    opened = monitoring.open_incident(title="Wrong card blocked", category="fundamental_rights",
                                      occurred=datetime.fromisoformat("2026-11-23T08:30:00+00:00"),
                                      aware=datetime.fromisoformat("2026-11-23T10:00:00+00:00"),
                                      stream="bot", db=store)
    cli_opened = _json("incidents", "open", "--title", "Wrong card blocked", "--category", "fundamental_rights",
                       "--occurred", "2026-11-23T08:30:00+00:00", "--aware", "2026-11-23T10:00:00+00:00",
                       "--stream", "bot", "--json", "--db", cli)

    def timeless(info: dict[str, Any]) -> dict[str, Any]:
        return info | {"deadline": {k: v for k, v in info["deadline"].items() if k != "hours_left"},
                       "versions": [{k: v for k, v in x.items() if k != "at"} for x in info["versions"]]}

    assert timeless(opened) == timeless(cli_opened)
    assert monitoring.update_incident(opened["id"], root_cause="a stale card index", db=store) == 2
    assert monitoring.describe_incident(opened["id"], store)["root_cause"] == "a stale card index"
    assert [i["id"] for i in monitoring.list_incidents(store)] == [opened["id"]]
    report = monitoring.incident_report(opened["id"], tmp_path / "incident", store)
    assert report.html.is_file() and report.bundle.is_file() and len(report.signer) == 64
    r = run_laif("evidence", "verify", str(report.bundle))
    assert r.returncode == 0, r.stderr


def test_monitoring_refusals(tmp_path: Path, laif_home: Path) -> None:
    db = _url(tmp_path / "m.db")
    with pytest.raises(BadInput, match="give --spec FILE or --stream NAME"):
        monitoring.resolve_spec(None, None, db)
    with pytest.raises(BadInput, match="none is monitored yet"):
        monitoring.stream_name(None, db)
    with pytest.raises(BadInput, match="use 1-64 letters"):
        monitoring.resolve_spec(None, "no good", db)
    (tmp_path / "monitor.yaml").write_text("x", encoding="utf-8")
    with pytest.raises(BadInput, match="exists already"):
        monitoring.write_example_spec(tmp_path / "monitor.yaml")
    with pytest.raises(BadInput, match="no incident|INC-0009"):
        monitoring.describe_incident("INC-0009", db)
