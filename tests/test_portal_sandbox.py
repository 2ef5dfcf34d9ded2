"""The sandbox pages and their JSON API: systems under test (their key never shown back nor kept
in clear), an assessment of the embedded model through the job queue, its live progress (HTMX
fragment and server-sent events), report, files, leaderboard and comparison; and the refusals:
another organisation's ids, a form without its CSRF token, path traversal, bad choices.

The tests that run the embedded model share one portal (module fixture) and are run under
`flock /tmp/laif-heavy.lock` like every test that loads the model.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import func, select

from laif.portal import sandbox_pages
from laif.portal.app import create_app
from laif.portal.core import Portal
from laif.portal.jobs import Job, SystemUnderTest, Worker, job_dir
from laif.portal.settings import PortalSettings
from laif.portal.tables import AuditEntry

from .portal_kit import SECRET, Seeded, Visitor, seed_people

API_KEY = "sk-live-SANDBOX-KEY-0123456789abcdef"
BETA_SECRET = "BETA-CONFIDENTIAL-CHATBOT"


@dataclass
class Sandbox:
    seeded: Seeded
    settings: PortalSettings

    def visitor(self, email: str | None = None) -> Visitor:
        return self.seeded.visitor(email)

    def pat(self, visitor: Visitor, name: str = "ci") -> str:
        """A personal access token made through the tokens page."""
        visitor.get("/account/tokens")
        page = visitor.post("/account/tokens", {"name": name}).text
        return page.split('class="token">', 1)[1].split("<", 1)[0]


def make_sandbox(root: Path) -> Sandbox:
    settings = PortalSettings(db_url=f"sqlite:///{root / 'portal.db'}", secret_key=SECRET, data_dir=root / "files",
                              max_upload_bytes=1024 * 1024, workers=0)
    portal = Portal(settings)
    return Sandbox(Seeded(portal, create_app(settings, portal), seed_people(portal)), settings)


@pytest.fixture()
def sandbox(tmp_path: Path) -> Sandbox:
    return make_sandbox(tmp_path)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def job_of(response_location: str) -> int:
    found = re.fullmatch(r"/sandbox/jobs/(\d+)", response_location)
    assert found, response_location
    return int(found.group(1))


def count(sandbox: Sandbox, table: type) -> int:
    with sandbox.seeded.portal.session() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def events(text: str) -> list[tuple[str, dict[str, object]]]:
    """(event name, data) of each server-sent event in a stream's text; comments skipped."""
    out = []
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if line and not line.startswith(":")]
        if not lines:
            continue
        name = next(line[7:] for line in lines if line.startswith("event: "))
        data = json.loads("".join(line[6:] for line in lines if line.startswith("data: ")))
        out.append((name, data))
    return out


# --- systems under test (no model) ------------------------------------------------------------
def test_a_systems_key_is_stored_but_never_shown_back_nor_kept_in_clear(sandbox: Sandbox) -> None:
    owner = sandbox.visitor("owner@acme.lu")
    page = owner.get("/sandbox/systems").text
    assert 'type="password"' in page and 'name="api_key"' in page
    response = owner.post("/sandbox/systems", {"name": "Acme chatbot", "base_url": "https://llm.acme.lu/v1",
                                               "model": "acme-7b", "api_key": API_KEY})
    assert response.status_code == 303 and response.headers["location"] == "/sandbox/systems"
    listing = owner.get("/sandbox/systems").text
    assert "Acme chatbot" in listing and "key stored" in listing and API_KEY not in listing
    assert API_KEY not in owner.get("/sandbox").text

    token = sandbox.pat(owner)
    created = owner.client.post("/api/v1/systems", headers=bearer(token), json={
        "name": "Acme search", "base_url": "https://search.acme.lu/v1", "model": "acme-rag", "api_key": API_KEY + "2"})
    assert created.status_code == 201, created.text
    assert created.json()["has_key"] is True and API_KEY not in created.text and "api_key" not in created.json()
    listed = owner.client.get("/api/v1/systems", headers=bearer(token))
    assert [x["name"] for x in listed.json()] == ["Acme chatbot", "Acme search"] or \
        sorted(x["name"] for x in listed.json()) == ["Acme chatbot", "Acme search"]
    assert API_KEY not in listed.text
    one = owner.client.get(f"/api/v1/systems/{created.json()['id']}", headers=bearer(token))
    assert one.status_code == 200 and API_KEY not in one.text

    with sandbox.seeded.portal.session() as s:
        assert all(API_KEY not in json.dumps(e.detail) for e in s.scalars(select(AuditEntry)))
    stored = b"".join(p.read_bytes() for p in sandbox.settings.files().parent.rglob("*") if p.is_file())
    assert API_KEY.encode() not in stored  # the portal's database (and its WAL) and every file it keeps

    removed = owner.client.delete(f"/api/v1/systems/{created.json()['id']}", headers=bearer(token))
    assert removed.status_code == 204
    with sandbox.seeded.portal.session() as s:
        first = s.scalars(select(SystemUnderTest)).one()
        first_id = first.id
    owner.get("/sandbox/systems")
    assert owner.post(f"/sandbox/systems/{first_id}/remove").status_code == 303
    assert "No system registered yet" in owner.get("/sandbox/systems").text
    assert owner.client.get("/api/v1/systems", headers=bearer(token)).json() == []


