"""A mistyped value of a fixed choice (--format, --category, --report, --status) exits 2 with the
usage message and the choices, as a mistyped option does; --help lists the choices."""

from __future__ import annotations

from pathlib import Path

import pytest

from laif.cli.incidents import Category, ReportKind, Status
from laif.cli.monitor import Form
from laif.monitor.incidents import CATEGORIES, REPORT_KINDS, STATUSES
from laif.monitor.intake import FORMS

from .conftest import run_laif


def test_the_choices_are_the_code_s() -> None:
    assert [f.value for f in Form] == list(FORMS)
    assert [c.value for c in Category] == list(CATEGORIES)
    assert [r.value for r in ReportKind] == list(REPORT_KINDS) and [s.value for s in Status] == list(STATUSES)


@pytest.mark.parametrize(("args", "bad"), [
    (("monitor", "ingest", "week.jsonl", "--stream", "bot", "--format", "jsnl"), "'jsnl'"),
    (("monitor", "watch", "week.jsonl", "--stream", "bot", "--format", "CSV "), "'CSV '"),
    (("incidents", "open", "--title", "t", "--category", "deth", "--occurred", "2026-11-27T12:40:00Z"), "'deth'"),
    (("incidents", "update", "INC-0001", "--report", "inital"), "'inital'"),
    (("incidents", "update", "INC-0001", "--status", "done"), "'done'"),
], ids=["ingest --format", "watch --format", "open --category", "update --report", "update --status"])
def test_a_mistyped_choice_exits_2_with_the_usage(tmp_path: Path, args: tuple[str, ...], bad: str) -> None:
    r = run_laif(*args, env={"LAIF_HOME": str(tmp_path / "home")})
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"laif {args[0]} {args[1]} [OPTIONS]" in r.stderr.split("Usage: ", 1)[1] and bad in r.stderr
    assert "Traceback" not in r.stderr


def test_help_lists_the_categories(tmp_path: Path) -> None:
    r = run_laif("incidents", "open", "--help", env={"LAIF_HOME": str(tmp_path / "home"), "COLUMNS": "200"})
    assert r.returncode == 0 and "critical_infrastructure" in r.stdout and "fundamental_rights" in r.stdout
