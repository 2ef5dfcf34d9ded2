"""HTML reports: self-contained files (inline CSS and SVG, no scripts, nothing fetched)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

LANGUAGE_NAMES = {"en": "English", "fr": "French", "de": "German", "lb": "Luxembourgish"}
SUITE_TITLES = {
    "bias": "Social-bias assessment",
    "factual": "Factual accuracy and hallucination",
    "multilingual": "Multilingual quality",
    "robustness": "Robustness to perturbations",
    "injection": "Prompt-injection resistance",
}
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


def metric_charts(metrics: dict[str, Any] | None) -> Markup:
    """The per-language chart of a suite's own figures (accuracy, flip rate, leak rate ...)."""
    if not metrics:
        return Markup("")
    kind = metrics.get("kind")
    if kind in ("factual", "multilingual"):
        by = metrics.get("by_language", {})
        groups = {
            "Accuracy": {lang: f["accuracy"] for lang, f in by.items()},
            "Hallucination rate": {lang: f["hallucination_rate"] for lang, f in by.items()},
        }
        if kind == "multilingual":
            groups["Language fidelity"] = dict(metrics.get("language_fidelity", {}))
        return rate_bars(groups, "answers", "accuracy, hallucination rate and fidelity")
    if kind == "robustness":
        return rate_bars(metrics.get("by_perturbation_language", {}), "flipped", "flip rate")
    if kind == "injection":
        by = metrics.get("by_language", {})
        groups = {
            "Leak rate": {lang: f["leak_rate"] for lang, f in by.items()},
            "Rule-violation rate": {lang: f["violation_rate"] for lang, f in by.items()},
        }
        return rate_bars(groups, "answers", "leak and rule-violation rates")
    return Markup("")


_env = Environment(
    loader=PackageLoader("laif.reports", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["heat"] = heat
_env.filters["pct"] = pct
_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES


def render_run_report(results: dict[str, Any]) -> str:
    scores = results.get("scores") or {"categories": {}, "by_language": {}, "mean_by_language": {}}
    categories = list(scores.get("categories", {}))
    drill: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for case in results.get("cases", []):
        if case["verdict"] != "pass":
            drill[case["category"]].append(case)
    suite = (results.get("suite") or {}).get("name", "")
    return _env.get_template("run_report.html.j2").render(
        r=results,
        title=SUITE_TITLES.get(suite, f"{suite.capitalize()} assessment"),
        scores=scores,
        categories=categories,
        bars=language_bars(scores.get("by_language", {}), categories),
        metric_bars=metric_charts(scores.get("metrics")),
        drill=drill,
        judge=scores.get("judge"),
        verdict_names=["pass", "fail", "refused", "abstained", "unparseable", "error"],
        disagreements=[c for c in results.get("cases", []) if c.get("judge") and not c["judge"]["agrees"]],
    )


def render_leaderboard(rows: list[dict[str, Any]], categories: list[str], suite: str) -> str:
    return _env.get_template("leaderboard.html.j2").render(rows=rows, categories=categories, suite=suite)