def test_a_form_without_its_csrf_token_changes_nothing(sandbox: Sandbox) -> None:
    member = sandbox.visitor("member@acme.lu")
    member.get("/sandbox")
    refused = member.post("/sandbox/jobs", {"system": "", "suites": "bias", "languages": "en", "limit": "1",
                                            "answer_modes": "free"}, csrf=False)
    assert refused.status_code == 403
    refused = member.post("/sandbox/systems", {"name": "x", "base_url": "http://x", "model": "m"}, csrf=False)
    assert refused.status_code == 403
    assert count(sandbox, Job) == 0 and count(sandbox, SystemUnderTest) == 0
    # the same forms with their token go through
    assert member.post("/sandbox/jobs", {"suites": "bias", "languages": "en", "limit": "1"}).status_code == 303
    assert count(sandbox, Job) == 1


def test_bad_choices_are_refused_with_a_message(sandbox: Sandbox) -> None:
    member = sandbox.visitor("member@acme.lu")
    member.get("/sandbox")
    for form, words in (({"suites": "teleportation", "languages": "en"}, "unknown suite"),
                        ({"languages": "en"}, "choose at least one suite"),
                        ({"suites": "bias"}, "choose at least one language"),
                        ({"suites": "bias", "languages": "en", "limit": "many"}, "the limit is a whole number"),
                        ({"suites": "bias", "languages": "en", "answer_modes": "telepathic"}, "unknown answer mode"),
                        ({"suites": "bias", "languages": "en", "system": "abc"}, "choose a system"),
                        ({"suites": "bias", "languages": "en", "system": "999"}, "")):
        response = member.post("/sandbox/jobs", form)
        assert response.status_code in (400, 404), (form, response.status_code)
        assert words.lower() in response.text.lower(), (form, response.text[-600:])
    empty = member.post("/sandbox/specs", files={"spec": ("spec.yaml", b"  \n")})
    assert empty.status_code == 400 and "spec.yaml is empty" in empty.text
    assert count(sandbox, Job) == 0
    assert member.get("/sandbox/leaderboard?suite=teleportation").status_code == 400
    assert member.get("/sandbox/leaderboard?answer_mode=telepathic").status_code == 400

    token = sandbox.pat(member)
    bad = member.client.post("/api/v1/jobs", headers=bearer(token), json={"suites": ["teleportation"]})
    assert bad.status_code == 400 and "teleportation" in bad.json()["error"]
    bad = member.client.post("/api/v1/jobs", headers=bearer(token), json={"limit": 0})
    assert bad.status_code == 422
    assert member.client.get("/api/v1/jobs").status_code == 401
    assert member.client.get("/api/v1/jobs", headers=bearer("laif_pat_wrong")).status_code == 401
    assert count(sandbox, Job) == 0


