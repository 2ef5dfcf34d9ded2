"""What the portal's tests share: a portal on a real database, people in two organisations, and a
client that signs in through the pages and reads each form's CSRF token as a browser would."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from laif.portal.app import create_app
from laif.portal.core import Portal
from laif.portal.security import hash_password
from laif.portal.settings import FACTORY_ORGANISATION, OidcSettings, PortalSettings
from laif.portal.tables import Account, Membership, Organisation, Role

PASSWORD = "a long enough password"
SECRET = "test-session-secret-" + "x" * 32
_HASH = hash_password(PASSWORD)  # argon2 is slow on purpose: hash once for every seeded person

#: name -> (organisation, role) of the people every test portal has.
PEOPLE = {
    "admin@factory.lu": (FACTORY_ORGANISATION, Role.platform_admin),
    "advisor@factory.lu": (FACTORY_ORGANISATION, Role.advisor),
    "owner@acme.lu": ("Acme", Role.sme_owner),
    "member@acme.lu": ("Acme", Role.sme_member),
    "owner@beta.lu": ("Beta", Role.sme_owner),
    "operator@factory.lu": (FACTORY_ORGANISATION, Role.sandbox_operator),
    "holder@stats.lu": ("Statec Data", Role.data_holder),
}


def make_portal(db_url: str, oidc: OidcSettings | None = None, max_upload_bytes: int = 1024 * 1024) -> tuple[Portal, FastAPI]:
    settings = PortalSettings(db_url=db_url, secret_key=SECRET, oidc=oidc, max_upload_bytes=max_upload_bytes)
    portal = Portal(settings)
    return portal, create_app(settings, portal)


def seed_people(portal: Portal) -> dict[str, int]:
    """The people of PEOPLE with the password PASSWORD; returns organisation ids by name."""
    with portal.session() as s:
        orgs = {o.name: o for o in s.query(Organisation)}
        for name, kind in (("Acme", "sme"), ("Beta", "sme"), ("Statec Data", "data_holder")):
            if name not in orgs:
                orgs[name] = Organisation(name=name, kind=kind)
                s.add(orgs[name])
        s.flush()
        for email, (org, role) in PEOPLE.items():
            account = Account(email=email, name=email.split("@")[0].title(), password_hash=_HASH)
            s.add(account)
            s.flush()
            s.add(Membership(account_id=account.id, organisation_id=orgs[org].id, role=role.value))
        return {name: org.id for name, org in orgs.items()}


_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class Visitor:
    """A browser-like client: keeps its cookie, and reads the CSRF token from the last page."""

    def __init__(self, app: FastAPI) -> None:
        self.client = TestClient(app, base_url="http://testserver")
        self.token = ""

    def get(self, path: str, **kwargs: object) -> Response:
        response = self.client.get(path, **kwargs)  # type: ignore[arg-type]
        found = _TOKEN.search(response.text)
        if found:
            self.token = found.group(1)
        return response

    def post(self, path: str, data: dict[str, str] | None = None, *, csrf: bool = True, **kwargs: object) -> Response:
        if csrf and not self.token:
            self.get("/login")
        form = {**(data or {}), **({"csrf_token": self.token} if csrf else {})}
        response = self.client.post(path, data=form, follow_redirects=False, **kwargs)  # type: ignore[arg-type]
        found = _TOKEN.search(response.text)
        if found:
            self.token = found.group(1)
        return response

    def sign_in(self, email: str, password: str = PASSWORD) -> Response:
        self.get("/login")
        response = self.post("/login", {"email": email, "password": password, "next": "/"})
        self.get("/")  # the session (and its token) changed at sign-in
        return response


@dataclass
class Seeded:
    portal: Portal
    app: FastAPI
    orgs: dict[str, int]

    def visitor(self, email: str | None = None) -> Visitor:
        visitor = Visitor(self.app)
        if email:
            response = visitor.sign_in(email)
            assert response.status_code == 303, response.text
        return visitor
