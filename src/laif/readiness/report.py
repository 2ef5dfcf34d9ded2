"""The readiness report: HTML (self-contained, inline SVG radar chart) and PDF (WeasyPrint).

The radar has one axis per dimension, rings at the band edges (25, 50, 75, 100 %), the
organisation's scores, its previous assessment dashed when there is one, and the peer band
(25th to 75th percentile) when its sector x size cell is large enough.
"""

from __future__ import annotations

import math
from typing import Any

from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from laif.readiness.scoring import BAND_NAMES, BANDS
from laif.reports.audience import to_pdf
from laif.reports.html import _wrap

__all__ = ["radar", "render_html", "render_pdf"]

_env = Environment(
    loader=ChoiceLoader([PackageLoader("laif.readiness", "templates"), PackageLoader("laif.reports", "templates")]),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

LABELS = {
    "en": {"kicker": "laif readiness assessment", "overall": "Overall readiness", "dimensions": "Dimensions",
           "dimension": "Dimension", "score": "Score", "band": "Band", "change": "Change", "since_t0": "since T0",
           "peers": "Peers", "findings": "Findings", "no_findings": "No rule fired: no gap stands out.",
           "rests_on": "Rests on", "use_cases": "Use cases", "feasibility": "Feasibility",
           "technology": "Eurostat technology", "purpose": "Eurostat purpose", "roadmap": "Roadmap",
           "why": "Why", "method": "Method", "you": "This assessment", "previous": "Previous",
           "peer_band": "Peers, 25th-75th percentile", "in_use": "technology already in use",
           "partner": "Partner", "question": "Question", "answer": "Answer", "bank": "question bank",
           "high_count": "high", "among": "among {n} organisations", "eu_rate": "of {size} EU enterprises used AI in {year}",
           "since": "since", "percentile": "Percentile", "high": "high", "medium": "medium", "low": "low",
           "kind_finding": "finding", "kind_use case": "use case", "kind_band": "band",
           "small": "small", "medium_size": "medium", "large": "large"},
    "fr": {"kicker": "évaluation de maturité laif", "overall": "Maturité globale", "dimensions": "Dimensions",
           "dimension": "Dimension", "score": "Score", "band": "Niveau", "change": "Évolution",
           "since_t0": "depuis T0", "peers": "Pairs", "findings": "Constats",
           "no_findings": "Aucune règle ne s'applique : aucun écart ne ressort.", "rests_on": "Repose sur",
           "use_cases": "Cas d'usage", "feasibility": "Faisabilité", "technology": "Technologie (Eurostat)",
           "purpose": "Finalité (Eurostat)", "roadmap": "Feuille de route", "why": "Pourquoi", "method": "Méthode",
           "you": "Cette évaluation", "previous": "Précédente", "peer_band": "Pairs, 25e-75e centile",
           "in_use": "technologie déjà utilisée", "partner": "Partenaire", "question": "Question",
           "answer": "Réponse", "bank": "questionnaire", "high_count": "élevé(s)",
           "among": "parmi {n} organisations", "eu_rate": "des {size} entreprises de l'UE utilisaient l'IA en {year}",
           "since": "depuis", "percentile": "Centile", "high": "élevé", "medium": "moyen", "low": "faible",
           "kind_finding": "constat", "kind_use case": "cas d'usage", "kind_band": "niveau",
           "small": "petites", "medium_size": "moyennes", "large": "grandes"},
}


#: Presentation attributes, not CSS classes: WeasyPrint draws inline SVG without the page's stylesheet.
_STYLE = {
    "ring": 'fill="none" stroke="#d2d8e0" stroke-width="0.8"',
    "tick": 'font-size="9" fill="#8a93a0" font-family="DejaVu Sans"',
    "label": 'font-size="11.5" font-weight="bold" fill="#1d2430" font-family="DejaVu Sans"',
    "legend": 'font-size="11" fill="#39424e" font-family="DejaVu Sans"',
    "band": 'fill="#9bb7d9" fill-opacity="0.5" stroke="#6f93c0" stroke-width="0.8" class="band"',
    "previous": 'fill="none" stroke="#6b7480" stroke-width="1.6" stroke-dasharray="5 3"',
    "mine": 'fill="#1f4e8c" fill-opacity="0.18" stroke="#1f4e8c" stroke-width="2"',
}


def _point(cx: float, cy: float, radius: float, i: int, n: int, value: float) -> tuple[float, float]:
    angle = -math.pi / 2 + 2 * math.pi * i / n
    r = radius * max(0.0, min(100.0, value)) / 100.0
    return cx + r * math.cos(angle), cy + r * math.sin(angle)


def _ring(cx: float, cy: float, radius: float, values: list[float]) -> str:
    n = len(values)
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in (_point(cx, cy, radius, i, n, v) for i, v in enumerate(values)))


