"""Monitoring in production as services: take in logs, judge each window (drift, signals, alert
rules), the report, Prometheus metrics, the Art. 72 plan, canaries against a sandbox run, and
serious incidents (Art. 73) with signed snapshots.

    from laif.services import monitoring
    spec = monitoring.resolve_spec(Path("monitor.yaml"), None, db=url)
    monitoring.ingest_file(Path("calls.jsonl"), spec, db=url)
    judged = monitoring.judge(spec.name, db=url)       # the windows, and the changes of state noticed now
    monitoring.status_of(judged.evaluation, db=url)    # what `laif monitor status --json` prints

Each function takes `db`: a database URL (None: LAIF_DB_URL, else SQLite under $LAIF_HOME), or a
store from `open_store` that a long-running caller (a watch loop, a server) keeps open. Nothing
here prints; bad input raises `laif.errors.BadInput`. Bundles are signed with the builder's key,
of which only the fingerprint is ever returned.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from laif._files import atomic_output, laif_home, write_atomic
from laif.compliance.evidence import fingerprint, signing_key
from laif.errors import BadInput, ModelUnreachable
from laif.monitor import incidents as _incidents
from laif.monitor.alerts import REFERENCE, TOO_FEW, Evaluation, evaluate, record_history
from laif.monitor.bundle import alert_history, snapshot, stream_bundle
from laif.monitor.canary import compare, worst_state
from laif.monitor.incidents import CATEGORIES, REPORT_KINDS, STATUSES
from laif.monitor.intake import FORMS, IntakeResult, ingest, zoned_time
from laif.monitor.metrics import metrics_text
from laif.monitor.plan import render_plan
from laif.monitor.receiver import PATH as RECEIVER_PATH
from laif.monitor.receiver import asgi_app, make_server
from laif.monitor.report import change_text, render
from laif.monitor.spec import EXAMPLE, MonitorSpec, load_monitor_spec
from laif.monitor.store import AlertRow, CanaryRow, MonitorStore

if TYPE_CHECKING:
    from laif.models import EndpointOptions
    from laif.services.assessment import OnSuite
    from laif.services.progress import Progress

__all__ = ["Bundled", "CATEGORIES", "Canary", "Db", "Evaluation", "FORMS", "IncidentReport", "IntakeResult",
           "Judged", "MonitorSpec", "MonitorStore", "RECEIVER_PATH", "REFERENCE", "REPORT_KINDS", "STATUSES",
           "TOO_FEW", "asgi_receiver", "bundle_stream", "canary", "change_text", "describe_incident",
           "incident_report", "ingest_file", "intake_progress", "judge", "list_incidents", "metrics",
           "open_incident", "open_store", "receiver", "resolve_spec", "status_of", "stream_name", "update_incident",
           "write_example_spec", "write_metrics", "write_plan", "write_report", "zoned_time"]

#: A database URL, None for laif's default database, or a store opened with `open_store`.
Db = str | MonitorStore | None


def open_store(db: str | None = None) -> MonitorStore:
    """The monitoring tables of laif's database, opened once for a caller that makes many calls."""
    return MonitorStore(db)


def _store(db: Db) -> MonitorStore:
    return db if isinstance(db, MonitorStore) else MonitorStore(db)


@contextmanager
def _writing(out: Path) -> Iterator[None]:
    """An output that cannot be written (a missing or read-only folder, a full disk) is bad input
    naming the path, never a traceback."""
    try:
        yield
    except OSError as exc:
        raise BadInput(f"{out}: cannot write ({exc.strerror or exc})", hint="name another --out") from None


# --- specs and streams ------------------------------------------------------------------------------


def write_example_spec(out: Path) -> Path:
    """A commented example monitoring spec at `out`, never over an existing file."""
    if out.exists():
        raise BadInput(f"{out}: exists already; name another file with --out")
    with _writing(out):
        write_atomic(out, EXAMPLE)
    return out


