"""The portal end to end in a real browser (issue 15): Playwright driving Debian's chromium against
`laif serve --demo`, as a new user finds it after `make run`.

The demo SME's owner signs in with the printed one-time password and chooses a password of their
own; runs a bias assessment of the embedded model through the sandbox form, watches it finish on
the live progress page and opens the report; qualifies an AI system, answers a control with an
uploaded file, builds the evidence bundle, downloads it and verifies it; the demo data holder
publishes a dataset, the SME's owner requests access to it, and the holder approves. A screenshot
of each page goes to laif-out/screenshots/portal/e2e-*.png, which `make test` keeps.

Loads the model (the in-process worker runs the assessment): run under the heavy lock."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import chromium, free_port, wait_healthy

SHOTS = Path(__file__).resolve().parents[1] / "laif-out" / "screenshots" / "portal"
pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra")

from playwright.sync_api import Browser, Page, expect  # noqa: E402

from laif.portal.demo import DEMO_ANSWERS, DEMO_HOLDER, DEMO_OWNER  # noqa: E402


@dataclass
class Demo:
    base: str
    owner_password: str
    holder_password: str
    home: Path


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    root = tmp_path_factory.mktemp("portal-e2e")
    home = root / "home"
    port = free_port()
    env = {**os.environ, "LAIF_HOME": str(home)}
    env.pop("LAIF_DB_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "laif", "serve", "--demo", "--port", str(port)], cwd=root,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    base = f"http://127.0.0.1:{port}"
    printed = ""
    while "choose their own password" not in printed:
        line = proc.stdout.readline()
        assert line, f"laif serve --demo stopped: {printed}{proc.stderr.read() if proc.stderr else ''}"
        printed += line
    owner = re.search(rf"'{re.escape(DEMO_OWNER)}' with the one-time password (\S+)", printed)
    holder = re.search(rf"'{re.escape(DEMO_HOLDER)}' with the one-time password (\S+)", printed)
    assert owner and holder, printed
    wait_healthy(base, 120)
    try:
        yield Demo(base, owner.group(1), holder.group(1), home)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"e2e-{name}.png"), full_page=True)


def new_page(browser: Browser, errors: list[str]) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True).new_page()
    page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
    return page


def sign_in_first_time(page: Page, base: str, email: str, one_time: str, own: str, name: str) -> None:
    """Sign in with the printed one-time password and choose a password of one's own."""
    page.goto(f"{base}/login")
    page.get_by_label("E-mail (or account name)").fill(email)
    page.get_by_label("Password").fill(one_time)
    shot(page, f"{name}-sign-in")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    shot(page, f"{name}-choose-password")
    page.get_by_label("Current password").fill(one_time)
    page.get_by_label("New password", exact=True).fill(own)
    page.get_by_label("New password again").fill(own)
    page.get_by_role("button", name="Save the password").click()
    expect(page.get_by_text("Your password is changed.")).to_be_visible()


