"""Accessibility: axe-core (npm, tests/a11y) run in Debian's chromium on every main page of
`laif serve`, as a visitor, two SME owners (one with the demo's qualified AI system), an advisor,
a data holder (with the demo's datasets and an access request), a sandbox operator and the
platform admin, in English and French. No violation of impact "serious" or "critical" is allowed.

The pages walked are every page route of the app without an id in its path, a request with its
messages and an attachment, and the pages their links lead to (one step, one page per route),
so that a page added later is checked without being listed here."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import select

from laif.portal import demo, i18n
from laif.portal.app import ROUTERS
from laif.portal.security import hash_password
from laif.portal.tables import Account

from .conftest import chromium, free_port, wait_healthy
from .portal_kit import PASSWORD, Visitor, make_portal, seed_people

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "tests" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra")

from playwright.sync_api import Browser, BrowserContext, Error, Page  # noqa: E402

#: Links not followed: files, feeds and machine formats, sign-out and the external sign-in.
SKIP = re.compile(r"^/(api/|static/|logout|login/oidc)|\.(csv|jsonl?|ttl|jsonld|ya?ml|zip|pdf|txt|html?)$"
                  r"|/files/|/download$|/(report|progress|events)$")


class Served:
    def __init__(self, base: str, proc: subprocess.Popen[str], request_path: str) -> None:
        self.base, self.proc, self.request_path = base, proc, request_path


def _seed(db_url: str) -> str:
    """People in three organisations, a request with messages and a file, a token, an
    invitation, a system under test and a queued assessment, and the demo; returns the
    request's path."""
    portal, app = make_portal(db_url)
    seed_people(portal)
    owner = Visitor(app)
    owner.sign_in("owner@acme.lu")
    opened = owner.post("/requests", {"service_id": "sandbox", "message": "Our chatbot answers in French."})
    path = opened.headers["location"]
    owner.post("/account/tokens", {"name": "CI pipeline"})
    # A system under test and an assessment left in the queue (laif serve runs no worker here).
    owner.get("/sandbox/systems")
    owner.post("/sandbox/systems", {"name": "Helpdesk bot", "base_url": "http://127.0.0.1:9/v1", "model": "helpdesk",
                                    "api_key": "not-a-real-key"})
    owner.get("/sandbox")
    owner.client.post("/sandbox/jobs", data={"csrf_token": owner.token, "system": "", "suites": ["bias"],
                                             "languages": ["en", "fr"], "limit": "1", "answer_modes": ["free"]})
    owner.get("/members")
    owner.post("/members/invitations", {"email": "new@acme.lu", "role": "sme_member"})
    advisor = Visitor(app)
    advisor.sign_in("advisor@factory.lu")
    advisor.get(path)
    advisor.post(f"{path}/status", {"status": "in_discussion"})
    advisor.get(path)
    advisor.client.post(f"{path}/messages", data={"body": "Which endpoint?", "csrf_token": advisor.token},
                        files={"file": ("spec.yaml", b"suites: [bias]\n", "text/yaml")})
    # The demo of `make run` (without runs): a qualified AI system of an SME, and two datasets of a
    # data holder; its two accounts get the test password instead of a one-time one.
    demo.seed(portal.settings, db_url.replace("portal.db", "runs.db"), out=None, portal=portal)
    with portal.session() as s:
        for account in s.scalars(select(Account).where(Account.email.in_((demo.DEMO_OWNER, demo.DEMO_HOLDER)))):
            account.password_hash, account.must_change_password = hash_password(PASSWORD), False
    owner.get("/datasets/demo-energy-load")
    owner.post("/datasets/demo-energy-load/requests", {"purpose": "To forecast the load of our own plant."})
    portal.engine.dispose()
    return path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("a11y-home")
    db_url = f"sqlite:///{home / 'portal.db'}"
    with pytest.MonkeyPatch.context() as patch:  # what the seeding writes goes to this home, not the user's
        patch.setenv("LAIF_HOME", str(home))
        request_path = _seed(db_url)
    port = free_port()
    env = {**os.environ, "LAIF_HOME": str(home)}
    env.pop("LAIF_DB_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "laif", "serve", "--port", str(port), "--db", db_url,
                             "--workers", "0"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    base = f"http://127.0.0.1:{port}"
    first = proc.stdout.readline()
    assert first.strip() == f"laif portal on {base}/", first
    wait_healthy(base)
    try:
        yield Served(base, proc, request_path)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not AXE.exists():
        pytest.fail(f"{AXE.relative_to(ROOT)} is missing: run `make test`, which installs axe-core (npm ci in tests/a11y)")
    with chromium() as browser:
        yield browser


def _context(browser: Browser, served: Served, lang: str) -> BrowserContext:
    # The portal's CSP allows no inline script; axe is injected as one, so this test's browser
    # bypasses the CSP (the pages' own scripts are unchanged).
    context = browser.new_context(viewport={"width": 1280, "height": 860}, bypass_csp=True, locale=lang)
    context.add_cookies([{"name": i18n.COOKIE, "value": lang, "url": served.base}])
    return context


def _sign_in(page: Page, served: Served, email: str) -> None:
    page.goto(f"{served.base}/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator('form[action="/login"] button[type="submit"]').click()
    page.wait_for_load_state()
    assert "/login" not in page.url, f"{email} could not sign in"


def static_pages() -> list[str]:
    """Every page route without a parameter (the JSON API and file exports left out)."""
    paths = []
    for router in ROUTERS:
        for route in router.routes:
            path = getattr(route, "path", "")
            if "GET" in getattr(route, "methods", set()) and "{" not in path and not SKIP.search(path):
                paths.append(path)
    return sorted(set(paths))


def _shape(path: str) -> str:
    """One page per route: `/requests/1` and `/requests/2` are the same page, so are
    `/requests` and `/requests?status=new`."""
    bare = path.split("?")[0]
    for router in ROUTERS:
        for route in router.routes:
            regex = getattr(route, "path_regex", None)
            if regex is not None and "GET" in getattr(route, "methods", set()) and regex.match(bare):
                return str(getattr(route, "path", bare))
    return bare


def axe_violations(page: Page) -> list[dict[str, object]]:
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, object]] = page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ["violations"]});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({target: n.target.join(" "), html: n.html.slice(0, 160),
                                      summary: (n.failureSummary || "").replace(/\\s+/g, " ")}))}));
    }""")
    return [v for v in found if v["impact"] in BLOCKING]


def _readable(problems: dict[str, list[dict[str, object]]]) -> str:
    lines = []
    for where, violations in problems.items():
        for v in violations:
            lines.append(f"{where}: [{v['impact']}] {v['id']}: {v['help']}")
            for node in v["nodes"][:5]:  # type: ignore[index]
                lines.append(f"    {node['target']}  {node['html']}")
                lines.append(f"      {node['summary']}")
    return "\n".join(lines)


def walk(browser: Browser, served: Served, lang: str, email: str | None, start: list[str],
         follow: bool) -> tuple[dict[str, list[dict[str, object]]], list[str]]:
    """Check each page of `start` (and, with `follow`, the pages their links lead to) as
    `email` in `lang`: the serious or critical violations by page, and the pages checked."""
    context = _context(browser, served, lang)
    page = context.new_page()
    if email:
        _sign_in(page, served, email)
    problems: dict[str, list[dict[str, object]]] = {}
    checked: list[str] = []
    seen: set[str] = set()
    queue = list(start)
    while queue:
        path = queue.pop(0)
        if _shape(path) in seen:
            continue
        seen.add(_shape(path))
        try:
            response = page.goto(served.base + path)
        except Error:  # a download, not a page
            continue
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue
        if response.status >= 500:
            problems[f"{lang} {email or 'visitor'} {path}"] = [
                {"impact": "critical", "id": f"http-{response.status}", "help": "the page fails", "nodes": []}]
            continue
        assert page.locator("html").get_attribute("lang") == lang, path
        checked.append(path)
        found = axe_violations(page)
        if found:
            problems[f"{lang} {email or 'visitor'} {path}"] = found
        if follow:
            for href in page.eval_on_selector_all("a[href]:not([download])", "els => els.map(e => e.getAttribute('href'))"):
                target = urlsplit(urljoin(served.base + path, href))
                if f"{target.scheme}://{target.netloc}" != served.base or SKIP.search(target.path):
                    continue
                link = target.path + (f"?{target.query}" if target.query else "")
                if _shape(link) not in seen:
                    queue.append(link)
    context.close()
    return problems, checked


def test_the_static_page_list_covers_the_main_pages() -> None:
    pages = static_pages()
    for main in ("/", "/login", "/requests", "/notifications", "/account/tokens", "/members", "/admin/audit",
                 "/readiness", "/sandbox", "/aiact", "/datasets", "/admin"):
        assert main in pages, main


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_a_visitor_sees_no_serious_violation(served: Served, browser: Browser, lang: str) -> None:
    problems, checked = walk(browser, served, lang, None, ["/", "/login", "/services/sandbox", "/no/such/page"], False)
    assert problems == {}, "\n" + _readable(problems)
    assert checked == ["/", "/login", "/services/sandbox", "/no/such/page"]


PEOPLE = ("owner@acme.lu", "advisor@factory.lu", "admin@factory.lu", "operator@factory.lu", demo.DEMO_OWNER,
          demo.DEMO_HOLDER)


@pytest.mark.parametrize("email", PEOPLE)
def test_every_page_of_each_role_has_no_serious_violation(served: Served, browser: Browser, email: str) -> None:
    start = [*static_pages(), served.request_path]
    problems, checked = walk(browser, served, "en", email, start, follow=True)
    print(f"{email}: {len(checked)} pages checked: {' '.join(checked)}")
    assert problems == {}, "\n" + _readable(problems)
    assert served.request_path in checked or email not in ("owner@acme.lu", "advisor@factory.lu")


@pytest.mark.parametrize("email", ["owner@acme.lu", demo.DEMO_OWNER])
def test_the_owner_pages_in_french_have_no_serious_violation(served: Served, browser: Browser, email: str) -> None:
    start = [*static_pages(), served.request_path]
    problems, checked = walk(browser, served, "fr", email, start, follow=email == demo.DEMO_OWNER)
    assert problems == {}, "\n" + _readable(problems)
    assert "/" in checked and "/login" in checked


def test_a_page_with_a_violation_is_reported(served: Served, browser: Browser) -> None:
    """The check itself: an image without a text alternative (critical) inside a real page."""
    context = _context(browser, served, "en")
    page = context.new_page()
    page.goto(f"{served.base}/login")
    page.evaluate("""() => { const img = document.createElement("img"); img.src = "/static/x.png";
                             document.querySelector("main").appendChild(img); }""")
    found = axe_violations(page)
    context.close()
    assert [v["id"] for v in found] == ["image-alt"], json.dumps(found)


def test_the_switch_in_the_header_changes_the_language(served: Served, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
    page = context.new_page()
    page.goto(f"{served.base}/services/sandbox")
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("button", name="Français").click()
    page.wait_for_load_state()
    assert page.url == f"{served.base}/services/sandbox"
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("link", name="Se connecter pour demander ce service").is_visible()
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    context.close()
