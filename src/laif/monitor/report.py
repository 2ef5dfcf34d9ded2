"""The monitoring report: one self-contained HTML page (inline SVG, no scripts).

At the top, the state of every window at a glance (overall, signals, drift) and what is not ok
in the latest judged window. Then each signal drawn over the windows against its reference band
and its thresholds, with its unit, the thresholds labelled and windows in warning or alert
marked; the drift statistics per feature for the latest judged window and a strip of every
feature's state over time; the canaries; each rule's time out of ok, and the alert history.
Every chart shares one time axis (a tick per day for windows of time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup, escape

from laif import __version__
from laif.monitor.alerts import REFERENCE, STATES, TOO_FEW, Evaluation, WindowVerdict
from laif.monitor.store import AlertRow, CanaryRow
from laif.monitor.summary import RATES, SIGNALS
from laif.reports.html import render_template

STATE_COLOURS = {"ok": "#2f9a7a", "warning": "#d9a21b", "alert": "#c0392b", REFERENCE: "#8a94a3", TOO_FEW: "#c9ced6"}
#: What each signal is, for a reader: a title and its unit ("%" for the rates, shown in percent).
SIGNAL_TITLES = {
    "refusal_rate": ("Refusals", "%"), "empty_rate": ("Empty answers", "%"),
    "truncated_rate": ("Answers cut at the token limit", "%"), "error_rate": ("Errors", "%"),
    "timeout_rate": ("Timeouts", "%"), "language_fidelity": ("Answers in the question's language", "%"),
    "pii_rate": ("Answers with personal data", "%"), "feedback_positive": ("Positive user ratings", "%"),
    "latency_p50_s": ("Latency, median", "s"), "latency_p95_s": ("Latency, 95th percentile", "s"),
    "input_tokens_mean": ("Input tokens, mean per call", "tokens"),
    "output_tokens_mean": ("Output tokens, mean per call", "tokens"),
}
#: Rows of the history table shown open; a longer history is folded (the bundle's alerts.json has it all).
HISTORY_OPEN = 30
# Chart geometry (SVG user units): two charts side by side fill the page's 1,036 px.
_W, _H, _LEFT, _RIGHT, _TOP, _BOTTOM = 510, 190, 52, 84, 16, 22


def _fmt(v: float) -> str:
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"


def fmt_value(name: str, v: float | None) -> str:
    """A signal's value in its unit: rates in percent, latencies in seconds, tokens as numbers."""
    if v is None:
        return "–"
    unit = SIGNAL_TITLES.get(name, (name, ""))[1]
    if unit == "%":
        return f"{100 * v:.3g} %"
    return f"{_fmt(v)} s" if unit == "s" else _fmt(v)


def change_text(rule: str, value: str) -> str:
    """A change of state as the history keeps it ('4.605 (PSI 4.605, KS p ...)'), without the
    number a drift rule's statistics repeat, rounded, as its PSI or distance ('PSI 4.605, KS p
    ...'); a signal keeps its value."""
    _, _, why = value.partition(" (")
    if rule.startswith("drift.") and why.endswith(")"):
        return why[:-1]
    return value


def _label(w: WindowVerdict) -> str:
    return w.start.strftime("%m-%d %H:%M") if w.start else f"#{w.index}"


