"""A plugin suite declares its own metric, and laif shows it without knowing the suite: in the
run report (its title, value and interval), in the leaderboard (HTML, JSON and the terminal
table), at a stable path in the run summary (`metrics.exact_share`) that spec gates and
obligations name. The suite is run on the example model adapter plugin (answers by rule, no
model weights), so the only thing under test is how laif shows a metric it does not know."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from laif.core.figures import as_figure
from laif.core.suite import Metric, Suite
from laif.reports.html import cell, figure_tables, render_run_report
from laif.reports.suites import found_metrics
from laif.suites.isolation import PluginFailed, checked_metric

from .conftest import run_laif

PLUGINS = Path(__file__).parent / "plugins"


@pytest.fixture(scope="module")
def assessed(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Path]:
    """The example suite and model installed from tests/plugins, the suite run once."""
    site = tmp_path_factory.mktemp("plugin-site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
                    str(PLUGINS / "laif-example-suite"), str(PLUGINS / "laif-example-model")],
                   check=True, capture_output=True, text=True)
    home = tmp_path_factory.mktemp("home")
    env = {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]), "LAIF_HOME": str(home)}
    out = home / "out"
    done = run_laif("assess", "--model", "myadapter:rules", "--suite", "example-arithmetic", "--limit", "2",
                    "-l", "en,lb", "--quiet", "--out", str(out), env=env)
    assert done.returncode == 0, done.stderr
    return env, out


def test_the_metric_is_stored_at_its_declared_path(assessed: tuple[dict[str, str], Path]) -> None:
    results = json.loads((assessed[1] / "results.json").read_text())
    share = results["scores"]["metrics"]["exact_share"]
    passed = sum(c["verdict"] == "pass" for c in results["cases"])
    assert (share["k"], share["n"]) == (passed, 4)
    assert share["value"] == pytest.approx(100 * passed / 4)
    assert set(results["scores"]["metrics"]["by_language"]) == {"en", "lb"}


def test_the_run_report_shows_the_declared_metric(assessed: tuple[dict[str, str], Path]) -> None:
    results = json.loads((assessed[1] / "results.json").read_text())
    share = results["scores"]["metrics"]["exact_share"]
    html = (assessed[1] / "report.html").read_text()
    assert "<h2>Exact sums</h2>" in html
    assert "sums answered with exactly the right number" in html
    assert f'{share["value"]:.0f}%<span class="ci-note">{share["low"]:.0f}–{share["high"]:.0f}</span>' in html
    assert "<td class=\"name\">Luxembourgish</td>" in html


def test_the_leaderboard_shows_the_declared_metric(assessed: tuple[dict[str, str], Path]) -> None:
    env, out = assessed
    share = json.loads((out / "results.json").read_text())["scores"]["metrics"]["exact_share"]
    board = run_laif("leaderboard", "--suite", "example-arithmetic", "--format", "json", env=env)
    assert board.returncode == 0, board.stderr
    data = json.loads(board.stdout)
    assert data["metrics"] == [{"path": "metrics.exact_share", "title": "Exact sums", "direction": "higher",
                                "unit": "percent"}]
    assert data["rows"][0]["figures"]["metrics.exact_share"]["value"] == pytest.approx(share["value"])
    html = run_laif("leaderboard", "--suite", "example-arithmetic", "--format", "html", env=env)
    assert "<th>Exact sums</th>" in html.stdout
    table = run_laif("leaderboard", "--suite", "example-arithmetic", env=env)
    assert "Exact sums" in table.stdout and f"{share['value']:.0f}%" in table.stdout


def test_a_suite_that_declares_nothing_still_shows_its_figures() -> None:
    summary = {"metrics": {"kind": "old", "hits": 3, "rate": {"value": 50.0, "low": 20.0, "high": 80.0, "k": 2,
                                                              "n": 4}}}
    found = found_metrics(summary)
    assert [(m.path, m.unit) for m in found] == [("metrics.hits", "count"), ("metrics.rate", "percent")]
    html = render_run_report({"suite": {"name": "not-installed"}, "model": {"name": "m"}, "run_id": "r",
                              "scores": summary | {"categories": {}, "by_language": {}, "mean_by_language": {}, "mean": None}})
    assert "Not-installed assessment" in html and "50%" in html and "<td class=\"name\">hits</td>" in html


def test_a_lower_is_better_rate_is_coloured_the_other_way() -> None:
    none_leaked = as_figure({"value": 0.0, "low": 0.0, "high": 10.0})
    good = cell(Metric("x", "Leak rate", direction="lower"), none_leaked)
    bad = cell(Metric("x", "Accuracy", direction="higher"), none_leaked)
    assert good["background"] != bad["background"]
    assert good["text"] == "0%" and good["note"] == "0–10"


def test_a_breakdown_over_two_dimensions_is_one_table_with_margins() -> None:
    metric = Metric("m.all", "Flip rate", by={"rewording": "m.by_r.*", "language": "m.by_l.*",
                                             "rewording/language": "m.by_rl.*.*"})
    summary = {"m": {"all": {"value": 20.0}, "by_r": {"Typos": {"value": 25.0}},
                     "by_l": {"en": {"value": 10.0}, "lb": {"value": 30.0}},
                     "by_rl": {"Typos": {"en": {"value": 10.0}, "lb": {"value": 40.0}}}}}
    [table] = figure_tables(summary, [metric])
    assert table["columns"] == ["English", "Luxembourgish", "All"]
    assert [(label, [c["text"] for c in cells]) for label, cells in table["rows"]] == [("Typos", ["10%", "40%", "25%"])]
    assert [c["text"] for c in table["total"]] == ["10%", "30%", "20%"]


@pytest.mark.parametrize("bad", [
    {"direction": "up"}, {"unit": "furlongs"}, {"by": {"language": "m.by_language"}}, {"path": "", "by": {}},
    {"format_spec": "%d"}, {"by": ["m.*"]},
])
def test_a_malformed_declaration_is_refused_where_it_is_written(bad: dict[str, object]) -> None:
    fields: dict[str, object] = {"path": "m.x", "title": "X"} | bad
    with pytest.raises(ValueError, match="metric 'X'"):
        Metric(**fields)  # type: ignore[arg-type]


def test_the_plugin_guide_documents_every_suite_member_and_metric_field() -> None:
    guide = (Path(__file__).resolve().parents[1] / "docs" / "writing-a-suite.md").read_text()
    members = ["name", "version", "categories", "languages", "library_hash", "cases", "describe",
               "title", "score_over", "metrics", "declared_metrics"]
    fields = [f.name for f in dataclasses.fields(Metric)]
    missing = [m for m in members + fields if f"`{m}" not in guide]
    assert not missing, f"docs/writing-a-suite.md does not name {missing}"
    protocol = [*Suite.__annotations__, *(n for n, v in vars(Suite).items() if callable(v) and not n.startswith("_"))]
    assert set(protocol) <= set(members)  # a member added to the protocol is added to the list above


def test_a_plugins_metric_that_skipped_the_checks_is_refused() -> None:
    smuggled = object.__new__(Metric)  # what unpickling a plugin's answer makes: no __post_init__
    for name, value in {"path": "metrics.x", "title": "X", "direction": "sideways", "unit": "percent",
                        "interval": True, "by": {}, "description": "", "format_spec": ".0f", "leaderboard": True,
                        "fairness": False}.items():
        object.__setattr__(smuggled, name, value)
    with pytest.raises(PluginFailed, match="suite sly: a declared metric is not valid .*direction"):
        checked_metric("sly", smuggled)
