"""HTML reports: self-contained files (inline CSS and SVG, no scripts, nothing fetched)."""

from __future__ import annotations

import os
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader, select_autoescape
from markupsafe import Markup, escape

from laif.compliance.obligations import unit_suffix
from laif.core.figures import Figure, as_figure, find_figures
from laif.core.suite import SCORE_PATH, Metric
from laif.errors import BadInput
from laif.reports.suites import leaderboard_columns, metrics_of, suite_look

LANGUAGE_NAMES = {"en": "English", "fr": "French", "de": "German", "lb": "Luxembourgish"}
#: The variable naming a folder of the user's own templates (optional).
TEMPLATES_VARIABLE = "LAIF_TEMPLATES"
VERDICT_ORDER = ("not met", "inconclusive", "not assessed", "met")
LANGUAGE_COLOURS = {"en": "#3b6ea8", "fr": "#8e5ba8", "de": "#c2853a", "lb": "#2f9a7a"}


def heat(score: float | None) -> str:
    """Background colour from red (0 %) through amber to green (100 %)."""
    if score is None:
        return "#e6e6e6"
    hue = max(0.0, min(100.0, score)) * 1.2
    return f"hsl({hue:.0f}, 65%, 78%)"


def pct(score: float | None) -> str:
    return "–" if score is None else f"{score:.0f}%"


def _wrap(label: str, width: int = 11) -> list[str]:
    """A category label in lines of about `width` characters, broken between words."""
    lines: list[str] = []
    for word in label.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [label]


