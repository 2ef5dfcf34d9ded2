"""`laif monitor`: production logs in, drift and signals per window, alerts, the report and the Art. 72 plan."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from laif.cli._common import err, out
from laif.errors import EXIT_GATE
from laif.models import EndpointOptions
from laif.services import monitoring
from laif.services.monitoring import RECEIVER_PATH, REFERENCE, TOO_FEW, Evaluation, IntakeResult, MonitorSpec, MonitorStore

monitor_app = typer.Typer(help="Monitoring in production: take in logs, watch drift and signals per window, "
                               "alerts, the report and the Art. 72 plan.", no_args_is_help=True)

SPEC_HELP = "Monitoring spec (YAML): windows, reference, identifiers, alert rules. `laif monitor init` writes one."
STREAM_HELP = "The stream's name (its stored spec is used; a new stream gets the defaults)."
#: Files from this size on show a progress bar while they are taken in (on a terminal).
PROGRESS_FROM_BYTES = 4 << 20
#: Changes of state printed after an intake (alerts first); all are in the history.
SHOWN_CHANGES = 12
FORMAT_HELP = ("jsonl: one call per line; otlp: one OTLP/JSON request of GenAI spans per line (OpenTelemetry); "
               "csv: a table of model inputs and outputs with a time column; parquet: the same table in Parquet.")
DB_HELP = "Database URL (default: LAIF_DB_URL, else SQLite under $LAIF_HOME)."


class Form(StrEnum):
    """The forms of log `--format` takes (monitor.intake.FORMS): a mistyped one gets the usage."""

    jsonl = "jsonl"
    otlp = "otlp"
    csv = "csv"
    parquet = "parquet"


def _spec(store: MonitorStore, spec: Path | None, stream: str | None) -> MonitorSpec:
    """The spec from --spec, else the stream's stored one, else the defaults under --stream's name."""
    return monitoring.resolve_spec(spec, stream, store)


def _stream_name(store: MonitorStore, stream: str | None) -> str:
    return monitoring.stream_name(stream, store)


def _judge(store: MonitorStore, name: str) -> Evaluation:
    """Evaluate the stream, record the history, print the changes noticed now."""
    judged = monitoring.judge(name, store)
    ev, new = judged.evaluation, judged.changes
    labels = {w.index: (w.start.isoformat(timespec="minutes") if w.start else f"#{w.index}") for w in ev.windows}
    shown = sorted(sorted(new, key=lambda a: (a.state != "alert", a.window))[:SHOWN_CHANGES], key=lambda a: a.window)
    for a in shown:
        colour = {"alert": "red", "warning": "yellow"}.get(a.state, "green")
        err.print(f"[{colour}]{a.state}[/{colour}] {a.rule} at window {labels.get(a.window, a.window)}: "
                  f"{escape(monitoring.change_text(a.rule, a.value))}")
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


@contextmanager
def _intake_bar(path: Path, form: str, stream: str, store: MonitorStore) -> Iterator[None]:
    """A progress bar in bytes while a large file is taken in: a thread reads how far the intake
    got, which it writes with its summaries every 20,000 lines (a Parquet file counts rows: no bar)."""
    size = path.stat().st_size if path.is_file() else 0
    if not err.is_terminal or form == "parquet" or size < PROGRESS_FROM_BYTES:
        yield
        return
    start = monitoring.intake_progress(path, stream, store)
    stop = threading.Event()
    with Progress(TextColumn("taking in {task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  TimeRemainingColumn(), console=err, transient=True) as bar:
        task = bar.add_task(path.name, total=size, completed=min(start, size))

        def follow() -> None:
            while not stop.wait(0.5):
                try:
                    done = monitoring.intake_progress(path, stream, store)
                except SQLAlchemyError:  # a busy database: the next look will tell
                    continue
                bar.update(task, completed=min(done, size))

        thread = threading.Thread(target=follow, name="intake-progress", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


@monitor_app.command("init")
def init(output: Path = typer.Option(Path("monitor.yaml"), "--out", "-o", help="Where to write the example.")) -> None:
    """Write a commented example monitoring spec."""
    monitoring.write_example_spec(output)
    out.print(f"wrote {output}")


@monitor_app.command("ingest")
def ingest_command(
    files: list[Path] = typer.Argument(..., help="Logs: JSONL calls, OTLP/JSON spans, a CSV or a Parquet table (see --format)."),
    spec: Path | None = typer.Option(None, "--spec", help=SPEC_HELP),
    stream: str | None = typer.Option(None, "--stream", help=STREAM_HELP),
    form: Form = typer.Option(Form.jsonl, "--format", help=FORMAT_HELP),
    workers: int = typer.Option(1, "--workers", min=1, help="Processes reading JSONL or CSV (same result, faster "
                                                             "on several cores; not with keep: pseudonymised/raw)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Take in logs (from where an earlier intake of the same file stopped), then judge every window."""
    store = monitoring.open_store(db)
    loaded = _spec(store, spec, stream)
    started = time.perf_counter()
    for path in files:
        with _intake_bar(path, form, loaded.name, store):
            result = monitoring.ingest_file(path, loaded, form=form.value, workers=workers, db=store)
        err.print(_intake_line(result))
    err.print(f"[dim]taken in in {time.perf_counter() - started:.1f} s[/dim]")
    ev = _judge(store, loaded.name)
    out.print(f"stream {loaded.name}: {_state_line(ev)}")