def _nice_step(span: float, ticks: int = 4) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about `ticks` intervals over `span`."""
    raw = span / ticks
    power = 10.0 ** math.floor(math.log10(raw))
    return float(next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw))


def _scale(name: str, values: list[float]) -> tuple[float, float, list[float]]:
    """Low and high of the y axis, on round ticks; rates start at 0 and never pass 100 %."""
    low, high = min(values), max(values)
    if name in RATES:
        low, high = 0.0, max(high, 0.01)
    if math.isclose(low, high, rel_tol=1e-9, abs_tol=1e-12):
        low, high = low - (abs(low) * 0.1 or 1), high + (abs(high) * 0.1 or 1)
    step = _nice_step(high - low)
    low, high = math.floor(low / step + 1e-9) * step, math.ceil(high / step - 1e-9) * step
    if name in RATES:
        high = min(high, 1.0) if high > 1 else high
    ticks = [low + k * step for k in range(round((high - low) / step) + 1)]
    return low, high, ticks


def _tick_label(name: str, v: float) -> str:
    if name in RATES:
        return f"{100 * v:.4g} %"
    return f"{v:.4g}"


@dataclass(frozen=True)
class _Axis:
    """Where windows sit along x (positions 0..n-1 over [left, left + width]) and its ticks."""

    n: int
    left: float
    width: float

    def x(self, i: float) -> float:
        return self.left + self.width * (i + 0.5) / max(self.n, 1)

    @property
    def step(self) -> float:
        return self.width / max(self.n, 1)


def time_ticks(windows: list[WindowVerdict], most: int = 10) -> list[tuple[int, str, bool]]:
    """(position, label, day boundary) of the x ticks: each day's first window for windows of time
    (thinned to at most `most`), else the first, middle and last windows."""
    days = [i for i, w in enumerate(windows) if w.start is not None
            and (i == 0 or windows[i - 1].start is None or windows[i - 1].start.date() != w.start.date())]  # type: ignore[union-attr]
    if len(days) >= 2 and len(days) < len(windows) / 2:
        every = math.ceil(len(days) / most)
        return [(i, windows[i].start.strftime("%d %b"), True) for i in days[::every]]  # type: ignore[union-attr]
    if not windows:
        return []
    picks = sorted({0, len(windows) // 2, len(windows) - 1})
    return [(i, _label(windows[i]), False) for i in picks]


def _x_axis(axis: _Axis, windows: list[WindowVerdict], top: float, bottom: float) -> list[str]:
    parts = [f'<line x1="{axis.left}" x2="{axis.left + axis.width}" y1="{bottom:.1f}" y2="{bottom:.1f}" stroke="#b7bec8"/>']
    ticks = time_ticks(windows)
    for k, (i, text, day) in enumerate(ticks):
        x = axis.x(i) - axis.step / 2 if day else axis.x(i)
        anchor = "start" if day or k == 0 else "end" if k == len(ticks) - 1 else "middle"
        if day:
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom + 4:.1f}" stroke="#e3e6eb"/>')
        parts.append(f'<text x="{x + (2 if day else 0):.1f}" y="{bottom + 14:.1f}" text-anchor="{anchor}">{escape(text)}</text>')
    return parts


def first_alert_position(ev: Evaluation) -> int | None:
    return next((i for i, w in enumerate(ev.windows) if w.state == "alert"), None)


def signal_chart(name: str, ev: Evaluation) -> Markup:
    """One signal over the windows: the reference windows and band shaded, thresholds dashed and
    labelled, windows in warning or alert as dots, the stream's first alert as a vertical line."""
    points = [(i, w.signals[name]["value"], w) for i, w in enumerate(ev.windows) if w.signals[name]["value"] is not None]
    if not points:
        return Markup("")
    band = ev.bands.get(name)
    rule = ev.spec.alerts.get(name)
    thresholds = [(t_name, b) for t_name, t in ((("warning", rule.warning), ("alert", rule.alert)) if rule else ())
                  if t for b in (t.min, t.max) if b is not None]
    low, high, ticks = _scale(name, [v for _, v, _ in points] + (list(band) if band else []) + [b for _, b in thresholds])
    axis = _Axis(len(ev.windows), _LEFT, _W - _LEFT - _RIGHT)
    inner_h = _H - _TOP - _BOTTOM
    bottom = _TOP + inner_h

    def y(v: float) -> float:
        return _TOP + inner_h * (1 - (min(max(v, low), high) - low) / (high - low))

    title = SIGNAL_TITLES.get(name, (name, ""))[0]
    parts = [f'<svg class="series" viewBox="0 0 {_W} {_H}" width="{_W}" height="{_H}" role="img" '
             f'aria-label="{escape(title)} ({escape(name)}) per window">']
    for t in ticks:
        parts.append(f'<line x1="{_LEFT}" x2="{_LEFT + axis.width}" y1="{y(t):.1f}" y2="{y(t):.1f}" stroke="#eef0f3"/>'
                     f'<text x="{_LEFT - 5}" y="{y(t) + 3.5:.1f}" text-anchor="end">{_tick_label(name, t)}</text>')
    refs = [i for i, w in enumerate(ev.windows) if w.state == REFERENCE]
    if refs:
        x0, x1 = axis.x(refs[0]) - axis.step / 2, axis.x(refs[-1]) + axis.step / 2
        parts.append(f'<rect x="{x0:.1f}" y="{_TOP}" width="{x1 - x0:.1f}" height="{inner_h}" fill="#e8ebf0">'
                     f'<title>reference windows</title></rect>'
                     f'<text x="{x0 + 3:.1f}" y="{_TOP + 10}" class="note">reference</text>')
    if band:
        top, low_y = y(band[1]), y(band[0])
        parts.append(f'<rect x="{_LEFT}" y="{top:.1f}" width="{axis.width}" height="{max(low_y - top, 1):.1f}" '
                     f'fill="#2f9a7a" fill-opacity="0.16"><title>reference band {escape(fmt_value(name, band[0]))} to '
                     f'{escape(fmt_value(name, band[1]))}</title></rect>')
    first = first_alert_position(ev)
    if first is not None:
        fx = axis.x(first) - axis.step / 2
        parts.append(f'<line x1="{fx:.1f}" x2="{fx:.1f}" y1="{_TOP}" y2="{bottom}" stroke="#c0392b" stroke-width="1" '
                     f'stroke-dasharray="1 2"><title>first alert: {escape(_label(ev.windows[first]))}</title></line>')
    labels: list[tuple[float, str, str]] = []
    for t_name, b in thresholds:
        colour = STATE_COLOURS[t_name]
        parts.append(f'<line x1="{_LEFT}" x2="{_LEFT + axis.width}" y1="{y(b):.1f}" y2="{y(b):.1f}" stroke="{colour}" '
                     f'stroke-width="1.2" stroke-dasharray="5 3"><title>{t_name} threshold {escape(fmt_value(name, b))}'
                     f'</title></line>')
        labels.append((y(b), f"{t_name} {fmt_value(name, b)}", colour))
    last_y = -100.0
    for ly, text, colour in sorted(labels):  # labels at the right end, never on top of each other
        ly = max(ly + 3.5, last_y + 11)
        parts.append(f'<text x="{_LEFT + axis.width + 4:.1f}" y="{ly:.1f}" fill="{colour}" class="thr">{escape(text)}</text>')
        last_y = ly
    segment: list[str] = []
    previous = None
    for i, v, _ in points:
        if previous is not None and i != previous + 1 and len(segment) > 0:
            parts.append(f'<polyline points="{" ".join(segment)}" fill="none" stroke="#1f4e8c" stroke-width="1.5"/>')
            segment = []
        segment.append(f"{axis.x(i):.1f},{y(v):.1f}")
        previous = i
    parts.append(f'<polyline points="{" ".join(segment)}" fill="none" stroke="#1f4e8c" stroke-width="1.5"/>')
    for i, v, w in points:
        state = w.rules.get(f"signal.{name}", {}).get("state")
        if state in ("warning", "alert"):
            parts.append(f'<circle cx="{axis.x(i):.1f}" cy="{y(v):.1f}" r="2.6" fill="{STATE_COLOURS[state]}">'
                         f'<title>{escape(_label(w))}: {escape(fmt_value(name, v))} ({state})</title></circle>')
    parts += _x_axis(axis, ev.windows, _TOP, bottom)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every inserted text above is escaped or a number