def resolve_spec(spec: Path | None, stream: str | None, db: Db = None) -> MonitorSpec:
    """The spec from the file `spec`, else the stream's stored one, else the defaults under the
    stream's name (a new stream)."""
    if spec is not None:
        loaded = load_monitor_spec(spec)
        if stream is not None and stream != loaded.name:
            raise BadInput(f"--stream {stream!r}: the spec {spec} names the stream {loaded.name!r}; give one of them")
        return loaded
    if stream is None:
        raise BadInput("give --spec FILE or --stream NAME")
    known = {row.name: row for row in _store(db).streams()}
    if stream in known:
        return MonitorSpec.model_validate(known[stream].spec)
    try:
        return MonitorSpec.model_validate({"name": stream})
    except ValueError:
        raise BadInput(f"--stream {stream!r}: use 1-64 letters, digits, '-' or '_', starting with a letter or digit") from None


def stream_name(stream: str | None, db: Db = None) -> str:
    """The stream named, or the only one monitored."""
    if stream is not None:
        return stream
    names = [row.name for row in _store(db).streams()]
    if len(names) != 1:
        raise BadInput("--stream: name the stream" + (f" (one of {', '.join(names)})" if names else
                                                      "; none is monitored yet (laif monitor ingest)"))
    return names[0]


# --- intake and judgement ---------------------------------------------------------------------------


def ingest_file(path: Path, spec: MonitorSpec, *, form: str = "jsonl", whole_lines_only: bool = False,
                workers: int = 1, db: Db = None) -> IntakeResult:
    """Take in a log (jsonl calls, otlp spans, a csv or parquet table) from where an earlier intake
    of the same file stopped; `whole_lines_only` leaves a last line still being written for the next
    call; `workers` processes read JSONL or CSV (the same result, faster)."""
    return ingest(_store(db), spec, path, form=form, whole_lines_only=whole_lines_only, workers=workers)


def intake_progress(path: Path, stream: str, db: Db = None) -> int:
    """How many bytes of the file the stream has taken in so far (0 before its first write): an
    intake writes it with its summaries every 20,000 lines, so another thread can show progress."""
    from sqlalchemy import select

    from laif.monitor.store import IntakeRow

    with _store(db).session() as s:
        done = s.scalars(select(IntakeRow.bytes).where(IntakeRow.stream == stream,
                                                       IntakeRow.path == str(path.resolve()))).first()
    return int(done or 0)


@dataclass(frozen=True)
class Judged:
    evaluation: Evaluation
    #: The changes of state noticed by this judgement for the first time (all are in the history).
    changes: list[AlertRow]


def judge(stream: str, db: Db = None) -> Judged:
    """Judge every window of the stream against its reference and rules; record the alert history."""
    store = _store(db)
    evaluation = evaluate(store, stream)
    return Judged(evaluation, record_history(store, evaluation))


def status_of(evaluation: Evaluation, db: Db = None) -> dict[str, Any]:
    """The latest judged window's state, the rules not ok in it, its signals and the alert history:
    what `laif monitor status --json` prints."""
    judged = [w for w in evaluation.windows if w.state not in (REFERENCE, TOO_FEW)]
    latest = judged[-1] if judged else None
    return {
        "stream": evaluation.spec.name, "windows": len(evaluation.windows),
        "reference_windows": len(evaluation.reference_windows),
        "judged": len(judged), "states": {s: sum(1 for w in judged if w.state == s) for s in ("ok", "warning", "alert")},
        "latest": None if latest is None else {
            "index": latest.index, "start": latest.start.isoformat() if latest.start else None, "n": latest.n,
            "state": latest.state,
            "rules": {k: v for k, v in latest.rules.items() if v["state"] != "ok"},
            "signals": {k: v["value"] for k, v in latest.signals.items()},
        },
        "history": alert_history(_store(db), evaluation.spec.name),
    }


def write_report(evaluation: Evaluation, out: Path, db: Db = None) -> Path:
    """The HTML report of a judged stream: every signal over time against its reference band, drift
    per feature, the alert history and the canaries."""
    store, name = _store(db), evaluation.spec.name
    html = render(evaluation, store.alerts(name), store.canaries(name))
    with _writing(out):
        write_atomic(out, html)
    return out


