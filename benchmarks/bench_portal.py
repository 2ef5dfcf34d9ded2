"""The portal under load: requests/s and p50/p95 latency of its main pages and API calls at 50
concurrent users, with 10,000 datasets in the catalogue and 1,000 stored runs, on SQLite and on
PostgreSQL, side by side with a bare ASGI "hello" route of the same server in the same run.

Each database gets a fresh portal: one SME (its owner signed in once per simulated user, and a
personal access token for the API), 10,000 catalogue entries (the made-up ones of
bench_catalogue.py, held by the SME), 1,000 complete runs of the bias suite in the SME's run
store (50 models x 20 runs; a run store is a SQLite file per organisation on either database),
20 service requests and two readiness assessments. The portal is served by uvicorn in a
subprocess (one process, the portal's thread pool, no job worker); the load generator is an
asyncio httpx client in this process: U users, each sending its next request as soon as the last
one is answered, for S seconds per route. Every route is measured the same way, "hello" too: an
ASGI callable in front of the portal's app that answers `/bench/hello` with 5 bytes, which is
what the server and the load generator alone can do on this machine. The ratio is the route's
requests/s over hello's (1.0: the portal costs nothing over the bare server). Then each route
is asked by one user alone for a moment: its latency when nothing waits in line.

At 50 users that each wait for their answer, latency is 50 / (requests/s): p95 under 100 ms at 50
users needs over 500 requests/s, which is more than hello alone reaches here, so the 1-user
figures say what a page costs and the 50-user ones how it holds up under the crowd.

Goal (issue 15): p95 under 100 ms for pages on a 2-core machine. The load generator shares the
machine with the server, so both figures are lower than on separate machines; the ratio less so.
A route another area has not built yet (404) is reported as not measured.

Run: .venv/bin/python benchmarks/bench_portal.py [--quick] [--db sqlite,postgresql] [--users 50]
         [--seconds 5] [--single-seconds 2] [--datasets 10000] [--runs 1000] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # the tests' throw-away PostgreSQL cluster
sys.path.insert(0, str(HERE))

SECRET = "bench-portal-session-secret-" + "x" * 32
EMAIL, PASSWORD = "owner@acme.example", "a long enough bench password"
HELLO = "/bench/hello"
#: (name, path, kind) of what is measured; "api" calls carry the token, "page" ones the session.
TARGETS = [
    ("hello (bare ASGI)", HELLO, "hello"),
    ("catalogue page", "/", "page"),
    ("requests page", "/requests", "page"),
    ("readiness page", "/readiness", "page"),
    ("datasets page", "/datasets", "page"),
    ("datasets search page", "/datasets?q=air", "page"),
    ("sandbox page", "/sandbox", "page"),
    ("leaderboard page", "/sandbox/leaderboard?suite=bias", "page"),
    ("API services", "/api/v1/services", "api"),
    ("API requests", "/api/v1/requests", "api"),
    ("API datasets search", "/api/v1/datasets?q=air", "api"),
    ("API runs", "/api/v1/runs", "api"),
    ("API leaderboard", "/api/v1/leaderboard?suite=bias", "api"),
]


# --- the server side (imported by uvicorn in the subprocess) ---------------------------------------
def make_app() -> Callable[..., Awaitable[None]]:
    """The portal's app on LAIF_BENCH_DB with a bare ASGI "hello" in front of it at /bench/hello."""
    from laif.portal.app import create_app
    from laif.portal.settings import PortalSettings

    settings = PortalSettings(db_url=os.environ["LAIF_BENCH_DB"], secret_key=SECRET,
                              data_dir=Path(os.environ["LAIF_BENCH_FILES"]), workers=0)
    portal_app = create_app(settings)
    body = b"hello"
    start = {"type": "http.response.start", "status": 200,
             "headers": [(b"content-type", b"text/plain"), (b"content-length", b"5")]}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == HELLO:
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        await portal_app(scope, receive, send)

    return app


