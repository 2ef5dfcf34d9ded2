"""Four reports on one assessment, each for its reader: technical (every metric, intervals,
failed cases), risk (what misses which threshold and what that means), legal (obligation by
obligation: evidence and gaps) and ethics (bias and inclusiveness by group and language).
HTML, self-contained; PDF through WeasyPrint."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from laif import __version__
from laif.compliance.obligations import evidence_of, unit_suffix
from laif.core.suite import SCORE_PATH, Metric
from laif.reports.html import (
    LANGUAGE_NAMES,
    VERDICT_ORDER,
    dimension_table,
    figures_at,
    language_bars,
    metric_charts,
    pair_table,
    render_template,
)
from laif.reports.suites import metrics_of, suite_look

AUDIENCES = {
    "technical": ("Technical report", "for technical experts"),
    "risk": ("Risk summary", "for risk managers"),
    "legal": ("Legal view", "for legal experts"),
    "ethics": ("Ethics view", "for ethics experts"),
}
FAILED_SHOWN = 6
ORDER = VERDICT_ORDER


def _figures(summary: dict[str, Any], metrics: list[Metric]) -> list[dict[str, Any]]:
    """Every figure of a suite's declared metrics (the score left out), overall and broken down."""
    rows: list[dict[str, Any]] = []
    for m in metrics:
        if m.path == SCORE_PATH:
            continue
        paths = ([("", m.path)] if m.path else []) + [(dims, path) for dims, path in m.by.items()]
        for dims, path in paths:
            for keys, f in figures_at(summary, path):
                where = f.path
                text = "–" if f.value is None else f"{f.value:.1f}{unit_suffix('%')}" if m.unit == "percent" \
                    else m.format(f.value)
                named = zip(dims.split("/"), keys, strict=False)  # the overall figure has no keys
                labels = [LANGUAGE_NAMES.get(k, k) if d == "language" else k for d, k in named]
                rows.append({"title": " · ".join([m.title, *labels]), "path": where, "value": f.value, "text": text,
                             "low": f.low, "high": f.high, "n": f.n})
    return rows


def _fairness(results: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The ethics view's two tables: a fairness metric by group and language (from the first run
    that declares one), and the fairness metrics by language (from the run that declares most)."""
    groups = None
    best: tuple[int, dict[str, Any] | None] = (0, None)
    for r in results:
        scores = r.get("scores") or {}
        metrics = [m for m in metrics_of(r["suite"]["name"], scores) if m.fairness]
        by_group = next((m for m in metrics if "group" in m.by), None)
        if groups is None and by_group is not None:
            pair = next((d for d in by_group.by if set(d.split("/")) == {"group", "language"}), None)
            table = pair_table(scores, by_group, pair, transpose=pair.startswith("language")) if pair else \
                dimension_table(scores, [by_group], "group")
            chart_cells: dict[str, dict[str, Any]] = {}
            if pair:
                for keys, f in figures_at(scores, by_group.by[pair]):
                    lang, grp = keys if pair.startswith("language") else keys[::-1]
                    chart_cells.setdefault(lang, {})[grp] = {"score": f.value, "low": f.low, "high": f.high,
                                                             "passed": f.k, "decided": f.n}
            cats = scores.get("categories", {})
            groups = table and {
                "run_id": r["run_id"], "title": suite_look(r["suite"]["name"]).title, "table": table,
                "chart": language_bars(chart_cells, [row[0] for row in table["rows"]]) if chart_cells else "",
                "unparseable": sum(k.get("unparseable", 0) for k in cats.values()),
                "total": sum(k.get("total", 0) for k in cats.values()),
            }
        by_language = [m for m in metrics if "language" in m.by and "group" not in m.by]
        if len(by_language) > best[0]:
            best = (len(by_language), dimension_table(scores, by_language, "language"))
    return groups, best[1]


def _spread(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cases ordered round-robin over their categories, so the first few show the variety."""
    by: dict[str, list[dict[str, Any]]] = {}
    for case in cases:
        by.setdefault(case["category"], []).append(case)
    out: list[dict[str, Any]] = []
    while any(by.values()):
        for group in by.values():
            if group:
                out.append(group.pop(0))
    return out


