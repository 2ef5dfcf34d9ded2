"""The monitoring report: one self-contained HTML page (inline SVG, no scripts).

Each signal is drawn over the windows against its reference band and its thresholds, with
windows in warning or alert marked; then the drift statistics per feature for the latest judged
window, a strip of every feature's state over time, and the alert history.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from markupsafe import Markup, escape

from laif import __version__
from laif.monitor.alerts import REFERENCE, TOO_FEW, Evaluation, WindowVerdict
from laif.monitor.store import AlertRow, CanaryRow
from laif.monitor.summary import SIGNALS
from laif.reports.html import render_template

STATE_COLOURS = {"ok": "#2f9a7a", "warning": "#d9a21b", "alert": "#c0392b", REFERENCE: "#8a94a3", TOO_FEW: "#c9ced6"}
_W, _H, _LEFT, _TOP, _BOTTOM = 760, 150, 70, 12, 26


def _fmt(v: float) -> str:
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"


def _label(w: WindowVerdict) -> str:
    return w.start.strftime("%m-%d %H:%M") if w.start else f"#{w.index}"


def signal_chart(name: str, ev: Evaluation) -> Markup:
    """One signal over the windows: the reference band shaded, thresholds dashed, states as dots."""
    points = [(i, w.signals[name]["value"], w) for i, w in enumerate(ev.windows) if w.signals[name]["value"] is not None]
    if not points:
        return Markup("")
    band = ev.bands.get(name)
    rule = ev.spec.alerts.get(name)
    bounds = [v for _, v, _ in points] + ([band[0], band[1]] if band else [])
    for t in (rule.warning, rule.alert) if rule else ():
        if t is not None:
            bounds += [b for b in (t.min, t.max) if b is not None]
    low, high = float(min(bounds)), float(max(bounds))
    if math.isclose(low, high):
        low, high = low - 1, high + 1
    span = len(ev.windows) - 1 or 1
    inner_w, inner_h = _W - _LEFT - 10, _H - _TOP - _BOTTOM

    def x(i: int) -> float:
        return _LEFT + inner_w * i / span

    def y(v: float) -> float:
        return _TOP + inner_h * (1 - (min(max(v, low), high) - low) / (high - low))

    parts = [f'<svg class="series" viewBox="0 0 {_W} {_H}" width="{_W}" height="{_H}" role="img" '
             f'aria-label="{escape(name)} per window">']
    refs = [i for i, w in enumerate(ev.windows) if w.state == REFERENCE]
    if refs:
        parts.append(f'<rect x="{x(refs[0]):.1f}" y="{_TOP}" width="{max(x(refs[-1]) - x(refs[0]), 2):.1f}" '
                     f'height="{inner_h}" fill="#eef1f5"><title>reference windows</title></rect>')
    if band:
        top, bottom = y(band[1]), y(band[0])
        parts.append(f'<rect x="{_LEFT}" y="{top:.1f}" width="{inner_w}" height="{max(bottom - top, 1):.1f}" '
                     f'fill="#2f9a7a" fill-opacity="0.15"><title>reference band {_fmt(band[0])} to {_fmt(band[1])}'
                     f'</title></rect>')
    for t, colour in ((rule.warning, "#d9a21b"), (rule.alert, "#c0392b")) if rule else ():
        for b in (t.min, t.max) if t else ():
            if b is not None:
                parts.append(f'<line x1="{_LEFT}" x2="{_LEFT + inner_w}" y1="{y(b):.1f}" y2="{y(b):.1f}" '
                             f'stroke="{colour}" stroke-dasharray="4 3"><title>threshold {_fmt(b)}</title></line>')
    for v in (low, high):
        parts.append(f'<text x="{_LEFT - 4}" y="{y(v) + 4:.1f}" text-anchor="end">{_fmt(v)}</text>')
    path = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v, _ in points)
    parts.append(f'<polyline points="{path}" fill="none" stroke="#1f4e8c" stroke-width="1.4"/>')
    for i, v, w in points:
        state = w.rules.get(f"signal.{name}", {}).get("state")
        if state in ("warning", "alert"):
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3.2" fill="{STATE_COLOURS[state]}">'
                         f'<title>{escape(_label(w))}: {_fmt(v)} ({state})</title></circle>')
    for i, anchor in ((0, "start"), (len(ev.windows) // 2, "middle"), (len(ev.windows) - 1, "end")):
        parts.append(f'<text x="{x(i):.1f}" y="{_H - 6}" text-anchor="{anchor}">{escape(_label(ev.windows[i]))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every inserted text above is escaped or a number


def state_strip(ev: Evaluation) -> Markup:
    """Every drift rule's state per window, as a row of coloured cells."""
    rules = sorted({r for w in ev.windows for r in w.rules if r.startswith("drift.")})
    if not rules:
        return Markup("")
    cell = max(2.0, min(8.0, 600 / max(len(ev.windows), 1)))
    left = 12 + 7 * max(len(rule) for rule in rules)
    width, height = left + cell * len(ev.windows) + 10, 17 * len(rules) + 8
    parts = [f'<svg class="series" viewBox="0 0 {width:.0f} {height}" width="{width:.0f}" height="{height}" '
             f'role="img" aria-label="drift state per feature and window">']
    for r, rule in enumerate(rules):
        yy = 4 + 17 * r
        parts.append(f'<text x="{left - 6}" y="{yy + 11}" text-anchor="end">{escape(rule.removeprefix("drift."))}</text>')
        for i, w in enumerate(ev.windows):
            state = w.rules[rule]["state"] if rule in w.rules else w.state if w.state in (REFERENCE, TOO_FEW) else "ok"
            parts.append(f'<rect x="{left + cell * i:.1f}" y="{yy}" width="{cell:.1f}" height="13" '
                         f'fill="{STATE_COLOURS.get(state, "#eee")}"><title>{escape(_label(w))}: {state}</title></rect>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every inserted text above is escaped or a number


def render(ev: Evaluation, history: list[AlertRow], canaries: list[CanaryRow]) -> str:
    judged = [w for w in ev.windows if w.state not in (REFERENCE, TOO_FEW)]
    latest = judged[-1] if judged else None
    first_alert = next((w for w in judged if w.state == "alert"), None)
    by_window = {w.index: w for w in ev.windows}
    return render_template("monitor.html.j2",
        spec=ev.spec, ev=ev, latest=latest, judged=judged, first_alert=first_alert,
        charts=[(name, signal_chart(name, ev)) for name in SIGNALS],
        strip=state_strip(ev), history=history, canaries=canaries, by_window=by_window, label=_label,
        colours=STATE_COLOURS, version=__version__, made=datetime.now(UTC).isoformat(timespec="seconds"),
        counts={s: sum(1 for w in judged if w.state == s) for s in ("ok", "warning", "alert")},
    )

