"""`laif monitor`: production logs in, drift and signals per window, alerts, the report and the Art. 72 plan."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from laif._files import laif_home
from laif.cli._common import err, out, write_atomic
from laif.compliance.evidence import fingerprint, signing_key
from laif.errors import EXIT_GATE, BadInput
from laif.models import EndpointOptions
from laif.models.base import GenerationParams
from laif.monitor.alerts import REFERENCE, TOO_FEW, Evaluation, evaluate, record_history
from laif.monitor.bundle import alert_history, stream_bundle
from laif.monitor.canary import compare, worst_state
from laif.monitor.intake import IntakeResult, ingest
from laif.monitor.metrics import metrics_text
from laif.monitor.plan import render_plan
from laif.monitor.receiver import PATH as RECEIVER_PATH
from laif.monitor.receiver import make_server
from laif.monitor.report import render
from laif.monitor.spec import EXAMPLE, MonitorSpec, load_monitor_spec
from laif.monitor.store import CanaryRow, MonitorStore
from laif.reports.audience import to_pdf
from laif.runner.asking import RunSettings
from laif.store import Store

monitor_app = typer.Typer(help="Monitoring in production: take in logs, watch drift and signals per window, "
                               "alerts, the report and the Art. 72 plan.", no_args_is_help=True)

SPEC_HELP = "Monitoring spec (YAML): windows, reference, identifiers, alert rules. `laif monitor init` writes one."
STREAM_HELP = "The stream's name (its stored spec is used; a new stream gets the defaults)."
#: Changes of state printed after an intake (alerts first); all are in the history.
SHOWN_CHANGES = 12
FORMAT_HELP = ("jsonl: one call per line; otlp: one OTLP/JSON request of GenAI spans per line (OpenTelemetry); "
               "csv: a table of model inputs and outputs with a time column; parquet: the same table in Parquet.")
DB_HELP = "Database URL (default: LAIF_DB_URL, else SQLite under $LAIF_HOME)."


def _spec(store: MonitorStore, spec: Path | None, stream: str | None) -> MonitorSpec:
    """The spec from --spec, else the stream's stored one, else the defaults under --stream's name."""
    if spec is not None:
        loaded = load_monitor_spec(spec)
        if stream is not None and stream != loaded.name:
            raise BadInput(f"--stream {stream!r}: the spec {spec} names the stream {loaded.name!r}; give one of them")
        return loaded
    if stream is None:
        raise BadInput("give --spec FILE or --stream NAME")
    known = {row.name: row for row in store.streams()}
    if stream in known:
        return MonitorSpec.model_validate(known[stream].spec)
    try:
        return MonitorSpec.model_validate({"name": stream})
    except ValueError:
        raise BadInput(f"--stream {stream!r}: use 1-64 letters, digits, '-' or '_', starting with a letter or digit") from None


def _stream_name(store: MonitorStore, stream: str | None) -> str:
    if stream is not None:
        return stream
    names = [row.name for row in store.streams()]
    if len(names) != 1:
        raise BadInput("--stream: name the stream" + (f" (one of {', '.join(names)})" if names else
                                                      "; none is monitored yet (laif monitor ingest)"))
    return names[0]


def _judge(store: MonitorStore, name: str) -> Evaluation:
    """Evaluate the stream, record the history, print the changes noticed now."""
    ev = evaluate(store, name)
    new = record_history(store, ev)
    labels = {w.index: (w.start.isoformat(timespec="minutes") if w.start else f"#{w.index}") for w in ev.windows}
    shown = sorted(sorted(new, key=lambda a: (a.state != "alert", a.window))[:SHOWN_CHANGES], key=lambda a: a.window)
    for a in shown:
        colour = {"alert": "red", "warning": "yellow"}.get(a.state, "green")
        err.print(f"[{colour}]{a.state}[/{colour}] {a.rule} at window {labels.get(a.window, a.window)}: {a.value}")
    if len(new) > SHOWN_CHANGES:
        err.print(f"[dim]and {len(new) - SHOWN_CHANGES} other change(s) of state (alerts are shown first): "
                  "laif monitor status, laif monitor report[/dim]")
    return ev


def _state_line(ev: Evaluation) -> str:
    judged = [w for w in ev.windows if w.state not in (REFERENCE, TOO_FEW)]
    counts = {s: sum(1 for w in judged if w.state == s) for s in ("ok", "warning", "alert")}
    latest = judged[-1].state if judged else "none judged yet"
    return (f"{len(ev.windows)} windows ({len(ev.reference_windows)} reference, {len(judged)} judged: "
            f"{counts['ok']} ok, {counts['warning']} warning, {counts['alert']} alert); latest: {latest}")


def _intake_line(r: IntakeResult) -> str:
    resumed = f" (went on after line {r.resumed_at})" if r.resumed_at else ""
    return f"{r.path}: {r.lines} lines, {r.calls} calls into {len(r.windows)} window(s) of stream {r.stream}{resumed}"


@monitor_app.command("init")
def init(output: Path = typer.Option(Path("monitor.yaml"), "--out", "-o", help="Where to write the example.")) -> None:
    """Write a commented example monitoring spec."""
    if output.exists():
        raise BadInput(f"{output}: exists already; name another file with --out")
    write_atomic(output, EXAMPLE)
    out.print(f"wrote {output}")


@monitor_app.command("ingest")
def ingest_command(
    files: list[Path] = typer.Argument(..., help="Logs: JSONL calls, OTLP/JSON spans, a CSV or a Parquet table (see --format)."),
    spec: Path | None = typer.Option(None, "--spec", help=SPEC_HELP),
    stream: str | None = typer.Option(None, "--stream", help=STREAM_HELP),
    form: str = typer.Option("jsonl", "--format", help=FORMAT_HELP),
    workers: int = typer.Option(1, "--workers", min=1, help="Processes reading JSONL or CSV (same result, faster "
                                                             "on several cores; not with keep: pseudonymised/raw)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Take in logs (from where an earlier intake of the same file stopped), then judge every window."""
    store = MonitorStore(db)
    loaded = _spec(store, spec, stream)
    started = time.perf_counter()
    for path in files:
        result = ingest(store, loaded, path, form=form, workers=workers)
        err.print(_intake_line(result))
    err.print(f"[dim]taken in in {time.perf_counter() - started:.1f} s[/dim]")
    ev = _judge(store, loaded.name)
    out.print(f"stream {loaded.name}: {_state_line(ev)}")


