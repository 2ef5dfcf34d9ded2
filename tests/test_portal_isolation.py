"""Tenant isolation: every route of the app that takes an object's id is walked as a member of
Acme, by page and by API, against Beta's objects. Each answer is 403 or 404, shows none of Beta's
data, and nothing of Beta's changes. A route added later is walked too."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.routing import APIRoute
from sqlalchemy import func, select

from laif.portal import pages
from laif.portal.api import api_router
from laif.portal.tables import AccessToken, RequestAttachment, RequestMessage, ServiceRequest

from .portal_kit import Seeded, make_portal, seed_people

SECRET_TEXT = "BETA-CONFIDENTIAL-PLAN"
ID_PARAMS = {"request_id", "token_id", "attachment_id"}


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
