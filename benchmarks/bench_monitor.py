"""Monitoring benchmarks, each side by side in one run (ratios carry over to another machine).

intake: JSONL exchanges into window summaries against a bare `json.loads` loop over the same
  file; and the intake's peak memory as the file grows (the issue: 100k, 1M and 5M lines, goal
  0.5 of the bare loop with flat memory).
  - bare: `for line in file: json.loads(line)`, nothing else;
  - intake: `laif monitor ingest`'s code on the same file (parse, check every field, read each
    answer for refusals, personal data and language, fill the window summaries, write them to
    SQLite with the progress), in a fresh process per size, so one size's memory does not hide
    another's; with --workers N also in N processes.
otlp: the OTLP/HTTP receiver in spans per second (goal 5,000 on SQLite; Arize Phoenix: about 80).
drift: drift statistics on a ROWS-row, 20-column table (reference and current, 4 columns
  shifted) with laif (Parquet intake, a row group at a time, then every statistic) against
  Evidently's DataDriftPreset on the same Parquet files (pandas in memory), each in a fresh
  process: seconds, peak RSS and which columns each flags. Evidently is never a dependency of
  laif: pass a Python that has it (--evidently-python, e.g. a throwaway venv in /tmp with
  `pip install evidently "pandas<3"`), else its side is skipped with the reason.

breakdown: where the intake's time goes on LINES lines (default 20,000): without language
  identification, as shipped, read line by line (as before chunks were read column by column:
  the same summaries), and identifying every whole text afresh (as before this was cached).

Run: .venv/bin/python benchmarks/bench_monitor.py intake [LINES ...] [--workers N]
     .venv/bin/python benchmarks/bench_monitor.py breakdown [LINES]
     .venv/bin/python benchmarks/bench_monitor.py otlp [SPANS]
     .venv/bin/python benchmarks/bench_monitor.py drift [ROWS] [--evidently-python PATH]
"""

from __future__ import annotations

