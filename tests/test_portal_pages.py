"""The portal's pages work offline and are served with protective headers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from laif.portal import migrate

from .portal_kit import Seeded, Visitor, make_portal, seed_people


@pytest.fixture()
def seeded(tmp_path: Path) -> Seeded:
    portal, app = make_portal(f"sqlite:///{tmp_path / 'portal.db'}")
    return Seeded(portal, app, seed_people(portal))


def test_every_script_and_stylesheet_comes_from_the_package(seeded: Seeded) -> None:
    visitor = seeded.visitor("owner@acme.lu")
    for path in ("/", "/requests", "/services/sandbox", "/account/tokens", "/login"):
        page = visitor.get(path).text
        for url in re.findall(r'(?:src|href)="([^"]+)"', page):
            assert not re.match(r"(https?:)?//", url), (path, url)
    for asset in ("/static/vendor/htmx-2.0.11.min.js", "/static/portal.css", "/static/vendor/htmx-LICENSE.txt"):
        assert visitor.client.get(asset).status_code == 200, asset


def test_pages_forbid_framing_and_scripts_from_elsewhere(seeded: Seeded) -> None:
    headers = Visitor(seeded.app).get("/").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


def test_an_unknown_page_is_a_404_page(seeded: Seeded) -> None:
    response = Visitor(seeded.app).get("/no/such/page")
    assert response.status_code == 404 and "There is no such page." in response.text


def test_an_unknown_service_is_a_404(seeded: Seeded) -> None:
    visitor = seeded.visitor("owner@acme.lu")
    assert visitor.get("/services/teleportation").status_code == 404
    visitor.get("/")
    assert visitor.post("/requests", {"service_id": "teleportation"}).status_code == 404


def test_factory_staff_answer_requests_rather_than_open_them(seeded: Seeded) -> None:
    advisor = seeded.visitor("advisor@factory.lu")
    assert "Request this service" not in advisor.get("/").text
    response = advisor.post("/requests", {"service_id": "sandbox"})
    assert response.status_code == 400 and "Factory staff answer requests" in response.text


def test_the_health_page_names_the_schema_revision(seeded: Seeded) -> None:
    health = Visitor(seeded.app).client.get("/healthz").json()
    assert health == {"status": "ok", "schema": migrate.head(), "newest": migrate.head()}


def test_a_member_of_two_organisations_switches_between_them(seeded: Seeded) -> None:
    from laif.portal.tables import Account, Membership, Role

    with seeded.portal.session() as s:
        account = s.query(Account).filter(Account.email == "member@acme.lu").one()
        s.add(Membership(account_id=account.id, organisation_id=seeded.orgs["Beta"], role=Role.sme_member.value))
    visitor = seeded.visitor("member@acme.lu")
    assert "Acme · SME member" in visitor.get("/").text
    visitor.post("/organisation", {"organisation_id": str(seeded.orgs["Beta"])})
    assert re.search(r'<option value="\d+" selected>Beta', visitor.get("/").text)
    assert visitor.post("/organisation", {"organisation_id": "9999"}).status_code == 404


def test_an_error_page_still_shows_who_is_signed_in(seeded: Seeded) -> None:
    page = seeded.visitor("owner@acme.lu").get("/no/such/page").text
    assert "Acme · SME owner" in page and "Sign out" in page