def test_a_queued_job_can_be_cancelled_by_its_organisation(sandbox: Sandbox) -> None:
    member = sandbox.visitor("member@acme.lu")
    member.get("/sandbox")
    job_id = job_of(member.post("/sandbox/jobs", {"suites": "bias", "languages": "en", "limit": "1"}).headers["location"])
    page = member.get(f"/sandbox/jobs/{job_id}").text
    assert 'hx-trigger="every 1s"' in page and f'hx-get="/sandbox/jobs/{job_id}/progress"' in page
    assert "Cancel the job" in page
    assert member.post(f"/sandbox/jobs/{job_id}/cancel").status_code == 303
    page = member.get(f"/sandbox/jobs/{job_id}").text
    assert "cancelled" in page or "cancelling" in page
    token = sandbox.pat(member)
    state = member.client.get(f"/api/v1/jobs/{job_id}", headers=bearer(token)).json()
    assert state["status"] == "cancelled" or state["cancel_requested"] is True


def test_an_uploaded_spec_is_queued_as_a_spec_job(sandbox: Sandbox) -> None:
    member = sandbox.visitor("member@acme.lu")
    member.get("/sandbox")
    spec = b"name: acme-check\nsystem:\n  model: embedded\nsuites: [bias]\nlanguages: [en]\nlimit: 1\n"
    response = member.post("/sandbox/specs", files={"spec": ("acme-check.yaml", spec)})
    assert response.status_code == 303, response.text
    job_id = job_of(response.headers["location"])
    page = member.get(f"/sandbox/jobs/{job_id}").text
    assert "acme-check.yaml" in page
    with sandbox.seeded.portal.session() as s:
        job = s.get(Job, job_id)
        assert job is not None and job.kind == "spec" and job.status == "queued"

    token = sandbox.pat(member)
    created = member.client.post("/api/v1/jobs", headers=bearer(token), json={"spec": spec.decode(), "spec_name": "ci.yaml"})
    assert created.status_code == 201 and created.json()["kind"] == "spec" and created.json()["passed"] is None
    bad = member.client.post("/api/v1/jobs", headers=bearer(token), json={"spec": "name: x\nsuites: [bias]\n",
                                                                          "spec_name": "ci.yaml"})
    assert bad.status_code == 400 and "ci.yaml" in bad.json()["error"] and "system" in bad.json()["error"]
    page = member.post("/sandbox/specs", files={"spec": ("broken.yaml", b"name: x\nsuites: [bias]\n")})
    assert page.status_code == 400 and "broken.yaml" in page.text
    with sandbox.seeded.portal.session() as s:
        assert s.scalar(select(func.count()).select_from(Job)) == 2


# --- a job's files -----------------------------------------------------------------------------
def test_a_jobs_files_are_served_from_its_folder_only(sandbox: Sandbox) -> None:
    member = sandbox.visitor("member@acme.lu")
    member.get("/sandbox")
    job_id = job_of(member.post("/sandbox/jobs", {"suites": "bias", "languages": "en", "limit": "1"}).headers["location"])
    with sandbox.seeded.portal.session() as s:
        job = s.get(Job, job_id)
        assert job is not None
        folder = job_dir(sandbox.settings, job)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.html").write_text("<html><body><h1>The bias report</h1></body></html>")
    (folder / "free").mkdir(exist_ok=True)
    (folder / "free" / "results.json").write_text('{"ok": true}')
    (folder / "notes.bin").write_bytes(b"\x00\x01")
    (folder / ".hidden").write_text("HIDDEN-TEXT")
    outside = folder.parent / "OUTSIDE.txt"
    outside.write_text("OUTSIDE-TEXT")
    (folder / "link.txt").symlink_to(outside)

    report = member.get(f"/sandbox/jobs/{job_id}/files/report.html")
    assert report.status_code == 200 and "The bias report" in report.text
    csp = report.headers["content-security-policy"]
    assert csp.startswith("sandbox") and "script-src" not in csp and "default-src 'none'" in csp
    assert member.get(f"/sandbox/jobs/{job_id}/files/free/results.json").json() == {"ok": True}
    download = member.get(f"/sandbox/jobs/{job_id}/files/notes.bin")
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"].startswith("attachment")

    for name in ("../OUTSIDE.txt", "..%2FOUTSIDE.txt", "%2e%2e/OUTSIDE.txt", "free/../../OUTSIDE.txt", ".hidden",
                 "link.txt", "free", "%2e%2e", "%2Fetc%2Fpasswd", "..%5COUTSIDE.txt", "free/..%2F..%2FOUTSIDE.txt"):
        response = member.client.get(f"/sandbox/jobs/{job_id}/files/{name}", follow_redirects=False)
        assert response.status_code in (404, 400), (name, response.status_code)
        assert "OUTSIDE-TEXT" not in response.text and "HIDDEN-TEXT" not in response.text and "root:" not in response.text
    # what httpx would tidy away, asked of the route itself
    for name in ("../OUTSIDE.txt", "free/../../OUTSIDE.txt", "/etc/passwd", "..\\OUTSIDE.txt", "..", "free/", ""):
        with pytest.raises(sandbox_pages.NotFound):
            sandbox_pages._job_file(sandbox.settings, job, name)