# --- seeding -------------------------------------------------------------------------------------
@contextmanager
def _one_transaction(catalogue: Any) -> Iterator[None]:
    """Catalogue.put in one transaction for the whole load (a commit per entry is what makes the
    plain put slow; the rows written are the same)."""
    session = catalogue._sessions()
    session.begin()

    @contextmanager
    def shared() -> Iterator[Any]:
        yield session

    catalogue.session = shared
    try:
        yield
        session.commit()
    finally:
        session.close()
        del catalogue.session


def seed(db_url: str, files: Path, datasets: int, runs: int) -> dict[str, Any]:
    from sqlalchemy import text

    from bench_catalogue import make_entries
    from laif.catalogue.store import Catalogue
    from laif.portal.core import Portal
    from laif.portal.jobs import run_db
    from laif.portal.readiness_pages import ReadinessScope
    from laif.portal.scope import Scoped, caller_for
    from laif.portal.security import hash_password
    from laif.portal.settings import PortalSettings
    from laif.portal.tables import Account, Membership, Organisation, Role
    from laif.store.db import RunRow, Store
    from laif.suites import load_suite

    started = time.perf_counter()
    settings = PortalSettings(db_url=db_url, secret_key=SECRET, data_dir=files, workers=0)
    portal = Portal(settings)
    with portal.session() as s:
        org = Organisation(name="Acme", kind="sme")
        s.add(org)
        s.flush()
        account = Account(email=EMAIL, name="Owner", password_hash=hash_password(PASSWORD))
        s.add(account)
        s.flush()
        s.add(Membership(account_id=account.id, organisation_id=org.id, role=Role.sme_owner.value))
        org_id, account_id = org.id, account.id
    with portal.session() as s:
        caller = caller_for(s, account_id, org_id, "127.0.0.1")
        assert caller is not None
        scoped = Scoped(s, caller)
        token = scoped.create_token("bench")
        services = ["sandbox", "ipms", "compute", "datasets", "training"]
        for i in range(20):
            scoped.open_request(services[i % len(services)], f"Request {i} of the benchmark")
    answers = _readiness_answers()
    for _ in range(2):
        with portal.session() as s:
            ReadinessScope(s, caller, db_url).take(answers, "en")

    catalogue = Catalogue(db_url)
    loaded = time.perf_counter()
    with _one_transaction(catalogue):
        for entry in make_entries(datasets, random.Random(2026)):
            catalogue.put(entry, f"portal-org:{org_id}")
    if catalogue.dialect == "postgresql":
        with catalogue.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    datasets_s = time.perf_counter() - loaded
    count = catalogue.count()
    catalogue.engine.dispose()

    loaded = time.perf_counter()
    store = Store(run_db(settings, org_id))
    categories = list(load_suite("bias").categories)
    rng = random.Random(7)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(runs):
        model = f"bench-model-{i % 50:02d}"
        scores = {c: {"score": round(rng.random(), 3), "low": 0.0, "high": 1.0} for c in categories}
        rows.append(RunRow(
            id=f"bench-run-{i:05d}", spec_hash=f"{i:064d}", status="complete", created_at=base + timedelta(minutes=i),
            finished_at=base + timedelta(minutes=i + 1), suite="bias", suite_version="1", library_hash="0" * 64,
            languages=["en", "fr"], limit=None, seed=0, model_spec=f"openai:http://127.0.0.1:1/v1#{model}",
            model_name=model, model_key=model, model_identity={}, params={}, laif_version="bench", environment={},
            total_prompts=100, summary={"mean": statistics.fmean(v["score"] for v in scores.values()),
                                        "categories": scores, "answer_mode": "free"}))
    with store.session() as s:
        s.add_all(rows)
    stored = len(store.runs(status=None))
    store.engine.dispose()
    runs_s = time.perf_counter() - loaded
    portal.close()
    return {"token": token, "datasets": count, "runs": stored, "datasets_seconds": round(datasets_s, 1),
            "runs_seconds": round(runs_s, 1), "seconds": round(time.perf_counter() - started, 1)}


def _readiness_answers() -> dict[str, Any]:
    from laif._yaml import load_yaml

    data = dict(load_yaml(ROOT / "examples" / "readiness" / "logistics.yaml"))
    data.pop("organisation", None)
    return {k: (list(v) if isinstance(v, list) else str(v)) for k, v in data.items()}