def metrics(db: Db = None) -> str:
    """Prometheus metrics (text format) of every stream's latest judged window."""
    return metrics_text(_store(db))


def write_metrics(out: Path, db: Db = None) -> Path:
    """The metrics at `out` (for node_exporter's textfile collector), replaced whole, readable as
    the umask allows (0644 under the usual 022): node_exporter runs as a user of its own."""
    text = metrics(db)
    umask = os.umask(0)
    os.umask(umask)
    with _writing(out), atomic_output(out) as fh:
        os.fchmod(fh.fileno(), 0o666 & ~umask)
        fh.write(text)
    return out


def write_plan(spec: MonitorSpec, out: Path) -> Path:
    """The Art. 72 post-market monitoring plan from the spec: HTML, or PDF for a .pdf name."""
    if out.suffix.lower() not in (".html", ".htm", ".pdf"):
        raise BadInput(f"--out {out}: name the plan .html or .pdf")
    html = render_plan(spec)
    with _writing(out):
        if out.suffix.lower() == ".pdf":
            from laif.reports.audience import to_pdf  # WeasyPrint: loaded only for a PDF

            out.parent.mkdir(parents=True, exist_ok=True)
            partial = out.with_name(f".{out.name}.partial")
            partial.write_bytes(to_pdf(html))
            partial.replace(out)
        else:
            write_atomic(out, html)
    return out


def receiver(spec: MonitorSpec, host: str = "127.0.0.1", port: int = 4318, db: Db = None) -> ThreadingHTTPServer:
    """An OTLP/HTTP server (POST /v1/traces, JSON) that takes GenAI spans into the stream's windows;
    the caller serves it (`serve_forever`) and closes it."""
    try:
        return make_server(_store(db), spec, host, port)
    except OSError as exc:
        raise BadInput(f"--host {host} --port {port}: cannot listen ({exc.strerror})") from None


def asgi_receiver(spec: MonitorSpec, db: Db = None) -> Callable[..., Awaitable[None]]:
    """The OTLP/HTTP receiver as an ASGI application for a web process to mount (the portal mounts it
    at `/otlp`, behind its bearer tokens): `POST <mount>/v1/traces` takes spans into the stream."""
    return asgi_app(_store(db), spec)


# --- signed bundles ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bundled:
    path: Path
    manifest: dict[str, Any]
    #: The SHA-256 fingerprint of the signer's public key.
    signer: str


def bundle_stream(stream: str, out: Path, db: Db = None) -> Bundled:
    """Sign the stream's monitoring results and incidents into an evidence bundle at `out`."""
    key = signing_key()
    store = _store(db)
    store.stream(stream)  # an unknown stream is named before anything is written
    with _writing(out):
        manifest = stream_bundle(store, stream, out, key)
    return Bundled(out, manifest, fingerprint(key.public_key()))


# --- canaries ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Canary:
    baseline_run: str
    canary_run: str
    #: The canary's own database: it must ask the system, never read an answer from a cache.
    canary_db: Path
    suite: str
    model: str
    #: The worst state over the rows: ok, or alert when a figure's intervals do not overlap.
    state: str
    #: Per category and figure: the sandbox's and the canary's value with 95% intervals, and the state.
    rows: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        """What `laif monitor canary --json` prints."""
        return {"baseline_run": self.baseline_run, "canary_run": self.canary_run, "canary_db": str(self.canary_db),
                "suite": self.suite, "state": self.state, "rows": self.rows}


