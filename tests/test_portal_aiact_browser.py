"""The AI Act pages in a real browser: Playwright driving Debian's chromium against `laif serve`.

An SME owner adds a system and qualifies it through the form (HTMX brings the Art. 6(3) question
in when an Annex III use is ticked, and takes it away again), answers a control with an uploaded
file, builds and downloads the evidence bundle, and verifies it by uploading it; a tampered copy
fails, naming its file. axe-core finds no serious or critical violation on any of these pages.
A screenshot of each page goes to laif-out/screenshots/portal/."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import chromium, free_port, wait_healthy
from .portal_kit import PASSWORD, make_portal, seed_people

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "tests" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "laif-out" / "screenshots" / "portal"
BANNER = b"\x89PNG the disclosure banner of the chatbot"
pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra")

from playwright.sync_api import Browser, Page, expect  # noqa: E402


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("aiact-home")
    db_url = f"sqlite:///{home / 'portal.db'}"
    portal, _ = make_portal(db_url)
    seed_people(portal)
    portal.close()
    port = free_port()
    env = {**os.environ, "LAIF_HOME": str(home)}
    env.pop("LAIF_DB_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "laif", "serve", "--port", str(port), "--db", db_url,
                             "--workers", "0"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not AXE.exists():
        pytest.fail(f"{AXE.relative_to(ROOT)} is missing: run `make test`, which installs axe-core (npm ci in tests/a11y)")
    with chromium() as browser:
        yield browser


def checked(page: Page, name: str, problems: dict[str, list[str]]) -> None:
    """A screenshot of the page, and axe-core's serious and critical violations on it."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"aiact-{name}.png"), full_page=True)
    page.add_script_tag(path=str(AXE))
    found: list[str] = page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ["violations"]});
        return result.violations.filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => `${v.id}: ${v.help}: ${v.nodes.map(n => n.target.join(" ")).slice(0, 5).join(", ")}`);
    }""")
    if found:
        problems[name] = found


def tick(page: Page, name: str, value: str, on: bool = True) -> None:
    """Tick a box or choose a radio of the questionnaire, and wait for HTMX to bring the questions."""
    box = page.locator(f'input[name="{name}"][value="{value}"]')
    if on:
        box.check()
    else:
        box.uncheck()
    page.wait_for_load_state("networkidle")


def test_qualify_answer_a_control_build_download_and_verify_a_bundle(base: str, browser: Browser,
                                                                     tmp_path: Path) -> None:
    errors: list[str] = []
    problems: dict[str, list[str]] = {}
    # axe is injected as a script of the test's own, which the portal's CSP forbids: this context
    # bypasses the CSP (the pages' own scripts are unchanged), as tests/test_portal_a11y.py does.
    context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True, bypass_csp=True)
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/login")
    page.locator("#email").fill("owner@acme.lu")
    page.locator("#password").fill(PASSWORD)
    page.locator('form[action="/login"] button[type="submit"]').click()
    page.wait_for_load_state()

    page.goto(f"{base}/aiact")
    checked(page, "01-systems", problems)
    page.get_by_label("Add an AI system").fill("Helpdesk chatbot")
    page.get_by_role("button", name="Add and qualify").click()
    expect(page.get_by_role("heading", name="Qualify Helpdesk chatbot")).to_be_visible()
    checked(page, "02-questionnaire", problems)

    for name, value in (("ai_system.infers", "yes"), ("ai_system.autonomy", "yes"), ("role", "provider"),
                        ("prohibited", "none"), ("annex_i.safety_component", "no")):
        tick(page, name, value)
    # An Annex III use brings its Art. 6(3) question in; taking it back takes the question away.
    exception = page.locator('input[name="annex_iii.exception"]')
    expect(exception).to_have_count(0)
    tick(page, "annex_iii.uses", "annex-iii.4.a")
    expect(exception.first).to_be_visible()
    tick(page, "annex_iii.uses", "annex-iii.4.a", on=False)
    expect(exception).to_have_count(0)
    for name, value in (("annex_iii.uses", "none"), ("transparency.interacts", "yes"),
                        ("transparency.generates", "yes"), ("transparency.emotion_or_categorisation", "no"),
                        ("transparency.deep_fake", "no"), ("gpai.model", "no")):
        tick(page, name, value)
    page.get_by_role("button", name="Qualify", exact=True).click()
    expect(page.get_by_text("risk class: limited")).to_be_visible()
    checked(page, "03-system", problems)

    page.get_by_role("link", name="Controls").click()
    control = page.locator("#control-ai-interaction-disclosure")
    control.get_by_label("4: implemented").check()
    control.get_by_label("Evidence file").set_input_files(
        files=[{"name": "banner.png", "mimeType": "image/png", "buffer": BANNER}])
    control.get_by_role("button", name="Save the answer").click()
    expect(page.get_by_text("Your answer to ai-interaction-disclosure is saved.")).to_be_visible()
    expect(page.locator("#control-ai-interaction-disclosure").get_by_role("link", name="banner.png")).to_be_visible()
    checked(page, "04-controls", problems)

    page.get_by_role("link", name="Helpdesk chatbot").click()
    page.get_by_role("link", name="Obligations and verdicts").click()
    expect(page.get_by_text("scored 4 of 5").first).to_be_visible()
    checked(page, "05-obligations", problems)

    page.get_by_role("link", name="Helpdesk chatbot").click()
    page.get_by_role("button", name="Build the evidence bundle").click()
    expect(page.get_by_text("files, signed.")).to_be_visible()
    with page.expect_download() as event:
        page.locator("#bundles").get_by_role("link", name="laif-evidence-helpdesk-chatbot").first.click()
    bundle = tmp_path / event.value.suggested_filename
    event.value.save_as(bundle)
    assert bundle.name.startswith("laif-evidence-helpdesk-chatbot-") and bundle.suffix == ".zip"
    with zipfile.ZipFile(bundle) as zf:
        assert zf.read("controls/ai-interaction-disclosure/banner.png") == BANNER

    page.goto(f"{base}/aiact/verify")
    page.get_by_label("Evidence bundle (.zip)").set_input_files(str(bundle))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name=f"Intact: {bundle.name} verifies")).to_be_visible()
    checked(page, "06-verified", problems)

    tampered = tmp_path / "tampered.zip"
    out = io.BytesIO()
    with zipfile.ZipFile(bundle) as zin, zipfile.ZipFile(out, "w") as zout:
        for member in zin.namelist():
            zout.writestr(member, b"another picture" if member.endswith("banner.png") else zin.read(member))
    tampered.write_bytes(out.getvalue())
    page.get_by_label("Evidence bundle (.zip)").set_input_files(str(tampered))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Failed: tampered.zip does not verify")).to_be_visible()
    expect(page.get_by_text("controls/ai-interaction-disclosure/banner.png: changed").first).to_be_visible()
    checked(page, "07-tampered", problems)
    context.close()

    assert problems == {}, problems
    assert errors == [], errors
