"""Monitoring results and incidents as files of an evidence bundle.

`monitoring_files` gives what a bundle holds for one stream: the spec, every window's signals,
rules and state, the alert history, the canaries, the report and the Art. 72 plan, and each
incident of the stream with its versions. `laif monitor bundle` signs them into a bundle of their
own (`laif evidence verify` checks it); an evidence build can add the same files to its bundle.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from laif.compliance import evidence
from laif.monitor.alerts import Evaluation, WindowVerdict, evaluate
from laif.monitor.incidents import describe
from laif.monitor.plan import render_plan
from laif.monitor.report import render
from laif.monitor.store import IncidentRow, MonitorStore, as_utc

#: Windows on each side of an incident's occurrence that go into its snapshot.
SNAPSHOT_WINDOWS = 6


def _json(data: Any) -> bytes:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str).encode("utf-8")


def windows_json(windows: list[WindowVerdict], summaries: dict[int, Any] | None = None) -> bytes:
    """Windows with their signals, rules, feature statistics and state (and summaries, when given)."""
    return _json([{
        "index": w.index, "start": w.start.isoformat() if w.start else None, "end": w.end.isoformat() if w.end else None,
        "n": w.n, "state": w.state, "signals": w.signals, "rules": w.rules, "features": w.features,
        **({"summary": summaries[w.index]} if summaries is not None else {})} for w in windows])


def alert_history(store: MonitorStore, stream: str) -> list[dict[str, Any]]:
    """Each change of a rule's state, in window order, with when it was first noticed."""
    return [{"window": a.window, "rule": a.rule, "state": a.state, "value": a.value,
             "noticed_at": as_utc(a.noticed_at).isoformat()} for a in store.alerts(stream)]


def alerts_json(store: MonitorStore, stream: str) -> bytes:
    return _json(alert_history(store, stream))


def monitoring_files(store: MonitorStore, stream: str, evaluation: Evaluation | None = None) -> dict[str, bytes]:
    ev = evaluation or evaluate(store, stream)
    prefix = f"monitoring/{stream}"
    files = {
        f"{prefix}/spec.json": _json(ev.spec.model_dump(mode="json")),
        f"{prefix}/windows.json": windows_json(ev.windows),
        f"{prefix}/alerts.json": alerts_json(store, stream),
        f"{prefix}/canaries.json": _json([{"at": k.at.isoformat(), "baseline_run": k.baseline_run,
                                           "canary_run": k.canary_run, "model": k.model, "state": k.state,
                                           "rows": k.rows} for k in store.canaries(stream)]),
        f"{prefix}/report.html": render(ev, store.alerts(stream), store.canaries(stream)).encode("utf-8"),
        f"{prefix}/plan.html": render_plan(ev.spec).encode("utf-8"),
    }
    with store.session() as s:
        ids = list(s.scalars(select(IncidentRow.id).where(IncidentRow.stream == stream).order_by(IncidentRow.id)))
    for incident in ids:
        files[f"incidents/{incident}.json"] = _json(describe(store, incident))
    return files


def snapshot(store: MonitorStore, incident_id: str, out: Path, key: Ed25519PrivateKey,
             around: int = SNAPSHOT_WINDOWS) -> dict[str, Any]:
    """Freeze the incident and the monitoring data around it (windows with their summaries) in a
    signed bundle; `laif evidence verify` checks it. Returns the manifest."""
    info = describe(store, incident_id)
    files: dict[str, bytes] = {"incident.json": _json(info)}
    if info["stream"]:
        ev = evaluate(store, info["stream"])
        occurred = datetime.fromisoformat(info["occurred_at"])
        at = next((i for i, w in enumerate(ev.windows) if w.end is not None and w.end > occurred), len(ev.windows) - 1)
        summaries = {row.index: row.summary for row in store.windows(info["stream"])}
        files["monitoring/spec.json"] = _json(ev.spec.model_dump(mode="json"))
        files["monitoring/windows.json"] = windows_json(ev.windows[max(0, at - around): at + around + 1], summaries)
        files["monitoring/alerts.json"] = alerts_json(store, info["stream"])
    return evidence.build(files, out, key, {"kind": "incident snapshot", "incident": info["id"], "stream": info["stream"]})


def stream_bundle(store: MonitorStore, stream: str, out: Path, key: Ed25519PrivateKey) -> dict[str, Any]:
    """A signed bundle of one stream's monitoring results and incidents. Returns the manifest."""
    return evidence.build(monitoring_files(store, stream), out, key, {"kind": "monitoring", "stream": stream})
