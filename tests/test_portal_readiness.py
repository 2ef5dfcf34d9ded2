"""The readiness pages: the questionnaire answered through the form, the results with the
recommended services and their request buttons, progress between two assessments, refusals of bad
answers with nothing kept, the JSON API, and another organisation's assessments out of reach."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from markupsafe import escape
from sqlalchemy import func, select

from laif._yaml import load_yaml
from laif.portal import readiness_pages
from laif.portal.catalogue import service_catalogue
from laif.portal.readiness_tables import ReadinessAssessment
from laif.portal.tables import AuditEntry, ServiceRequest
from laif.readiness.rules import load_services
from laif.services import readiness as service

from .portal_kit import Seeded, Visitor, make_portal, seed_people

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "readiness"


@pytest.fixture()
def seeded(tmp_path: Path) -> Seeded:
    portal, app = make_portal(f"sqlite:///{tmp_path / 'portal.db'}")
    return Seeded(portal, app, seed_people(portal))


def _answers(name: str = "logistics.yaml") -> dict[str, Any]:
    data = dict(load_yaml(EXAMPLES / name))
    data.pop("organisation", None)
    return {k: (list(v) if isinstance(v, list) else str(v)) for k, v in data.items()}


def _count(seeded: Seeded) -> int:
    with seeded.portal.session() as s:
        return int(s.scalar(select(func.count()).select_from(ReadinessAssessment)) or 0)


def _take(visitor: Visitor, answers: dict[str, Any], lang: str = "en") -> Any:
    visitor.get(f"/readiness/new?lang={lang}")
    return visitor.post("/readiness", {**answers, "lang": lang})


def test_the_form_offers_every_question_with_labelled_options(seeded: Seeded) -> None:
    page = seeded.visitor("member@acme.lu").get("/readiness/new").text
    for q in service.questions("en"):
        assert f'id="q-{q["id"]}"' in page
        kind = "checkbox" if q["kind"] == "multi" else "radio"
        for option in q["options"]:
            assert f'type="{kind}" id="q-{q["id"]}-{option["key"]}"' in page
            assert f'<label for="q-{q["id"]}-{option["key"]}"' in page
    french = seeded.visitor("member@acme.lu").get("/readiness/new?lang=fr").text
    assert str(escape(service.questions("fr")[0]["text"])) in french and 'lang="fr"' in french
    assert seeded.visitor("member@acme.lu").get("/readiness/new?lang=xx").status_code == 400


def test_answering_through_the_form_shows_results_and_requestable_services(seeded: Seeded) -> None:
    member = seeded.visitor("member@acme.lu")
    response = _take(member, _answers())
    assert response.status_code == 303, response.text
    path = response.headers["location"]
    page = member.get(path).text
    expected = service.assess(service.check_answers(_answers()), "someone else", keep=False,
                              db_url=f"sqlite:///{seeded.portal.settings.db_url.split('///')[1]}.other")
    assert f"Overall: {expected['scores']['overall']:.1f} %" in page
    for d in expected["scores"]["dimensions"]:
        assert str(escape(d["title"])) in page
    forms = re.findall(r'<form method="post" action="/requests">(.*?)</form>', page, re.S)
    assert forms, "no request button"
    routed = {e["id"] for stage in expected["roadmap"] for e in stage["services"]}
    ids = {re.search(r'name="service_id" value="([^"]+)"', f).group(1) for f in forms}  # type: ignore[union-attr]
    assert ids == {readiness_pages.CATALOGUE_OF[s] for s in routed}
    assert all("Request this service" in f for f in forms)

    # A request opened from one of them lands in the advisors' queue, with the reason.
    chosen = forms[0]
    service_id = re.search(r'name="service_id" value="([^"]+)"', chosen).group(1)  # type: ignore[union-attr]
    message = html.unescape(re.search(r'name="message" value="([^"]*)"', chosen).group(1))  # type: ignore[union-attr]
    assert "readiness assessment T0" in message
    opened = member.post("/requests", {"service_id": service_id, "message": message})
    assert opened.status_code == 303
    advisor = seeded.visitor("advisor@factory.lu")
    queue = advisor.get("/requests").text
    assert str(escape(service_catalogue().get(service_id).title)) in queue  # type: ignore[union-attr]
    assert "readiness assessment T0" in advisor.get(opened.headers["location"]).text
    with seeded.portal.session() as s:
        assert s.scalars(select(ServiceRequest.service_id)).all() == [service_id]
        assert s.scalars(select(AuditEntry.action).where(AuditEntry.action == "readiness.assess")).all()


def test_every_routed_service_is_in_the_catalogue() -> None:
    catalogue = {s.id for s in service_catalogue().services}
    assert set(load_services().services) == set(readiness_pages.CATALOGUE_OF)
    assert set(readiness_pages.CATALOGUE_OF.values()) <= catalogue


def test_a_second_assessment_shows_progress_since_the_first(seeded: Seeded) -> None:
    owner = seeded.visitor("owner@acme.lu")
    first = _take(owner, _answers()).headers["location"]
    better = {**_answers(), "governance.controls": ["usage_policy", "human_oversight", "testing"]}
    again = owner.get("/readiness/new").text
    assert re.search(r'value="transport"\s+checked', again), "the last answers are filled in"
    second = owner.post("/readiness", {**better, "lang": "en"})
    assert second.status_code == 303, second.text
    page = owner.get(second.headers["location"]).text
    assert "Readiness assessment T1" in page and "since T0" in page
    home = owner.get("/readiness").text
    assert f'href="{first}">T0' in home and f'href="{second.headers["location"]}">T1' in home
    api = owner.client  # the history through the JSON API too
    owner.get("/account/tokens")
    token = owner.post("/account/tokens", {"name": "ci"}).text.split('class="token">', 1)[1].split("<", 1)[0]
    rows = api.get("/api/v1/readiness/assessments", headers={"Authorization": f"Bearer {token}"}).json()
    assert [r["label"] for r in rows] == ["T0", "T1"] and rows[1]["overall"] > rows[0]["overall"]


def test_missing_and_invalid_answers_are_named_and_nothing_is_kept(seeded: Seeded) -> None:
    member = seeded.visitor("member@acme.lu")
    answers = _answers()
    del answers["strategy.plan"]
    answers["readiness.security"] = "<script>alert(1)</script>"
    answers["governance.controls"] = ["none", "testing"]
    response = _take(member, answers)
    assert response.status_code == 400
    page = response.text
    assert "3 answers need your attention; nothing was kept." in page
    assert 'href="#q-strategy.plan"' in page and "missing required answer" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert str(escape("'none' cannot be ticked with other options")) in page
    assert re.search(r'value="transport"\s+checked', page), "the answers given are kept in the form"
    response = member.post("/readiness", {"no.such.question": "x", "lang": "en"})
    assert response.status_code == 400 and "unknown question id" in response.text
    assert _count(seeded) == 0
    with seeded.portal.session() as s:
        assert not s.scalars(select(AuditEntry).where(AuditEntry.action == "readiness.assess")).all()


def test_the_api_takes_an_assessment_and_refuses_bad_answers(seeded: Seeded) -> None:
    owner = seeded.visitor("owner@acme.lu")
    owner.get("/account/tokens")
    token = owner.post("/account/tokens", {"name": "ci"}).text.split('class="token">', 1)[1].split("<", 1)[0]
    auth = {"Authorization": f"Bearer {token}"}
    client = owner.client
    questions = client.get("/api/v1/readiness/questions?lang=fr", headers=auth).json()
    assert questions["language"] == "fr" and len(questions["questions"]) == len(service.questions("fr"))
    bad = client.post("/api/v1/readiness/assessments", json={"answers": {"strategy.plan": "zzz"}}, headers=auth)
    assert bad.status_code == 400
    problems = {p["question"]: p["problem"] for p in bad.json()["problems"]}
    assert "'zzz' is not an option" in problems["strategy.plan"] and "missing required" in problems["profile.sector"]
    assert _count(seeded) == 0
    made = client.post("/api/v1/readiness/assessments", json={"answers": _answers(), "lang": "fr"}, headers=auth)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["label"] == "T0" and body["result"]["language"] == "fr" and body["recommended_services"]
    assert set(body["recommended_services"]) <= {s.id for s in service_catalogue().services}
    again = client.get(f"/api/v1/readiness/assessments/{body['id']}", headers=auth).json()
    assert again["result"]["scores"] == body["result"]["scores"]
    assert client.get("/api/v1/readiness/questions?lang=xx", headers=auth).status_code == 400
    assert client.get("/api/v1/readiness/assessments").status_code == 401


def test_another_organisations_assessments_are_out_of_reach(seeded: Seeded) -> None:
    beta = seeded.visitor("owner@beta.lu")
    secret = "BETA-READINESS-SECRET"
    location = _take(beta, _answers("fintech.yaml")).headers["location"]
    beta_id = location.rsplit("/", 1)[1]
    with seeded.portal.session() as s:  # a marker in Beta's stored result, to look for in every answer
        row = s.get(ReadinessAssessment, int(beta_id))
        assert row is not None
        row.result = {**row.result, "organisation": secret}

    acme = seeded.visitor("member@acme.lu")
    acme.get("/account/tokens")
    token = acme.post("/account/tokens", {"name": "ci"}).text.split('class="token">', 1)[1].split("<", 1)[0]
    walked = []
    for route in (*readiness_pages.router.routes, *readiness_pages.api.routes):
        assert isinstance(route, APIRoute)
        if "{assessment_id}" not in route.path:
            continue
        path = route.path.replace("{assessment_id}", beta_id)
        for method in route.methods or ():
            if path.startswith("/api/"):
                response = acme.client.request(method, path, headers={"Authorization": f"Bearer {token}"})
            else:
                response = acme.client.request(method, path, follow_redirects=False)
            walked.append((method, path, response.status_code))
            assert response.status_code in (403, 404), walked[-1]
            assert secret not in response.text and "Beta" not in response.text
    assert len(walked) >= 3
    assert secret not in acme.get("/readiness").text and "T0" not in acme.get("/readiness").text


def test_a_visitor_is_sent_to_sign_in(seeded: Seeded) -> None:
    visitor = Visitor(seeded.app)
    response = visitor.client.get("/readiness/new", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