def _state_of(w: WindowVerdict, rules: list[str]) -> tuple[str, str]:
    """The worst state of `rules` in window `w` (reference and too-few windows keep theirs), and why."""
    if w.state in (REFERENCE, TOO_FEW):
        return w.state, ""
    found = [(w.rules[r]["state"], r, w.rules[r]) for r in rules if r in w.rules]
    if not found:
        return "ok", ""
    state, rule, r = max(found, key=lambda f: STATES.index(f[0]))
    return state, "" if state == "ok" else f"{rule}: {r['why']}"


def state_strip(ev: Evaluation, rows: list[tuple[str, list[str]]] | None = None) -> Markup:
    """A row of coloured cells per window for each (label, rules) row: the worst state of those
    rules in the window. Without `rows`, one row per drift feature."""
    if rows is None:
        drift = sorted({r for w in ev.windows for r in w.rules if r.startswith("drift.")})
        rows = [(r.removeprefix("drift."), [r]) for r in drift]
    if not rows or not ev.windows:
        return Markup("")
    left = 14 + 6.6 * max(len(label) for label, _ in rows)
    width = 1036
    axis = _Axis(len(ev.windows), left, width - left - 8)
    row_h, top = 16, 4
    bottom = top + row_h * len(rows)
    parts = [f'<svg class="series strip" viewBox="0 0 {width} {bottom + 22}" width="{width}" height="{bottom + 22}" '
             f'role="img" aria-label="state per window">']
    for r, (label, rules) in enumerate(rows):
        yy = top + row_h * r
        parts.append(f'<text x="{left - 6:.1f}" y="{yy + 11}" text-anchor="end">{escape(label)}</text>')
        runs: list[list[Any]] = []  # [first, end, state, why of the first]: one rect per run keeps the page small
        for i, w in enumerate(ev.windows):
            state, why = _state_of(w, rules)
            if runs and runs[-1][2] == state:
                runs[-1][1] = i + 1
            else:
                runs.append([i, i + 1, state, why])
        for start, end, state, why in runs:
            x0 = axis.x(start) - axis.step / 2
            span = _label(ev.windows[start])
            if end - start > 1:
                span += f" to {_label(ev.windows[end - 1])}, {end - start} windows"
            first = f"; first: {why}" if why and end - start > 1 else f": {why}" if why else ""
            parts.append(f'<rect x="{x0:.1f}" y="{yy}" width="{axis.step * (end - start):.2f}" height="{row_h - 3}" '
                         f'fill="{STATE_COLOURS.get(state, "#eee")}"><title>{escape(label)}, {escape(span)}: {state}'
                         f'{escape(first)}</title></rect>')
    parts += _x_axis(axis, ev.windows, top, bottom)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every inserted text above is escaped or a number


