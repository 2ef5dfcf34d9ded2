"""The portal in a real browser: Playwright driving Debian's chromium against `laif serve`.

The first admin signs in with the printed one-time password, makes an organisation and invites
its owner and an advisor; the owner requests the sandbox; the advisor takes the request, answers
and accepts it; the owner is notified. A screenshot of each page goes to
laif-out/screenshots/portal/, which `make test` keeps."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import chromium, free_port, wait_healthy

SHOTS = Path(__file__).resolve().parents[1] / "laif-out" / "screenshots" / "portal"
pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra")

from playwright.sync_api import Browser, Page, expect  # noqa: E402


class Served:
    def __init__(self, base: str, password: str, proc: subprocess.Popen[str]) -> None:
        self.base, self.password, self.proc = base, password, proc


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("portal-home")
    port = free_port()
    env = {**os.environ, "LAIF_HOME": str(home)}
    env.pop("LAIF_DB_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "laif", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    lines = [proc.stdout.readline(), proc.stdout.readline()]
    found = re.search(r"one-time password (\S+)", lines[1])
    assert found, lines
    base = f"http://127.0.0.1:{port}"
    assert lines[0].strip() == f"laif portal on {base}/"
    wait_healthy(base)
    try:
        yield Served(base, found.group(1), proc)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def new_page(browser: Browser, errors: list[str]) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page


def test_sign_in_request_a_service_and_the_advisor_accepts_it(served: Served, browser: Browser) -> None:
    errors: list[str] = []
    base = served.base

    # The first admin: one-time password, then a password of their own.
    admin = new_page(browser, errors)
    admin.goto(f"{base}/")
    shot(admin, "01-catalogue-visitor")
    admin.goto(f"{base}/login")
    shot(admin, "02-sign-in")
    admin.get_by_label("E-mail (or account name)").fill("admin")
    admin.get_by_label("Password").fill(served.password)
    admin.get_by_role("button", name="Sign in").click()
    expect(admin.get_by_role("heading", name="Choose your password")).to_be_visible()
    shot(admin, "03-choose-password")
    admin.get_by_label("Current password").fill(served.password)
    admin.get_by_label("New password", exact=True).fill("the admin's own password")
    admin.get_by_label("New password again").fill("the admin's own password")
    admin.get_by_role("button", name="Save the password").click()
    expect(admin.get_by_text("Your password is changed.")).to_be_visible()

    # An organisation, its owner and an advisor.
    admin.goto(f"{base}/members")
    admin.get_by_label("Name", exact=True).fill("Acme Robotics")
    admin.get_by_role("button", name="Make it").click()
    expect(admin.get_by_text("Organisation Acme Robotics made.")).to_be_visible()
    admin.goto(f"{base}/members")
    admin.get_by_label("E-mail").fill("owner@acme.lu")
    admin.get_by_label("Organisation", exact=True).select_option(label="Acme Robotics")
    admin.get_by_label("Role").select_option(label="SME owner")
    admin.get_by_role("button", name="Make the invitation link").click()
    owner_link = admin.locator("#invite-link").inner_text().strip()
    shot(admin, "04-members-invitation")
    admin.get_by_label("E-mail").fill("advisor@factory.lu")
    admin.get_by_label("Organisation", exact=True).select_option(label="Luxembourg AI Factory")
    admin.get_by_label("Role").select_option(label="Factory advisor")
    admin.get_by_role("button", name="Make the invitation link").click()
    advisor_link = admin.locator("#invite-link").inner_text().strip()

    # The owner accepts and requests the sandbox.
    owner = new_page(browser, errors)
    owner.goto(owner_link)
    expect(owner.get_by_role("heading", name="Join Acme Robotics")).to_be_visible()
    shot(owner, "05-invitation")
    owner.get_by_label("Your name").fill("Olga Owner")
    owner.get_by_label("Password").fill("olga's long password")
    owner.get_by_role("button", name="Accept the invitation").click()
    expect(owner.get_by_text("Acme Robotics · SME owner")).to_be_visible()
    shot(owner, "06-catalogue-member")
    owner.get_by_role("link", name="Trustworthy-AI sandbox").click()
    owner.get_by_label("What do you need?").fill("Our support chatbot answers in French and Luxembourgish.")
    owner.get_by_role("button", name="Request this service").click()
    expect(owner.get_by_text("Your request is in the advisors' queue.")).to_be_visible()
    request_url = owner.url
    shot(owner, "07-request-new")

    # The advisor sees it in the queue, discusses and accepts.
    advisor = new_page(browser, errors)
    advisor.goto(advisor_link)
    advisor.get_by_label("Your name").fill("Arno Advisor")
    advisor.get_by_label("Password").fill("arno's long password")
    advisor.get_by_role("button", name="Accept the invitation").click()
    advisor.goto(f"{base}/requests")
    expect(advisor.get_by_role("cell", name="Acme Robotics")).to_be_visible()
    shot(advisor, "08-advisor-queue")
    advisor.get_by_role("link", name="Trustworthy-AI sandbox").click()
    assert advisor.url == request_url
    advisor.get_by_role("button", name="Start the discussion").click()
    advisor.get_by_label("Write a message").fill("Which model and endpoint should we test? Our spec template is attached.")
    advisor.get_by_label("Attach a file").set_input_files(
        files=[{"name": "sandbox-spec.yaml", "mimeType": "text/yaml", "buffer": b"suites: [bias]\nlanguages: [fr, lb]\n"}])
    advisor.get_by_role("button", name="Send").click()
    expect(advisor.locator("#messages").get_by_role("link", name="sandbox-spec.yaml")).to_be_visible()
    advisor.get_by_role("button", name="Accept").click()
    expect(advisor.get_by_text("The request is now accepted.")).to_be_visible()
    shot(advisor, "09-request-accepted")

    # The owner is notified.
    owner.goto(f"{base}/notifications")
    expect(owner.get_by_text("Your request for Trustworthy-AI sandbox is now accepted")).to_be_visible()
    shot(owner, "10-notifications")
    owner.goto(request_url)
    expect(owner.get_by_text("Which model and endpoint should we test?")).to_be_visible()
    with owner.expect_download() as download:
        owner.get_by_role("link", name="sandbox-spec.yaml").click()
    assert Path(download.value.path()).read_bytes() == b"suites: [bias]\nlanguages: [fr, lb]\n"
    shot(owner, "10b-request-with-file")

    admin.goto(f"{base}/admin/audit")
    expect(admin.get_by_role("cell", name="request.status").first).to_be_visible()
    shot(admin, "11-audit-log")
    assert errors == []