# --- the server ------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(db_url: str, files: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "LAIF_BENCH_DB": db_url, "LAIF_BENCH_FILES": str(files), "PYTHONUNBUFFERED": "1"}
    log = open(files / "uvicorn.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench_portal:make_app", "--factory", "--app-dir", str(HERE),
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + HELLO, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the portal did not start: {(files / 'uvicorn.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


# --- the load generator ------------------------------------------------------------------------------
async def _sign_in(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "no sign-in form"
    response = await client.post("/login", data={"email": EMAIL, "password": PASSWORD, "next": "/",
                                                   "csrf_token": token.group(1)})
    assert response.status_code == 303, response.status_code


def _limits(users: int) -> httpx.Limits:
    return httpx.Limits(max_connections=users, max_keepalive_connections=users)


async def measure(base: str, token: str, users: int, seconds: float, single_seconds: float) -> list[dict[str, Any]]:
    """Every target in turn, each with `users` concurrent users for `seconds`, then with one user
    alone for `single_seconds` (what one request costs when nothing waits in line)."""
    clients = [httpx.AsyncClient(base_url=base, timeout=60, limits=_limits(1)) for _ in range(users)]
    try:
        await asyncio.gather(*(_sign_in(c) for c in clients))
        results = []
        for name, path, kind in TARGETS:
            headers = {"Authorization": f"Bearer {token}"} if kind == "api" else {}
            probe = await clients[0].get(path, headers=headers)
            if probe.status_code != 200:
                results.append({"name": name, "path": path, "kind": kind, "measured": False,
                                "why": f"HTTP {probe.status_code}"})
                continue
            loaded = await _load(clients, path, headers, seconds)
            alone = await _load(clients[:1], path, headers, single_seconds) if single_seconds > 0 else None
            results.append({"name": name, "path": path, "kind": kind, "measured": True,
                            "bytes": len(probe.content), **loaded, "one_user": alone})
        return results
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


async def _load(clients: list[httpx.AsyncClient], path: str, headers: dict[str, str], seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    await asyncio.gather(*(c.get(path, headers=headers) for c in clients))  # warm every connection
    stop_at = time.perf_counter() + seconds

    failures: dict[str, int] = {}

    async def user(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while time.perf_counter() < stop_at:
            sent = time.perf_counter()
            try:
                response = await client.get(path, headers=headers)
            except httpx.HTTPError as exc:  # counted, never fatal: the server's log says why
                errors += 1
                failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
                await asyncio.sleep(0.05)
                continue
            latencies.append(time.perf_counter() - sent)
            if response.status_code != 200:
                errors += 1
                failures[f"HTTP {response.status_code}"] = failures.get(f"HTTP {response.status_code}", 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(user(c) for c in clients))
    elapsed = time.perf_counter() - started
    latencies.sort()
    n = len(latencies)
    out: dict[str, Any] = {"requests": n, "errors": errors, "seconds": round(elapsed, 2), "rps": round(n / elapsed, 1),
                           "p50_ms": round(1000 * statistics.median(latencies), 1) if n else None,
                           "p95_ms": round(1000 * latencies[max(0, int(0.95 * n) - 1)], 1) if n else None}
    if failures:
        out["failures"] = failures
    return out


# --- one database, and the whole run ----------------------------------------------------------------
def bench(label: str, db_url: str, files: Path, args: argparse.Namespace) -> dict[str, Any]:
    seeded = seed(db_url, files, args.datasets, args.runs)
    token = seeded.pop("token")
    print(f"{label}: seeded {seeded['datasets']:,} datasets ({seeded['datasets_seconds']} s) and "
          f"{seeded['runs']:,} runs ({seeded['runs_seconds']} s)", flush=True)
    with serve(db_url, files) as base:
        targets = asyncio.run(measure(base, token, args.users, args.seconds, args.single_seconds))
    hello = next(t for t in targets if t["kind"] == "hello")
    for t in targets:
        if not t["measured"]:
            print(f"  {t['name']:<24} not measured ({t['why']})")
            continue
        if t is not hello:
            t["ratio_to_hello"] = round(t["rps"] / hello["rps"], 3) if hello.get("rps") else None
        goal = ""
        if t["kind"] == "page":
            t["meets_goal"] = t["p95_ms"] is not None and t["p95_ms"] < 100
            goal = "  meets the 100 ms goal" if t["meets_goal"] else "  MISSES the 100 ms goal"
        ratio = f"  {t['ratio_to_hello']:.3f} of hello" if t.get("ratio_to_hello") is not None else ""
        alone = t.get("one_user")
        single = (f"  | 1 user: p50 {alone['p50_ms']} ms, p95 {alone['p95_ms']} ms" if alone else "")
        failed = f" {t['failures']}" if t.get("failures") else ""
        print(f"  {t['name']:<24} {t['rps']:8.1f} req/s  p50 {t['p50_ms']} ms  p95 {t['p95_ms']} ms"
              f"  errors {t['errors']}{failed}{ratio}{goal}{single}", flush=True)
    result: dict[str, Any] = {"seed": seeded, "targets": targets}
    if any(t.get("errors") for t in targets):
        result["server_log_tail"] = (files / "uvicorn.log").read_text()[-3000:]
        print("  the server's log ends with:\n" + result["server_log_tail"], flush=True)
    return result


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="a smoke test: 200 datasets, 20 runs, 4 users, 0.5 s a route, SQLite only unless --db")
    parser.add_argument("--db", default=None, help="sqlite, postgresql or both comma-separated (default both)")
    parser.add_argument("--users", type=int, default=None, help="concurrent users (default 50)")
    parser.add_argument("--seconds", type=float, default=None, help="seconds of load per route (default 5)")
    parser.add_argument("--single-seconds", type=float, default=None,
                        help="seconds of one user alone per route after the load (default 2; 0: skip)")
    parser.add_argument("--datasets", type=int, default=None, help="catalogue entries (default 10,000)")
    parser.add_argument("--runs", type=int, default=None, help="stored runs (default 1,000)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results to this file")
    args = parser.parse_args(argv)
    quick = {"db": "sqlite", "users": 4, "seconds": 0.5, "single_seconds": 0.2, "datasets": 200, "runs": 20}
    full = {"db": "sqlite,postgresql", "users": 50, "seconds": 5.0, "single_seconds": 2.0, "datasets": 10_000,
            "runs": 1_000}
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.dbs = [d.strip() for d in args.db.split(",") if d.strip()]
    unknown = [d for d in args.dbs if d not in ("sqlite", "postgresql")]
    if unknown or not args.dbs:
        parser.error(f"--db: {', '.join(unknown) or 'nothing'}: choose sqlite, postgresql or both")
    if args.users < 1 or args.seconds <= 0 or args.single_seconds < 0 or args.datasets < 0 or args.runs < 0:
        parser.error("--users, --seconds, --datasets and --runs take positive numbers")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    print(f"portal under load: {args.users} users, {args.seconds:g} s a route, {args.datasets:,} datasets, "
          f"{args.runs:,} runs; {os.cpu_count()} CPUs", flush=True)
    out: dict[str, Any] = {"users": args.users, "seconds_per_route": args.seconds, "datasets": args.datasets,
                           "runs": args.runs, "cpus": os.cpu_count(), "quick": args.quick, "databases": {}}
    with tempfile.TemporaryDirectory(prefix="laif-bench-portal-") as tmp:
        for db in args.dbs:
            files = Path(tmp) / db
            files.mkdir()
            if db == "sqlite":
                out["databases"]["sqlite"] = bench("sqlite", f"sqlite:///{files / 'portal.db'}", files, args)
                continue
            from tests.conftest import postgres_cluster

            try:
                (Path(tmp) / "pg").mkdir()
                with postgres_cluster(Path(tmp) / "pg") as url:
                    out["databases"]["postgresql"] = bench("postgresql", url, files, args)
            except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
                print(f"postgresql: not measured ({exc})")
                out["databases"]["postgresql"] = {"error": str(exc)}
    print(json.dumps(out))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
