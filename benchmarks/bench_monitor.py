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


def main() -> None:
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
