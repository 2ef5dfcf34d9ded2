"""What `laif incidents open` tells a provider about the Art. 73 deadline: the date in UTC, the
time left in days and hours, the rule, and that a report is due at once when the causal link is
established (Art. 73(2)), not only at the outer limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from .conftest import run_laif


def _open(tmp_path: Path, *extra: str, category: str = "fundamental_rights") -> str:
    r = run_laif("incidents", "open", "--title", "Loan advice in the wrong language", "--category", category, *extra,
                 env={"LAIF_HOME": str(tmp_path / "home"), "COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    return " ".join(r.stdout.split())


def test_the_deadline_reads_in_days_and_hours(tmp_path: Path) -> None:
    aware = datetime.now(UTC).replace(microsecond=0)
    said = _open(tmp_path, "--occurred", (aware - timedelta(days=1)).isoformat(), "--aware", aware.isoformat())
    due = (aware + timedelta(days=15)).strftime("%Y-%m-%d %H:%M UTC")
    assert f"report due by {due} (15 days after awareness, Art. 73(2)); 15 days 0 h left" in said
    assert "h left" in said and " 360" not in said  # not "360.0 h left"
    assert "immediately" not in said


def test_a_widespread_infringement_says_why_its_days_differ(tmp_path: Path) -> None:
    said = _open(tmp_path, "--occurred", "2026-11-27T12:40:00Z", "--aware", "now", "--widespread", category="death")
    assert "(2 days after awareness, Art. 73(3): a widespread infringement (Art. 3(61)))" in said
    assert "2 days 0 h left" in said


def test_an_established_causal_link_calls_for_the_report_now(tmp_path: Path) -> None:
    said = _open(tmp_path, "--occurred", "2026-11-27T12:40:00Z", "--aware", "now", "--causal-link", "now")
    assert "the causal link is established: the report is due immediately (Art. 73(2))" in said


def test_a_missed_deadline_says_how_late(tmp_path: Path) -> None:
    said = _open(tmp_path, "--occurred", "2020-01-01T08:00:00Z", "--aware", "2020-01-02T08:00:00Z", category="death")
    assert "report due by 2020-01-12 08:00 UTC (10 days after awareness, Art. 73(4));" in said
    assert " late" in said and "left" not in said and " days " in said.split("Art. 73(4));")[1]


def test_the_list_says_what_is_left_and_what_was_reported(tmp_path: Path) -> None:
    env = {"LAIF_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    _open(tmp_path, "--occurred", "2026-11-27T12:40:00Z", "--aware", "now")
    _open(tmp_path, "--occurred", "2020-01-01T08:00:00Z", "--aware", "2020-01-02T08:00:00Z", category="death")
    r = run_laif("incidents", "list", env=env)
    assert r.returncode == 0, r.stderr
    rows = [line for line in r.stdout.splitlines() if "INC-000" in line]
    assert "(Art. 73(2)); 15 days 0 h left" in rows[0] and "(Art. 73(4));" in rows[1] and "late" in rows[1]
    assert run_laif("incidents", "update", "INC-0001", "--report", "initial", env=env).returncode == 0
    r = run_laif("incidents", "list", env=env)
    assert "reported on time" in [line for line in r.stdout.splitlines() if "INC-0001" in line][0]
