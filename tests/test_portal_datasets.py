"""The portal's datasets pages: browse with facets, DCAT-AP by content negotiation on a dataset's
URI under the configured base, publishing from an uploaded sample (data holders only), access
requests decided in the holder's inbox, the JSON API, escaping and isolation; and the fix that
lets an empty catalogue be exported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, SKOS

from laif.catalogue import dcat
from laif.catalogue.entry import Entry
from laif.portal.app import create_app
from laif.portal.core import Portal
from laif.portal.datasets_pages import negotiate, org_key
from laif.portal.settings import PortalSettings
from laif.services import datasets

from .conftest import free_port, run_laif
from .portal_kit import SECRET, Seeded, Visitor, seed_people

BASE = "https://data.factory.lu/catalogue/"
SAMPLE = b"station,day,riders\nKirchberg,2024-01-02,1200\nGare,2024-01-02,3400\nBelair,2024-01-03,560\n"
SECRET_TEXT = "BETA-CONFIDENTIAL-PURPOSE"


@pytest.fixture()
def seeded(tmp_path: Path) -> Seeded:
    settings = PortalSettings(db_url=f"sqlite:///{tmp_path / 'portal.db'}", secret_key=SECRET, dcat_base=BASE,
                              data_dir=tmp_path / "files", max_upload_bytes=1024 * 1024)
    portal = Portal(settings)
    return Seeded(portal, create_app(settings, portal), seed_people(portal))


def _db(seeded: Seeded) -> str:
    return seeded.portal.settings.db_url


def _entry(identifier: str, title: str, publisher: str, **fields: Any) -> Entry:
    data = {"identifier": identifier, "title": title, "description": "Counts of something, by day and place.",
            "publisher": publisher, "contact": {"name": "Desk", "email": "desk@example.lu"}, "licence": "CC_BY_4_0",
            "access_rights": "restricted", "themes": ["TRAN"], "languages": ["en"], **fields}
    return Entry.model_validate(data)


def _publish(seeded: Seeded, entry: Entry) -> None:
    datasets.publish(entry, org_key(seeded.orgs["Statec Data"]), base=BASE, db=_db(seeded))


def _upload(holder: Visitor, name: str = "riders.csv", content: bytes = SAMPLE) -> Any:
    holder.get("/datasets/publish")
    return holder.post("/datasets/drafts", files={"sample": (name, content, "text/csv")})


def _fields(**change: Any) -> dict[str, Any]:
    form = {"identifier": "bus-riders", "title": "Bus riders by stop", "description": "Riders counted at each stop, by day.",
            "contact_name": "Mobility desk", "contact_email": "mobility@stats.lu", "licence": "CC_BY_4_0",
            "access_rights": "restricted", "themes": ["TRAN", "REGI"], "keywords": "bus, riders",
            "languages": ["en", "fr"], "spatial": ["LUX"], "temporal_start": "2024-01-01", "temporal_end": "2024-12-31"}
    return {**form, **change}


def _publish_through_pages(seeded: Seeded, **change: Any) -> Visitor:
    holder = seeded.visitor("holder@stats.lu")
    uploaded = _upload(holder)
    assert uploaded.status_code == 303, uploaded.text
    draft = uploaded.headers["location"]
    assert "Profile of the sample" in holder.get(draft).text
    done = holder.post(draft, _fields(**change))
    assert done.status_code == 303, done.text
    return holder


def _pat(visitor: Visitor) -> str:
    visitor.get("/account/tokens")
    page = visitor.post("/account/tokens", {"name": "ci"}).text
    return page.split('class="token">', 1)[1].split("<", 1)[0]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- the empty catalogue -----------------------------------------------------------------------------
def test_an_empty_catalogue_exports_as_valid_dcat_ap(tmp_path: Path) -> None:
    exported = datasets.export_dcat("turtle", BASE, db=f"sqlite:///{tmp_path / 'empty.db'}")
    assert exported.datasets == 0 and exported.report["conforms"], exported.report["violations"]
    graph = Graph().parse(data=exported.text, format="turtle")
    scheme = URIRef("http://publications.europa.eu/resource/authority/data-theme")
    assert (URIRef(BASE), DCAT.themeTaxonomy, scheme) in graph
    assert (scheme, RDF.type, SKOS.ConceptScheme) in graph  # untyped before: the export was refused
    assert dcat.validate(graph)["conforms"]
    as_jsonld = datasets.export_dcat("json-ld", BASE, db=f"sqlite:///{tmp_path / 'empty.db'}")
    assert len(Graph().parse(data=as_jsonld.text, format="json-ld")) == len(graph)


def test_laif_catalogue_export_writes_an_empty_catalogue(tmp_path: Path) -> None:
    out = tmp_path / "empty.ttl"
    r = run_laif("catalogue", "export", "--out", str(out), "--db", f"sqlite:///{tmp_path / 'empty.db'}")
    assert r.returncode == 0, r.stderr
    assert "0 datasets, valid DCAT-AP" in r.stdout and "violation" not in r.stderr
    assert datasets.validate(out)["conforms"]


@pytest.mark.parametrize("base", ["data.example.lu/catalogue/", "https://data.example.lu/catalogue"])
def test_laif_serve_refuses_a_dcat_base_that_is_not_a_base_uri(tmp_path: Path, base: str) -> None:
    env = {"LAIF_HOME": str(tmp_path / "home"), "LAIF_DB_URL": ""}
    result = run_laif("serve", "--dcat-base", base, "--port", str(free_port()), env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"--dcat-base {base}: give an http(s) URI ending in '/'" in result.stderr
    result = run_laif("serve", "--port", str(free_port()), env={**env, "LAIF_DCAT_BASE": base})
    assert result.returncode == 2 and "--dcat-base" in result.stderr


def test_the_portal_serves_the_empty_catalogue(seeded: Seeded) -> None:
    response = Visitor(seeded.app).client.get("/datasets.ttl")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/turtle")
    graph = Graph().parse(data=response.text, format="turtle")
    assert (URIRef(BASE), RDF.type, DCAT.Catalog) in graph


# --- browse and search ------------------------------------------------------------------------------
def test_facets_narrow_the_results_and_count_what_the_query_finds(seeded: Seeded) -> None:
    _publish(seeded, _entry("bus-riders", "Bus riders by stop", "Statec Data", themes=["TRAN"], languages=["en"]))
    _publish(seeded, _entry("tram-riders", "Tram riders by stop", "Statec Data", themes=["TRAN", "REGI"],
                            languages=["fr"], access_rights="public"))
    _publish(seeded, _entry("hospital-beds", "Hospital beds by region", "Statec Data", themes=["HEAL"],
                            languages=["fr"]))
    visitor = Visitor(seeded.app)
    page = visitor.get("/datasets").text
    assert all(t in page for t in ("Bus riders", "Tram riders", "Hospital beds"))
    assert "Transport (2)" in page and "Health (1)" in page and "French (2)" in page and "Statec Data (3)" in page

    page = visitor.get("/datasets?theme=tran").text
    assert "Bus riders" in page and "Tram riders" in page and "Hospital beds" not in page
    assert "Health (" not in page and "Regions and cities (1)" in page and "public (1)" in page
    page = visitor.get("/datasets?theme=tran&language=fr").text
    assert "Tram riders" in page and "Bus riders" not in page
    page = visitor.get("/datasets?q=riders&access=restricted").text
    assert "Bus riders" in page and "Tram riders" not in page and "Hospital" not in page
    assert "No dataset matches." in visitor.get("/datasets?q=submarine").text
    counts = datasets.facets("riders", db=_db(seeded))
    assert counts["theme"][0] == ("tran", "Transport", 2) and ("regi", "Regions and cities", 1) in counts["theme"]
    assert counts["publisher"] == [("statec data", "Statec Data", 2)]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_facets_count_alike_on_sqlite_and_postgresql(backend: str, tmp_path: Path,
                                                     request: pytest.FixtureRequest) -> None:
    from sqlalchemy import text

    from laif.catalogue.store import Catalogue

    url = f"sqlite:///{tmp_path / 'cat.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    with Catalogue(url).engine.begin() as conn:  # the PostgreSQL database is shared by the session's tests
        for table in ("catalogue_access_events", "catalogue_access_requests", "catalogue_terms", "catalogue_datasets"):
            conn.execute(text(f"DELETE FROM {table}"))
    for identifier, title, publisher, themes, languages in (
            ("bus-riders", "Bus riders", "Ville de Lëtzebuerg", ["TRAN"], ["lb"]),
            ("tram-riders", "Tram riders", "Statec Data", ["TRAN", "REGI"], ["fr"]),
            ("beds", "Hospital beds", "Statec Data", ["HEAL"], ["fr"])):
        datasets.publish(_entry(identifier, title, publisher, themes=themes, languages=languages), "h", db=url)
    everything = datasets.facets(db=url)
    assert everything["publisher"] == [("statec data", "Statec Data", 2),
                                       ("ville de letzebuerg", "Ville de Lëtzebuerg", 1)]
    assert everything["language"] == [("fr", "French", 2), ("lb", "Luxembourgish", 1)]
    riders = datasets.facets("riders", db=url, language="fr")
    assert riders["theme"] == [("regi", "Regions and cities", 1), ("tran", "Transport", 1)]
    assert riders["access"] == [("restricted", "restricted", 1)]
    assert datasets.facets("submarine", db=url) == {"theme": [], "access": [], "publisher": [], "language": []}


def test_an_unknown_dataset_is_a_404(seeded: Seeded) -> None:
    visitor = Visitor(seeded.app)
    assert visitor.get("/datasets/no-such-set").status_code == 404
    assert visitor.client.get("/datasets/no-such-set", headers={"accept": "text/turtle"}).status_code == 404
    assert visitor.client.get("/catalogue/dataset/no-such-set", headers={"accept": "text/turtle"}).status_code == 404


# --- DCAT-AP by content negotiation -------------------------------------------------------------------
def test_a_dataset_answers_turtle_and_json_ld_on_its_uri_under_the_configured_base(seeded: Seeded) -> None:
    _publish(seeded, _entry("bus-riders", "Bus riders by stop", "Statec Data"))
    client = Visitor(seeded.app).client
    uri = URIRef(BASE + "dataset/bus-riders")
    for path in ("/datasets/bus-riders", "/catalogue/dataset/bus-riders"):  # the page, and the URI's own path
        turtle = client.get(path, headers={"accept": "text/turtle"}, follow_redirects=False)
        assert turtle.status_code == 200 and turtle.headers["content-type"].startswith("text/turtle"), path
        assert turtle.headers["vary"] == "Accept"
        graph = Graph().parse(data=turtle.text, format="turtle")
        assert (uri, RDF.type, DCAT.Dataset) in graph and (uri, DCTERMS.identifier, None) in graph
        assert dcat.validate(graph)["conforms"]
        jsonld = client.get(path, headers={"accept": "application/ld+json"}, follow_redirects=False)
        assert jsonld.headers["content-type"].startswith("application/ld+json")
        assert set(Graph().parse(data=jsonld.text, format="json-ld")) == set(graph)
    html = client.get("/catalogue/dataset/bus-riders", headers={"accept": "text/html"}, follow_redirects=False)
    assert html.status_code == 303 and html.headers["location"] == "/datasets/bus-riders"
    page = client.get("/datasets/bus-riders", headers={"accept": "text/html,*/*;q=0.8"})
    assert page.headers["content-type"].startswith("text/html") and str(uri) in page.text
    assert client.get("/datasets/bus-riders?format=turtle").headers["content-type"].startswith("text/turtle")
    # The default base's path is not this portal's base: nothing answers there.
    assert client.get("/other/dataset/bus-riders", headers={"accept": "text/turtle"}).status_code == 404


def test_accept_headers_choose_by_quality() -> None:
    assert negotiate("text/turtle") == "turtle"
    assert negotiate("application/ld+json;q=0.9, text/turtle;q=0.5") == "json-ld"
    assert negotiate("text/html,application/xhtml+xml,*/*;q=0.8") is None
    assert negotiate("text/turtle;q=0.2, text/html") is None
    assert negotiate("") is None and negotiate(None) is None and negotiate("text/turtle;q=x") is None


# --- publishing from a sample --------------------------------------------------------------------------
def test_a_data_holder_publishes_from_an_uploaded_csv_sample(seeded: Seeded) -> None:
    holder = _publish_through_pages(seeded, publisher="Someone Else")  # a publisher field is ignored
    shown = datasets.show("bus-riders", _db(seeded))
    record = shown["record"]
    assert shown["holder"] == org_key(seeded.orgs["Statec Data"]) and record["publisher"] == "Statec Data"
    assert record["profile"]["rows"] == 3 and [c["name"] for c in record["profile"]["columns"]] == [
        "station", "day", "riders"]
    assert record["themes"] == ["TRAN", "REGI"] and record["keywords"] == ["bus", "riders"]
    page = holder.get("/datasets/bus-riders").text
    assert "Published bus-riders in the catalogue." in page and "Statec Data" in page and "riders" in page
    drafts = seeded.portal.settings.files() / "orgs" / str(seeded.orgs["Statec Data"]) / "datasets" / "drafts"
    assert list(drafts.iterdir()) == []  # the draft is gone once published, and no sample was ever kept
    assert any(r.action == "dataset.publish" for r in _audit(seeded))


def test_a_draft_that_is_not_valid_is_shown_again_with_the_reason(seeded: Seeded) -> None:
    holder = seeded.visitor("holder@stats.lu")
    draft = _upload(holder).headers["location"]
    holder.get(draft)
    response = holder.post(draft, _fields(themes=[], contact_email="not-an-address"))
    assert response.status_code == 400 and "themes" in response.text and "contact.email" in response.text
    assert 'value="Bus riders by stop"' in response.text  # what was typed is kept
    assert datasets.search(db=_db(seeded)) == []
    _publish(seeded, _entry("bus-riders", "Taken already", "Statec Data"))
    holder.get(draft)
    taken = holder.post(draft, _fields())
    assert taken.status_code == 400 and "is taken" in taken.text
    holder.get(draft)
    assert "is reserved" in holder.post(draft, _fields(identifier="inbox")).text


def test_a_sample_that_cannot_be_read_is_refused_naming_the_file(seeded: Seeded) -> None:
    holder = seeded.visitor("holder@stats.lu")
    wrong = _upload(holder, "notes.txt", b"hello")
    assert wrong.status_code == 400 and "CSV, Parquet or JSON" in wrong.text
    broken = _upload(holder, "broken.json", b"[{not json")
    assert broken.status_code == 400 and "roken.json:1: not valid JSON" in broken.text
    assert str(seeded.portal.settings.files()) not in broken.text  # no server path leaks
    assert _upload(holder, "empty.csv", b"").status_code == 400


def test_a_member_of_an_sme_cannot_publish_and_nothing_is_written(seeded: Seeded) -> None:
    member = seeded.visitor("member@acme.lu")
    assert member.get("/datasets/publish").status_code == 403
    member.get("/datasets")
    assert member.post("/datasets/drafts", files={"sample": ("riders.csv", SAMPLE, "text/csv")}).status_code == 403
    assert member.post("/datasets/drafts/0123456789abcdef", _fields()).status_code == 403
    token = _pat(member)
    client = member.client
    body = {"identifier": "acme-set", "title": "Acme data", "description": "Something of Acme's, by day.",
            "contact": {"name": "A", "email": "a@acme.lu"}, "themes": ["TECH"]}
    assert client.post("/api/v1/datasets", json=body, headers=_bearer(token)).status_code == 403
    assert client.post("/api/v1/datasets/drafts", files={"sample": ("riders.csv", SAMPLE)},
                       headers=_bearer(token)).status_code == 403
    assert datasets.search(db=_db(seeded)) == []
    assert not (seeded.portal.settings.files() / "orgs" / str(seeded.orgs["Acme"])).exists()
    assert "Publish a dataset" not in member.get("/datasets").text


# --- access requests ------------------------------------------------------------------------------------
def test_acme_requests_access_the_holder_approves_and_acme_sees_it(seeded: Seeded) -> None:
    holder = _publish_through_pages(seeded)
    acme = seeded.visitor("member@acme.lu")
    acme.get("/datasets/bus-riders")
    asked = acme.post("/datasets/bus-riders/requests", {"purpose": "A study of commuting in Kirchberg."})
    assert asked.status_code == 303
    access_id = asked.headers["location"].rsplit("/", 1)[1]
    assert "pending" in acme.get(f"/datasets/requests/{access_id}").text

    inbox = holder.get("/datasets/inbox").text
    assert access_id in inbox and "Acme" in inbox and 'value="approve"' in inbox  # decided from the inbox too
    assert 'value="approve"' not in acme.get("/datasets/inbox").text
    assert "Acme asks for access to Bus riders by stop" in holder.get("/notifications").text
    page = holder.get(f"/datasets/requests/{access_id}").text
    assert "A study of commuting in Kirchberg." in page and 'value="approve"' in page
    assert holder.post(f"/datasets/requests/{access_id}", {"action": "approve"}).status_code == 303

    mine = acme.get(f"/datasets/requests/{access_id}").text
    assert "approved" in mine and 'value="approve"' not in mine
    assert "approved" in acme.get("/datasets/inbox").text
    assert "Access request for Bus riders by stop: approved by Statec Data" in acme.get("/notifications").text
    # The owner of Acme sees the same request: it is the organisation's.
    assert "approved" in seeded.visitor("owner@acme.lu").get(f"/datasets/requests/{access_id}").text
    # Acme cannot decide its own request, and a closed request takes no more steps.
    again = acme.post(f"/datasets/requests/{access_id}", {"action": "approve"})
    assert again.status_code == 400 and "portal-org:" not in again.text
    acme.get(f"/datasets/requests/{access_id}")
    assert acme.post(f"/datasets/requests/{access_id}", {"action": "reply", "message": "Thanks"}).status_code == 400
    history = datasets.requests("bus-riders", db=_db(seeded))[0]["history"]
    assert [e["action"] for e in history] == ["requested", "approve"]
    assert {e["who"] for e in history} == {org_key(seeded.orgs["Acme"]), org_key(seeded.orgs["Statec Data"])}


def test_the_holder_asks_the_requester_replies_and_the_holder_declines(seeded: Seeded) -> None:
    holder = _publish_through_pages(seeded)
    beta = seeded.visitor("owner@beta.lu")
    beta.get("/datasets/bus-riders")
    access_id = beta.post("/datasets/bus-riders/requests", {"purpose": "Planning our delivery rounds."}
                          ).headers["location"].rsplit("/", 1)[1]
    holder.get(f"/datasets/requests/{access_id}")
    assert holder.post(f"/datasets/requests/{access_id}", {"action": "ask", "message": ""}).status_code == 400
    assert holder.post(f"/datasets/requests/{access_id}", {"action": "ask", "message": "Which days?"}).status_code == 303
    page = beta.get(f"/datasets/requests/{access_id}").text
    assert "more-info" in page and "Which days?" in page and 'value="reply"' in page
    assert beta.post(f"/datasets/requests/{access_id}", {"action": "reply", "message": "Weekdays."}).status_code == 303
    holder.get(f"/datasets/requests/{access_id}")
    assert holder.post(f"/datasets/requests/{access_id}", {"action": "reject", "message": "Not for this purpose."}
                       ).status_code == 303
    assert "rejected" in beta.get(f"/datasets/requests/{access_id}").text
    assert holder.post(f"/datasets/requests/{access_id}", {"action": "teleport"}).status_code == 400


def test_requests_that_cannot_be_made_are_refused(seeded: Seeded) -> None:
    _publish(seeded, _entry("open-data", "Open data", "Statec Data", access_rights="public"))
    _publish(seeded, _entry("closed-data", "Closed data", "Statec Data"))
    acme = seeded.visitor("member@acme.lu")
    acme.get("/datasets/open-data")
    assert "no request is needed" in acme.get("/datasets/open-data").text
    refused = acme.post("/datasets/open-data/requests", {"purpose": "A study of something useful."})
    assert refused.status_code == 400 and "is public" in refused.text
    short = acme.post("/datasets/closed-data/requests", {"purpose": "x"})
    assert short.status_code == 400 and "at least 10 characters" in short.text
    assert acme.post("/datasets/no-such-set/requests", {"purpose": "A study of something useful."}).status_code == 404
    holder = seeded.visitor("holder@stats.lu")
    holder.get("/datasets/closed-data")
    own = holder.post("/datasets/closed-data/requests", {"purpose": "A study of something useful."})
    assert own.status_code == 400 and "holds this dataset" in own.text
    assert datasets.requests(db=_db(seeded)) == []
    visitor = Visitor(seeded.app)
    visitor.get("/datasets/closed-data")
    assert visitor.post("/datasets/closed-data/requests", {"purpose": "A study of something useful."}
                        ).status_code == 303  # to the sign-in page
    assert datasets.requests(db=_db(seeded)) == []


def test_a_request_without_its_csrf_token_changes_nothing(seeded: Seeded) -> None:
    _publish(seeded, _entry("closed-data", "Closed data", "Statec Data"))
    acme = seeded.visitor("member@acme.lu")
    response = acme.post("/datasets/closed-data/requests", {"purpose": "A study of something useful."}, csrf=False)
    assert response.status_code == 403 and datasets.requests(db=_db(seeded)) == []


# --- escaping -----------------------------------------------------------------------------------------
def test_a_script_in_a_title_is_escaped_everywhere(seeded: Seeded) -> None:
    payload = "<script>alert('x')</script> riders"
    holder = _publish_through_pages(seeded, title=payload, description="<img src=x onerror=alert(1)> by day")
    acme = seeded.visitor("member@acme.lu")
    acme.get("/datasets/bus-riders")
    access_id = acme.post("/datasets/bus-riders/requests", {"purpose": "<script>steal()</script> a study"}
                          ).headers["location"].rsplit("/", 1)[1]
    holder.get(f"/datasets/requests/{access_id}")
    holder.post(f"/datasets/requests/{access_id}", {"action": "ask", "message": "<script>x()</script>?"})
    pages = {
        "list": acme.get("/datasets").text, "search": acme.get("/datasets?q=riders").text,
        "dataset": acme.get("/datasets/bus-riders").text, "inbox": holder.get("/datasets/inbox").text,
        "request": holder.get(f"/datasets/requests/{access_id}").text,
        "requester": acme.get(f"/datasets/requests/{access_id}").text,
        "notifications": holder.get("/notifications").text, "acme notes": acme.get("/notifications").text,
    }
    for name, page in pages.items():
        assert "<script>alert" not in page and "<script>steal" not in page and "<script>x(" not in page, name
        assert "<img src=x" not in page, name
    assert "&lt;script&gt;alert(" in pages["dataset"] and "&lt;script&gt;steal()" in pages["request"]
    assert "&lt;script&gt;" in pages["inbox"] and "&lt;script&gt;" in pages["notifications"]
    api = acme.client.get("/api/v1/datasets/bus-riders", headers=_bearer(_pat(acme)))
    assert api.headers["content-type"] == "application/json" and api.json()["record"]["title"] == payload


# --- isolation ----------------------------------------------------------------------------------------
def test_acme_against_betas_requests_gets_403_or_404_and_none_of_betas_text(seeded: Seeded) -> None:
    holder = _publish_through_pages(seeded)
    beta = seeded.visitor("owner@beta.lu")
    beta.get("/datasets/bus-riders")
    beta_id = beta.post("/datasets/bus-riders/requests", {"purpose": SECRET_TEXT}).headers["location"].rsplit("/", 1)[1]
    holder_draft = _upload(holder).headers["location"].rsplit("/", 1)[1]

    acme = seeded.visitor("member@acme.lu")
    token = _pat(acme)
    acme.get("/datasets")
    walked = [
        acme.client.get(f"/datasets/requests/{beta_id}"),
        acme.post(f"/datasets/requests/{beta_id}", {"action": "reply", "message": "hijack"}),
        acme.post(f"/datasets/requests/{beta_id}", {"action": "approve"}),
        acme.client.get(f"/datasets/drafts/{holder_draft}"),
        acme.post(f"/datasets/drafts/{holder_draft}", _fields(identifier="hijacked")),
        acme.client.get("/datasets/drafts/..%2F..%2F..%2Fetc"),
        acme.client.get(f"/api/v1/datasets/requests/{beta_id}", headers=_bearer(token)),
        acme.client.post(f"/api/v1/datasets/requests/{beta_id}", json={"action": "reply", "message": "hijack"},
                         headers=_bearer(token)),
        acme.client.post(f"/api/v1/datasets/requests/{beta_id}", json={"action": "approve"}, headers=_bearer(token)),
        acme.client.post("/api/v1/datasets", json={"identifier": "hijacked", "title": "Hijacked", "description":
                         "Hijacked by Acme, by day.", "contact": {"name": "A", "email": "a@acme.lu"},
                         "themes": ["TECH"], "draft": holder_draft}, headers=_bearer(token)),
    ]
    for response in walked:
        assert response.status_code in (403, 404), (response.request.url, response.status_code)
        assert SECRET_TEXT not in response.text
    for path in ("/datasets/inbox", "/datasets/bus-riders", "/notifications"):
        assert SECRET_TEXT not in acme.get(path).text, path
    listed = acme.client.get("/api/v1/datasets/requests", headers=_bearer(token))
    assert listed.status_code == 200 and listed.json() == []
    assert [r["status"] for r in datasets.requests(db=_db(seeded))] == ["pending"]
    assert [e["action"] for e in datasets.requests(db=_db(seeded))[0]["history"]] == ["requested"]
    # The holder sees Beta's purpose; that is what it decides on.
    assert SECRET_TEXT in holder.get(f"/datasets/requests/{beta_id}").text


# --- the JSON API ---------------------------------------------------------------------------------------
def test_the_json_api_publishes_searches_requests_and_approves(seeded: Seeded) -> None:
    holder = seeded.visitor("holder@stats.lu")
    acme = seeded.visitor("owner@acme.lu")
    h, a = _bearer(_pat(holder)), _bearer(_pat(acme))
    client = holder.client
    drafted = client.post("/api/v1/datasets/drafts", files={"sample": ("riders.csv", SAMPLE, "text/csv")}, headers=h)
    assert drafted.status_code == 201 and drafted.json()["profile"]["rows"] == 3
    body = {"identifier": "bus-riders", "title": "Bus riders by stop", "description": "Riders counted at each stop.",
            "contact": {"name": "Desk", "email": "desk@stats.lu"}, "themes": ["TRAN"], "draft": drafted.json()["draft"],
            "languages": ["en", "lb"], "publisher": "ignored"}
    published = client.post("/api/v1/datasets", json=body, headers=h)
    assert published.status_code == 201, published.text
    assert published.json() == {"identifier": "bus-riders", "access_rights": "restricted",
                                "uri": BASE + "dataset/bus-riders"}
    assert client.post("/api/v1/datasets", json=body, headers=h).status_code == 404  # the draft was used up
    taken = client.post("/api/v1/datasets", json={**body, "draft": None}, headers=h)
    assert taken.status_code == 400 and "is taken" in taken.json()["error"]

    found = client.get("/api/v1/datasets", params={"q": "riders", "language": "lb"}, headers=a).json()
    assert [d["identifier"] for d in found["datasets"]] == ["bus-riders"]
    assert {"value": "statec data", "label": "Statec Data", "count": 1} in found["facets"]["publisher"]
    assert found["facets"]["language"] == [{"value": "en", "label": "English", "count": 1},
                                           {"value": "lb", "label": "Luxembourgish", "count": 1}]
    shown = client.get("/api/v1/datasets/bus-riders", headers=a).json()
    assert shown["holder"] == "Statec Data" and shown["record"]["profile"]["rows"] == 3
    assert client.get("/api/v1/datasets/nothing-here", headers=a).status_code == 404

    asked = client.post("/api/v1/datasets/bus-riders/requests", json={"purpose": "Commuting study."}, headers=a)
    assert asked.status_code == 201 and asked.json()["status"] == "pending" and asked.json()["requester"] == "Acme"
    access_id = asked.json()["id"]
    assert [r["id"] for r in client.get("/api/v1/datasets/requests", headers=h).json()] == [access_id]
    refused = client.post(f"/api/v1/datasets/requests/{access_id}", json={"action": "approve"}, headers=a)
    assert refused.status_code == 400  # only the holder decides
    assert refused.json()["error"].startswith("only the holder (Statec Data) can approve") and "you are Acme" in \
        refused.json()["error"]
    approved = client.post(f"/api/v1/datasets/requests/{access_id}", json={"action": "approve"}, headers=h)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    seen = client.get(f"/api/v1/datasets/requests/{access_id}", headers=a).json()
    assert seen["status"] == "approved" and [e["who"] for e in seen["history"]] == ["Acme", "Statec Data"]
    assert client.get("/api/v1/datasets", headers={}).status_code == 401
    assert client.get("/api/v1/datasets", params={"q": "x"}, headers=_bearer("laif_pat_wrong")).status_code == 401
    spec = json.loads(client.get("/api/v1/openapi.json").text)
    assert "/api/v1/datasets/requests/{access_id}" in spec["paths"]


def _audit(seeded: Seeded) -> list[Any]:
    from laif.portal.tables import AuditEntry

    with seeded.portal.session() as s:
        return list(s.query(AuditEntry).order_by(AuditEntry.id))


def test_the_catalogue_is_the_one_laif_catalogue_reads(seeded: Seeded, tmp_path: Path) -> None:
    _publish_through_pages(seeded)
    client = TestClient(seeded.app)
    assert client.get("/healthz").status_code == 200
    hits = datasets.search("riders", db=_db(seeded))
    assert [h.identifier for h in hits] == ["bus-riders"] and hits[0].publisher == "Statec Data"
