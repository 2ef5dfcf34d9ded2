"""The datasets flow in a real browser (Playwright driving Debian's chromium): a data holder
publishes a dataset from a CSV sample, a member of another organisation requests access, the
holder approves it in the inbox, and the requester sees it approved and is notified. The dataset's
URI under the configured base answers Turtle to the same browser's request. A screenshot of each
page goes to laif-out/screenshots/portal/, which `make test` keeps, and axe-core finds no serious or
critical violation on any of them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, RDF

from laif.portal.app import create_app
from laif.portal.core import Portal
from laif.portal.settings import PortalSettings

from .conftest import chromium, free_port, wait_healthy
from .portal_kit import PASSWORD, SECRET, seed_people

SHOTS = Path(__file__).resolve().parents[1] / "laif-out" / "screenshots" / "portal"
SAMPLE = "station,day,riders\nKirchberg,2024-01-02,1200\nGare,2024-01-02,3400\nBelair,2024-01-03,560\n"
pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra")

from playwright.sync_api import Browser, Page, expect  # noqa: E402


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import uvicorn

    root = tmp_path_factory.mktemp("datasets-portal")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = PortalSettings(db_url=f"sqlite:///{root / 'portal.db'}", secret_key=SECRET, data_dir=root / "files",
                              dcat_base=f"{base}/catalogue/", workers=0)
    portal = Portal(settings)
    seed_people(portal)
    server = uvicorn.Server(uvicorn.Config(create_app(settings, portal), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_healthy(base)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


AXE = Path(__file__).resolve().parent / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
#: Each page's serious or critical axe-core violations, by screenshot name.
PROBLEMS: dict[str, list[str]] = {}


def shot(page: Page, name: str) -> None:
    """A screenshot of the page, and axe-core's serious or critical violations on it."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make test`, which installs axe-core (npm ci in tests/a11y)")
    page.add_script_tag(path=str(AXE))
    found: list[str] = page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ["violations"]});
        return result.violations.filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "));
    }""")
    if found:
        PROBLEMS[name] = found


def signed_in(browser: Browser, base: str, email: str, errors: list[str]) -> Page:
    # bypass_csp lets axe-core be injected; the pages themselves load no inline script
    page = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB", bypass_csp=True).new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    expect(page.locator("header .who")).to_contain_text("Sign out")
    return page


def test_publish_request_access_and_approve_in_a_browser(base_url: str, browser: Browser, tmp_path: Path) -> None:
    errors: list[str] = []
    sample = tmp_path / "bus-riders.csv"
    sample.write_text(SAMPLE)

    holder = signed_in(browser, base_url, "holder@stats.lu", errors)
    holder.goto(f"{base_url}/datasets")
    holder.click("text=Publish a dataset")
    shot(holder, "datasets-publish")
    holder.set_input_files("#sample", str(sample))
    holder.click("form[action='/datasets/drafts'] button[type=submit]")
    expect(holder.locator("h1")).to_have_text("Describe the dataset")
    expect(holder.locator("main")).to_contain_text("2024-01-02 – 2024-01-03")  # the sample's profile
    holder.fill("#identifier", "bus-riders")
    holder.fill("#title", "Bus riders by stop")
    holder.fill("#description", "Riders counted at each stop of the city's buses, by day.")
    holder.check("input[name=themes][value=TRAN]")
    holder.fill("#keywords", "bus, riders")
    shot(holder, "datasets-draft")
    holder.click("form.datasets-form button[type=submit]")
    expect(holder.locator(".flash")).to_contain_text("Published bus-riders in the catalogue.")
    expect(holder.locator("main")).to_contain_text(f"{base_url}/catalogue/dataset/bus-riders")
    shot(holder, "datasets-dataset")

    acme = signed_in(browser, base_url, "member@acme.lu", errors)
    acme.goto(f"{base_url}/datasets")
    acme.click("text=Transport (1)")
    expect(acme.locator("table")).to_contain_text("Bus riders by stop")
    shot(acme, "datasets-browse")
    acme.click("text=Bus riders by stop")
    acme.fill("#purpose", "A study of commuting to Kirchberg for our shuttle service.")
    acme.click("#access button[type=submit]")
    expect(acme.locator(".state")).to_have_text("pending")
    request_url = acme.url

    holder.goto(f"{base_url}/notifications")
    expect(holder.locator("main")).to_contain_text("Acme asks for access to Bus riders by stop")
    holder.goto(f"{base_url}/datasets/inbox")
    shot(holder, "datasets-inbox")
    holder.click("table a")
    expect(holder.locator("main")).to_contain_text("A study of commuting to Kirchberg")
    holder.click("button[value=approve]")
    expect(holder.locator(".state")).to_have_text("approved")
    shot(holder, "datasets-approved")

    acme.goto(request_url)
    expect(acme.locator(".state")).to_have_text("approved")
    acme.goto(f"{base_url}/notifications")
    expect(acme.locator("main")).to_contain_text("Access request for Bus riders by stop: approved by Statec Data")

    turtle = acme.request.get(f"{base_url}/catalogue/dataset/bus-riders", headers={"accept": "text/turtle"})
    assert turtle.ok and turtle.headers["content-type"].startswith("text/turtle")
    graph = Graph().parse(data=turtle.text(), format="turtle")
    assert (URIRef(f"{base_url}/catalogue/dataset/bus-riders"), RDF.type, DCAT.Dataset) in graph
    assert errors == []
    assert PROBLEMS == {}
