"""A mistyped command line gets the usage message and exit 2, never a traceback.

Typer 0.22 and later vendor click under their own package name, so catching
`click.ClickException` alone let every usage error escape as a traceback with exit 1.
These run the installed `laif` as a user would, one test per kind of mistake.
"""

from __future__ import annotations

import pytest

from tests.conftest import run_laif

KINDS = {
    "unknown command": ["doctr"],
    "unknown sub-command": ["ipms", "pseudonymize"],
    "unknown option": ["assess", "--bogus"],
    "missing argument": ["evidence", "build"],
    "missing option value": ["assess", "--model"],
    "bad integer": ["assess", "--limit", "abc"],
    "bad choice": ["leaderboard", "--format", "pdfx"],
    "extra argument": ["leaderboard", "surplus"],
}


@pytest.mark.parametrize("argv", KINDS.values(), ids=KINDS.keys())
def test_usage_error_prints_usage_and_exits_2(argv: list[str]) -> None:
    result = run_laif(*argv, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "Error" in result.stderr
    assert "Usage:" in result.stderr or "--help' for help" in result.stderr


def test_no_arguments_shows_help() -> None:
    result = run_laif(timeout=120)
    assert "Traceback" not in result.stderr + result.stdout
    assert "Usage:" in result.stdout + result.stderr
    assert "assess" in result.stdout + result.stderr


def test_help_exits_0() -> None:
    result = run_laif("assess", "--help", timeout=120)
    assert result.returncode == 0
    assert "--model" in result.stdout
