"""docs/monitoring.md says what the code does: every command, signal, default rule, statistic
threshold and Art. 73 deadline it states is the one in the code."""

from __future__ import annotations

from pathlib import Path

import pytest

from laif.cli.incidents import incidents_app
from laif.cli.monitor import monitor_app
from laif.monitor import stats
from laif.monitor.incidents import CATEGORIES, WIDESPREAD_DAYS
from laif.monitor.spec import DEFAULT_RULES
from laif.monitor.summary import SIGNALS

DOCS = (Path(__file__).resolve().parents[1] / "docs" / "monitoring.md").read_text(encoding="utf-8")


def _line_with(token: str) -> str:
    lines = [line for line in DOCS.splitlines() if token in line and line.startswith("|")]
    assert lines, f"no table row in docs/monitoring.md names {token}"
    return lines[0]


@pytest.mark.parametrize(("app", "group"), [(monitor_app, "monitor"), (incidents_app, "incidents")])
def test_every_command_is_documented(app: object, group: str) -> None:
    names = [c.name for c in app.registered_commands]  # type: ignore[attr-defined]
    missing = [n for n in names if f"laif {group} {n}" not in DOCS]
    assert names and not missing


def test_every_signal_is_documented() -> None:
    assert [s for s in SIGNALS if f"`{s}`" not in DOCS] == []


@pytest.mark.parametrize("signal", list(DEFAULT_RULES))
def test_default_rules_are_the_documented_ones(signal: str) -> None:
    row = _line_with(f"`{signal}`")
    for state, bound in DEFAULT_RULES[signal].items():
        for side, value in bound.items():
            assert f"{'>' if side == 'max' else '<'} {value:.2f}" in row, (signal, state)


def test_statistic_thresholds_are_the_documented_ones() -> None:
    assert f"{stats.PSI_WARNING} moderate, {stats.PSI_ALERT} significant" in DOCS
    assert f"p < {stats.P_VALUE} after correction" in DOCS
    assert f"{stats.DISTANCE_ALERT}, with {stats.DISTANCE_MIN_N:,}+ values" in DOCS
    assert f"alert when MMD > {stats.MMD_ALERT}" in DOCS and f"from {stats.MMD_PERMUTATIONS} random permutations" in DOCS


@pytest.mark.parametrize("category", list(CATEGORIES))
def test_deadlines_are_the_documented_ones(category: str) -> None:
    c = CATEGORIES[category]
    row = _line_with(f"`{category}`")
    assert f"{c.days} days ({c.rule})" in row
    assert f"{WIDESPREAD_DAYS} days (Art. 73(3))" in _line_with("--widespread")


def test_every_exit_code_is_documented() -> None:
    from laif.errors import EXIT_BAD_INPUT, EXIT_GATE, EXIT_INTERRUPTED, EXIT_OK, EXIT_UNREACHABLE

    section = DOCS.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    codes = {int(line.split("|")[1]) for line in section.splitlines() if line.startswith("| ") and line[2].isdigit()}
    assert codes == {EXIT_OK, EXIT_GATE, EXIT_BAD_INPUT, EXIT_UNREACHABLE, EXIT_INTERRUPTED}
    assert "status --check" in section and "canary --check" in section
