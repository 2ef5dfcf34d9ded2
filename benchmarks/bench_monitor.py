"""Intake of JSONL exchanges into window summaries against a bare `json.loads` loop over the same
file, side by side in one run; and the intake's peak memory as the file grows.

- bare: `for line in file: json.loads(line)`, nothing else;
- intake: `laif monitor ingest`'s code on the same file (parse, check every field, read each
  answer for refusals, personal data and language, fill the window summaries, write them to
  SQLite with the progress).
The ratio bare time / intake time is what carries over to another machine (the issue's goal is
0.5). Peak RSS is measured in a fresh process per size, so one size's memory does not hide
another's; flat memory means the peak hardly moves from the smaller file to the larger one.

Run: .venv/bin/python benchmarks/bench_monitor.py [LINES ...]   (default: 20000 100000)
     .venv/bin/python benchmarks/bench_monitor.py --otlp [SPANS]  (OTLP/HTTP receiver, spans per second; the
     issue's goal is 5,000 on SQLite, against Arize Phoenix's measured 80)
"""

from __future__ import annotations

import json
import resource
import runpy
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write_log(path: Path, lines: int) -> int:
    per_hour = 1000
    hours = max(1, round(lines / (per_hour * 0.8)))  # make_week averages about 0.8 of per_hour
    start = datetime(2026, 11, 23, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as fh:
        write_week = runpy.run_path(str(ROOT / "examples" / "monitoring" / "make_week.py"))["write_week"]
        written: int = write_week(fh, start, hours, per_hour, start + timedelta(hours=hours // 2), 1)
    return written


def _intake_child(path: str, db: str) -> None:
    from laif.monitor.intake import ingest
    from laif.monitor.spec import MonitorSpec
    from laif.monitor.store import MonitorStore

    started = time.perf_counter()
    result = ingest(MonitorStore(f"sqlite:///{db}"), MonitorSpec(name="bench"), Path(path))
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"calls": result.calls, "seconds": seconds, "peak_rss_mb": round(peak_mb, 1)}))


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


def main() -> None:
    if sys.argv[1:2] == ["--otlp"]:
        spans = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
        for content in (False, True):
            print(json.dumps({"otlp_http_spans": spans, "messages_captured": content,
                              "spans_per_s": round(receiver_rate(spans, content))}), flush=True)
        return
    sizes = [int(a) for a in sys.argv[1:]] or [20_000, 100_000]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            log = Path(tmp) / f"log-{size}.jsonl"
            lines = write_log(log, size)
            bare = _bare(log)
            child = subprocess.run([sys.executable, __file__, "--child", str(log), str(Path(tmp) / f"{size}.db")],
                                   capture_output=True, text=True, check=True)
            intake = json.loads(child.stdout)
            bare = min(bare, _bare(log))  # the bare loop again after the intake, for drift on a shared machine
            rows.append({"lines": lines, "bare_json_lines_per_s": round(lines / bare),
                         "intake_lines_per_s": round(lines / intake["seconds"]),
                         "intake_over_bare": round(bare / intake["seconds"], 4),
                         "intake_peak_rss_mb": intake["peak_rss_mb"]})
            print(json.dumps(rows[-1]), flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _intake_child(sys.argv[2], sys.argv[3])
    else:
        main()