@monitor_app.command("status")
def status(
    stream: str | None = typer.Option(None, "--stream", help="The stream (may be left out when there is one)."),
    as_json: bool = typer.Option(False, "--json"),
    check: bool = typer.Option(False, "--check", help="Exit 1 when the latest judged window is in alert."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """The latest judged window's state, the rules not ok in it, and the alert history."""
    store = monitoring.open_store(db)
    name = _stream_name(store, stream)
    ev = _judge(store, name)
    data = monitoring.status_of(ev, store)
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
    store = monitoring.open_store(db)
    name = _stream_name(store, stream)
    ev = _judge(store, name)
    monitoring.write_report(ev, output, store)
    out.print(f"stream {name}: {_state_line(ev)}")
    out.print(f"wrote {output}")


@monitor_app.command("watch")
def watch(
    file: Path = typer.Argument(..., help="A JSONL log that grows: new whole lines are taken in as they come."),
    spec: Path | None = typer.Option(None, "--spec", help=SPEC_HELP),
    stream: str | None = typer.Option(None, "--stream", help=STREAM_HELP),
    interval: float = typer.Option(10.0, "--interval", min=0.1, help="Seconds between looks at the file."),
    polls: int | None = typer.Option(None, "--polls", min=1, help="Stop after this many looks (default: until Ctrl-C)."),
    form: Form = typer.Option(Form.jsonl, "--format", help=FORMAT_HELP),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Follow a growing log: take in what is new, judge the windows, print each change of state."""
    store = monitoring.open_store(db)
    loaded = _spec(store, spec, stream)
    done = 0
    while polls is None or done < polls:
        if done:
            time.sleep(interval)
        done += 1
        result = monitoring.ingest_file(file, loaded, form=form.value, whole_lines_only=True, db=store)
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
    store = monitoring.open_store(db)
    loaded = _spec(store, spec, stream)
    server = monitoring.receiver(loaded, host, port, store)
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
    if output is None:
        typer.echo(monitoring.metrics(db), nl=False)
    else:
        monitoring.write_metrics(output, db)
        out.print(f"wrote {output}")


@monitor_app.command("bundle")
def bundle(
    stream: str | None = typer.Option(None, "--stream", help="The stream (may be left out when there is one)."),
    output: Path = typer.Option(Path("monitoring-bundle.zip"), "--out", "-o", help="The signed bundle (zip)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Sign the stream's monitoring results and incidents into an evidence bundle (laif evidence verify checks it)."""
    store = monitoring.open_store(db)
    name = _stream_name(store, stream)
    bundled = monitoring.bundle_stream(name, output, store)
    out.print(f"wrote {output}: {len(bundled.manifest['files'])} files, signed by {bundled.signer[:16]}…")


@monitor_app.command("plan")
def plan(
    spec: Path | None = typer.Option(None, "--spec", help=SPEC_HELP),
    stream: str | None = typer.Option(None, "--stream", help=STREAM_HELP),
    output: Path = typer.Option(Path("monitoring-plan.html"), "--out", "-o", help="The plan, HTML (.pdf for a PDF)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Write the Art. 72 post-market monitoring plan from the monitoring spec."""
    monitoring.write_plan(_spec(monitoring.open_store(db), spec, stream), output)
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
    from laif.cli.assess import suite_printer  # what `laif assess --quiet` prints as the canary run finishes
    from laif.services.progress import TerminalProgress

    endpoint = EndpointOptions(api_key_env=api_key_env, timeout=timeout, max_concurrency=concurrency,
                               request_template=request_template, response_path=response_path)
    with TerminalProgress(err) as bar:  # a canary asks a production endpoint: show how far it got
        found = monitoring.canary(baseline, model, endpoint, output, stream=stream, db=db, progress=bar,
                                  on_suite=suite_printer(bar, show=False))
    rows, state = found.rows, found.state
    if as_json:
        typer.echo(json.dumps(found.as_json(), indent=2))
    else:
        table = Table(title=f"Canary of {found.suite} run {found.baseline_run[:12]} on {found.model}: {state}")
        for col in ("Category", "Figure", "Sandbox (95% interval)", "Canary (95% interval)", "State"):
            table.add_column(col)
        for r in rows:
            b, c = r["sandbox"], r["canary"]
            table.add_row(r["category"], r["figure"], f"{b['value']:.0f}% ({b['low']:.0f}-{b['high']:.0f}), n {b['n']}",
                          f"{c['value']:.0f}% ({c['low']:.0f}-{c['high']:.0f}), n {c['n']}", r["state"])
        out.print(table)
    if check and state == "alert":
        raise typer.Exit(EXIT_GATE)
