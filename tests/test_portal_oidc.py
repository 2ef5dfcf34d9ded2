"""Sign-in with OpenID Connect against a real provider: npm's certified `oidc-provider`, started on
loopback by the test (tests/oidc/provider.mjs; `make setup-oidc` installs it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from laif.errors import BadInput
from laif.portal.settings import OidcSettings, RoleMapping
from laif.portal.tables import Account, AuditEntry, Membership, Organisation

from .conftest import free_port
from .portal_kit import Seeded, Visitor, make_portal

HERE = Path(__file__).parent / "oidc"
CLIENT_ID, CLIENT_SECRET = "laif-portal", "test-client-secret-not-real"
USERS = {
    "ana": {"email": "ana@acme.lu", "email_verified": True, "name": "Ana Acme", "groups": ["acme-staff"]},
    "ben": {"email": "ben@factory.lu", "email_verified": True, "name": "Ben Advisor", "groups": ["factory-advisors", "x"]},
    "eve": {"email": "eve@nowhere.lu", "email_verified": True, "name": "Eve", "groups": ["strangers"]},
}
MAPPING = RoleMapping.model_validate({"claim": "groups", "rules": [
    {"value": "acme-staff", "organisation": "Acme", "kind": "sme", "role": "sme_member"},
    {"value": "factory-advisors", "organisation": "Luxembourg AI Factory", "kind": "factory", "role": "advisor"},
]})


def start_provider(redirect_uri: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The provider on a free loopback port; returns the process and its issuer URL."""
    node = shutil.which("node")
    if node is None or not (HERE / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("the test OpenID provider is not installed: run `make setup-oidc` (npm install in tests/oidc)")
    port = free_port()
    env = {**os.environ, "OIDC_PORT": str(port), "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": CLIENT_SECRET,
           "OIDC_REDIRECT_URI": redirect_uri, "OIDC_USERS": json.dumps(USERS)}
    with log.open("w") as out:
        proc = subprocess.Popen([node, str(HERE / "provider.mjs")], env=env, stdout=out, stderr=subprocess.STDOUT)
    issuer = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the OpenID provider exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=2).status_code == 200:
                return proc, issuer
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the OpenID provider did not start within 60 s")


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc, issuer = start_provider("http://testserver/auth/oidc/callback", tmp_path_factory.mktemp("oidc") / "provider.log")
    try:
        yield issuer
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture()
def seeded(tmp_path: Path, provider: str) -> Seeded:
    settings = OidcSettings(issuer=provider, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, mapping=MAPPING)
    portal, app = make_portal(f"sqlite:///{tmp_path / 'portal.db'}", oidc=settings)
    return Seeded(portal, app, {})


def sign_in_at_provider(visitor: Visitor, login: str) -> tuple[httpx.Response, str]:
    """Start at the portal, sign in at the provider as `login`, come back; returns the portal's
    answer to the callback and the authorisation URL the portal sent the browser to."""
    start = visitor.client.get("/login/oidc", follow_redirects=False)
    assert start.status_code == 302, start.text
    authorise = start.headers["location"]
    with httpx.Client(timeout=10) as browser:
        response = browser.get(authorise)
        url = str(response.url)
        for _ in range(10):
            if response.status_code in (302, 303):
                url = str(httpx.URL(url).join(response.headers["location"]))
                if url.startswith("http://testserver/"):
                    break
                response = browser.get(url)
            elif "/interaction/" in url and 'name="login"' in response.text:
                uid = urlsplit(url).path.split("/")[2]
                response = browser.post(str(httpx.URL(url).join(f"/interaction/{uid}/login")), data={"login": login})
                url = str(response.url)
            else:
                raise AssertionError(f"the provider answered {response.status_code} at {url}: {response.text[:300]}")
    back = urlsplit(url)
    return visitor.client.get(f"{back.path}?{back.query}", follow_redirects=False), authorise


def test_signing_in_with_the_provider_makes_the_account_in_the_mapped_organisation(seeded: Seeded) -> None:
    visitor = Visitor(seeded.app)
    back, _ = sign_in_at_provider(visitor, "ana")
    assert back.status_code == 303 and back.headers["location"] == "/"
    assert "Acme · SME member" in visitor.get("/").text
    with seeded.portal.session() as s:
        account = s.scalars(select(Account).where(Account.email == "ana@acme.lu")).one()
        assert account.password_hash is None and account.oidc_subject and account.oidc_subject.endswith("|ana")
        org = s.scalars(select(Organisation).where(Organisation.name == "Acme")).one()
        assert s.scalars(select(Membership.role).where(Membership.account_id == account.id,
                                                       Membership.organisation_id == org.id)).all() == ["sme_member"]
        assert s.scalars(select(AuditEntry).where(AuditEntry.action == "signin.oidc")).first() is not None


def test_the_authorisation_request_uses_pkce_with_s256_and_a_nonce(seeded: Seeded) -> None:
    _, authorise = sign_in_at_provider(Visitor(seeded.app), "ben")
    query = parse_qs(urlsplit(authorise).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert query["response_type"] == ["code"] and "nonce" in query and "state" in query


def test_an_advisor_group_gives_the_advisor_role_in_the_factory(seeded: Seeded) -> None:
    visitor = Visitor(seeded.app)
    sign_in_at_provider(visitor, "ben")
    page = visitor.get("/requests").text
    assert "Advisors&#39; queue" in page or "Advisors' queue" in page


def test_a_group_the_mapping_does_not_know_is_refused(seeded: Seeded) -> None:
    visitor = Visitor(seeded.app)
    back, _ = sign_in_at_provider(visitor, "eve")
    assert back.status_code == 403 and "names no group this portal knows" in back.text
    with seeded.portal.session() as s:
        assert s.scalars(select(Account).where(Account.email == "eve@nowhere.lu")).first() is None


def test_a_callback_with_a_forged_state_is_refused(seeded: Seeded) -> None:
    visitor = Visitor(seeded.app)
    visitor.client.get("/login/oidc", follow_redirects=False)
    response = visitor.client.get("/auth/oidc/callback?code=forged&state=forged", follow_redirects=False)
    assert response.status_code == 400
    assert visitor.get("/requests", follow_redirects=False).status_code == 303


def test_a_mapping_file_with_a_bad_role_names_the_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text("claim: groups\nrules:\n  - value: a\n    organisation: Acme\n    role: emperor\n")
    with pytest.raises(BadInput) as caught:
        RoleMapping.load(path)
    assert f"{path}:" in caught.value.message and "rules.0.role" in caught.value.message


def test_the_mapping_example_of_the_docs_is_a_valid_mapping(tmp_path: Path) -> None:
    docs = (Path(__file__).resolve().parents[1] / "docs" / "portal.md").read_text()
    example = next(block for block in docs.split("```yaml\n")[1:] if block.startswith("claim:")).split("```")[0]
    path = tmp_path / "mapping.yaml"
    path.write_text(example)
    mapping = RoleMapping.load(path)
    assert [r.role.value for r in mapping.memberships({"groups": ["acme-staff", "factory-advisors"]})] == [
        "sme_member", "advisor"]
