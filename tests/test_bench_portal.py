"""benchmarks/bench_portal.py in its quick mode: it seeds a portal, serves it with uvicorn, loads
it and reports requests/s, p50 and p95 per route beside the bare "hello" route. Only the shape of
its output is checked, never its figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_portal.py"


def test_the_quick_run_reports_every_route_beside_hello(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    run = subprocess.run([sys.executable, str(BENCH), "--quick", "--users", "2", "--seconds", "0.2",
                          "--json", str(out)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(out.read_text())
    assert json.loads(run.stdout.strip().splitlines()[-1]) == result
    assert result["quick"] is True and result["users"] == 2 and list(result["databases"]) == ["sqlite"]
    sqlite = result["databases"]["sqlite"]
    assert sqlite["seed"]["datasets"] == 200 and sqlite["seed"]["runs"] == 20
    targets = {t["name"]: t for t in sqlite["targets"]}
    assert targets["hello (bare ASGI)"]["measured"] and targets["hello (bare ASGI)"]["kind"] == "hello"
    for name in ("hello (bare ASGI)", "catalogue page", "requests page", "readiness page", "API services"):
        t = targets[name]
        assert t["measured"] and t["errors"] == 0 and t["requests"] > 0, t
        assert t["rps"] > 0 and 0 < t["p50_ms"] <= t["p95_ms"]
        assert t["one_user"]["requests"] > 0 and t["one_user"]["p50_ms"] <= t["one_user"]["p95_ms"]
        if name != "hello (bare ASGI)":
            assert t["ratio_to_hello"] > 0
    for t in sqlite["targets"]:
        assert t["measured"] or t["why"].startswith("HTTP "), t
        assert (t["kind"] == "page") == ("meets_goal" in t) or not t["measured"]
    assert "hello (bare ASGI)" in run.stdout and "req/s" in run.stdout


def test_a_mistyped_option_exits_2_with_usage() -> None:
    run = subprocess.run([sys.executable, str(BENCH), "--db", "oracle"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "usage:" in run.stderr and "oracle" in run.stderr and "Traceback" not in run.stderr