def test_a_new_user_does_everything_in_the_browser(demo: Demo, browser: Browser) -> None:
    errors: list[str] = []
    base = demo.base

    # 1. The demo SME's owner signs in.
    owner = new_page(browser, errors)
    sign_in_first_time(owner, base, DEMO_OWNER, demo.owner_password, "the owner's own password", "01-owner")
    expect(owner.get_by_text("Demo SME · SME owner")).to_be_visible()
    shot(owner, "02-catalogue")

    # 2. A bias assessment of the embedded model through the sandbox form.
    owner.get_by_role("link", name="Sandbox", exact=True).first.click()
    expect(owner.get_by_role("heading", name="Trustworthy-AI sandbox")).to_be_visible()
    owner.get_by_label("System under test").select_option(value="")
    for box in owner.locator("input[name=suites]").all():
        box.set_checked(box.get_attribute("value") == "bias")
    for box in owner.locator("input[name=languages]").all():
        box.set_checked(box.get_attribute("value") == "en")
    owner.get_by_label("Limit").fill("1")
    shot(owner, "03-sandbox-form")
    owner.get_by_role("button", name="Submit to the queue").click()
    expect(owner.get_by_text(re.compile(r"The assessment is in the queue as job \d+"))).to_be_visible()
    expect(owner.get_by_role("heading", name=re.compile(r"Assessment job \d+"))).to_be_visible()
    shot(owner, "04-job-live")

    # 3. The live progress page shows it finish; the report opens.
    report = owner.get_by_role("link", name="Read the report")
    expect(report).to_be_visible(timeout=600_000)
    expect(owner.locator("#job-live").get_by_text("done", exact=True)).to_be_visible()
    shot(owner, "05-job-done")
    report.click()
    expect(owner.get_by_text("bias", exact=False).first).to_be_visible()
    assert "/sandbox/jobs/" in owner.url and owner.url.endswith("report.html")
    shot(owner, "06-report")
    owner.goto(f"{base}/sandbox")
    expect(owner.get_by_role("cell", name="done").first).to_be_visible()
    shot(owner, "07-sandbox-jobs")

    # 4. Qualify an AI system through the questionnaire, answer a control with an uploaded file,
    # build the evidence bundle, download it and verify it.
    owner.get_by_role("link", name="AI Act", exact=True).first.click()
    expect(owner.get_by_role("heading", name="AI Act", exact=True)).to_be_visible()
    owner.get_by_label("Add an AI system").fill("Helpdesk chatbot")
    owner.get_by_role("button", name="Add and qualify").click()
    expect(owner.get_by_role("heading", name="Qualify Helpdesk chatbot")).to_be_visible()
    for qid, answer in DEMO_ANSWERS.items():
        question = owner.locator(f"fieldset#q-{qid.replace('.', '-')}")
        for value in answer if isinstance(answer, list) else [answer]:
            question.locator(f"input[value='{value}']").check()
            owner.wait_for_load_state("networkidle")  # the form asks the questions that follow
    shot(owner, "08-aiact-questionnaire")
    owner.get_by_role("button", name="Qualify", exact=True).click()
    expect(owner.get_by_text("risk class: limited")).to_be_visible()
    shot(owner, "09-aiact-system")
    owner.get_by_role("link", name="Obligations and verdicts").click()
    expect(owner.get_by_text("art-50.1").first).to_be_visible()
    shot(owner, "10-aiact-obligations")
    owner.go_back()
    owner.get_by_role("link", name=re.compile(r"^Controls")).click()
    control = owner.locator("section.control").filter(
        has=owner.get_by_role("heading", name="People told they are talking to an AI"))
    control.get_by_role("radio", name=re.compile(r"^4: implemented")).check()
    control.get_by_label("Evidence file").set_input_files(files=[{
        "name": "chatbot-disclosure.txt", "mimeType": "text/plain",
        "buffer": b"Every conversation opens with: you are talking with an AI system.\n"}])
    control.get_by_role("button", name="Save the answer").click()
    expect(owner.get_by_role("link", name="chatbot-disclosure.txt")).to_be_visible()
    shot(owner, "11-aiact-controls")
    owner.get_by_role("link", name="Helpdesk chatbot").first.click()
    owner.get_by_role("button", name="Build the evidence bundle").click()
    bundle_link = owner.locator("#bundles").get_by_role("link", name=re.compile(r"\.zip$")).first
    expect(bundle_link).to_be_visible()
    shot(owner, "12-aiact-bundle")
    with owner.expect_download() as download:
        bundle_link.click()
    bundle = Path(download.value.path()).read_bytes()
    name = download.value.suggested_filename
    assert bundle[:2] == b"PK" and name.endswith(".zip")
    owner.goto(f"{base}/aiact/verify")
    owner.get_by_label("Evidence bundle (.zip)").set_input_files(
        files=[{"name": name, "mimeType": "application/zip", "buffer": bundle}])
    owner.get_by_role("button", name="Verify").click()
    expect(owner.get_by_role("heading", name=f"Intact: {name} verifies")).to_be_visible()
    expect(owner.get_by_text("chatbot-disclosure.txt").first).to_be_visible()
    shot(owner, "13-aiact-verify")

    # 5. The data holder publishes a dataset from a sample; the SME asks for access; the holder approves.
    holder = new_page(browser, errors)
    sign_in_first_time(holder, base, DEMO_HOLDER, demo.holder_password, "the holder's own password", "14-holder")
    holder.get_by_role("link", name="Datasets", exact=True).first.click()
    holder.goto(f"{base}/datasets/publish")
    expect(holder.get_by_role("heading", name="Publish a dataset")).to_be_visible()
    holder.get_by_label("Sample file").set_input_files(files=[{
        "name": "heat-pumps.csv", "mimeType": "text/csv",
        "buffer": b"commune,installed,year\nEsch,120,2024\nDiekirch,45,2024\nWiltz,30,2024\nEsch,150,2025\n"}])
    holder.get_by_role("button", name="Read the sample").click()
    expect(holder.get_by_role("heading", name="Describe the dataset")).to_be_visible()
    holder.get_by_label("Identifier").fill("heat-pumps-by-commune")
    holder.get_by_label("Title").fill("Heat pumps installed by commune")
    holder.get_by_label("Description").fill("Heat pumps installed per commune and year, counted by the demo holder.")
    holder.get_by_label("Contact name").fill("Demo Holder")
    holder.get_by_label("Contact e-mail").fill("data@demo-data.lu")
    holder.get_by_label("Access", exact=True).select_option("restricted")
    holder.get_by_role("checkbox", name="Energy").check()
    shot(holder, "15-datasets-describe")
    holder.get_by_role("button", name="Publish", exact=True).click()
    expect(holder.get_by_text("Published heat-pumps-by-commune in the catalogue.")).to_be_visible()
    shot(holder, "16-dataset-published")

    owner.goto(f"{base}/datasets")
    expect(owner.get_by_role("link", name="Heat pumps installed by commune")).to_be_visible()
    shot(owner, "17-datasets-browse")
    owner.get_by_role("link", name="Heat pumps installed by commune").click()
    owner.get_by_label("What is the data for?").fill("To size the heat-pump demand model of our helpdesk chatbot.")
    owner.get_by_role("button", name="Request access").click()
    expect(owner.get_by_text("Your request is with the holder.")).to_be_visible()
    shot(owner, "18-dataset-requested")

    holder.goto(f"{base}/datasets/inbox")
    expect(holder.get_by_role("cell", name="Demo SME").first).to_be_visible()
    shot(holder, "19-datasets-inbox")
    holder.locator("table").first.get_by_role("link").first.click()
    holder.get_by_label("Message").fill("Approved for the heat-pump model.")
    holder.get_by_role("button", name="Approve").click()
    expect(holder.get_by_text("The request is now approved.")).to_be_visible()
    shot(holder, "20-dataset-approved")
    owner.goto(f"{base}/notifications")
    expect(owner.get_by_text(re.compile("Access request for Heat pumps installed by commune: approved"))).to_be_visible()
    shot(owner, "21-owner-notified")

    assert errors == []
