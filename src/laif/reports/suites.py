"""What the reports know of a suite: its title and the metrics it declares, read from the
installed suite by name, so that any suite, built-in or plugin, is shown without being named
here. A suite that is not installed, or declares nothing, still gets a report: its figures are
shown as found in the run summary."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from laif.core.figures import Figure, as_figure
from laif.core.suite import SCORE_PATH, Metric, declared_metrics, score_metric, suite_title
from laif.errors import LaifError


@dataclass(frozen=True)
class SuiteLook:
    title: str
    metrics: list[Metric]
    #: True when the suite declared its metrics; otherwise they are read off the summary.
    declared: bool


@cache
def suite_look(name: str) -> SuiteLook:
    """The title and declared metrics of the suite installed as `name` (loaded once per process)."""
    from laif.suites import load_suite

    try:
        suite = load_suite(name)
    except LaifError:  # not installed here, or a plugin that fails: the report still renders
        return SuiteLook(f"{name.capitalize()} assessment", [score_metric()], declared=False)
    metrics = declared_metrics(suite)
    return SuiteLook(suite_title(suite), metrics, declared=any(m.path != SCORE_PATH for m in metrics))


def found_metrics(summary: dict[str, Any]) -> list[Metric]:
    """A metric for every figure under ``metrics`` in a run summary: what an undeclared suite
    computed. A rate is a percentage with its interval; a whole number a count; any other a score."""
    out: list[Metric] = []
    for f in _figures_in(summary.get("metrics") or {}, "metrics"):
        title = f.path.removeprefix("metrics.")
        if f.shape != "number":
            out.append(Metric(f.path, title))
        else:
            whole = isinstance(f.value, int)
            out.append(Metric(f.path, title, direction=None, unit="count" if whole else "score", interval=False,
                              format_spec="d" if whole else ".2f", leaderboard=False))
    return out


def _figures_in(node: Any, at: str) -> list[Figure]:
    """Every figure in a tree, depth first, not looking inside a figure nor at a ``kind`` label."""
    found = as_figure(node, at) if node is not None else None
    if found is not None:
        return [found]
    if not isinstance(node, dict):
        return []
    return [f for key, child in node.items() if key != "kind" for f in _figures_in(child, f"{at}.{key}")]


def metrics_of(name: str, summary: dict[str, Any] | None) -> list[Metric]:
    """The metrics to show for a run of suite `name`: declared ones, else those in its summary."""
    look = suite_look(name)
    if look.declared or not summary:
        return look.metrics
    return look.metrics + found_metrics(summary)


def leaderboard_columns(metrics: list[Metric]) -> list[Metric]:
    """The declared metrics a leaderboard shows beside the categories and the mean score."""
    return [m for m in metrics if m.leaderboard and m.path and m.path != SCORE_PATH]