# --- isolation (no model) ----------------------------------------------------------------------
def test_another_organisations_jobs_and_systems_are_not_found(sandbox: Sandbox) -> None:
    beta = sandbox.visitor("owner@beta.lu")
    beta.get("/sandbox/systems")
    beta.post("/sandbox/systems", {"name": BETA_SECRET, "base_url": "https://beta.lu/v1", "model": BETA_SECRET,
                                   "api_key": API_KEY})
    with sandbox.seeded.portal.session() as s:
        beta_system = s.scalars(select(SystemUnderTest)).one().id
    beta.get("/sandbox")
    beta_job = job_of(beta.post("/sandbox/jobs", {"system": str(beta_system), "suites": "bias", "languages": "en",
                                                  "limit": "1"}).headers["location"])
    with sandbox.seeded.portal.session() as s:
        job = s.get(Job, beta_job)
        assert job is not None
        folder = job_dir(sandbox.settings, job)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.html").write_text(f"<h1>{BETA_SECRET}</h1>")
    assert BETA_SECRET in beta.get(f"/sandbox/jobs/{beta_job}/report", follow_redirects=True).text

    acme = sandbox.visitor("member@acme.lu")
    token = sandbox.pat(acme)
    acme.get("/sandbox")
    values = {"job_id": str(beta_job), "system_id": str(beta_system), "name": "report.html"}
    walked = []
    for route in (*sandbox_pages.router.routes, *sandbox_pages.api.routes):
        assert isinstance(route, APIRoute)
        params = set(re.findall(r"\{(\w+)", route.path))
        if not params & {"job_id", "system_id"}:
            continue
        path = route.path.replace(":path}", "}")
        for name, value in values.items():
            path = path.replace("{" + name + "}", value)
        for method in sorted(route.methods or ()):
            if path.startswith("/api/"):
                response = acme.client.request(method, path, headers=bearer(token), json={})
            elif method == "GET":
                response = acme.client.get(path, follow_redirects=False)
            else:
                response = acme.post(path, {})
            walked.append((method, route.path, response.status_code))
            assert response.status_code in (403, 404), (method, route.path, response.status_code)
            assert BETA_SECRET not in response.text, (method, route.path)
    assert len(walked) >= 11, walked
    for path in ("/sandbox", "/sandbox/systems", "/sandbox/leaderboard", "/sandbox/compare"):
        assert BETA_SECRET not in acme.get(path).text, path
    for path in ("/api/v1/jobs", "/api/v1/systems", "/api/v1/runs"):
        response = acme.client.get(path, headers=bearer(token))
        assert response.status_code == 200 and response.json() == [], path
    with sandbox.seeded.portal.session() as s:  # nothing of Beta's changed
        job = s.get(Job, beta_job)
        assert job is not None and job.status == "queued" and not job.cancel_requested
        assert s.get(SystemUnderTest, beta_system) is not None


