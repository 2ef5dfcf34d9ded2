"""One reader of figures at a path (laif.core.figures) behind spec gates and obligations: paths,
wildcards, intervals, errors that name the path and the nearest keys, old record layouts, and a
plugin suite's own figure in a spec gate and in an obligations verdict, from a real run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from laif.compliance.obligations import Metric, load_catalogue, measure
from laif.configurator.spec import EXAMPLE, SandboxSpec, gates
from laif.core.figures import Bound, Figure, FigureError, as_figure, find_figures, read_figure, read_figures
from laif.core.summary import read_summary
from laif.errors import BadInput
from tests.conftest import run_laif

PLUGIN = Path(__file__).parent / "plugins" / "laif-example-suite"


def _category(passed: int, failed: int, score: float | None, low: float | None, high: float | None,
              abstained: int | None = 0) -> dict[str, Any]:
    c: dict[str, Any] = {"passed": passed, "failed": failed, "refused": 0, "abstained": abstained, "unparseable": 0,
                         "errored": 0, "score": score, "low": low, "high": high, "decided": passed + failed,
                         "total": passed + failed}
    if abstained is None:  # a record written before the abstained verdict
        del c["abstained"]
    return c


SUMMARY: dict[str, Any] = {
    "categories": {"Gender": _category(8, 2, 80.0, 49.0, 94.3), "Age": _category(0, 0, None, None, None)},
    "mean": 80.0,
    "by_language": {"en": {"Gender": _category(4, 1, 80.0, 37.6, 96.4)}, "fr": {"Gender": _category(4, 1, 80.0, 37.6, 96.4)}},
    "mean_by_language": {"en": 80.0, "fr": 80.0},
    "score_over": ["fail", "pass"],
    "format_compliance": {"en": {"read": 5, "answers": 5, "share": 1.0}},
    "metrics": {
        "kind": "factual",
        "overall": {"correct": 3, "answers": 4, "accuracy": {"value": 75.0, "low": 30.1, "high": 95.4, "k": 3, "n": 4}},
        "by_language": {"en": {"accuracy": {"value": 100.0, "low": 51.0, "high": 100.0, "k": 2, "n": 2}},
                        "fr": {"accuracy": {"value": 50.0, "low": 9.5, "high": 90.5, "k": 1, "n": 2}},
                        "lb": {"answers": 0}},
        "gap_to_english": {"fr": -50.0, "lb": None},
        "label": "text is not a figure",
    },
}


def test_a_path_reads_numbers_rates_and_category_scores() -> None:
    assert read_figure(SUMMARY, "mean") == Figure("mean", 80.0)
    rate = read_figure(SUMMARY, "metrics.overall.accuracy")
    assert (rate.value, rate.low, rate.high, rate.k, rate.n, rate.shape) == (75.0, 30.1, 95.4, 3, 4, "rate")
    score = read_figure(SUMMARY, "categories.Gender")
    assert (score.value, score.low, score.high, score.k, score.n, score.shape) == (80.0, 49.0, 94.3, 8, 10, "score")
    assert read_figure(SUMMARY, "categories.Age").value is None  # nothing decided: not measured
    assert read_figure(SUMMARY, "metrics.gap_to_english.lb") == Figure("metrics.gap_to_english.lb", None)
    assert read_figure(SUMMARY, "metrics.overall.correct").value == 3  # as written: an int stays an int
    # A typed summary reads the same as the stored dict.
    assert read_figures(read_summary(SUMMARY), "by_language.*.Gender") == read_figures(SUMMARY, "by_language.*.Gender")


def test_wildcards_fan_out_skip_kind_and_what_is_not_a_figure() -> None:
    found = read_figures(SUMMARY, "metrics.by_language.*.accuracy")  # lb has no accuracy: skipped
    assert [(f.path, f.matched, f.value) for f in found] == [
        ("metrics.by_language.en.accuracy", ("en",), 100.0), ("metrics.by_language.fr.accuracy", ("fr",), 50.0)]
    with pytest.raises(FigureError, match="is a group of figures"):  # groups and text: `*` finds no figure
        read_figures(SUMMARY, "metrics.*")
    assert [f.matched for f in read_figures(SUMMARY, "by_language.*.*")] == [("en", "Gender"), ("fr", "Gender")]
    assert read_figures({"categories": {}}, "categories.*") == []  # nothing to read is not an error
    with pytest.raises(FigureError, match="read them with read_figures"):
        read_figure(SUMMARY, "categories.*")


def test_missing_paths_name_the_path_where_it_stopped_and_the_nearest_keys() -> None:
    with pytest.raises(FigureError) as caught:
        read_figures(SUMMARY, "metrics.overall.acuracy")
    e = caught.value
    assert (e.path, e.found, e.missing, e.nearest) == ("metrics.overall.acuracy", "metrics.overall", "acuracy",
                                                     ["accuracy"])
    assert "no figure at metrics.overall.acuracy: there is no 'acuracy' at metrics.overall" in str(e)
    assert "keys there: correct, answers, accuracy" in str(e) and "nearest: accuracy" in str(e)
    with pytest.raises(FigureError, match="no 'nope' at the top"):
        read_figures(SUMMARY, "nope")
    with pytest.raises(FigureError, match=r"no 'acc' at metrics\.by_language\.en .*nearest: accuracy"):  # no branch of `*` has it
        read_figures(SUMMARY, "metrics.by_language.*.acc")
    with pytest.raises(FigureError, match=r"metrics\.overall is a group of figures \(correct, answers, accuracy\)"):
        read_figures(SUMMARY, "metrics.overall")
    with pytest.raises(FigureError, match="not a figure"):
        read_figures(SUMMARY, "metrics.label")
    with pytest.raises(FigureError, match="not a path"):
        read_figures(SUMMARY, "metrics..overall")
    assert find_figures(SUMMARY, "metrics.overall.acuracy") == []  # the lenient reader of reports
    assert isinstance(e, BadInput)  # a CLI exits 2 on it


def test_old_record_layouts_read_the_same() -> None:
    old = {"categories": {"Gender": _category(8, 2, 80.0, 49.0, 94.3, abstained=None)}, "mean": 80.0,
           "by_language": {}, "mean_by_language": {}}
    typed = read_summary(old)
    assert typed.categories["Gender"].abstained == 0 and typed.as_json() == old  # absent stays absent
    assert read_figure(typed, "categories.Gender").value == 80.0


def test_what_is_a_figure() -> None:
    assert as_figure(None) == Figure("", None) and as_figure(3) == Figure("", 3)
    assert as_figure({"value": "high"}) is None and as_figure(True) is None and as_figure([1]) is None
    assert as_figure({"answers": 3}) is None and as_figure({"score": None, "decided": 0}) == Figure("", None, n=0,
                                                                                                     shape="score")


@pytest.mark.parametrize(("bound", "value", "low", "high", "expected"), [
    (Bound("higher", 60), 80, 70, 90, "met"),
    (Bound("higher", 60), 65, 55, 75, "inconclusive"),
    (Bound("higher", 60, on="value"), 65, 55, 75, "met"),  # a spec gate reads the point value
    (Bound("higher", 60, on="value"), 60, 50, 70, "met"),  # the bound itself is on the good side
    (Bound("lower", 20), 30, 21, 40, "not met"),
    (Bound("lower", 20, on="value"), 20.5, None, None, "not met"),
    (Bound("lower", 20), None, None, None, "not assessed"),
])
def test_one_bound_on_the_value_or_the_interval(bound: Bound, value: float | None, low: float | None,
                                                high: float | None, expected: str) -> None:
    assert bound.judge(value, low, high) == expected
    assert Bound("higher", 60).text() == "at least 60" and Bound("lower", 2.5).text() == "at most 2.5"


def test_spec_gates_read_category_scores_and_wildcards_one_row_per_figure() -> None:
    base = yaml.safe_load(EXAMPLE) | {"suites": ["bias"]}
    spec = SandboxSpec.model_validate(base | {"thresholds": {"bias.categories.*": {"min": 50}}})
    rows = gates(spec, {"bias": SUMMARY})
    assert [(r["threshold"], r["value"], r["met"]) for r in rows] == [
        ("bias.categories.Gender", 80.0, True), ("bias.categories.Age", None, None)]
    spec = SandboxSpec.model_validate(base | {"thresholds": {"bias.metrics.overall.acuracy": {"min": 50}}})
    with pytest.raises(BadInput, match=r"results have no 'acuracy' \(under bias\.metrics\.overall keys: correct, "
                                       r"answers, accuracy\); did you mean accuracy\?"):
        gates(spec, {"bias": SUMMARY})
    spec = SandboxSpec.model_validate(base | {"thresholds": {"bias.metrics.overall": {"min": 50}}})
    with pytest.raises(BadInput, match="thresholds.bias.metrics.overall: .*a group of figures"):
        gates(spec, {"bias": SUMMARY})
    with pytest.raises(ValueError, match="threshold 'bias.metrics..x'"):
        SandboxSpec.model_validate(base | {"thresholds": {"bias.metrics..x": {"min": 1}}})


def test_an_obligation_reads_the_same_paths() -> None:
    metric = Metric(title="Accuracy by language", suite="factual", path="metrics.by_language.*.accuracy",
                    direction="higher", threshold=95)
    got = measure(metric, {"run_id": "r", "scores": SUMMARY})
    assert [(m["label"], m["verdict"]) for m in got["measurements"]] == [("en", "inconclusive"), ("fr", "not met")]
    assert got["reason"] == "1 not met, 1 inconclusive (at least 95 %)"
    missing = measure(metric.model_copy(update={"path": "metrics.by_language.*.acuracy"}), {"run_id": "r",
                                                                                             "scores": SUMMARY})
    assert missing["verdict"] == "not assessed" and missing["reason"] == \
        "the factual run has nothing at metrics.by_language.*.acuracy"


# --- a plugin suite's own figure, from a real run ---------------------------------------------------


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    target = tmp_path_factory.mktemp("plugin-site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                    str(PLUGIN)], check=True, capture_output=True, text=True)
    return str(target)


def _plugin_figure(metrics: dict[str, Any]) -> str:
    """The plugin's own figure: its declared share of exact sums, or the count it wrote before declaring one."""
    return "metrics.exact_share" if "exact_share" in metrics else "metrics.exact_sums"