def _status_json(ev: Evaluation, store: MonitorStore) -> dict[str, Any]:
    judged = [w for w in ev.windows if w.state not in (REFERENCE, TOO_FEW)]
    latest = judged[-1] if judged else None
    return {
        "stream": ev.spec.name, "windows": len(ev.windows), "reference_windows": len(ev.reference_windows),
        "judged": len(judged), "states": {s: sum(1 for w in judged if w.state == s) for s in ("ok", "warning", "alert")},
        "latest": None if latest is None else {
            "index": latest.index, "start": latest.start.isoformat() if latest.start else None, "n": latest.n,
            "state": latest.state,
            "rules": {k: v for k, v in latest.rules.items() if v["state"] != "ok"},
            "signals": {k: v["value"] for k, v in latest.signals.items()},
        },
        "history": alert_history(store, ev.spec.name),
    }


@monitor_app.command("status")
def status(
    stream: str | None = typer.Option(None, "--stream", help="The stream (may be left out when there is one)."),
    as_json: bool = typer.Option(False, "--json"),
    check: bool = typer.Option(False, "--check", help="Exit 1 when the latest judged window is in alert."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """The latest judged window's state, the rules not ok in it, and the alert history."""
    store = MonitorStore(db)
    name = _stream_name(store, stream)
    ev = _judge(store, name)
    data = _status_json(ev, store)
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
    else:
        out.print(f"stream {name}: {_state_line(ev)}")
        latest = data["latest"]
        if latest and latest["rules"]:
            table = Table(title=f"Rules not ok in the latest judged window ({latest['start'] or latest['index']})")
            for col in ("Rule", "State", "Value", "Why"):
                table.add_column(col)
            for rule, r in sorted(latest["rules"].items()):
                table.add_row(rule, r["state"], f"{r['value']:.4g}", r["why"])
            out.print(table)
        out.print(f"{len(data['history'])} change(s) of state in the history; `laif monitor report` draws them")
    if check and data["latest"] and data["latest"]["state"] == "alert":
        raise typer.Exit(EXIT_GATE)


@monitor_app.command("report")
def report(
    output: Path = typer.Option(Path("monitor-report.html"), "--out", "-o", help="The HTML report."),
    stream: str | None = typer.Option(None, "--stream", help="The stream (may be left out when there is one)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """An HTML report: every signal over time against its reference band, drift per feature, the alert history."""
    store = MonitorStore(db)
    name = _stream_name(store, stream)
    ev = _judge(store, name)
    write_atomic(output, render(ev, store.alerts(name), store.canaries(name)))
    out.print(f"stream {name}: {_state_line(ev)}")
    out.print(f"wrote {output}")


@monitor_app.command("watch")
def watch(
    file: Path = typer.Argument(..., help="A JSONL log that grows: new whole lines are taken in as they come."),
    spec: Path | None = typer.Option(None, "--spec", help=SPEC_HELP),
    stream: str | None = typer.Option(None, "--stream", help=STREAM_HELP),
    interval: float = typer.Option(10.0, "--interval", min=0.1, help="Seconds between looks at the file."),
    polls: int | None = typer.Option(None, "--polls", min=1, help="Stop after this many looks (default: until Ctrl-C)."),
    form: str = typer.Option("jsonl", "--format", help=FORMAT_HELP),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Follow a growing log: take in what is new, judge the windows, print each change of state."""
    store = MonitorStore(db)
    loaded = _spec(store, spec, stream)
    done = 0
    while polls is None or done < polls:
        if done:
            time.sleep(interval)
        done += 1
        result = ingest(store, loaded, file, form=form, whole_lines_only=True)
        if result.calls or done == 1:
            ev = _judge(store, loaded.name)
            err.print(f"{result.calls} new call(s); {_state_line(ev)}")


@monitor_app.command("receive")
def receive(
    spec: Path | None = typer.Option(None, "--spec", help=SPEC_HELP),
    stream: str | None = typer.Option(None, "--stream", help=STREAM_HELP),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(4318, "--port", min=1, max=65535, help="Port (4318 is OTLP/HTTP's)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Receive OpenTelemetry GenAI spans over OTLP/HTTP (POST /v1/traces, JSON) into the stream's windows."""
    store = MonitorStore(db)
    loaded = _spec(store, spec, stream)
    try:
        server = make_server(store, loaded, host, port)
    except OSError as exc:
        raise BadInput(f"--host {host} --port {port}: cannot listen ({exc.strerror})") from None
    err.print(f"receiving OTLP/JSON spans on http://{host}:{server.server_address[1]}{RECEIVER_PATH} "
              f"into stream {loaded.name}; Ctrl-C stops")
    try:
        server.serve_forever()
    finally:
        server.server_close()


@monitor_app.command("metrics")
def metrics(
    output: Path | None = typer.Option(None, "--out", "-o", help="Write here (e.g. node_exporter's textfile folder, "
                                       "NAME.prom) instead of stdout."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Prometheus metrics (text format) of every stream's latest judged window: signals, rule states, PSI."""
    text = metrics_text(MonitorStore(db))
    if output is None:
        typer.echo(text, nl=False)
    else:
        write_atomic(output, text)
        out.print(f"wrote {output}")


@monitor_app.command("bundle")
def bundle(
    stream: str | None = typer.Option(None, "--stream", help="The stream (may be left out when there is one)."),
    output: Path = typer.Option(Path("monitoring-bundle.zip"), "--out", "-o", help="The signed bundle (zip)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Sign the stream's monitoring results and incidents into an evidence bundle (laif evidence verify checks it)."""
    store = MonitorStore(db)
    name = _stream_name(store, stream)
    key = signing_key()
    manifest = stream_bundle(store, name, output, key)
    out.print(f"wrote {output}: {len(manifest['files'])} files, signed by {fingerprint(key.public_key())[:16]}…")


@monitor_app.command("plan")
def plan(
    spec: Path | None = typer.Option(None, "--spec", help=SPEC_HELP),
    stream: str | None = typer.Option(None, "--stream", help=STREAM_HELP),
    output: Path = typer.Option(Path("monitoring-plan.html"), "--out", "-o", help="The plan, HTML (.pdf for a PDF)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Write the Art. 72 post-market monitoring plan from the monitoring spec."""
    loaded = _spec(MonitorStore(db), spec, stream)
    html = render_plan(loaded)
    if output.suffix.lower() == ".pdf":
        output.parent.mkdir(parents=True, exist_ok=True)
        partial = output.with_name(f".{output.name}.partial")
        partial.write_bytes(to_pdf(html))
        partial.replace(output)
    else:
        write_atomic(output, html)
    out.print(f"wrote {output}")


@monitor_app.command("canary")
def canary(
    baseline: str = typer.Option(..., "--baseline", help="The sandbox run to compare with (its id or a unique prefix)."),
    model: str = typer.Option(..., "--model", "-m", help="The system in production, as a laif model string."),
    api_key_env: str | None = typer.Option(None, "--api-key-env", help="Name of the variable holding the API key."),
    request_template: str | None = typer.Option(None, "--request-template", help="http: JSON body with {prompt}."),
    response_path: str | None = typer.Option(None, "--response-path", help="http: dotted path to the answer text."),
    timeout: float = typer.Option(120.0, "--timeout", min=1.0, help="Seconds per request."),
    concurrency: int = typer.Option(4, "--concurrency", min=1, help="Most requests in flight to the endpoint."),
    stream: str | None = typer.Option(None, "--stream", help="Keep the result under this monitored stream."),
    output: Path = typer.Option(Path("canary-out"), "--out", "-o", help="Folder for the canary run's report and results."),
    as_json: bool = typer.Option(False, "--json"),
    check: bool = typer.Option(False, "--check", help="Exit 1 when a figure changed (the intervals do not overlap)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Ask the sandbox run's prompts again of the system in production; compare per category, with intervals."""
    from laif.cli.assess import run_suites  # the sandbox's own runner: same slice, same oracles, same scores

    monitor_store = MonitorStore(db)
    if stream is not None:
        monitor_store.stream(stream)
    base = Store(db).require_run(baseline)
    if base.status != "complete" or not base.summary:
        raise BadInput(f"--baseline {baseline}: run {base.id} is {base.status}; a canary compares with a complete run")
    settings = RunSettings(languages=tuple(base.languages), limit=base.limit, seed=base.seed,
                           params=GenerationParams(**base.params), request_timeout=timeout)
    # A database of its own: the canary must ask the system, never read an answer from the cache.
    stamp = time.strftime("%Y%m%dT%H%M%S")
    canary_db = laif_home() / "canaries" / f"{stamp}-{base.id[:12]}.db"
    canary_url = f"sqlite:///{canary_db}"
    endpoint = EndpointOptions(api_key_env=api_key_env, timeout=timeout, max_concurrency=concurrency,
                               request_template=request_template, response_path=response_path)
    row = run_suites(model, [base.suite], settings, endpoint, canary_url, output, quiet=True, show=False)[0]
    canary_run = Store(canary_url).require_run(row["run_id"])
    rows = compare(base.summary, canary_run.summary or {})
    state = worst_state(rows)
    with monitor_store.session() as s:
        s.add(CanaryRow(stream=stream, baseline_run=base.id, canary_run=canary_run.id, canary_db=str(canary_db),
                        model=canary_run.model_name, state=state, rows=rows))
    if as_json:
        typer.echo(json.dumps({"baseline_run": base.id, "canary_run": canary_run.id, "canary_db": str(canary_db),
                               "suite": base.suite, "state": state, "rows": rows}, indent=2))
    else:
        table = Table(title=f"Canary of {base.suite} run {base.id[:12]} on {canary_run.model_name}: {state}")
        for col in ("Category", "Figure", "Sandbox (95% interval)", "Canary (95% interval)", "State"):
            table.add_column(col)
        for r in rows:
            b, c = r["sandbox"], r["canary"]
            table.add_row(r["category"], r["figure"], f"{b['value']:.0f}% ({b['low']:.0f}-{b['high']:.0f}), n {b['n']}",
                          f"{c['value']:.0f}% ({c['low']:.0f}-{c['high']:.0f}), n {c['n']}", r["state"])
        out.print(table)
    if check and state == "alert":
        raise typer.Exit(EXIT_GATE)
