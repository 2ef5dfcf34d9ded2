"""The walk of docs/monitoring.md, as a new user runs it: every command of its first example, in
order, exactly as written (a week of logs, the spec, intake, status, the report, the plan, an
incident opened, updated, listed and reported, its snapshot verified, the monitoring bundle).
Then the HTML it wrote is opened in Debian's chromium at 1280 px: no console error, nothing wider
than the page, and a full-page screenshot of each in laif-out/screenshots/monitoring/."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import LAIF, chromium

ROOT = Path(__file__).resolve().parents[1]
DOCS = (ROOT / "docs" / "monitoring.md").read_text(encoding="utf-8")
SHOTS = ROOT / "laif-out" / "screenshots" / "monitoring"


def doc_commands() -> list[list[str]]:
    """The first ```sh block of the doc: continuation lines joined, comments dropped."""
    block = re.search(r"```sh\n(.*?)```", DOCS, re.S)
    assert block is not None
    text = block.group(1).replace("\\\n", " ")
    return [shlex.split(line, comments=True) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[subprocess.CompletedProcess[str]]]:
    here = tmp_path_factory.mktemp("walk")
    env = {"LAIF_HOME": str(here / "home"), "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
           "COLUMNS": "120"}
    done = []
    for words in doc_commands():
        if words[0] == "python":
            argv = [sys.executable, str(ROOT / words[1]), *words[2:]]
        else:
            assert words[0] == "laif", words
            argv = [*LAIF, *words[1:]]
        done.append(subprocess.run(argv, cwd=here, env=env, capture_output=True, text=True, timeout=600))
    return here, done


def test_every_command_of_the_doc_works(walked: tuple[Path, list[subprocess.CompletedProcess[str]]]) -> None:
    here, done = walked
    assert len(done) >= 12
    for r in done:
        assert r.returncode == 0, (r.args, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr
    said = {" ".join(str(a) for a in r.args[3:5]): r.stdout + r.stderr for r in done if r.args[:3] == LAIF}
    assert "latest: alert" in said["monitor status"]
    assert "report due by" in said["incidents open"] and "(15 days after awareness, Art. 73(2)" in said["incidents open"]
    assert "intact" in said["evidence verify"]
    assert (here / "plan.pdf").read_bytes().startswith(b"%PDF")
    incident = (here / "incident" / "INC-0001.html").read_text(encoding="utf-8")
    assert "<b>2026-12-13 09:00 UTC</b>: 15 days after awareness (Art. 73(2))" in incident
    assert "widespread" not in incident  # no "widespread: False" among the versions
    with zipfile.ZipFile(here / "monitoring.zip") as zf:
        names = set(zf.namelist())
    assert {"monitoring/bank-bot/report.html", "monitoring/bank-bot/plan.html", "incidents/INC-0001.json"} <= names


def test_the_pages_it_wrote_read_well_in_a_browser(walked: tuple[Path, list[subprocess.CompletedProcess[str]]]) -> None:
    here, _ = walked
    plan = here / "plan.html"
    r = subprocess.run([*LAIF, "monitor", "plan", "--stream", "bank-bot", "--out", str(plan)], cwd=here,
                       env={"LAIF_HOME": str(here / "home"), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    SHOTS.mkdir(parents=True, exist_ok=True)
    pages = {"report": here / "report.html", "plan": plan, "incident": here / "incident" / "INC-0001.html"}
    with chromium() as browser:
        for name, path in pages.items():
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
            page.goto(path.as_uri())
            assert errors == [], (name, errors)
            assert page.evaluate("document.documentElement.scrollWidth") <= 1280, name
            page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
            if name == "report":
                widths = page.eval_on_selector_all(".chart svg", "els => els.map(e => e.getBoundingClientRect().width)")
                assert len(widths) == 12 and min(widths) > 400  # two charts a row, each readable
                assert page.locator("text=alert 20 %").count() >= 1  # thresholds labelled in the signal's unit
            page.close()