def canary(baseline: str, model: str, endpoint: EndpointOptions, out_dir: Path, *, stream: str | None = None,
           db: str | None = None, progress: Progress | None = None, on_suite: OnSuite | None = None) -> Canary:
    """Ask a complete sandbox run's prompts again of the system in production (same slice, same
    oracles, same scores) and compare per category, with intervals; kept under `stream` if given."""
    from laif.models.base import GenerationParams
    from laif.runner.asking import RunSettings
    from laif.services import assessment
    from laif.store import Store

    monitor_store = MonitorStore(db)
    if stream is not None:
        monitor_store.stream(stream)
    base = Store(db).require_run(baseline)
    if base.status != "complete" or not base.summary:
        raise BadInput(f"--baseline {baseline}: run {base.id} is {base.status}; a canary compares with a complete run")
    settings = RunSettings(languages=tuple(base.languages), limit=base.limit, seed=base.seed,
                           params=GenerationParams(**base.params), request_timeout=endpoint.timeout)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    canary_db = laif_home() / "canaries" / f"{stamp}-{base.id[:12]}.db"
    canary_url = f"sqlite:///{canary_db}"
    try:
        done = assessment.run_suites(model, [base.suite], settings, endpoint, canary_url, out_dir, progress=progress,
                                     on_suite=on_suite)[0]
    except ModelUnreachable as exc:  # its hint says to resume, but a canary is a fresh run each time
        raise ModelUnreachable(exc.message, hint="check that the endpoint is up; run the same command again for a "
                               "new canary (each canary asks every prompt afresh)") from None
    canary_run = Store(canary_url).require_run(done.run.id)
    rows = compare(base.summary, canary_run.summary or {})
    state = worst_state(rows)
    with monitor_store.session() as s:
        s.add(CanaryRow(stream=stream, baseline_run=base.id, canary_run=canary_run.id, canary_db=str(canary_db),
                        model=canary_run.model_name, state=state, rows=rows))
    return Canary(base.id, canary_run.id, canary_db, base.suite, canary_run.model_name, state, rows)


# --- serious incidents ------------------------------------------------------------------------------


def open_incident(*, title: str, category: str, occurred: datetime, aware: datetime,
                  causal_link: datetime | None = None, widespread: bool = False, stream: str | None = None,
                  description: str = "", db: Db = None) -> dict[str, Any]:
    """Record a serious incident (Art. 3(49)); returns it as it stands, with its Art. 73 deadline."""
    store = _store(db)
    row = _incidents.open_incident(store, title=title, category=category, occurred=occurred, aware=aware,
                                   causal_link=causal_link, widespread=widespread, stream=stream,
                                   description=description)
    return _incidents.describe(store, row.id)


def update_incident(incident: str, *, causal_link: datetime | None = None, root_cause: str | None = None,
                    actions: list[str] | None = None, report: str | None = None, status: str | None = None,
                    note: str | None = None, db: Db = None) -> int:
    """Record what changed as a new version (earlier versions are kept); returns its number."""
    return _incidents.update_incident(_store(db), incident, causal_link=causal_link, root_cause=root_cause,
                                      actions=actions, report=report, status=status, note=note)


def describe_incident(incident: str, db: Db = None) -> dict[str, Any]:
    """The incident as it stands: deadline, versions, reports, root cause and corrective actions."""
    return _incidents.describe(_store(db), incident)


def list_incidents(db: Db = None) -> list[dict[str, Any]]:
    """Every incident, described."""
    return _incidents.incidents(_store(db))


@dataclass(frozen=True)
class IncidentReport:
    html: Path
    bundle: Path
    manifest: dict[str, Any]
    signer: str
    incident: dict[str, Any]


def incident_report(incident: str, out_dir: Path, db: Db = None) -> IncidentReport:
    """The incident as it stands (ID.html) and a signed snapshot of it with the monitoring data around
    it (ID-snapshot.zip), under `out_dir`."""
    from laif.reports.html import render_template

    store = _store(db)
    info = _incidents.describe(store, incident)
    key = signing_key()
    bundle = out_dir / f"{info['id']}-snapshot.zip"
    with _writing(bundle):
        manifest = snapshot(store, info["id"], bundle, key)
    signer = fingerprint(key.public_key())
    html = render_template("incident.html.j2", i=info, files=sorted(manifest["files"]), bundle=bundle.name,
                           signer=signer)
    path = out_dir / f"{info['id']}.html"
    with _writing(path):
        write_atomic(path, html)
    return IncidentReport(path, bundle, manifest, signer, info)