def context(assessment: dict[str, Any], results: list[dict[str, Any]], qualification: dict[str, Any] | None,
            system_name: str | None, drafts: list[str]) -> dict[str, Any]:
    """What the four templates share."""
    model = results[0]["model"] if results else {}
    sections = []
    for r in results:
        scores = r.get("scores") or {}
        failed = _spread([c for c in r.get("cases", []) if c["verdict"] in ("fail", "error")])
        metrics = metrics_of(r["suite"]["name"], scores)
        categories = scores.get("categories") or {}
        chart = metric_charts(scores, metrics) or language_bars(scores.get("by_language", {}), list(categories))
        sections.append({
            "title": suite_look(r["suite"]["name"]).title, "run_id": r["run_id"],
            "categories": categories,
            "figures": _figures(scores, metrics),
            "chart": chart,
            "failed": failed[:FAILED_SHOWN], "failed_total": len(failed),
        })
    misses: dict[str, dict[str, Any]] = {}
    passes: dict[str, dict[str, Any]] = {}
    controls_low = []
    for req, e in evidence_of(assessment):
        if e["kind"] == "metric" and e["verdict"] in ("not met", "inconclusive"):
            m = misses.setdefault(e["metric"], e | {"requirements": []})
            m["requirements"].append(req["id"])
        elif e["kind"] == "metric" and e["verdict"] == "met":
            passes.setdefault(e["metric"], e)
        elif e["kind"] == "control" and e["verdict"] == "not met":
            controls_low.append(e | {"requirement": req["id"]})
    miss_rows = []
    for m in misses.values():
        bad = [x for x in m["measurements"] if x["verdict"] in ("not met", "inconclusive")]
        bad.sort(key=lambda x: (x["verdict"] != "not met", (x["value"] or 0) * (1 if m["direction"] == "higher" else -1)))
        miss_rows.append(m | {"measurements": bad[:5], "more": max(0, len(bad) - 5)})
    miss_rows.sort(key=lambda m: m["verdict"] != "not met")

    bias, languages = _fairness(results)
    ethics_findings = []
    for e in assessment["measured"]:
        if e["metric"] not in ("bias-by-group", "bias-by-group-and-language", "gap-to-english", "language-fidelity",
                               "accuracy-by-language"):
            continue
        unit = unit_suffix(e["unit"])
        shown = {v: [f"{x['label']} {x['value']:.0f}{unit}" for x in e["measurements"]
                     if x["verdict"] == v and x["value"] is not None] for v in ("not met", "inconclusive")}
        if shown["not met"] or shown["inconclusive"]:
            ethics_findings.append({"title": e["title"], "verdict": e["verdict"], "not_met": shown["not met"],
                                    "inconclusive": shown["inconclusive"],
                                    "threshold": f"{'at least' if e['direction'] == 'higher' else 'at most'} "
                                                 f"{e['threshold']:g}{unit}",
                                    "risk": e["risk"][:1].upper() + e["risk"][1:]})
    ethics_findings.sort(key=lambda f: f["verdict"] != "not met")
    ethics_controls = list({e["control"]: e for _r, e in evidence_of(assessment) if e.get("control") in (
        "bias-mitigation", "vulnerable-groups", "fria")}.values())
    return {
        "system_name": system_name or model.get("name") or "AI system",
        "model_name": model.get("name", "–"), "model_key": model.get("key"),
        "params": results[0].get("params") if results else {},
        "scope": assessment["scope"], "catalogue": assessment["catalogue"], "assessment": assessment,
        "runs": assessment["runs"], "results": results, "sections": sections, "qualification": qualification,
        "misses": miss_rows, "passes": list(passes.values()), "controls_low": controls_low,
        "bias": bias, "ethics_findings": ethics_findings, "languages": languages, "ethics_controls": ethics_controls,
        "drafts": drafts, "laif_version": __version__,
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "evaluation_date": (qualification or {}).get("evaluation_date") or assessment["scope"].get("evaluation_date")
        or datetime.now(UTC).strftime("%Y-%m-%d"),
    }


def render_audience(name: str, ctx: dict[str, Any]) -> str:
    title, audience = AUDIENCES[name]
    return render_template(f"{name}.html.j2", c=ctx, title=title, audience=audience)


def to_pdf(html: str) -> bytes:
    """The HTML as a PDF (A4, page numbers), rendered by WeasyPrint; nothing is fetched."""
    import logging

    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)

    def refuse(url: str, timeout: int = 10, ssl_context: Any = None, http_headers: Any = None) -> dict[str, Any]:
        raise ValueError(f"reports fetch nothing ({url})")

    pdf: bytes = HTML(string=html, url_fetcher=refuse).write_pdf()
    return pdf


def render_all(ctx: dict[str, Any], pdf: bool = True) -> dict[str, bytes]:
    """reports/NAME.html (and .pdf) for the four readers."""
    files: dict[str, bytes] = {}
    for name in AUDIENCES:
        html = render_audience(name, ctx)
        files[f"reports/{name}.html"] = html.encode("utf-8")
        if pdf:
            files[f"reports/{name}.pdf"] = to_pdf(html)
    return files