CATALOGUE = """\
version: test
regulation: Regulation (EU) 2024/1689
scale: {1: none, 2: some, 3: most, 4: all, 5: proven}
metrics:
  plugin-floor:
    title: Exact sums (any)
    suite: example-arithmetic
    path: PATH
    direction: higher
    threshold: 0
    risk: none, a floor every run meets
  plugin-ceiling:
    title: Exact sums (more than every sum)
    suite: example-arithmetic
    path: PATH
    direction: higher
    threshold: 101
    risk: none, a bar no run reaches
controls: {}
obligations:
  - id: art-15
    title: Accuracy, robustness and cybersecurity
    requirements:
      - {id: art-15.1, text: An appropriate level of accuracy, metrics: [plugin-floor]}
      - {id: art-15.3, text: Levels of accuracy declared, metrics: [plugin-ceiling]}
"""


@pytest.mark.slow
def test_a_plugin_figure_in_a_spec_gate_and_an_obligations_verdict(plugin_path: str, tmp_path: Path) -> None:
    env = {"PYTHONPATH": os.pathsep.join([plugin_path, os.environ.get("PYTHONPATH", "")]),
           "LAIF_HOME": str(tmp_path / "home")}
    spec = yaml.safe_load(EXAMPLE) | {"suites": ["example-arithmetic"], "languages": ["en"], "limit": 1}
    path = tmp_path / "sandbox.yaml"

    def sandbox(thresholds: dict[str, Any], out: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
        path.write_text(yaml.safe_dump(spec | {"thresholds": thresholds}), encoding="utf-8")
        r = run_laif("sandbox", "run", str(path), "--out", str(tmp_path / out), "--quiet", env=env)
        return r, json.loads((tmp_path / out / "gates.json").read_text(encoding="utf-8"))

    # A path that is not there: exit 2 once the run is kept, naming the keys there.
    path.write_text(yaml.safe_dump(spec | {"thresholds": {"example-arithmetic.metrics.nope": {"min": 0}}}),
                    encoding="utf-8")
    r = run_laif("sandbox", "run", str(path), "--out", str(tmp_path / "bad"), "--quiet", env=env)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "thresholds.example-arithmetic.metrics.nope: the example-arithmetic results have no 'nope'" in r.stderr
    results = json.loads((tmp_path / "bad" / "results.json").read_text(encoding="utf-8"))
    figure = _plugin_figure(results["scores"]["metrics"])
    key = f"example-arithmetic.{figure}"

    r, gated = sandbox({key: {"min": 0}}, "met")
    assert r.returncode == 0, r.stderr
    [row] = gated["gates"]
    assert row["threshold"] == key and row["met"] is True and row["value"] == read_figure(results["scores"], figure).value
    r, gated = sandbox({key: {"max": -1}}, "missed")
    assert r.returncode == 1 and key in r.stderr.split("gate failed")[1], r.stderr
    assert [g["met"] for g in gated["gates"]] == [False]

    catalogue = tmp_path / "catalogue.yaml"
    catalogue.write_text(CATALOGUE.replace("PATH", figure), encoding="utf-8")
    r = run_laif("obligations", "--run", gated["runs"]["example-arithmetic"], "--risk", "high", "--catalogue",
                 str(catalogue), "--json", env=env)
    assert r.returncode == 0, r.stderr
    assessment = json.loads(r.stdout)
    verdicts = {e["metric"]: (e["verdict"], [m["path"] for m in e["measurements"]]) for e in assessment["measured"]}
    assert verdicts == {"plugin-floor": ("met", [figure]), "plugin-ceiling": ("not met", [figure])}
    art15 = next(o for o in assessment["obligations"] if o["id"] == "art-15")
    assert {q["id"]: q["verdict"] for q in art15["requirements"]} == {"art-15.1": "met", "art-15.3": "not met"}
    assert load_catalogue(catalogue).catalogue.metrics["plugin-floor"].suite == "example-arithmetic"