def language_bars(
    by_language: dict[str, dict[str, Any]], categories: list[str], what: str = "passed", label: str = "pass rate"
) -> Markup:
    """A grouped bar chart: per category one bar per language with its 95% interval.

    Each cell holds score, low, high, passed and decided; `what` names what `passed` counts."""
    langs = list(by_language)
    if not langs or not categories:
        return Markup("")
    bar_w, gap, left, top, height = 14, 18, 40, 14, 160
    labels = {cat: _wrap(cat) for cat in categories}
    longest = max(len(line) for lines in labels.values() for line in lines)
    group_w = max(len(langs) * bar_w + gap, 8 * longest + 10)
    width = max(left + group_w * len(categories) + 10, left + 120 * len(langs) + 20)
    rows = max(len(lines) for lines in labels.values())
    total_h = top + height + 46 + 14 * rows
    parts = [
        f'<svg class="bars" viewBox="0 0 {width} {total_h}" width="{width}" height="{total_h}" role="img" '
        f'aria-label="{escape(label)} per language and category, with 95% intervals">'
    ]
    for tick in (0, 25, 50, 75, 100):
        y = top + height - tick / 100 * height
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y}" y2="{y}" class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4}" class="tick" text-anchor="end">{tick}</text>')
    for ci, cat in enumerate(categories):
        x0 = left + ci * group_w + (group_w - len(langs) * bar_w) / 2
        for li, lang in enumerate(langs):
            cell = by_language.get(lang, {}).get(cat)
            x = x0 + li * bar_w
            if not cell or cell.get("score") is None:
                parts.append(f'<text x="{x + bar_w / 2}" y="{top + height - 3}" class="na" text-anchor="middle">·</text>')
                continue
            score, low, high = cell["score"], cell["low"], cell["high"]
            y = top + height - score / 100 * height
            title = escape(
                f"{cat}, {LANGUAGE_NAMES.get(lang, lang)}: {score:.0f}% "
                f"(95% CI {low:.0f}–{high:.0f}; {cell['passed']}/{cell['decided']} {what})"
            )
            parts.append(
                f'<rect x="{x + 1}" y="{y:.1f}" width="{bar_w - 2}" height="{top + height - y:.1f}" '
                f'fill="{LANGUAGE_COLOURS.get(lang, "#777")}"><title>{title}</title></rect>'
            )
            y_low, y_high = top + height - low / 100 * height, top + height - high / 100 * height
            xm = x + bar_w / 2
            parts.append(f'<line x1="{xm}" x2="{xm}" y1="{y_low:.1f}" y2="{y_high:.1f}" class="ci"/>')
            for yy in (y_low, y_high):
                parts.append(f'<line x1="{xm - 3}" x2="{xm + 3}" y1="{yy:.1f}" y2="{yy:.1f}" class="ci"/>')
        xc = x0 + len(langs) * bar_w / 2
        spans = "".join(
            f'<tspan x="{xc}" dy="{0 if i == 0 else 14}">{escape(line)}</tspan>' for i, line in enumerate(labels[cat])
        )
        parts.append(f'<text x="{xc}" y="{top + height + 16}" class="cat" text-anchor="middle">{spans}</text>')
    for li, lang in enumerate(langs):
        x = left + li * 120
        parts.append(f'<rect x="{x}" y="{total_h - 22}" width="12" height="12" fill="{LANGUAGE_COLOURS.get(lang, "#777")}"/>')
        parts.append(f'<text x="{x + 16}" y="{total_h - 12}" class="legend">{LANGUAGE_NAMES.get(lang, lang)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every inserted text above is escaped


def rate_bars(groups: dict[str, dict[str, dict[str, Any]]], what: str, label: str) -> Markup:
    """Bars per group and language from `percent()` figures: groups[group][language]."""
    by_language: dict[str, dict[str, Any]] = {}
    for group, per_language in groups.items():
        for lang, rate in per_language.items():
            by_language.setdefault(lang, {})[group] = {
                "score": rate.get("value"), "low": rate.get("low"), "high": rate.get("high"),
                "passed": rate.get("k"), "decided": rate.get("n"),
            }
    return language_bars(by_language, list(groups), what, label)


# --- a suite's declared metrics, read from a run summary --------------------------------------------


def _label(dimension: str, key: str) -> str:
    return LANGUAGE_NAMES.get(key, key) if dimension == "language" else key


def figures_at(summary: Any, path: str) -> list[tuple[tuple[str, ...], Figure]]:
    """(the keys the `*`s stood for, figure) for every figure at `path`; none for an empty path."""
    return [(f.matched, f) for f in find_figures(summary, path)] if path else []


def _rate(f: Figure | None) -> dict[str, Any]:
    """A figure as the mapping the bar charts read."""
    return {} if f is None else {"value": f.value, "low": f.low, "high": f.high, "k": f.k, "n": f.n}


def cell(metric: Metric, f: Figure | None) -> dict[str, Any]:
    """A table cell for figure `f` read as `metric`: its text, interval note, heat colour and counts."""
    value = f.value if f else None
    background = None
    if metric.unit == "percent" and metric.direction is not None:
        background = heat(None if value is None else value if metric.direction == "higher" else 100 - value)
    note = f"{f.low:.0f}–{f.high:.0f}" if f and value is not None and f.low is not None and f.high is not None else ""
    counts = f"{f.k}/{f.n}" if f and f.k is not None and f.n is not None else ""
    return {"text": metric.format(value), "note": note, "background": background, "counts": counts,
            "n": f.n if f else None}


def _headline(summary: Any, metric: Metric) -> Figure | None:
    found = figures_at(summary, metric.path)
    return found[0][1] if found else None


def _keys(summary: Any, path: str, position: int) -> list[str]:
    keys: list[str] = []
    for found, _node in figures_at(summary, path):
        if found[position] not in keys:
            keys.append(found[position])
    return keys


def dimension_table(summary: Any, columns: list[Metric], dim: str) -> dict[str, Any] | None:
    """Rows: the values of `dim`; a column per metric broken down over it; a last row of overall figures."""
    keys = list(dict.fromkeys(k for m in columns for k in _keys(summary, m.by[dim], 0)))
    if not keys:
        return None
    found = {m.title: {ks[0]: node for ks, node in figures_at(summary, m.by[dim])} for m in columns}
    return {
        "head": dim.capitalize(), "columns": [m.title for m in columns],
        "rows": [(_label(dim, k), [cell(m, found[m.title].get(k)) for m in columns]) for k in keys],
        "total": [cell(m, _headline(summary, m)) if m.path else None for m in columns]
        if any(m.path for m in columns) else None,
    }


def pair_table(summary: Any, m: Metric, dims: str, *, transpose: bool = False) -> dict[str, Any] | None:
    """One metric over two dimensions, with its one-dimension figures as the margins."""
    first, second = dims.split("/")
    nodes = {(ks[1], ks[0]) if transpose else ks: node for ks, node in figures_at(summary, m.by[dims])}
    if not nodes:
        return None
    rows, cols = _keys(summary, m.by[dims], 1 if transpose else 0), _keys(summary, m.by[dims], 0 if transpose else 1)
    if transpose:
        first, second = second, first
    margin_rows = {ks[0]: node for ks, node in figures_at(summary, m.by[first])} if first in m.by else None
    margin_cols = {ks[0]: node for ks, node in figures_at(summary, m.by[second])} if second in m.by else None
    return {
        "head": first.capitalize(), "title": f"{m.title} by {first} and {second}",
        "columns": [_label(second, c) for c in cols] + (["All"] if margin_rows is not None else []),
        "rows": [(_label(first, r), [cell(m, nodes.get((r, c))) for c in cols]
                  + ([cell(m, margin_rows.get(r))] if margin_rows is not None else [])) for r in rows],
        "total": ([cell(m, margin_cols.get(c)) for c in cols] + ([cell(m, _headline(summary, m))]
                  if margin_rows is not None else [])) if margin_cols is not None else None,
    }


def figure_tables(summary: dict[str, Any], metrics: list[Metric]) -> list[dict[str, Any]]:
    """The tables of a suite's metrics (its score, shown on its own, left out).

    A table per breakdown dimension (its rows the dimension's values, a column per metric broken
    down that way, a last row with each metric's overall figure); a metric broken down over two
    dimensions gets a table of one against the other, with the one-dimension figures as margins."""
    shown = [m for m in metrics if m.path != SCORE_PATH]
    pairs = [(m, dims) for m in shown for dims in m.by if "/" in dims]
    covered = {(m.title, d) for m, dims in pairs for d in dims.split("/")}
    tables = [pair_table(summary, m, dims) for m, dims in pairs]
    for dim in dict.fromkeys(d for m in shown for d in m.by if "/" not in d):
        columns = [m for m in shown if dim in m.by and (m.title, dim) not in covered]
        tables.append(dimension_table(summary, columns, dim) if columns else None)
    return [t for t in tables if t]


def figure_list(summary: dict[str, Any], metrics: list[Metric]) -> list[dict[str, Any]]:
    """Every overall figure of the declared metrics (the score left out), for a table of figures."""
    rows = []
    for m in metrics:
        if m.path and m.path != SCORE_PATH:
            f = _headline(summary, m)
            rows.append({"metric": m, "path": m.path, "figure": f, "cell": cell(m, f)})
    return rows


def metric_heading(metrics: list[Metric]) -> str:
    """"Accuracy and hallucination rate": the headline metrics, as a heading."""
    headline = [m for m in metrics if m.leaderboard and m.path != SCORE_PATH]
    titles = [m.title for m in headline if m.by] or [m.title for m in headline] or ["Figures"]
    words = [titles[0]] + [t[:1].lower() + t[1:] for t in titles[1:]]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def metric_charts(summary: dict[str, Any], metrics: list[Metric]) -> Markup:
    """Bars per language of the declared percentages: a metric broken down by something and
    by language gets its own chart, the others one chart together."""
    rates = [m for m in metrics if m.path != SCORE_PATH and m.unit == "percent" and m.interval]
    for m in rates:
        pair = next((dims for dims in m.by if dims.endswith("/language")), None)
        if pair:
            groups: dict[str, dict[str, dict[str, Any]]] = {}
            for (group, lang), f in figures_at(summary, m.by[pair]):
                groups.setdefault(group, {})[lang] = _rate(f)
            return rate_bars(groups, "counted", m.title.lower())
    together = {m.title: {ks[0]: _rate(f) for ks, f in figures_at(summary, m.by["language"])}
                for m in metrics if m.path != SCORE_PATH and m.unit == "percent" and "language" in m.by}
    together = {title: per for title, per in together.items() if per}
    if not together:
        return Markup("")
    return rate_bars(together, "counted", metric_heading([m for m in metrics if m.title in together]).lower())


# --- templates ----------------------------------------------------------------------------------


def _worst_first(measurements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(measurements, key=lambda m: VERDICT_ORDER.index(m["verdict"]))


@cache
def _environment(user_dir: str) -> Environment:
    defaults = PackageLoader("laif.reports", "templates")
    loaders: list[BaseLoader] = [FileSystemLoader(user_dir)] if user_dir else []
    env = Environment(
        # A user's template overrides ours by name; "default:NAME" reaches ours from inside it.
        loader=ChoiceLoader([*loaders, defaults, PrefixLoader({"default": defaults}, delimiter=":")]),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["heat"] = heat
    env.filters["pct"] = pct
    env.filters["unit"] = unit_suffix
    env.filters["worst_first"] = _worst_first
    env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
    return env


def environment() -> Environment:
    """The templates of every laif report, a user's own first when `LAIF_TEMPLATES` names a folder."""
    user_dir = os.environ.get(TEMPLATES_VARIABLE, "")
    if user_dir and not Path(user_dir).is_dir():
        raise BadInput(f"{TEMPLATES_VARIABLE}={user_dir}: no such folder",
                       hint="point it at a folder of templates named like laif's (run_report.html.j2, ...)")
    return _environment(user_dir)


def render_template(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)


def render_run_report(results: dict[str, Any], metrics: list[Metric] | None = None, title: str | None = None) -> str:
    """The run report of `results`. The suite's declared metrics and title are read from the
    installed suite unless given."""
    scores = results.get("scores") or {"categories": {}, "by_language": {}, "mean_by_language": {}}
    categories = list(scores.get("categories", {}))
    drill: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for case in results.get("cases", []):
        if case["verdict"] != "pass":
            drill[case["category"]].append(case)
    suite = (results.get("suite") or {}).get("name", "")
    look = suite_look(suite)
    metrics = metrics_of(suite, scores) if metrics is None else metrics
    score = next((m for m in metrics if m.path == SCORE_PATH), None)
    return render_template(
        "run_report.html.j2",
        r=results,
        title=title or look.title,
        scores=scores,
        categories=categories,
        bars=language_bars(scores.get("by_language", {}), categories),
        score_description=score.description if score else "",
        metrics=metrics,
        figure_heading=metric_heading(metrics),
        figure_descriptions=[m for m in metrics if m.description and m.path != SCORE_PATH],
        figure_tables=figure_tables(scores, metrics),
        figure_list=[f for f in figure_list(scores, metrics) if not f["metric"].by],  # the others are in tables
        metric_bars=metric_charts(scores, metrics),
        drill=drill,
        judge=scores.get("judge"),
        verdict_names=["pass", "fail", "refused", "abstained", "unparseable", "error"],
        disagreements=[c for c in results.get("cases", []) if c.get("judge") and not c["judge"]["agrees"]],
    )


def render_leaderboard(rows: list[dict[str, Any]], categories: list[str], suite: str,
                       metrics: list[Metric] | None = None) -> str:
    return render_template("leaderboard.html.j2", rows=rows, categories=categories, suite=suite,
                           metrics=leaderboard_columns(metrics or []), cell=_stored_cell)


def _stored_cell(metric: Metric, stored: dict[str, Any] | None) -> dict[str, Any]:
    """The cell of a figure as a leaderboard row stores it ({value, low, high, n})."""
    return cell(metric, as_figure(stored) if stored is not None else None)