def test_the_api_is_described_in_openapi(sandbox: Sandbox) -> None:
    schema = Visitor(sandbox.seeded.app).client.get("/api/v1/openapi.json").json()
    for path in ("/api/v1/systems", "/api/v1/jobs", "/api/v1/jobs/{job_id}", "/api/v1/jobs/{job_id}/events",
                 "/api/v1/jobs/{job_id}/cancel", "/api/v1/leaderboard", "/api/v1/compare"):
        assert path in schema["paths"], path
    job = schema["paths"]["/api/v1/jobs/{job_id}"]["get"]
    assert job["summary"] and "JobOut" in json.dumps(job["responses"])
    assert "text/event-stream" in json.dumps(schema["paths"]["/api/v1/jobs/{job_id}/events"])
    assert not any(p.startswith("/sandbox") for p in schema["paths"])


# --- the embedded model through the queue (heavy: run under flock) --------------------------------
@dataclass
class Ran:
    sandbox: Sandbox
    member: Visitor
    token: str
    page_job: int
    api_job: int
    stream: str
    spec_job: int


#: What a CI pipeline sends: the embedded model, one bias test per category, one threshold.
SPEC = """\
name: acme-check
system:
  model: {model}
suites: [bias]
languages: [en]
limit: 1
thresholds:
  bias.mean: {{min: 0}}
"""


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ran]:
    """Two tiny assessments of the embedded model by Acme: one from the page (free answers), one
    from the API (constrained answers) whose events are read while a worker runs it."""
    sandbox = make_sandbox(tmp_path_factory.mktemp("sandbox"))
    member = sandbox.visitor("member@acme.lu")
    token = sandbox.pat(member)
    member.get("/sandbox")
    response = member.post("/sandbox/jobs", {"system": "", "suites": "bias", "languages": "en", "limit": "1",
                                             "answer_modes": "free"})
    assert response.status_code == 303, response.text
    page_job = job_of(response.headers["location"])
    assert Worker(sandbox.settings).run_once() is True

    created = member.client.post("/api/v1/jobs", headers=bearer(token), json={
        "suites": ["bias"], "languages": ["en"], "limit": 1, "answer_modes": ["constrained"]})
    assert created.status_code == 201, created.text
    api_job = created.json()["id"]
    assert created.json()["status"] == "queued"
    worker = threading.Thread(target=Worker(sandbox.settings).run_once)
    worker.start()
    with member.client.stream("GET", f"/api/v1/jobs/{api_job}/events", headers=bearer(token)) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        text = "".join(stream.iter_text())
    worker.join()

    spec = SPEC.format(model="embedded")
    created = member.client.post("/api/v1/jobs", headers=bearer(token), json={"spec": spec, "spec_name": "ci.yaml"})
    assert created.status_code == 201, created.text
    assert Worker(sandbox.settings).run_once() is True
    yield Ran(sandbox, member, token, page_job, api_job, text, created.json()["id"])


def test_the_job_page_shows_the_finished_job_and_stops_polling(ran: Ran) -> None:
    page = ran.member.get(f"/sandbox/jobs/{ran.page_job}").text
    assert "done" in page and "hx-trigger" not in page and "Read the report" in page
    fragment = ran.member.get(f"/sandbox/jobs/{ran.page_job}/progress")
    assert fragment.status_code == 286 and "done" in fragment.text  # 286: HTMX stops polling
    home = ran.member.get("/sandbox").text
    assert f'href="/sandbox/jobs/{ran.page_job}"' in home and "job-done" in home


def test_the_report_page_shows_the_run_report(ran: Ran) -> None:
    response = ran.member.get(f"/sandbox/jobs/{ran.page_job}/report", follow_redirects=True)
    assert response.status_code == 200, response.text
    assert str(response.url).startswith(f"http://testserver/sandbox/jobs/{ran.page_job}/files/")
    assert "social-bias assessment" in response.text and "<html" in response.text.lower()
    assert response.headers["content-security-policy"].startswith("sandbox")