import json
import os
import resource
import runpy
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def write_log(path: Path, lines: int) -> int:
    per_hour = 1000
    hours = max(1, round(lines / (per_hour * 0.8)))  # make_week averages about 0.8 of per_hour
    start = datetime(2026, 11, 23, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as fh:
        write_week = runpy.run_path(str(ROOT / "examples" / "monitoring" / "make_week.py"))["write_week"]
        written: int = write_week(fh, start, hours, per_hour, start + timedelta(hours=hours // 2), 1)
    return written


def _peak_mb() -> float:
    """This process's own peak resident memory (VmHWM): getrusage's maxrss carries the parent's
    peak over fork and exec on Linux, so a child started by a large parent would report that."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _intake_child(path: str, db: str, workers: int) -> None:
    from laif.monitor.intake import ingest
    from laif.monitor.spec import MonitorSpec
    from laif.monitor.store import MonitorStore

    started = time.perf_counter()
    result = ingest(MonitorStore(f"sqlite:///{db}"), MonitorSpec(name="bench"), Path(path), workers=workers)
    seconds = time.perf_counter() - started
    mine = _peak_mb()
    workers_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"calls": result.calls, "seconds": seconds, "peak_rss_mb": round(mine, 1),
                      "worker_peak_rss_mb": round(workers_peak, 1) if workers > 1 else None}))


def _bare(path: Path) -> float:
    started = time.perf_counter()
    with path.open("rb") as fh:
        for line in fh:
            json.loads(line)
    return time.perf_counter() - started


def _otlp_request(first: int, count: int, content: bool) -> bytes:
    t0 = 1_795_420_800_000_000_000
    spans = []
    for i in range(first, first + count):
        attrs = [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                 {"key": "gen_ai.request.model", "value": {"stringValue": "bank-bot"}},
                 {"key": "gen_ai.usage.input_tokens", "value": {"intValue": str(40 + i % 7)}},
                 {"key": "gen_ai.usage.output_tokens", "value": {"intValue": str(60 + i % 50)}}]
        if content:
            attrs += [{"key": "gen_ai.input.messages", "value": {"stringValue": json.dumps(
                          [{"role": "user", "parts": [{"type": "text", "content": f"How do I block card number {i}?"}]}])}},
                      {"key": "gen_ai.output.messages", "value": {"stringValue": json.dumps(
                          [{"role": "assistant", "parts": [{"type": "text", "content": "Open the app, then the cards menu, "
                                                            "and choose block."}]}])}}]
        spans.append({"traceId": f"{i:032x}", "spanId": f"{i:016x}", "name": "chat", "attributes": attrs,
                      "startTimeUnixNano": str(t0 + i * 10**8), "endTimeUnixNano": str(t0 + i * 10**8 + 5 * 10**8)})
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}).encode()


def receiver_rate(spans: int, content: bool, batch: int = 512) -> float:
    """Spans per second through `laif monitor receive` (OTLP/HTTP on loopback, SQLite), in requests of
    `batch` spans: 512 is the OpenTelemetry SDK's default export batch."""
    import threading

    import httpx

    from laif.monitor.receiver import make_server
    from laif.monitor.spec import MonitorSpec
    from laif.monitor.store import MonitorStore

    with tempfile.TemporaryDirectory() as tmp:
        server = make_server(MonitorStore(f"sqlite:///{tmp}/r.db"), MonitorSpec(name="r"), port=0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/v1/traces"
        bodies = [_otlp_request(i, batch, content) for i in range(0, spans, batch)]
        with httpx.Client() as client:
            started = time.perf_counter()
            for body in bodies:
                client.post(url, content=body, headers={"Content-Type": "application/json"}).raise_for_status()
            seconds = time.perf_counter() - started
        server.shutdown()
        server.server_close()
    return spans / seconds


COLUMNS = 20  # 10 numbers, 10 labels; 2 of each shifted in the current table
SHIFTED = ("num_0", "num_1", "cat_0", "cat_1")


def write_tables(folder: Path, rows: int) -> tuple[Path, Path]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(7)
    paths = []
    for day, name in enumerate(("reference", "current")):
        shifted = name == "current"
        start = np.datetime64("2026-11-23T00:00:00") + np.timedelta64(day, "D")
        cols: dict[str, Any] = {"time": pa.array(start + (np.arange(rows) * 86_400_000_000 // rows).astype("timedelta64[us]"),
                                                 type=pa.timestamp("us", tz="UTC"))}
        for j in range(COLUMNS // 2):
            mean, sd = 100.0 * (j + 1), 10.0 * (j + 1)
            if shifted and j == 0:
                mean += 0.3 * sd
            if shifted and j == 1:
                sd *= 1.5
            cols[f"num_{j}"] = rng.normal(mean, sd, rows) if j % 2 == 0 else rng.lognormal(np.log(mean), 0.5, rows) * sd / mean
        levels = np.array(["a", "b", "c", "d", "e"])
        for j in range(COLUMNS // 2):
            share = np.array([0.4, 0.25, 0.15, 0.12, 0.08])
            if shifted and j in (0, 1):
                share = share[::-1] if j == 0 else np.array([0.3, 0.3, 0.2, 0.12, 0.08])
            cols[f"cat_{j}"] = pa.array(levels[rng.choice(5, rows, p=share)]).dictionary_encode()
        path = folder / f"{name}.parquet"
        pq.write_table(pa.table(cols), path, row_group_size=100_000)
        paths.append(path)
    return paths[0], paths[1]


def _drift_child(reference: str, current: str, db: str, rows: int) -> None:
    from laif.monitor.alerts import evaluate
    from laif.monitor.intake import ingest
    from laif.monitor.spec import MonitorSpec, Reference, Window
    from laif.monitor.store import MonitorStore

    store = MonitorStore(f"sqlite:///{db}")
    spec = MonitorSpec(name="drift", window=Window(by="count", size=str(rows)), reference=Reference(windows=1))
    started = time.perf_counter()
    ingest(store, spec, Path(reference), form="parquet")
    ingest(store, spec, Path(current), form="parquet")
    features = evaluate(store, "drift").windows[1].features
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "peak_rss_mb": _peak_mb(),
                      "columns": {k.removeprefix("features."): {"state": f["state"], "distance": f["distance"],
                                                                "psi": f["psi"], "p": f["p_adjusted"]}
                                  for k, f in features.items()}}))


EVIDENTLY = """
import json, sys, time
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
started = time.perf_counter()
reference = pd.read_parquet(sys.argv[1]).drop(columns=["time"])
current = pd.read_parquet(sys.argv[2]).drop(columns=["time"])
snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
seconds = time.perf_counter() - started
columns = {}
for m in snapshot.dict()["metrics"]:
    if m["config"].get("type", "").endswith("ValueDrift"):
        c = m["config"]
        columns[c["column"]] = {"method": c["method"], "value": m["value"], "threshold": c["threshold"]}
peak = [int(l.split()[1]) / 1024 for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
print(json.dumps({"seconds": seconds, "peak_rss_mb": round(peak, 1), "columns": columns}))
"""


def drift(rows: int, evidently_python: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        reference, current = write_tables(Path(tmp), rows)
        laif = json.loads(subprocess.run([sys.executable, __file__, "--drift-child", str(reference), str(current),
                                          str(Path(tmp) / "d.db"), str(rows)],
                                         capture_output=True, text=True, check=True).stdout)
        print(json.dumps({"rows": rows, "columns": COLUMNS, "shifted": SHIFTED, "laif_seconds": round(laif["seconds"], 2),
                          "laif_peak_rss_mb": laif["peak_rss_mb"],
                          "laif_alert": sorted(c for c, r in laif["columns"].items() if r["state"] == "alert"),
                          "laif_warning": sorted(c for c, r in laif["columns"].items() if r["state"] == "warning")}),
              flush=True)
        if not evidently_python:
            print(json.dumps({"evidently": "skipped: no --evidently-python given (a Python with evidently installed)"}))
            return
        env = dict(os.environ, DO_NOT_TRACK="1", EVIDENTLY_DISABLE_TELEMETRY="1")
        run = subprocess.run([evidently_python, "-c", EVIDENTLY, str(reference), str(current)], capture_output=True,
                             text=True, env=env)
        if run.returncode != 0:
            print(json.dumps({"evidently": f"skipped: it failed ({run.stderr.strip().splitlines()[-1:]})"}))
            return
        ev = json.loads(run.stdout.strip().splitlines()[-1])
        flagged = {c for c, r in ev["columns"].items() if r["value"] >= r["threshold"]}
        ours = {c for c, r in laif["columns"].items() if c in ev["columns"] and r["state"] == "alert"}
        agree = sum((c in flagged) == (c in ours) for c in ev["columns"])
        print(json.dumps({"evidently_seconds": round(ev["seconds"], 2), "evidently_peak_rss_mb": ev["peak_rss_mb"],
                          "evidently_drifted": sorted(flagged),
                          "methods": sorted({r["method"] for r in ev["columns"].values()}),
                          "columns_agreeing_laif_alert_vs_evidently": f"{agree}/{len(ev['columns'])}",
                          "evidently_over_laif_seconds": round(ev["seconds"] / laif["seconds"], 2),
                          "evidently_over_laif_peak_rss": round(ev["peak_rss_mb"] / laif["peak_rss_mb"], 2),
                          "distances": {c: {"laif": round(laif["columns"][c]["distance"], 4),
                                            "evidently": round(ev["columns"][c]["value"], 4)}
                                        for c in sorted(ev["columns"]) if c in laif["columns"]}}), flush=True)


def intake(sizes: list[int], workers: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            log = Path(tmp) / f"log-{size}.jsonl"
            lines = write_log(log, size)
            bare = _bare(log)
            row: dict[str, Any] = {"lines": lines, "mb": round(log.stat().st_size / 2**20)}
            for n in sorted({1, workers}):
                child = subprocess.run([sys.executable, __file__, "--child", str(log), str(Path(tmp) / f"{size}-{n}.db"),
                                        str(n)], capture_output=True, text=True, check=True)
                got = json.loads(child.stdout)
                bare = min(bare, _bare(log))  # the bare loop again after each intake, for drift on a shared machine
                key = "intake" if n == 1 else f"intake_{n}_workers"
                row |= {f"{key}_lines_per_s": round(lines / got["seconds"]), f"{key}_s": round(got["seconds"], 1),
                        f"{key}_peak_rss_mb": got["peak_rss_mb"]}
                if got["worker_peak_rss_mb"] is not None:
                    row[f"{key}_worker_peak_rss_mb"] = got["worker_peak_rss_mb"]
            row["bare_json_lines_per_s"] = round(lines / bare)
            for n in sorted({1, workers}):
                key = "intake" if n == 1 else f"intake_{n}_workers"
                row[f"{key}_over_bare"] = round(bare / row[f"{key}_s"], 4)
            print(json.dumps(row), flush=True)
            log.unlink()


def breakdown(lines: int) -> None:
    """Where the intake's time goes, on one file in one process: the bare loop, the intake without
    language identification (language_every beyond the file), the intake as shipped, and the
    language identification of every text afresh as before (no memory of texts, whole texts)."""
    from laif.core.langid import _identifier, detect
    from laif.monitor import intake as intake_module
    from laif.monitor import summary as summary_module
    from laif.monitor.intake import ingest
    from laif.monitor.spec import MonitorSpec
    from laif.monitor.store import MonitorStore
    from laif.monitor.summary import MIN_WORDS_FOR_LANGUAGE

    _identifier()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "log.jsonl"
        n = write_log(log, lines)
        bare = _bare(log)
        seconds = {}
        ingest(MonitorStore(f"sqlite:///{tmp}/warm-up.db"), MonitorSpec(name="b"), log)  # first-time costs out
        fast = intake_module._read_fast
        for name, every in (("intake_without_language", 10**12), ("intake", 1), ("intake_line_by_line", 1)):
            if name == "intake_line_by_line":
                intake_module._read_fast = lambda *_: None  # type: ignore[assignment]
            summary_module._READER.__init__()  # each run reads its texts afresh, remembering none from the last
            started = time.perf_counter()
            ingest(MonitorStore(f"sqlite:///{tmp}/{name}.db"), MonitorSpec(name="b", language_every=every), log)
            seconds[name] = time.perf_counter() - started
        intake_module._read_fast = fast
        texts = []
        with log.open("rb") as fh:
            for raw in fh:
                record = json.loads(raw)
                texts += [t for t in (record["prompt"], record.get("answer")) if t and len(t.split()) >= MIN_WORDS_FOR_LANGUAGE]
        started = time.perf_counter()
        for text in texts:
            detect(text)
        every_text = time.perf_counter() - started
        bare = min(bare, _bare(log))
    print(json.dumps({"lines": n, "bare_s": round(bare, 2), **{f"{k}_s": round(v, 2) for k, v in seconds.items()},
                      "language_share_of_intake": round(1 - seconds["intake_without_language"] / seconds["intake"], 3),
                      "language_of_every_whole_text_afresh_s": round(every_text, 2),
                      "intake_over_bare": round(bare / seconds["intake"], 4),
                      "intake_line_by_line_over_bare": round(bare / seconds["intake_line_by_line"], 4),
                      "intake_without_language_over_bare": round(bare / seconds["intake_without_language"], 4)}))


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["--otlp"]:  # the earlier spelling
        args = ["otlp", *args[1:]]
    mode = args.pop(0) if args and not args[0].isdigit() else "intake"
    option: dict[str, str] = {}
    while len(args) >= 2 and args[-2].startswith("--"):
        option[args[-2]] = args[-1]
        args = args[:-2]
    numbers = [int(a) for a in args]
    if mode == "otlp":
        spans = numbers[0] if numbers else 20_480
        rates = {content: round(receiver_rate(spans, content)) for content in (False, True)}
        print(json.dumps({"otlp_http_spans": spans, "spans_per_s_without_messages": rates[False],
                          "spans_per_s_with_messages": rates[True], "goal": 5000, "phoenix_measured": 80}), flush=True)
    elif mode == "drift":
        drift(numbers[0] if numbers else 1_000_000, option.get("--evidently-python"))
    elif mode == "breakdown":
        breakdown(numbers[0] if numbers else 20_000)
    elif mode == "intake":
        intake(numbers or [100_000, 1_000_000, 5_000_000], int(option.get("--workers", "1")))
    else:
        raise SystemExit(f"unknown mode {mode!r}: intake, breakdown, otlp or drift")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _intake_child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1:2] == ["--drift-child"]:
        _drift_child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        main()
