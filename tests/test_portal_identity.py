"""The portal's identity and its guards, on a real SQLite database: sign-in, sessions, CSRF, the
throttle, invitations, tokens, organisation scoping and the audit log."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from laif.portal.tables import AccessToken, AuditEntry, Notification, Organisation, RequestMessage, ServiceRequest

from .portal_kit import PASSWORD, Seeded, Visitor, make_portal, seed_people


@pytest.fixture()
def seeded(tmp_path: Path) -> Seeded:
    portal, app = make_portal(f"sqlite:///{tmp_path / 'portal.db'}")
    return Seeded(portal, app, seed_people(portal))


def _count(seeded: Seeded, table: type) -> int:
    with seeded.portal.session() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def _open_request(seeded: Seeded, email: str = "owner@acme.lu", message: str = "We run a chatbot.") -> int:
    visitor = seeded.visitor(email)
    response = visitor.post("/requests", {"service_id": "sandbox", "message": message})
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


# --- the catalogue ------------------------------------------------------------------------
def test_the_catalogue_shows_four_stages_with_their_partners(seeded: Seeded) -> None:
    page = Visitor(seeded.app).get("/").text
    stages = re.findall(r'<h2 id="stage-[^"]+"><span class="step">\d</span> ([^<]+)</h2>', page)
    assert stages == ["Discover", "Get ready", "Build &amp; test", "Scale &amp; run"]
    for partner in ("Luxinnovation", "LNDS", "LuxProvide", "LIST", "University of Luxembourg"):
        assert f"by {partner}" in page


# --- sign-in and sessions --------------------------------------------------------------------
def test_signing_in_sets_a_signed_httponly_samesite_cookie(seeded: Seeded) -> None:
    visitor = Visitor(seeded.app)
    visitor.get("/login")
    response = visitor.post("/login", {"email": "owner@acme.lu", "password": PASSWORD, "next": "/requests"})
    assert response.status_code == 303 and response.headers["location"] == "/requests"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "laif_session=" in cookie
    assert visitor.get("/requests").status_code == 200


def test_a_wrong_password_is_refused_and_signs_nobody_in(seeded: Seeded) -> None:
    visitor = Visitor(seeded.app)
    visitor.get("/login")
    response = visitor.post("/login", {"email": "owner@acme.lu", "password": "not the password", "next": "/"})
    assert response.status_code == 401 and "Wrong e-mail or password" in response.text
    assert visitor.get("/requests", follow_redirects=False).headers["location"].startswith("/login")


def test_signing_in_replaces_the_session_so_a_planted_id_is_worthless(seeded: Seeded) -> None:
    visitor = Visitor(seeded.app)
    visitor.get("/login")
    planted = visitor.client.cookies["laif_session"]
    visitor.post("/login", {"email": "owner@acme.lu", "password": PASSWORD, "next": "/"})
    assert visitor.client.cookies["laif_session"] != planted
    attacker = Visitor(seeded.app)
    attacker.client.cookies.set("laif_session", planted)
    assert attacker.get("/requests", follow_redirects=False).status_code == 303


def test_a_forged_cookie_is_ignored(seeded: Seeded) -> None:
    visitor = Visitor(seeded.app)
    visitor.client.cookies.set("laif_session", "made-up.value")
    assert visitor.get("/requests", follow_redirects=False).headers["location"].startswith("/login")


def test_signing_out_ends_the_session_on_the_server(seeded: Seeded) -> None:
    visitor = seeded.visitor("owner@acme.lu")
    old = visitor.client.cookies["laif_session"]
    visitor.post("/logout")
    replay = Visitor(seeded.app)
    replay.client.cookies.set("laif_session", old)
    assert replay.get("/requests", follow_redirects=False).status_code == 303


def test_after_sign_in_only_a_path_of_this_site_is_followed(seeded: Seeded) -> None:
    visitor = Visitor(seeded.app)
    visitor.get("/login")
    response = visitor.post("/login", {"email": "owner@acme.lu", "password": PASSWORD, "next": "//evil.example/"})
    assert response.headers["location"] == "/"


def test_the_throttle_refuses_even_the_right_password_after_five_failures(seeded: Seeded) -> None:
    visitor = Visitor(seeded.app)
    visitor.get("/login")
    for _ in range(5):
        assert visitor.post("/login", {"email": "member@acme.lu", "password": "wrong", "next": "/"}).status_code == 401
    response = visitor.post("/login", {"email": "member@acme.lu", "password": PASSWORD, "next": "/"})
    assert response.status_code == 429 and "Too many failed attempts" in response.text


# --- CSRF, origin, size -----------------------------------------------------------------------
def test_a_form_without_its_csrf_token_is_refused_and_writes_nothing(seeded: Seeded) -> None:
    visitor = seeded.visitor("owner@acme.lu")
    response = visitor.post("/requests", {"service_id": "sandbox"}, csrf=False)
    assert response.status_code == 403 and "security token" in response.text
    assert _count(seeded, ServiceRequest) == 0


def test_a_form_with_another_sessions_token_is_refused(seeded: Seeded) -> None:
    victim = seeded.visitor("owner@acme.lu")
    attacker = seeded.visitor("owner@beta.lu")
    victim.token = attacker.token
    assert victim.post("/requests", {"service_id": "sandbox"}).status_code == 403
    assert _count(seeded, ServiceRequest) == 0


def test_a_form_sent_from_another_site_is_refused(seeded: Seeded) -> None:
    visitor = seeded.visitor("owner@acme.lu")
    response = visitor.post("/requests", {"service_id": "sandbox"}, headers={"origin": "https://evil.example"})
    assert response.status_code == 403
    assert _count(seeded, ServiceRequest) == 0


def test_a_body_over_the_upload_limit_is_refused_and_writes_nothing(seeded: Seeded) -> None:
    visitor = seeded.visitor("owner@acme.lu")
    response = visitor.post("/requests", {"service_id": "sandbox", "message": "x" * (1024 * 1024 + 10)})
    assert response.status_code == 413
    assert _count(seeded, ServiceRequest) == 0


# --- the first admin -----------------------------------------------------------------------------
def test_the_first_admin_gets_a_one_time_password_that_must_be_replaced(tmp_path: Path) -> None:
    portal, app = make_portal(f"sqlite:///{tmp_path / 'portal.db'}")
    lost = portal.first_admin_password()
    # Asked again before the admin chose a password (the first was lost): a new one replaces it.
    password = portal.first_admin_password()
    assert lost and password and password != lost
    visitor = Visitor(app)
    visitor.get("/login")
    assert visitor.post("/login", {"email": "admin", "password": lost, "next": "/"}).status_code == 401
    assert visitor.post("/login", {"email": "admin", "password": password, "next": "/"}).headers["location"] == "/password"
    assert visitor.get("/members", follow_redirects=False).headers["location"] == "/password"
    visitor.get("/password")
    new = "my own admin password"
    response = visitor.post("/password", {"current": password, "new": new, "repeat": new})
    assert response.status_code == 303
    assert visitor.get("/members").status_code == 200
    again = Visitor(app)
    again.get("/login")
    assert again.post("/login", {"email": "admin", "password": password, "next": "/"}).status_code == 401
    assert portal.first_admin_password() is None  # the admin has its own password now


def test_a_short_new_password_is_refused(seeded: Seeded) -> None:
    visitor = seeded.visitor("member@acme.lu")
    visitor.get("/password")
    response = visitor.post("/password", {"current": PASSWORD, "new": "short", "repeat": "short"})
    assert response.status_code == 400 and "at least 12 characters" in response.text


# --- invitations ----------------------------------------------------------------------------------
def _invite(visitor: Visitor, email: str, role: str, organisation_id: int | None = None) -> str:
    visitor.get("/members")
    data = {"email": email, "role": role}
    if organisation_id is not None:
        data["organisation_id"] = str(organisation_id)
    response = visitor.post("/members/invitations", data)
    assert response.status_code == 200, response.text
    found = re.search(r'id="invite-link">http://testserver(/invite/[^<]+)<', response.text)
    assert found
    return found.group(1)


def test_an_invitation_link_makes_an_account_in_its_organisation_once(seeded: Seeded) -> None:
    link = _invite(seeded.visitor("owner@acme.lu"), "new@acme.lu", "sme_member")
    guest = Visitor(seeded.app)
    assert "Join Acme" in guest.get(link).text
    assert guest.post(link, {"name": "New Person", "password": "a fresh long password"}).status_code == 303
    assert "Acme · SME member" in guest.get("/").text
    again = Visitor(seeded.app)
    assert again.get(link).status_code == 404


def test_an_sme_owner_cannot_invite_an_advisor(seeded: Seeded) -> None:
    owner = seeded.visitor("owner@acme.lu")
    owner.get("/members")
    response = owner.post("/members/invitations", {"email": "x@acme.lu", "role": "advisor"})
    assert response.status_code == 403


def test_a_member_trying_an_admin_action_is_refused_and_nothing_is_written(seeded: Seeded) -> None:
    member = seeded.visitor("member@acme.lu")
    before = _count(seeded, Organisation)
    assert member.post("/admin/organisations", {"name": "Sneaky", "kind": "sme"}).status_code == 403
    assert member.get("/admin/audit").status_code == 403
    assert member.get("/members").status_code == 403
    assert _count(seeded, Organisation) == before


# --- service requests and isolation -----------------------------------------------------------------
def test_a_request_reaches_the_advisors_and_moves_along_the_queue(seeded: Seeded) -> None:
    request_id = _open_request(seeded)
    advisor = seeded.visitor("advisor@factory.lu")
    assert "New request from Acme: Trustworthy-AI sandbox" in advisor.get("/notifications").text
    assert "We run a chatbot." in advisor.get(f"/requests/{request_id}").text
    for status in ("in_discussion", "accepted", "delivered"):
        assert advisor.post(f"/requests/{request_id}/status", {"status": status}).status_code == 303
    owner = seeded.visitor("owner@acme.lu")
    assert "is now delivered" in owner.get("/notifications").text


def test_a_request_cannot_skip_back_and_an_sme_cannot_move_it(seeded: Seeded) -> None:
    request_id = _open_request(seeded)
    owner = seeded.visitor("owner@acme.lu")
    owner.get(f"/requests/{request_id}")
    assert owner.post(f"/requests/{request_id}/status", {"status": "accepted"}).status_code == 403
    advisor = seeded.visitor("advisor@factory.lu")
    advisor.get(f"/requests/{request_id}")
    advisor.post(f"/requests/{request_id}/status", {"status": "declined"})
    response = advisor.post(f"/requests/{request_id}/status", {"status": "accepted"})
    assert response.status_code == 400 and "cannot become accepted" in response.text


def test_messages_go_both_ways_and_notify_the_other_side(seeded: Seeded) -> None:
    request_id = _open_request(seeded)
    advisor = seeded.visitor("advisor@factory.lu")
    advisor.get(f"/requests/{request_id}")
    reply = advisor.post(f"/requests/{request_id}/messages", {"body": "Which languages?"}, headers={"HX-Request": "true"})
    assert reply.status_code == 200 and "Which languages?" in reply.text and "<html" not in reply.text
    owner = seeded.visitor("owner@acme.lu")
    assert "New message on your request" in owner.get("/notifications").text
    assert "Which languages?" in owner.get(f"/requests/{request_id}").text


def test_a_script_in_a_message_is_shown_as_text(seeded: Seeded) -> None:
    request_id = _open_request(seeded, message="<script>alert('x')</script>")
    page = seeded.visitor("advisor@factory.lu").get(f"/requests/{request_id}").text
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page


def test_another_organisation_sees_none_of_acmes_request(seeded: Seeded) -> None:
    request_id = _open_request(seeded, message="Acme's secret plan")
    beta = seeded.visitor("owner@beta.lu")
    assert beta.get(f"/requests/{request_id}").status_code == 404
    assert beta.get(f"/requests/{request_id}/messages").status_code == 404
    beta.get("/requests")
    assert beta.post(f"/requests/{request_id}/messages", {"body": "hi"}).status_code == 404
    assert "secret plan" not in beta.get("/requests").text
    with seeded.portal.session() as s:
        assert s.scalar(select(func.count()).select_from(RequestMessage)) == 1
        assert s.scalars(select(Notification).where(Notification.text.contains("Beta"))).first() is None


# --- personal access tokens and the JSON API ---------------------------------------------------------
def _new_token(visitor: Visitor) -> str:
    visitor.get("/account/tokens")
    response = visitor.post("/account/tokens", {"name": "ci"})
    found = re.search(r'class="token">(laif_pat_[^<]+)<', response.text)
    assert found
    return found.group(1)


def test_a_token_is_kept_as_a_hash_and_opens_the_api(seeded: Seeded) -> None:
    token = _new_token(seeded.visitor("owner@acme.lu"))
    with seeded.portal.session() as s:
        stored = s.scalars(select(AccessToken)).one()
        assert token not in (stored.token_hash, stored.prefix) and len(stored.token_hash) == 64
    api = Visitor(seeded.app).client
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json() == {"email": "owner@acme.lu", "name": "Owner", "organisation": "Acme", "role": "sme_owner"}
    made = api.post("/api/v1/requests", json={"service_id": "compute", "message": "GPU hours"},
                    headers={"Authorization": f"Bearer {token}"})
    assert made.status_code == 201 and made.json()["status"] == "new"


def test_a_wrong_or_revoked_token_gets_401(seeded: Seeded) -> None:
    owner = seeded.visitor("owner@acme.lu")
    token = _new_token(owner)
    api = Visitor(seeded.app).client
    assert api.get("/api/v1/me", headers={"Authorization": "Bearer laif_pat_wrong"}).status_code == 401
    with seeded.portal.session() as s:
        token_id = s.scalars(select(AccessToken.id)).one()
    owner.get("/account/tokens")
    assert owner.post(f"/account/tokens/{token_id}/revoke").status_code == 303
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_the_api_does_not_take_the_session_cookie(seeded: Seeded) -> None:
    owner = seeded.visitor("owner@acme.lu")
    assert owner.client.get("/api/v1/me").status_code == 401


def test_the_api_hides_another_organisations_request(seeded: Seeded) -> None:
    request_id = _open_request(seeded)
    token = _new_token(seeded.visitor("owner@beta.lu"))
    api = Visitor(seeded.app).client
    headers = {"Authorization": f"Bearer {token}"}
    assert api.get(f"/api/v1/requests/{request_id}", headers=headers).status_code == 404
    assert api.get("/api/v1/requests", headers=headers).json() == []
    assert api.post(f"/api/v1/requests/{request_id}/messages", json={"body": "x"}, headers=headers).status_code == 404


def test_the_api_is_described_by_openapi(seeded: Seeded) -> None:
    spec = Visitor(seeded.app).client.get("/api/v1/openapi.json").json()
    assert {"/api/v1/me", "/api/v1/requests", "/api/v1/requests/{request_id}/status"} <= set(spec["paths"])
    assert not any(path.startswith("/requests") for path in spec["paths"])


# --- the audit log ------------------------------------------------------------------------------------
def test_every_change_is_in_the_audit_log_with_who_and_where(seeded: Seeded) -> None:
    request_id = _open_request(seeded)
    advisor = seeded.visitor("advisor@factory.lu")
    advisor.get(f"/requests/{request_id}")
    advisor.post(f"/requests/{request_id}/status", {"status": "in_discussion"})
    with seeded.portal.session() as s:
        entries = [(e.actor, e.action, e.target, e.address) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert ("owner@acme.lu", "request.open", f"request:{request_id}", "testclient") in entries
    assert ("advisor@factory.lu", "request.status", f"request:{request_id}", "testclient") in entries
    assert ("owner@acme.lu", "signin", entries[0][2], "testclient") == entries[0]


def test_reading_notifications_and_signing_out_are_in_the_audit_log(seeded: Seeded) -> None:
    request_id = _open_request(seeded)
    advisor = seeded.visitor("advisor@factory.lu")
    advisor.get(f"/requests/{request_id}")
    advisor.post(f"/requests/{request_id}/messages", {"body": "Which languages?"})
    owner = seeded.visitor("owner@acme.lu")
    owner.get("/notifications")
    assert owner.post("/notifications/read").status_code == 303
    owner.post("/notifications/read")  # nothing left unread: no second entry
    assert owner.post("/logout").status_code == 303
    with seeded.portal.session() as s:
        entries = [(e.actor, e.action, e.detail) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert [e for e in entries if e[1] == "notifications.read"] == [("owner@acme.lu", "notifications.read", {"count": 1})]
    assert entries[-1][:2] == ("owner@acme.lu", "signout")


def test_admins_export_the_audit_log(seeded: Seeded) -> None:
    _open_request(seeded)
    admin = seeded.visitor("admin@factory.lu")
    lines = admin.get("/admin/audit.jsonl").text.splitlines()
    assert any(json.loads(line)["action"] == "request.open" for line in lines)
    csv_text = admin.get("/admin/audit.csv").text
    assert csv_text.startswith("id,at,actor,account_id,organisation_id,action,target,detail,address")
    assert "request.open" in admin.get("/admin/audit").text


def test_an_expired_invitation_is_refused(seeded: Seeded) -> None:
    from datetime import timedelta

    from laif.portal.tables import Invitation, now

    link = _invite(seeded.visitor("owner@acme.lu"), "late@acme.lu", "sme_member")
    with seeded.portal.session() as s:
        for row in s.scalars(select(Invitation)):
            row.expires_at = now() - timedelta(minutes=1)
    guest = Visitor(seeded.app)
    assert guest.get(link).status_code == 404
    guest.get("/login")
    assert guest.post(link, {"name": "Late", "password": "a fresh long password"}).status_code == 400


def test_an_expired_session_signs_nobody_in(seeded: Seeded) -> None:
    from datetime import timedelta

    from laif.portal.tables import WebSession, now

    visitor = seeded.visitor("owner@acme.lu")
    with seeded.portal.session() as s:
        for row in s.scalars(select(WebSession)):
            row.expires_at = now() - timedelta(seconds=1)
    assert visitor.get("/requests", follow_redirects=False).headers["location"].startswith("/login")