def radar(labels: list[str], values: list[float], previous: list[float] | None = None,
          band: tuple[list[float], list[float]] | None = None, names: dict[str, str] | None = None) -> Markup:
    """An SVG radar: `values` (0-100) per axis, optional `previous` values and a peer `band` (low, high)."""
    names = names or LABELS["en"]
    n = len(labels)
    radius, cx, cy, width = 150.0, 330.0, 215.0, 660
    height = 470
    parts = [f'<svg class="radar" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(names["dimensions"])}">']
    for edge in [e for e, _ in BANDS if e > 0] + [100.0]:
        parts.append(f'<polygon points="{_ring(cx, cy, radius, [edge] * n)}" {_STYLE["ring"]}/>')
        parts.append(f'<text x="{cx + 3}" y="{cy - radius * edge / 100 + 11:.1f}" {_STYLE["tick"]}>{edge:.0f}</text>')
    for i, label in enumerate(labels):
        x, y = _point(cx, cy, radius, i, n, 100)
        parts.append(f'<line x1="{cx}" y1="{cy}" x2="{x:.1f}" y2="{y:.1f}" {_STYLE["ring"]}/>')
        lx, ly = _point(cx, cy, radius + 18, i, n, 100)
        anchor = "middle" if abs(lx - cx) < 10 else "start" if lx > cx else "end"
        lines = _wrap(label, 18)
        ly -= 7 * (len(lines) - 1) if ly < cy - 10 else 0
        ly += 8 if ly > cy + 10 else 0
        spans = "".join(f'<tspan x="{lx:.1f}" dy="{0 if j == 0 else 13}">{escape(t)}</tspan>' for j, t in enumerate(lines))
        parts.append(f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}" {_STYLE["label"]}>{spans}</text>')
    if band is not None:
        low, high = band
        outer = "M " + _ring(cx, cy, radius, high).replace(" ", " L ") + " Z"
        inner = "M " + _ring(cx, cy, radius, low).replace(" ", " L ") + " Z"
        parts.append(f'<path d="{outer} {inner}" {_STYLE["band"]} fill-rule="evenodd"/>')
    if previous is not None:
        parts.append(f'<polygon points="{_ring(cx, cy, radius, previous)}" {_STYLE["previous"]}/>')
    parts.append(f'<polygon points="{_ring(cx, cy, radius, values)}" {_STYLE["mine"]}/>')
    for i, v in enumerate(values):
        x, y = _point(cx, cy, radius, i, n, v)
        title = f"<title>{escape(labels[i])}: {v:.1f}%</title>"
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#1f4e8c">{title}</circle>')
    legend = [("mine", names["you"])] + ([("previous", names["previous"])] if previous is not None else []) \
        + ([("band", names["peer_band"])] if band is not None else [])
    for j, (cls, text) in enumerate(legend):
        x = 20 + j * 210
        parts.append(f'<rect x="{x}" y="{height - 22}" width="14" height="10" {_STYLE[cls]}/>')
        parts.append(f'<text x="{x + 20}" y="{height - 13}" {_STYLE["legend"]}>{escape(text)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every inserted text above is escaped


def render_html(result: dict[str, Any]) -> str:
    lang = result.get("language", "en")
    names = LABELS.get(lang, LABELS["en"])
    dims = result["scores"]["dimensions"]
    peers = result["peers"]
    band = None
    if peers["kind"] == "percentiles":
        band = ([peers["dimensions"][d["id"]]["p25"] for d in dims], [peers["dimensions"][d["id"]]["p75"] for d in dims])
    previous = result["progress"].get("previous")
    chart = radar([d["title"] for d in dims], [d["score"] for d in dims],
                  [previous["dimensions"].get(d["id"], 0.0) for d in dims] if previous else None, band, names)
    size_class = peers.get("size_class", "")
    size_word = names.get(f"{size_class}_size", names.get(size_class, size_class))
    return _env.get_template("readiness.html.j2").render(r=result, chart=chart, L=names, bands=BANDS,
                                                         band_names=BAND_NAMES[lang], size_word=size_word)


def render_pdf(html: str) -> bytes:
    return to_pdf(html)
