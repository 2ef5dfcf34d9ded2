"""Four reports on one assessment, each for its reader: technical (every metric, intervals,
failed cases), risk (what misses which threshold and what that means), legal (obligation by
obligation: evidence and gaps) and ethics (bias and inclusiveness by group and language).
HTML, self-contained; PDF through WeasyPrint."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from laif import __version__
from laif.compliance.obligations import evidence_of, unit_suffix
from laif.reports.html import SUITE_TITLES, _env, language_bars, metric_charts

AUDIENCES = {
    "technical": ("Technical report", "for technical experts"),
    "risk": ("Risk summary", "for risk managers"),
    "legal": ("Legal view", "for legal experts"),
    "ethics": ("Ethics view", "for ethics experts"),
}
FAILED_SHOWN = 6
ORDER = ("not met", "inconclusive", "not assessed", "met")
_env.filters["unit"] = unit_suffix
_env.filters["worst_first"] = lambda ms: sorted(ms, key=lambda m: ORDER.index(m["verdict"]))


def _figures(node: Any, at: str = "") -> list[dict[str, Any]]:
    """Every figure in a suite's metrics: rates with intervals, and plain numbers."""
    rows: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if "value" in node and "low" in node:
            return [{"path": at, "value": node["value"], "low": node["low"], "high": node["high"], "n": node.get("n")}]
        for key, child in node.items():
            if key in ("kind", "detected", "language_id", "changes"):
                continue
            rows += _figures(child, f"{at}.{key}" if at else str(key))
    elif isinstance(node, int | float) and not isinstance(node, bool) and at.count(".") >= 1:
        rows.append({"path": at, "value": float(node), "low": None, "high": None, "n": None})
    return rows


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
        categories = scores.get("categories") if r["suite"]["name"] == "bias" else None
        sections.append({
            "title": SUITE_TITLES.get(r["suite"]["name"], r["suite"]["name"]), "run_id": r["run_id"],
            "categories": categories,
            "figures": _figures(scores.get("metrics") or {}),
            "chart": (language_bars(scores.get("by_language", {}), list(categories)) if categories
                      else metric_charts(scores.get("metrics"))),
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

    bias_run = next((r for r in results if r["suite"]["name"] == "bias"), None)
    bias = None
    if bias_run:
        s = bias_run["scores"]
        cats = s.get("categories", {})
        bias = {"run_id": bias_run["run_id"], "categories": cats, "by_language": s.get("by_language", {}),
                "languages": list(s.get("by_language", {})), "chart": language_bars(s.get("by_language", {}), list(cats)),
                "unparseable": sum(k.get("unparseable", 0) for k in cats.values()),
                "total": sum(k.get("total", 0) for k in cats.values())}
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
    languages = []
    factual = next((r for r in results if r["suite"]["name"] == "multilingual"), None) or \
        next((r for r in results if r["suite"]["name"] == "factual"), None)
    if factual:
        metrics = factual["scores"].get("metrics") or {}
        for lang, fig in (metrics.get("by_language") or {}).items():
            acc = fig.get("accuracy") or {}
            fid = (metrics.get("language_fidelity") or {}).get(lang) or {}
            languages.append({"lang": lang, "accuracy": acc.get("value"), "acc_low": acc.get("low"),
                              "acc_high": acc.get("high"), "gap": (metrics.get("gap_to_english") or {}).get(lang),
                              "fidelity": fid.get("value")})
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
    return _env.get_template(f"{name}.html.j2").render(c=ctx, title=title, audience=audience)


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
