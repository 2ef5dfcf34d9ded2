"""Tenant isolation: every route of the app that takes an object's id is walked as a member of
Acme, by page and by API, against Beta's objects. Each answer is 403 or 404, shows none of Beta's
data, and nothing of Beta's changes. A route added later is walked too.

Each area's routers are walked the same way by a test in that area's file (named in WALKED_BY);
the last test here fails when a router with ids joins the app without such a test, or when a route of the
routers walked here takes a path parameter this walk does not know."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.routing import APIRoute
from sqlalchemy import func, select

from laif.portal import admin_pages, aiact_pages, datasets_pages, pages, readiness_pages, sandbox_pages
from laif.portal.api import api_router
from laif.portal.app import ROUTERS
from laif.portal.tables import AccessToken, RequestAttachment, RequestMessage, ServiceRequest

from .portal_kit import Seeded, make_portal, seed_people

SECRET_TEXT = "BETA-CONFIDENTIAL-PLAN"
ID_PARAMS = {"request_id", "token_id", "attachment_id"}
#: Path parameters of the routers walked here that name no object of an organisation.
NOT_IDS = {"service_id", "token", "fmt"}
#: Every router of the app, and the test that walks its routes with another organisation's ids.
WALKED_BY = {
    id(pages.router): "test_portal_isolation.py::test_every_route_with_an_id_refuses_another_organisations_objects",
    id(api_router): "test_portal_isolation.py::test_every_route_with_an_id_refuses_another_organisations_objects",
    id(readiness_pages.router): "test_portal_readiness.py::test_another_organisations_assessments_are_out_of_reach",
    id(readiness_pages.api): "test_portal_readiness.py::test_another_organisations_assessments_are_out_of_reach",
    id(sandbox_pages.router): "test_portal_sandbox.py::test_another_organisations_jobs_and_systems_are_not_found",
    id(sandbox_pages.api): "test_portal_sandbox.py::test_another_organisations_jobs_and_systems_are_not_found",
    id(aiact_pages.router): "test_portal_aiact.py::test_every_aiact_route_with_an_id_refuses_another_organisations_objects",
    id(aiact_pages.api): "test_portal_aiact.py::test_every_aiact_route_with_an_id_refuses_another_organisations_objects",
    id(datasets_pages.router): "test_portal_datasets.py::test_acme_against_betas_requests_gets_403_or_404_and_none_of_betas_text",
    id(datasets_pages.api): "test_portal_datasets.py::test_acme_against_betas_requests_gets_403_or_404_and_none_of_betas_text",
    id(admin_pages.router): "test_portal_admin.py::test_no_admin_route_reveals_another_organisations_objects_to_a_member",
    id(admin_pages.api): "test_portal_admin.py::test_no_admin_route_reveals_another_organisations_objects_to_a_member",
}


def test_every_route_with_an_id_refuses_another_organisations_objects(tmp_path: Path) -> None:
    portal, app = make_portal(f"sqlite:///{tmp_path / 'portal.db'}")
    seeded = Seeded(portal, app, seed_people(portal))
    beta = seeded.visitor("owner@beta.lu")
    created = beta.post("/requests", {"service_id": "compute", "message": SECRET_TEXT})
    beta_request = int(created.headers["location"].rsplit("/", 1)[1])
    beta.get("/account/tokens")
    beta.post("/account/tokens", {"name": SECRET_TEXT})
    beta.get(f"/requests/{beta_request}")
    beta.post(f"/requests/{beta_request}/messages", {"body": ""}, files={"file": ("plan.txt", SECRET_TEXT.encode())})
    with portal.session() as s:
        beta_token = s.scalars(select(AccessToken.id)).one()
        beta_file = s.scalars(select(RequestAttachment.id)).one()

    acme = seeded.visitor("member@acme.lu")
    acme.get("/account/tokens")
    page = acme.post("/account/tokens", {"name": "acme-ci"}).text
    acme_pat = page.split('class="token">', 1)[1].split("<", 1)[0]
    acme.get("/")

    values = {"request_id": str(beta_request), "token_id": str(beta_token), "attachment_id": str(beta_file)}
    walked = []
    # The app's own routes and those of the routers it includes (newer FastAPI wraps an included
    # router in one route object, so its routes are read from the router itself).
    for route in (*app.routes, *pages.router.routes, *api_router.routes):
        if not isinstance(route, APIRoute) or not (ID_PARAMS & set(re.findall(r"\{(\w+)", route.path))):
            continue
        path = route.path
        for name, value in values.items():
            path = path.replace("{" + name + "}", value)
        for method in sorted(route.methods or ()):
            if path.startswith("/api/"):
                body = {"body": "x", "status": "accepted", "service_id": "compute"}
                response = acme.client.request(method, path, json=body, headers={"Authorization": f"Bearer {acme_pat}"})
            elif method == "GET":
                response = acme.client.get(path, follow_redirects=False)
            else:
                response = acme.post(path, {"body": "x", "status": "accepted"})
            walked.append((method, route.path, response.status_code))
            assert response.status_code in (403, 404), (method, route.path, response.status_code)
            assert SECRET_TEXT not in response.text, (method, route.path)

    assert len(walked) >= 9, walked
    with portal.session() as s:
        request = s.get(ServiceRequest, beta_request)
        assert request is not None and request.status == "new"
        assert s.scalar(select(func.count()).select_from(RequestMessage)) == 2
        assert s.get(AccessToken, beta_token).revoked_at is None  # type: ignore[union-attr]
    assert SECRET_TEXT not in acme.get("/requests").text
    assert SECRET_TEXT not in acme.get("/notifications").text


def test_every_router_has_an_isolation_walk_and_no_id_is_skipped() -> None:
    tests = Path(__file__).parent
    with_ids = [router for router in ROUTERS if any("{" in getattr(route, "path", "") for route in router.routes)]
    unwalked = [router for router in with_ids if id(router) not in WALKED_BY]
    assert not unwalked, f"routers with no isolation test: {[r.prefix or r.routes[0].path for r in unwalked]}"
    for router in with_ids:
        file, name = WALKED_BY[id(router)].split("::")
        assert f"def {name}(" in (tests / file).read_text(), WALKED_BY[id(router)]
    unknown = {(route.path, name) for route in (*pages.router.routes, *api_router.routes) if isinstance(route, APIRoute)
               for name in re.findall(r"\{(\w+)", route.path) if name not in ID_PARAMS | NOT_IDS}
    assert not unknown, f"path parameters the isolation walk does not know: {sorted(unknown)}"
