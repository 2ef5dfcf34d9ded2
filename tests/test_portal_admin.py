"""The admin pages: health, users and roles, organisations and every organisation's job queue, as
a platform admin, as a sandbox operator and as SME people (403 everywhere, nothing written);
deactivation ends a session at once; role changes are audited; ids of another organisation's
objects reveal nothing."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import func, select

from laif.portal import admin_pages, migrate
from laif.portal.jobs_tables import Job
from laif.portal.tables import Account, AuditEntry, Membership, Organisation, Role, now

from .portal_kit import Seeded, Visitor, make_portal, seed_people

SECRET_TEXT = "BETA-ADMIN-SECRET"


@pytest.fixture()
def seeded(tmp_path: Path) -> Seeded:
    portal, app = make_portal(f"sqlite:///{tmp_path / 'portal.db'}")
    return Seeded(portal, app, seed_people(portal))


def _job(seeded: Seeded, org: str, status: str = "queued", worker: str | None = None) -> int:
    with seeded.portal.session() as s:
        job = Job(organisation_id=seeded.orgs[org], kind="options", params={"note": SECRET_TEXT}, status=status,
                  stage=status, message=SECRET_TEXT, run_ids=[], worker=worker,
                  heartbeat_at=now() if worker else None, started_at=now() if worker else None)
        s.add(job)
        s.flush()
        return job.id


def _account(seeded: Seeded, email: str) -> Account:
    with seeded.portal.session() as s:
        found = s.scalars(select(Account).where(Account.email == email)).one()
        s.expunge(found)
        return found


def _membership(seeded: Seeded, email: str) -> int:
    with seeded.portal.session() as s:
        return int(s.scalars(select(Membership.id).join(Account, Account.id == Membership.account_id)
                             .where(Account.email == email)).one())


def _audit_count(seeded: Seeded) -> int:
    with seeded.portal.session() as s:
        return int(s.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def _token(visitor: Visitor) -> str:
    visitor.get("/account/tokens")
    page = visitor.post("/account/tokens", {"name": "admin-test"}).text
    return page.split('class="token">', 1)[1].split("<", 1)[0]


def test_the_health_page_reports_schema_database_workers_queue_disk_and_versions(seeded: Seeded) -> None:
    _job(seeded, "Acme")
    _job(seeded, "Beta", "running", worker="host:1:w1")
    admin = seeded.visitor("admin@factory.lu")
    page = admin.get("/admin").text
    assert f"revision {migrate.head()}, newest {migrate.head()}" in page
    assert "reachable" in page and "sqlite" in page
    assert "1 queued" in page and "1 running" in page and "host:1:w1" in page
    assert "GiB free" in page and "laif" in page and "sqlalchemy" in page
    for link in ("/admin/users", "/admin/organisations", "/admin/audit", "/admin/jobs"):
        assert f'href="{link}"' in page
    report = admin.client.get("/api/v1/admin/health", headers={"Authorization": f"Bearer {_token(admin)}"}).json()
    assert report["schema"] == {"current": migrate.head(), "newest": migrate.head()}
    assert report["database"]["reachable"] and report["queue"]["queued"] == 1
    assert report["workers"]["live"] == ["host:1:w1"] and report["disk"]["free_bytes"] > 0
    with seeded.portal.session() as s:  # a running job whose worker went silent shows as stale
        job = s.scalars(select(Job).where(Job.status == "running")).one()
        job.heartbeat_at = now() - timedelta(hours=1)
    assert "Some checks need attention" in admin.get("/admin").text


def test_the_admin_lists_users_and_organisations(seeded: Seeded) -> None:
    admin = seeded.visitor("admin@factory.lu")
    users = admin.get("/admin/users").text
    for email in ("member@acme.lu", "owner@beta.lu", "holder@stats.lu"):
        assert email in users
    assert 'label for="role-' in users and "Deactivate" in users
    orgs = admin.get("/admin/organisations").text
    assert "Acme" in orgs and "Statec Data" in orgs and 'action="/admin/organisations"' in orgs
    made = admin.post("/admin/organisations", {"name": "Gamma", "kind": "sme"})
    assert made.status_code == 303 and "Gamma" in admin.get("/admin/organisations").text
    auth = {"Authorization": f"Bearer {_token(admin)}"}
    api_orgs = admin.client.get("/api/v1/admin/organisations", headers=auth).json()
    assert {"Acme", "Beta", "Gamma"} <= {o["name"] for o in api_orgs}
    created = admin.client.post("/api/v1/admin/organisations", json={"name": "Delta", "kind": "authority"}, headers=auth)
    assert created.status_code == 201 and created.json()["kind"] == "authority"
    bad = admin.client.post("/api/v1/admin/organisations", json={"name": "Eps", "kind": "spaceship"}, headers=auth)
    assert bad.status_code == 400 and "spaceship" in bad.json()["error"]
    api_users = admin.client.get("/api/v1/admin/users", headers=auth).json()
    assert {"member@acme.lu", "admin@factory.lu"} <= {u["email"] for u in api_users}


def test_deactivating_a_user_ends_their_session_and_tokens_at_once(seeded: Seeded) -> None:
    member = seeded.visitor("member@acme.lu")
    token = _token(member)
    assert member.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert member.client.get("/requests", follow_redirects=False).status_code == 200
    admin = seeded.visitor("admin@factory.lu")
    account = _account(seeded, "member@acme.lu")
    admin.get("/admin/users")
    assert admin.post(f"/admin/users/{account.id}/deactivate").status_code == 303
    assert "deactivated" in admin.get("/admin/users").text
    gone = member.client.get("/requests", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"].startswith("/login")
    assert member.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert Visitor(seeded.app).sign_in("member@acme.lu").status_code == 401
    with seeded.portal.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "account.deactivate")).one()
        assert entry.target == f"account:{account.id}" and entry.actor == "admin@factory.lu"
    admin.get("/admin/users")
    assert admin.post(f"/admin/users/{account.id}/reactivate").status_code == 303
    assert seeded.visitor("member@acme.lu").get("/requests").status_code == 200


def test_an_admin_cannot_lock_the_portal_out(seeded: Seeded) -> None:
    admin = seeded.visitor("admin@factory.lu")
    me = _account(seeded, "admin@factory.lu")
    admin.get("/admin/users")
    response = admin.post(f"/admin/users/{me.id}/deactivate")
    assert response.status_code == 400 and "your own account" in response.text
    admin.get("/admin/users")
    response = admin.post(f"/admin/memberships/{_membership(seeded, 'admin@factory.lu')}/role", {"role": "advisor"})
    assert response.status_code == 400 and "last platform admin" in response.text
    admin.get("/admin/users")
    response = admin.post(f"/admin/memberships/{_membership(seeded, 'member@acme.lu')}/role", {"role": "wizard"})
    assert response.status_code == 400 and "Unknown role" in response.text
    with seeded.portal.session() as s:
        assert s.scalars(select(Account.active).where(Account.id == me.id)).one()


def test_a_role_change_is_audited_and_takes_effect(seeded: Seeded) -> None:
    member = seeded.visitor("member@acme.lu")
    assert member.get("/members").status_code == 403
    admin = seeded.visitor("admin@factory.lu")
    admin.get("/admin/users")
    membership = _membership(seeded, "member@acme.lu")
    assert admin.post(f"/admin/memberships/{membership}/role", {"role": "sme_owner"}).status_code == 303
    with seeded.portal.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "membership.role")).one()
        assert entry.target == f"membership:{membership}" and entry.actor == "admin@factory.lu"
        assert entry.detail["before"] == "sme_member" and entry.detail["after"] == "sme_owner"
    assert member.get("/members").status_code == 200  # the next request sees the new role
    auth = {"Authorization": f"Bearer {_token(admin)}"}
    back = admin.client.post(f"/api/v1/admin/memberships/{membership}/role", json={"role": "sme_member"}, headers=auth)
    assert back.status_code == 200 and back.json()["memberships"][0]["role"] == "sme_member"
    assert "membership.role" in admin.get("/admin/audit").text


def test_operators_see_and_cancel_every_organisations_jobs(seeded: Seeded) -> None:
    acme_job = _job(seeded, "Acme")
    beta_job = _job(seeded, "Beta", "running", worker="host:2:w")
    done = _job(seeded, "Beta", "done")
    operator = seeded.visitor("operator@factory.lu")
    assert operator.get("/admin").status_code == 200
    page = operator.get("/admin/jobs").text
    assert "Acme" in page and "Beta" in page
    assert f'action="/admin/jobs/{acme_job}/cancel"' in page and f'action="/admin/jobs/{beta_job}/cancel"' in page
    assert f'action="/admin/jobs/{done}/cancel"' not in page
    assert operator.post(f"/admin/jobs/{acme_job}/cancel").status_code == 303
    operator.get("/admin/jobs")
    assert operator.post(f"/admin/jobs/{beta_job}/cancel").status_code == 303
    with seeded.portal.session() as s:
        assert s.get(Job, acme_job).status == "cancelled"  # type: ignore[union-attr]
        assert s.get(Job, beta_job).cancel_requested  # type: ignore[union-attr]
        assert len(s.scalars(select(AuditEntry).where(AuditEntry.action == "job.cancel")).all()) == 2
    for path in ("/admin/users", "/admin/organisations", "/admin/audit"):
        assert operator.get(path).status_code == 403, path
    auth = {"Authorization": f"Bearer {_token(operator)}"}
    listed = operator.client.get("/api/v1/admin/jobs?status=running", headers=auth).json()
    assert [j["id"] for j in listed] == [beta_job] and listed[0]["organisation"] == "Beta"
    assert operator.client.get("/api/v1/admin/jobs?status=zzz", headers=auth).status_code == 400
    assert operator.client.post(f"/api/v1/admin/jobs/{done}/cancel", headers=auth).status_code == 400


def _admin_routes() -> list[tuple[str, str]]:
    out = []
    for route in (*admin_pages.router.routes, *admin_pages.api.routes):
        assert isinstance(route, APIRoute)
        out += [(method, route.path) for method in sorted(route.methods or ())]
    return out


@pytest.mark.parametrize("email", ["member@acme.lu", "owner@acme.lu", "advisor@factory.lu", "holder@stats.lu"])
def test_everyone_else_gets_403_on_every_admin_page_and_action_and_nothing_is_written(seeded: Seeded, email: str) -> None:
    job = _job(seeded, "Beta")
    target = _account(seeded, "owner@beta.lu")
    values = {"account_id": str(target.id), "membership_id": str(_membership(seeded, "owner@beta.lu")),
              "job_id": str(job)}
    visitor = seeded.visitor(email)
    token = _token(visitor)
    visitor.get("/")
    before = _audit_count(seeded)
    walked = []
    for method, template in _admin_routes() + [("POST", "/admin/organisations")]:
        path = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)
        if path.startswith("/api/"):
            body = {"active": False, "role": "platform_admin", "name": "Evil", "kind": "sme"}
            response = visitor.client.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})
        elif method == "GET":
            response = visitor.client.get(path, follow_redirects=False)
        else:
            response = visitor.post(path, {"role": "platform_admin", "name": "Evil", "kind": "sme"})
        walked.append((method, template, response.status_code))
        assert response.status_code == 403, walked[-1]
        assert SECRET_TEXT not in response.text and "owner@beta.lu" not in response.text
    assert len(walked) >= 16
    assert _audit_count(seeded) == before
    with seeded.portal.session() as s:
        assert s.get(Account, target.id).active  # type: ignore[union-attr]
        assert s.scalars(select(Membership.role).where(Membership.account_id == target.id)).one() == "sme_owner"
        assert s.get(Job, job).status == "queued"  # type: ignore[union-attr]
        assert s.scalars(select(Organisation).where(Organisation.name == "Evil")).first() is None
        roles = {r for (r,) in s.execute(select(Membership.role).join(Account).where(Account.email == email))}
        assert Role.platform_admin.value not in roles


def test_no_admin_route_reveals_another_organisations_objects_to_a_member(seeded: Seeded) -> None:
    """The isolation walk: every admin route with an id, as an Acme member against Beta's ids."""
    job = _job(seeded, "Beta")
    values = {"account_id": str(_account(seeded, "owner@beta.lu").id),
              "membership_id": str(_membership(seeded, "owner@beta.lu")), "job_id": str(job)}
    acme = seeded.visitor("member@acme.lu")
    token = _token(acme)
    acme.get("/")
    walked = 0
    for method, template in _admin_routes():
        if "{" not in template:
            continue
        path = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)
        if path.startswith("/api/"):
            response = acme.client.request(method, path, json={"active": False, "role": "sme_member"},
                                           headers={"Authorization": f"Bearer {token}"})
        else:
            response = acme.post(path, {"role": "sme_member"})
        walked += 1
        assert response.status_code in (403, 404), (method, template, response.status_code)
        assert "Beta" not in response.text and SECRET_TEXT not in response.text
    assert walked >= 7