def test_the_events_stream_reports_progress_and_ends(ran: Ran) -> None:
    found = events(ran.stream)
    names = [name for name, _ in found]
    assert names[-1] == "end" and names.count("end") == 1, names
    assert names.count("progress") >= 2, names
    assert all(set(data) == {"stage", "done", "total", "message", "heading"} for name, data in found[:-1])
    end = found[-1][1]
    assert end["status"] == "done" and end["run_ids"], end
    state = ran.member.client.get(f"/api/v1/jobs/{ran.api_job}", headers=bearer(ran.token)).json()
    assert state["status"] == "done" and state["finished"] is True and state["run_ids"] == end["run_ids"]
    assert state["verdict"]["runs"][0]["answer_mode"] == "constrained" and state["passed"] is None
    assert state["report"] == f"/sandbox/jobs/{ran.api_job}/report"
    # a finished job's stream: where it stands, then the end
    again = ran.member.client.get(f"/api/v1/jobs/{ran.api_job}/events", headers=bearer(ran.token))
    assert [name for name, _ in events(again.text)] == ["progress", "end"]


def test_the_leaderboard_shows_the_embedded_model(ran: Ran) -> None:
    runs = ran.member.client.get("/api/v1/runs", headers=bearer(ran.token)).json()
    assert len(runs) >= 2 and {r["answer_mode"] for r in runs} == {"free", "constrained"}
    model = runs[0]["model"]
    page = ran.member.get("/sandbox/leaderboard?suite=bias&answer_mode=free").text
    assert model in page and "Gender" in page
    constrained = ran.member.get("/sandbox/leaderboard?suite=bias&answer_mode=constrained").text
    assert model in constrained
    board = ran.member.client.get("/api/v1/leaderboard?suite=bias&answer_mode=all", headers=bearer(ran.token)).json()
    assert len(board["rows"]) == 2
    # Beta's leaderboard is its own: empty
    beta = ran.sandbox.visitor("owner@beta.lu")
    assert model not in beta.get("/sandbox/leaderboard?suite=bias").text


def test_two_runs_side_by_side(ran: Ran) -> None:
    runs = {r["answer_mode"]: r["id"] for r in ran.member.client.get("/api/v1/runs", headers=bearer(ran.token)).json()}
    a, b = runs["free"], runs["constrained"]
    page = ran.member.get(f"/sandbox/compare?a={a}&b={b}")
    assert page.status_code == 200
    assert a[:8] in page.text and b[:8] in page.text and "free" in page.text and "constrained" in page.text
    assert "Mean score" in page.text and "Gender" in page.text and "B − A" in page.text
    api = ran.member.client.get(f"/api/v1/compare?a={a}&b={b}", headers=bearer(ran.token)).json()
    titles = [row["title"] for row in api["rows"]]
    assert api["suite"] == "bias" and "Mean score" in titles and "Gender" in titles
    assert ran.member.get(f"/sandbox/compare?a={a}&b=no-such-run").status_code == 404
    # Acme's runs are not Beta's
    beta = ran.sandbox.visitor("owner@beta.lu")
    refused = beta.get(f"/sandbox/compare?a={a}&b={b}")
    assert refused.status_code == 404 and "Mean score" not in refused.text
    assert beta.client.get(f"/api/v1/compare?a={a}&b={b}", headers=bearer(ran.sandbox.pat(beta))).status_code == 404


def test_a_spec_job_ends_with_its_verdict(ran: Ran) -> None:
    state = ran.member.client.get(f"/api/v1/jobs/{ran.spec_job}", headers=bearer(ran.token)).json()
    assert state["status"] == "done" and state["kind"] == "spec", state
    assert state["passed"] is True and state["verdict"]["gates"][0]["threshold"] == "bias.mean"
    page = ran.member.get(f"/sandbox/jobs/{ran.spec_job}").text
    assert "every threshold met" in page and "bias.mean" in page and "ci.yaml" in page
    assert ran.member.get(f"/sandbox/jobs/{ran.spec_job}/report", follow_redirects=True).status_code == 200
