"""The portal's AI Act pages: the questionnaire of `laif qualify` as a form (same ids, same answers
file, the same result), obligations with their verdicts, controls answered with evidence files,
and signed evidence bundles built, downloaded and verified; a tampered bundle fails naming its
file. Attacks: a script in an answer, paths in downloads, an upload over the limit, another
organisation's ids on every route, by page and by API."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.routing import APIRoute
from sqlalchemy import func, select

from laif.portal import aiact_pages
from laif.portal.aiact_tables import AiBundle, AiControlAnswer, AiEvidenceFile, AiSystem
from laif.portal.app import create_app
from laif.portal.core import Portal
from laif.portal.jobs import run_db
from laif.portal.settings import PortalSettings
from laif.portal.tables import AuditEntry
from laif.services import aiact
from tests.conftest import run_laif

from .portal_kit import SECRET, Seeded, Visitor, seed_people

LIMIT = 1024 * 1024
#: A banking helpdesk chatbot: limited risk, with transparency duties (as tests/test_evidence.py).
BANKING = {
    "ai_system.infers": "yes", "ai_system.autonomy": "yes", "role": "provider", "prohibited": ["none"],
    "annex_i.safety_component": "no", "annex_iii.uses": ["none"], "transparency.interacts": "yes",
    "transparency.generates": "yes", "transparency.emotion_or_categorisation": "no", "transparency.deep_fake": "no",
    "gpai.model": "no",
}
BANNER = b"\x89PNG a screenshot of the chatbot's disclosure banner"
SECRET_TEXT = "BETA-CONFIDENTIAL-SYSTEM"


@pytest.fixture()
def seeded(tmp_path: Path, laif_home: Path) -> Seeded:
    settings = PortalSettings(db_url=f"sqlite:///{tmp_path / 'portal.db'}", secret_key=SECRET,
                              max_upload_bytes=LIMIT, data_dir=tmp_path / "files")
    portal = Portal(settings)
    return Seeded(portal, create_app(settings, portal), seed_people(portal))


def _form(answers: dict[str, Any]) -> dict[str, list[str]]:
    """The answers as a browser sends the form: one field per radio, one per ticked box."""
    return {qid: [str(v) for v in value] if isinstance(value, list) else [str(value)] for qid, value in answers.items()}


def _post_form(visitor: Visitor, path: str, fields: dict[str, list[str]], **kwargs: Any) -> Any:
    return visitor.client.post(path, data={**fields, "csrf_token": [visitor.token]}, follow_redirects=False, **kwargs)


def _system(seeded: Seeded, visitor: Visitor, name: str = "Helpdesk chatbot") -> int:
    visitor.get("/aiact")
    created = visitor.post("/aiact/systems", {"name": name})
    assert created.status_code == 303, created.text
    system_id = int(created.headers["location"].split("/")[3])
    visitor.get(created.headers["location"])
    return system_id


def _qualified(seeded: Seeded, visitor: Visitor, answers: dict[str, Any] = BANKING, name: str = "Helpdesk chatbot") -> int:
    system_id = _system(seeded, visitor, name)
    sent = _post_form(visitor, f"/aiact/systems/{system_id}/qualify", _form(answers))
    assert sent.status_code == 303, sent.text
    visitor.get(f"/aiact/systems/{system_id}")
    return system_id


def _stored(seeded: Seeded, system_id: int) -> AiSystem:
    with seeded.portal.session() as s:
        row = s.get(AiSystem, system_id)
        assert row is not None
        return row


def _answer_control(visitor: Visitor, system_id: int, control: str, fields: dict[str, str],
                    file: tuple[str, bytes] | None = None) -> Any:
    visitor.get(f"/aiact/systems/{system_id}/controls")
    return visitor.post(f"/aiact/systems/{system_id}/controls/{control}", fields,
                        files={"file": file} if file else None)


def _build(visitor: Visitor, system_id: int, runs: list[str] | None = None) -> int:
    visitor.get(f"/aiact/systems/{system_id}")
    built = _post_form(visitor, f"/aiact/systems/{system_id}/bundles", {"run": runs or []})
    assert built.status_code == 303, built.text
    page = visitor.get(f"/aiact/systems/{system_id}").text
    return int(re.findall(r'href="/aiact/bundles/(\d+)/download"', page)[0])


def _tampered(bundle: bytes, name: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(bundle)) as zin, zipfile.ZipFile(out, "w") as zout:
        for member in zin.namelist():
            zout.writestr(member, data if member == name else zin.read(member))
    return out.getvalue()


# --- the questionnaire --------------------------------------------------------------------------


def test_the_form_qualifies_as_laif_qualify_and_its_answers_file_is_the_same(seeded: Seeded, tmp_path: Path) -> None:
    owner = seeded.visitor("owner@acme.lu")
    system_id = _qualified(seeded, owner)
    row = _stored(seeded, system_id)
    expected = aiact.qualify(aiact.check_answers(BANKING))
    assert row.result == expected and row.risk_class == "limited"
    page = owner.get(f"/aiact/systems/{system_id}").text
    assert "risk class: limited" in page and "art-50.1" in page

    download = owner.client.get(f"/aiact/systems/{system_id}/answers.yaml")
    assert download.status_code == 200
    assert download.headers["content-disposition"] == "attachment; filename*=UTF-8''helpdesk-chatbot-answers.yaml"
    # In the questionnaire's order, as laif qualify --save writes it.
    ordered = {q["id"]: BANKING[q["id"]] for q in aiact.questions() if q["id"] in BANKING}
    assert download.text == yaml.safe_dump(ordered, sort_keys=False)
    answers = tmp_path / "answers.yaml"
    answers.write_bytes(download.content)
    cli = run_laif("qualify", "--answers", str(answers), "--json")
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout) == row.result


def test_questions_that_do_not_apply_are_not_asked_and_not_kept(seeded: Seeded) -> None:
    owner = seeded.visitor("owner@acme.lu")
    system_id = _system(seeded, owner)
    page = owner.get(f"/aiact/systems/{system_id}/qualify").text
    assert 'name="annex_iii.uses"' in page and 'name="annex_iii.exception"' not in page
    assert 'name="scope.union" value="market" checked' in page  # defaults are preselected, as in the terminal
    # HTMX asks for the questions again when an answer changes: the exception now applies.
    with_use = {**BANKING, "annex_iii.uses": ["annex-iii.4.a"]}
    fragment = _post_form(owner, f"/aiact/systems/{system_id}/qualify/form", _form(with_use),
                          headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and fragment.text.lstrip().startswith('<div id="questions">')
    assert 'name="annex_iii.exception"' in fragment.text and "<html" not in fragment.text
    # An answer to a question that does not apply is dropped, as laif qualify never asks it.
    sent = _post_form(owner, f"/aiact/systems/{system_id}/qualify",
                      _form({**BANKING, "annex_iii.exception": "art-6.3.a", "gpai.training_flops": "1e20"}))
    assert sent.status_code == 303, sent.text
    kept = _stored(seeded, system_id).answers
    assert "annex_iii.exception" not in kept and "gpai.training_flops" not in kept


def test_wrong_answers_are_named_per_question_and_nothing_is_kept(seeded: Seeded) -> None:
    owner = seeded.visitor("owner@acme.lu")
    system_id = _system(seeded, owner)
    answers = {k: v for k, v in BANKING.items() if k != "role"} | {"gpai.model": "yes", "gpai.training_flops": "lots"}
    sent = _post_form(owner, f"/aiact/systems/{system_id}/qualify", _form(answers))
    assert sent.status_code == 400
    assert "role: missing" in sent.text and "gpai.training_flops: not a number: &#39;lots&#39;" in sent.text
    assert 'id="q-role-error"' in sent.text
    assert 'value="lots"' in sent.text  # what was typed stays in the form
    assert _stored(seeded, system_id).result is None


def test_an_uploaded_answers_file_fills_in_the_form(seeded: Seeded) -> None:
    owner = seeded.visitor("owner@acme.lu")
    system_id = _system(seeded, owner)
    text = yaml.safe_dump({**BANKING, "role": "deployer"}, sort_keys=False).encode()
    page = owner.post(f"/aiact/systems/{system_id}/answers", {}, files={"file": ("../../chatbot.yaml", text)})
    assert page.status_code == 200
    assert "filled in from chatbot.yaml" in page.text
    assert 'name="role" value="deployer" checked' in page.text
    assert _stored(seeded, system_id).result is None  # nothing is kept until the form is sent

    broken = owner.post(f"/aiact/systems/{system_id}/answers", {}, files={"file": ("a.yaml", b"role: [provider\n")})
    assert broken.status_code == 400 and "a.yaml:" in broken.text and "not valid YAML" in broken.text
    incomplete = owner.post(f"/aiact/systems/{system_id}/answers", {},
                            files={"file": ("b.yaml", b"ai_system.infers: yes\nrole: chief\n")})
    assert incomplete.status_code == 200
    assert "b.yaml:2: role: &#39;chief&#39; is not one of" in incomplete.text


# --- controls, evidence files and bundles -----------------------------------------------------------


def test_a_control_answered_with_a_file_goes_into_a_bundle_that_verifies(seeded: Seeded, tmp_path: Path) -> None:
    owner = seeded.visitor("owner@acme.lu")
    system_id = _qualified(seeded, owner)
    page = owner.get(f"/aiact/systems/{system_id}/controls").text
    assert 'id="control-ai-interaction-disclosure"' in page
    sent = _answer_control(owner, system_id, "ai-interaction-disclosure", {"score": "4", "note": "banner on every page"},
                           ("banner.png", BANNER))
    assert sent.status_code == 303, sent.text
    with seeded.portal.session() as s:
        kept = s.scalars(select(AiEvidenceFile)).one()
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "aiact.evidence.upload")).one()
    assert kept.data == BANNER and entry.actor == "owner@acme.lu" and entry.detail["sha256"] == kept.sha256
    evidence = owner.client.get(f"/aiact/systems/{system_id}/files/{kept.id}")
    assert evidence.content == BANNER and evidence.headers["content-type"] == "application/octet-stream"
    assert evidence.headers["content-disposition"] == "attachment; filename*=UTF-8''banner.png"

    verdicts = owner.get(f"/aiact/systems/{system_id}/obligations").text
    assert "art-50.1" in verdicts and "ai-interaction-disclosure" in verdicts and "scored 4 of 5" in verdicts

    bundle_id = _build(owner, system_id)
    download = owner.client.get(f"/aiact/bundles/{bundle_id}/download")
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    assert download.headers["content-disposition"] == \
        f"attachment; filename*=UTF-8''laif-evidence-helpdesk-chatbot-{bundle_id}.zip"
    with zipfile.ZipFile(io.BytesIO(download.content)) as zf:
        assert zf.read("controls/ai-interaction-disclosure/banner.png") == BANNER
        assert yaml.safe_load(zf.read("controls/controls.yaml"))["ai-interaction-disclosure"]["score"] == 4
        assert json.loads(zf.read("qualification.json"))["risk_class"] == "limited"
    bundle = tmp_path / "bundle.zip"
    bundle.write_bytes(download.content)
    assert run_laif("evidence", "verify", str(bundle)).returncode == 0

    owner.get("/aiact/verify")
    verified = owner.post("/aiact/verify", {}, files={"file": ("bundle.zip", download.content)})
    assert verified.status_code == 200 and "Intact: bundle.zip verifies" in verified.text
    assert "the key this portal signs your bundles with" in verified.text
    with zipfile.ZipFile(io.BytesIO(download.content)) as zf:
        digest = json.loads(zf.read("manifest.json"))["files"]["controls/ai-interaction-disclosure/banner.png"]["sha256"]
    assert digest in verified.text  # every file's hash is shown

    owner.get(f"/aiact/systems/{system_id}")
    kept_check = owner.post(f"/aiact/bundles/{bundle_id}/verify", {})
    assert kept_check.status_code == 200 and "verifies" in kept_check.text

    owner.get("/aiact/verify")
    tampered = _tampered(download.content, "controls/ai-interaction-disclosure/banner.png", b"a different picture")
    failed = owner.post("/aiact/verify", {}, files={"file": ("bundle.zip", tampered)})
    assert failed.status_code == 200 and "Failed: bundle.zip does not verify" in failed.text
    assert "controls/ai-interaction-disclosure/banner.png: changed" in failed.text
    owner.get("/aiact/verify")
    junk = owner.post("/aiact/verify", {}, files={"file": ("notes.zip", b"not a zip at all")})
    assert junk.status_code == 200 and "does not verify" in junk.text and "not a zip archive" in junk.text


def test_a_control_needs_a_valid_answer(seeded: Seeded) -> None:
    owner = seeded.visitor("owner@acme.lu")
    system_id = _qualified(seeded, owner)
    assert _answer_control(owner, system_id, "ai-literacy", {"score": "9"}).status_code == 400
    assert _answer_control(owner, system_id, "ai-literacy", {}).status_code == 400
    assert _answer_control(owner, system_id, "no-such-control", {"score": "3"}).status_code == 404
    assert _answer_control(owner, system_id, "ai-literacy", {"score": "3"}, ("empty.txt", b"")).status_code == 400
    with seeded.portal.session() as s:
        assert s.scalar(select(func.count()).select_from(AiControlAnswer)) == 0
        assert s.scalar(select(func.count()).select_from(AiEvidenceFile)) == 0


def test_what_cannot_be_done_is_refused_with_its_reason(seeded: Seeded) -> None:
    owner = seeded.visitor("owner@acme.lu")
    owner.get("/aiact")
    assert "give the system a name" in owner.post("/aiact/systems", {"name": "  "}).text.lower()
    system_id = _system(seeded, owner)
    for path in (f"/aiact/systems/{system_id}/obligations", f"/aiact/systems/{system_id}/answers.yaml"):
        response = owner.get(path)
        assert response.status_code in (400, 404) and "qualif" in response.text.lower(), path
    owner.get(f"/aiact/systems/{system_id}")
    unqualified = owner.post(f"/aiact/systems/{system_id}/bundles", {})
    assert unqualified.status_code == 400 and "Qualify the system first" in unqualified.text
    owner.get(f"/aiact/systems/{system_id}/qualify")
    assert "choose an answers file" in owner.post(f"/aiact/systems/{system_id}/answers", {}).text.lower()
    not_mapping = owner.post(f"/aiact/systems/{system_id}/answers", {}, files={"file": ("l.yaml", b"- a\n- b\n")})
    assert not_mapping.status_code == 400 and "l.yaml: expected a mapping of question ids" in not_mapping.text
    owner.get("/aiact/verify")
    assert "choose a bundle" in owner.post("/aiact/verify", {}).text.lower()

    _post_form(owner, f"/aiact/systems/{system_id}/qualify", _form(BANKING))
    fact = _answer_control(owner, system_id, "conformity-assessment", {"score": "4"})
    assert fact.status_code == 400 and "is a fact: answer done yes or no" in fact.text
    long_note = _answer_control(owner, system_id, "ai-literacy", {"score": "3", "note": "x" * 5001})
    assert long_note.status_code == 400 and "at most 5000 characters" in long_note.text
    assert _answer_control(owner, system_id, "conformity-assessment", {"done": "yes"}).status_code == 303

    bundle_id = _build(owner, system_id)
    kept = seeded.app.state.portal.settings.files() / "orgs" / str(seeded.orgs["Acme"]) / "aiact" / "bundles"
    (kept / f"{bundle_id}.zip").unlink()
    gone = owner.client.get(f"/aiact/bundles/{bundle_id}/download")
    assert gone.status_code == 404 and "no longer kept" in gone.text


def test_a_run_not_finished_is_refused_as_evidence(seeded: Seeded) -> None:
    from laif.store import Store
    from laif.store.db import RunRow

    owner = seeded.visitor("owner@acme.lu")
    system_id = _qualified(seeded, owner)
    store = Store(run_db(seeded.app.state.portal.settings, seeded.orgs["Acme"]))
    store.add_run(RunRow(id="unfinished01", spec_hash="0" * 64, status="running", suite="injection", suite_version="1",
                         library_hash="0" * 64, languages=["en"], limit=1, seed=0, model_spec="embedded",
                         model_name="m", model_key="m", model_identity={}, params={}, laif_version="0", environment={}))
    store.engine.dispose()
    page = owner.get(f"/aiact/systems/{system_id}/obligations?run=unfinished01")
    assert page.status_code == 400 and "unfinished01 is running; finish it before using it as evidence" in page.text
    owner.get(f"/aiact/systems/{system_id}")
    built = _post_form(owner, f"/aiact/systems/{system_id}/bundles", {"run": ["unfinished01"]})
    assert built.status_code == 400 and "is running" in built.text
    with seeded.portal.session() as s:
        assert s.scalar(select(func.count()).select_from(AiBundle)) == 0


def test_a_script_in_an_answer_is_shown_as_text(seeded: Seeded) -> None:
    payload = "<script>alert(1)</script>"
    owner = seeded.visitor("owner@acme.lu")
    system_id = _qualified(seeded, owner, name=f"Bot {payload}")
    _answer_control(owner, system_id, "ai-literacy", {"score": "3", "note": payload}, (f"{payload}.txt", b"x"))
    for path in ("/aiact", f"/aiact/systems/{system_id}", f"/aiact/systems/{system_id}/controls",
                 f"/aiact/systems/{system_id}/qualify"):
        page = owner.get(path).text
        assert payload not in page, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in owner.get(f"/aiact/systems/{system_id}/controls").text
    sent = _post_form(owner, f"/aiact/systems/{system_id}/qualify", _form({**BANKING, "role": payload}))
    assert sent.status_code == 400 and payload not in sent.text and "&lt;script&gt;" in sent.text


def test_paths_in_download_addresses_find_nothing(seeded: Seeded) -> None:
    owner = seeded.visitor("owner@acme.lu")
    system_id = _qualified(seeded, owner)
    _build(owner, system_id)
    for path in ("/aiact/bundles/..%2F..%2Fportal.db/download", "/aiact/bundles/../../portal.db/download",
                 "/aiact/bundles/%2e%2e%2f1/download", f"/aiact/systems/{system_id}/files/..%2F..%2Fetc%2Fpasswd",
                 f"/aiact/systems/{system_id}/files/../../../etc/passwd", "/aiact/bundles/1%2F..%2F..%2F1/download",
                 "/api/v1/aiact/bundles/..%2F1/download"):
        response = owner.client.get(path, follow_redirects=False)
        assert response.status_code in (401, 404, 422), path
        assert b"root:" not in response.content and b"SQLite format" not in response.content


def test_an_upload_over_the_limit_is_refused_and_nothing_is_written(seeded: Seeded) -> None:
    owner = seeded.visitor("owner@acme.lu")
    system_id = _qualified(seeded, owner)
    with seeded.portal.session() as s:
        audited = s.scalar(select(func.count()).select_from(AuditEntry))
    big = b"x" * (LIMIT + 1)
    refused = _answer_control(owner, system_id, "ai-literacy", {"score": "3"}, ("big.bin", big))
    assert refused.status_code == 413
    owner.get("/aiact/verify")
    assert owner.post("/aiact/verify", {}, files={"file": ("big.zip", big)}).status_code == 413
    owner.get(f"/aiact/systems/{system_id}/qualify")
    assert owner.post(f"/aiact/systems/{system_id}/answers", {}, files={"file": ("a.yaml", big)}).status_code == 413
    with seeded.portal.session() as s:
        assert s.scalar(select(func.count()).select_from(AiControlAnswer)) == 0
        assert s.scalar(select(func.count()).select_from(AiEvidenceFile)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == audited


def test_a_request_without_its_csrf_token_changes_nothing(seeded: Seeded) -> None:
    owner = seeded.visitor("owner@acme.lu")
    system_id = _qualified(seeded, owner)
    assert owner.post("/aiact/systems", {"name": "forged"}, csrf=False).status_code == 403
    assert owner.post(f"/aiact/systems/{system_id}/bundles", {}, csrf=False).status_code == 403
    with seeded.portal.session() as s:
        assert s.scalar(select(func.count()).select_from(AiSystem)) == 1
        assert s.scalar(select(func.count()).select_from(AiBundle)) == 0


# --- isolation and the JSON API ----------------------------------------------------------------------


def _token(visitor: Visitor) -> str:
    visitor.get("/account/tokens")
    page = visitor.post("/account/tokens", {"name": "ci"}).text
    return page.split('class="token">', 1)[1].split("<", 1)[0]


def test_every_aiact_route_with_an_id_refuses_another_organisations_objects(seeded: Seeded) -> None:
    beta = seeded.visitor("owner@beta.lu")
    system_id = _qualified(seeded, beta, name=SECRET_TEXT)
    _answer_control(beta, system_id, "ai-interaction-disclosure", {"score": "4", "note": SECRET_TEXT},
                    ("secret.txt", SECRET_TEXT.encode()))
    bundle_id = _build(beta, system_id)
    with seeded.portal.session() as s:
        file_id = s.scalars(select(AiEvidenceFile.id)).one()
        before = s.scalar(select(func.count()).select_from(AuditEntry))
    bundle_file = seeded.app.state.portal.settings.files() / "orgs" / str(seeded.orgs["Beta"]) / "aiact" / "bundles"
    assert (bundle_file / f"{bundle_id}.zip").is_file()

    acme = seeded.visitor("member@acme.lu")
    pat = _token(acme)
    acme.get("/aiact")
    values = {"system_id": str(system_id), "file_id": str(file_id), "bundle_id": str(bundle_id),
              "control_id": "ai-interaction-disclosure"}
    walked = []
    for route in (*aiact_pages.router.routes, *aiact_pages.api.routes):
        assert isinstance(route, APIRoute)
        names = set(re.findall(r"\{(\w+)", route.path))
        if not names:
            continue
        path = route.path
        for name, value in values.items():
            path = path.replace("{" + name + "}", value)
        for method in sorted(route.methods or ()):
            if path.startswith("/api/"):
                response = acme.client.request(method, path, json={"answers": BANKING, "score": 3, "run_ids": []},
                                               files={"file": ("x.txt", b"x")} if path.endswith("/files") else None,
                                               headers={"Authorization": f"Bearer {pat}"})
            elif method == "GET":
                response = acme.client.get(path, follow_redirects=False)
            else:
                response = acme.post(path, {"score": "3", "ai_system.infers": "yes"})
            walked.append((method, route.path, response.status_code))
            assert response.status_code in (403, 404), (method, route.path, response.status_code)
            assert SECRET_TEXT not in response.text, (method, route.path)
    assert len(walked) >= 24, walked
    for path in ("/aiact", "/api/v1/aiact/systems"):
        response = acme.client.get(path, headers={"Authorization": f"Bearer {pat}"})
        assert response.status_code == 200 and SECRET_TEXT not in response.text
    with seeded.portal.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == before + 2  # Acme's token and sign-in only
        assert s.scalar(select(func.count()).select_from(AiSystem)) == 1
        assert s.scalar(select(func.count()).select_from(AiBundle)) == 1
        assert s.scalar(select(func.count()).select_from(AiEvidenceFile)) == 1


def test_the_json_api_does_what_the_pages_do(seeded: Seeded) -> None:
    owner = seeded.visitor("owner@acme.lu")
    auth = {"Authorization": f"Bearer {_token(owner)}"}
    client = owner.client
    assert client.get("/api/v1/aiact/systems").status_code == 401
    assert client.get("/api/v1/aiact/systems", headers={"Authorization": "Bearer laif_pat_wrong"}).status_code == 401
    questions = client.get("/api/v1/aiact/questions", headers=auth).json()
    assert [q["id"] for q in questions] == [q["id"] for q in aiact.questions()]
    system = client.post("/api/v1/aiact/systems", json={"name": "Helpdesk chatbot"}, headers=auth)
    assert system.status_code == 201
    system_id = system.json()["id"]
    bad = client.put(f"/api/v1/aiact/systems/{system_id}/answers", json={"answers": {"role": "chief"}}, headers=auth)
    assert bad.status_code == 400 and any(p.startswith("role: 'chief' is not one of") for p in bad.json()["problems"])
    done = client.put(f"/api/v1/aiact/systems/{system_id}/answers", json={"answers": BANKING}, headers=auth)
    assert done.status_code == 200 and done.json()["qualification"] == aiact.qualify(aiact.check_answers(BANKING))
    answers_file = client.get(f"/api/v1/aiact/systems/{system_id}/answers.yaml", headers=auth)
    assert yaml.safe_load(answers_file.text) == BANKING

    control = f"/api/v1/aiact/systems/{system_id}/controls/ai-interaction-disclosure"
    assert client.post(f"{control}/files", files={"file": ("b.png", BANNER)}, headers=auth).status_code == 400
    assert client.put(control, json={"score": 4}, headers=auth).status_code == 200
    attached = client.post(f"{control}/files", files={"file": ("banner.png", BANNER)}, headers=auth)
    assert attached.status_code == 201 and attached.json()["files"][0]["name"] == "banner.png"
    controls = client.get(f"/api/v1/aiact/systems/{system_id}/controls", headers=auth).json()
    assert "ai-literacy" in controls["needed"] and controls["answers"]["ai-interaction-disclosure"]["score"] == 4
    verdicts = client.get(f"/api/v1/aiact/systems/{system_id}/obligations", headers=auth).json()
    assert {o["id"] for o in verdicts["obligations"]} >= {"art-50.1", "art-50.2"}
    assert client.get(f"/api/v1/aiact/systems/{system_id}/obligations?run=nosuchrun", headers=auth).status_code == 404

    built = client.post(f"/api/v1/aiact/systems/{system_id}/bundles", json={}, headers=auth)
    assert built.status_code == 201, built.text
    bundle = built.json()
    zipped = client.get(bundle["download"], headers=auth)
    assert zipped.status_code == 200 and zipped.headers["content-disposition"].startswith("attachment;")
    ok = client.post("/api/v1/aiact/verify", files={"file": ("b.zip", zipped.content)}, headers=auth).json()
    assert ok["ok"] and ok["signer"] == bundle["signer"] and ok["signed_by_this_portal"]
    assert all(f["status"] == "intact" for f in ok["files"]) and len(ok["files"]) == bundle["files"]
    tampered = _tampered(zipped.content, "qualification.json", b"{}")
    failed = client.post("/api/v1/aiact/verify", files={"file": ("b.zip", tampered)}, headers=auth).json()
    assert not failed["ok"]
    assert [f["name"] for f in failed["files"] if f["status"] != "intact"] == ["qualification.json"]


# --- with a real run of the embedded model --------------------------------------------------------------


@pytest.mark.slow
def test_obligations_and_bundle_rest_on_a_run_of_the_organisation(seeded: Seeded, tmp_path: Path) -> None:
    from laif.runner import RunSettings
    from laif.services import assessment

    owner = seeded.visitor("owner@acme.lu")
    system_id = _qualified(seeded, owner)
    db = run_db(seeded.app.state.portal.settings, seeded.orgs["Acme"])
    done = assessment.run_assessment(assessment.AssessmentOptions(
        model="embedded", suites=("injection",), settings=RunSettings(languages=("en",), limit=1), db=db,
        out_dir=tmp_path / "out"))
    run_id = done.runs[0].run.id

    page = owner.get(f"/aiact/systems/{system_id}/obligations")
    assert page.status_code == 200 and run_id in page.text
    chosen = owner.get(f"/aiact/systems/{system_id}/obligations?run={run_id}").text
    assert f'value="{run_id}" checked' in chosen
    verdicts = re.findall(r'class="verdict verdict-[a-z-]+">([a-z ]+)<', chosen)
    assert verdicts and set(verdicts) <= {"met", "not met", "inconclusive", "not assessed"}
    # Beta's store has no such run: a run id is looked up in the caller's organisation only.
    beta = seeded.visitor("owner@beta.lu")
    beta_system = _qualified(seeded, beta)
    assert beta.get(f"/aiact/systems/{beta_system}/obligations?run={run_id}").status_code == 404

    bundle_id = _build(owner, system_id, [run_id])
    download = owner.client.get(f"/aiact/bundles/{bundle_id}/download")
    with zipfile.ZipFile(io.BytesIO(download.content)) as zf:
        assert json.loads(zf.read(f"runs/{run_id}/results.json"))["run_id"] == run_id
    owner.get("/aiact/verify")
    assert "verifies" in owner.post("/aiact/verify", {}, files={"file": ("b.zip", download.content)}).text
