"""Judging each window: rules with states (ok, warning, alert) and the history of their changes.

Rules, per window with at least `min_window` calls, outside the reference:
- `signal.NAME`: the spec's thresholds (`alerts:`): outside the alert threshold -> alert,
  outside the warning threshold -> warning. A signal outside its reference band (the reference
  windows' mean +- `band_sd` standard deviations) is a warning too: unusual, not yet wrong.
- `drift.FEATURE`: the feature's state from `drift.feature_state` (PSI, corrected KS or
  chi-squared p-value, Jensen-Shannon or Wasserstein distance).
A window's state is its worst rule's. The history keeps each change of a rule's state, in
window order, with when laif first noticed it.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete

from laif.configurator.spec import Threshold
from laif.monitor.drift import compare
from laif.monitor.spec import MonitorSpec
from laif.monitor.store import AlertRow, MonitorStore, WindowRow
from laif.monitor.summary import RATES, SIGNALS, WindowSummary

STATES = ("ok", "warning", "alert")
#: States of windows that are not judged.
REFERENCE, TOO_FEW = "reference", "too few"


def worst(states: list[str]) -> str:
    judged = [s for s in states if s in STATES]
    return max(judged, key=STATES.index) if judged else "ok"


def _outside(value: float, bound: Threshold | None) -> bool:
    """Below the min or above the max (each inclusive on the good side), as a spec gate judges it."""
    return bound is not None and any(b.judge(value) == "not met" for b in bound.bounds())


@dataclass
class WindowVerdict:
    index: int
    start: datetime | None
    end: datetime | None
    n: int
    state: str
    signals: dict[str, dict[str, Any]]
    features: dict[str, dict[str, Any]] = field(default_factory=dict)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Evaluation:
    spec: MonitorSpec
    reference: WindowSummary
    reference_windows: list[int]
    bands: dict[str, tuple[float, float] | None]
    windows: list[WindowVerdict]

    @property
    def latest(self) -> WindowVerdict | None:
        return self.windows[-1] if self.windows else None


def _in_reference(spec: MonitorSpec, rows: list[WindowRow]) -> list[int]:
    ref = spec.reference
    if ref.start is not None and ref.end is not None:
        start, end = ref.start, ref.end
        picked = []
        for row in rows:
            bounds = spec.window_bounds(row.index)
            first = bounds[0] if bounds else WindowSummary.from_json(row.summary).first
            if first is not None and start <= first < end:
                picked.append(row.index)
        return picked
    return [row.index for row in rows[: ref.windows]]


def _bands(spec: MonitorSpec, values: dict[str, list[float]]) -> dict[str, tuple[float, float] | None]:
    out: dict[str, tuple[float, float] | None] = {}
    for name in SIGNALS:
        vs = values.get(name, [])
        if len(vs) < 2:
            out[name] = None
            continue
        mean, sd = statistics.fmean(vs), statistics.stdev(vs)
        # Every signal is >= 0 and the rates are <= 1: a band past those bounds would read oddly.
        high = mean + spec.band_sd * sd
        out[name] = (max(mean - spec.band_sd * sd, 0.0), min(high, 1.0) if name in RATES else high)
    return out


def _signal_rules(spec: MonitorSpec, signals: dict[str, dict[str, Any]],
                  bands: dict[str, tuple[float, float] | None]) -> dict[str, dict[str, Any]]:
    rules: dict[str, dict[str, Any]] = {}
    for name in SIGNALS:
        value = signals[name]["value"]
        if value is None:
            continue
        rule, band = spec.alerts.get(name), bands.get(name)
        state, why = "ok", "within thresholds and band"
        if rule is not None and _outside(value, rule.alert):
            state, why = "alert", "outside the alert threshold"
        elif rule is not None and _outside(value, rule.warning):
            state, why = "warning", "outside the warning threshold"
        elif band is not None and not band[0] <= value <= band[1]:
            state, why = "warning", "outside the reference band"
        if rule is not None or band is not None:
            rules[f"signal.{name}"] = {"state": state, "value": value, "why": why}
    return rules


def evaluate(store: MonitorStore, name: str) -> Evaluation:
    """Every window of the stream judged against its reference."""
    spec = MonitorSpec.model_validate(store.stream(name).spec)
    rows = store.windows(name)
    ref_ids = set(_in_reference(spec, rows))
    summaries = {row.index: WindowSummary.from_json(row.summary) for row in rows}
    reference = WindowSummary()
    ref_values: dict[str, list[float]] = {}
    for index in sorted(ref_ids):
        reference.merge(summaries[index])
        if summaries[index].counts["n"] >= spec.min_window:
            for sig, v in summaries[index].signals().items():
                if v["value"] is not None:
                    ref_values.setdefault(sig, []).append(v["value"])
    bands = _bands(spec, ref_values)
    verdicts = []
    for row in rows:
        summary = summaries[row.index]
        bounds = spec.window_bounds(row.index)
        start, end = bounds if bounds else (summary.first, summary.last)
        signals = summary.signals()
        verdict = WindowVerdict(row.index, start, end, row.n, REFERENCE, signals)
        if row.index not in ref_ids:
            if row.n < spec.min_window or not reference.counts["n"]:
                verdict.state = TOO_FEW
            else:
                verdict.features = compare(reference, summary, spec.correction)
                verdict.rules = _signal_rules(spec, signals, bands)
                for feature, result in verdict.features.items():
                    verdict.rules[f"drift.{feature}"] = {
                        "state": result["state"], "value": result["psi"] if result["psi"] is not None else result["distance"],
                        "why": (f"PSI {result['psi']:.3f}, " if result["psi"] is not None else "")
                               + f"{result['test']} p {result['p_adjusted']:.3g} (corrected), "
                               f"{result['distance_name']} {result['distance']:.3f}"}
                verdict.state = worst([r["state"] for r in verdict.rules.values()])
        verdicts.append(verdict)
    return Evaluation(spec, reference, sorted(ref_ids), bands, verdicts)


def history(evaluation: Evaluation) -> list[tuple[int, str, str, str]]:
    """(window, rule, state, value) for each change of a rule's state, in window order; rules start ok."""
    changes = []
    last: dict[str, str] = {}
    for w in evaluation.windows:
        for rule, r in sorted(w.rules.items()):
            if r["state"] != last.get(rule, "ok"):
                changes.append((w.index, rule, r["state"], f"{r['value']:.4g} ({r['why']})"))
            last[rule] = r["state"]
    return changes


def record_history(store: MonitorStore, evaluation: Evaluation) -> list[AlertRow]:
    """Replace the stream's alert history by the one this evaluation gives, keeping when each
    change was first noticed; returns the changes noticed now for the first time."""
    name = evaluation.spec.name
    noticed = {(a.window, a.rule, a.state): a.noticed_at for a in store.alerts(name)}
    now = datetime.now(UTC)
    rows, new = [], []
    for window, rule, state, value in history(evaluation):
        row = AlertRow(stream=name, window=window, rule=rule, state=state, value=value,
                       noticed_at=noticed.get((window, rule, state), now))
        rows.append(row)
        if (window, rule, state) not in noticed:
            new.append(row)
    with store.session() as s:
        s.execute(delete(AlertRow).where(AlertRow.stream == name))
        s.add_all(rows)
    return new
