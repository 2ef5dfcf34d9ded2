"""Prometheus metrics of the monitored streams, for a factory's existing dashboards.

`metrics_text` gives the text exposition format (prometheus-client) of each stream's latest
judged window; write it where node_exporter's textfile collector reads, or serve it.

| metric | labels | value |
| --- | --- | --- |
| `laif_monitor_signal` | stream, signal | the signal's value |
| `laif_monitor_rule_state` | stream, rule | 0 ok, 1 warning, 2 alert |
| `laif_monitor_window_state` | stream | the window's state (its worst rule's): 0 ok, 1 warning, 2 alert |
| `laif_monitor_drift_psi` | stream, feature | PSI against the reference |
| `laif_monitor_window_calls` | stream | calls in the window |
| `laif_monitor_window_start_seconds` | stream | the window's start, Unix time |
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge, generate_latest

from laif.monitor.alerts import REFERENCE, STATES, TOO_FEW, evaluate
from laif.monitor.store import MonitorStore


def metrics_text(store: MonitorStore) -> str:
    registry = CollectorRegistry()
    signal = Gauge("laif_monitor_signal", "Signal of the latest judged window.", ["stream", "signal"], registry=registry)
    rule = Gauge("laif_monitor_rule_state", "Rule state: 0 ok, 1 warning, 2 alert.", ["stream", "rule"], registry=registry)
    psi = Gauge("laif_monitor_drift_psi", "PSI of a feature against the reference.", ["stream", "feature"], registry=registry)
    window_state = Gauge("laif_monitor_window_state", "State of the latest judged window: 0 ok, 1 warning, 2 alert.",
                         ["stream"], registry=registry)
    calls = Gauge("laif_monitor_window_calls", "Calls in the latest judged window.", ["stream"], registry=registry)
    start = Gauge("laif_monitor_window_start_seconds", "Start of the latest judged window.", ["stream"], registry=registry)
    for row in store.streams():
        judged = [w for w in evaluate(store, row.name).windows if w.state not in (REFERENCE, TOO_FEW)]
        if not judged:
            continue
        w = judged[-1]
        calls.labels(row.name).set(w.n)
        window_state.labels(row.name).set(STATES.index(w.state))
        if w.start is not None:
            start.labels(row.name).set(w.start.timestamp())
        for name, v in w.signals.items():
            if v["value"] is not None:
                signal.labels(row.name, name).set(v["value"])
        for name, r in w.rules.items():
            rule.labels(row.name, name).set(STATES.index(r["state"]))
        for name, f in w.features.items():
            if f["psi"] is not None:  # embeddings have an MMD, not a PSI
                psi.labels(row.name, name).set(f["psi"])
    return generate_latest(registry).decode("utf-8")