def rule_summary(ev: Evaluation) -> list[dict[str, Any]]:
    """Each rule that left ok in a judged window: windows in warning and in alert, its first
    warning or alert, its state in the latest judged window; alerts first."""
    judged = [w for w in ev.windows if w.state not in (REFERENCE, TOO_FEW)]
    found: dict[str, dict[str, Any]] = {}
    for w in judged:
        for rule, r in w.rules.items():
            if r["state"] == "ok":
                continue
            row = found.setdefault(rule, {"rule": rule, "warning": 0, "alert": 0, "first": w, "first_alert": None})
            row[r["state"]] += 1
            if r["state"] == "alert" and row["first_alert"] is None:
                row["first_alert"] = w
    latest = judged[-1] if judged else None
    for row in found.values():
        row["latest"] = latest.rules.get(row["rule"], {}).get("state", "ok") if latest else "ok"
    return sorted(found.values(), key=lambda r: (-r["alert"], -r["warning"], r["rule"]))


def render(ev: Evaluation, history: list[AlertRow], canaries: list[CanaryRow]) -> str:
    judged = [w for w in ev.windows if w.state not in (REFERENCE, TOO_FEW)]
    latest = judged[-1] if judged else None
    first_alert = next((w for w in judged if w.state == "alert"), None)
    by_window = {w.index: w for w in ev.windows}
    signal_rules = [f"signal.{s}" for s in SIGNALS]
    drift_rules = sorted({r for w in ev.windows for r in w.rules if r.startswith("drift.")})
    overview = state_strip(ev, [("window", [*signal_rules, *drift_rules]), ("signals", signal_rules),
                                ("drift", drift_rules)])
    charts = []
    for name in SIGNALS:
        rule = ev.spec.alerts.get(name)
        limits = [f"{t_name} {'below ' + fmt_value(name, t.min) if t.min is not None else ''}"
                  f"{' or ' if t.min is not None and t.max is not None else ''}"
                  f"{'above ' + fmt_value(name, t.max) if t.max is not None else ''}"
                  for t_name, t in ((("warning", rule.warning), ("alert", rule.alert)) if rule else ()) if t]
        band = ev.bands.get(name)
        charts.append({"name": name, "title": SIGNAL_TITLES.get(name, (name, ""))[0], "svg": signal_chart(name, ev),
                       "latest": fmt_value(name, latest.signals[name]["value"]) if latest else "–",
                       "state": latest.rules.get(f"signal.{name}", {}).get("state") if latest else None,
                       "band": f"{fmt_value(name, band[0])} to {fmt_value(name, band[1])}" if band else None,
                       "limits": limits})
    features = sorted(latest.features.items(), key=lambda kv: (-STATES.index(kv[1]["state"]), kv[0])) if latest else []
    return render_template("monitor.html.j2",
        spec=ev.spec, ev=ev, latest=latest, judged=judged, first_alert=first_alert, features=features,
        charts=charts, overview=overview, strip=state_strip(ev), history=history, history_open=HISTORY_OPEN,
        rules=rule_summary(ev), canaries=canaries, by_window=by_window, label=_label,
        not_ok=sorted(((k, v) for k, v in (latest.rules.items() if latest else []) if v["state"] != "ok"),
                      key=lambda kv: (-STATES.index(kv[1]["state"]), kv[0])),
        fmt_value=fmt_value, change_text=change_text, colours=STATE_COLOURS, version=__version__,
        made=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        counts={s: sum(1 for w in judged if w.state == s) for s in ("ok", "warning", "alert")},
    )
