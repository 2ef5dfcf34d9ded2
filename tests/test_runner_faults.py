"""Retries, timeouts, unreadable answers and unreachable endpoints, injected by a scripted endpoint."""

import asyncio
import json
import re
from pathlib import Path

import pytest

from laif.errors import ModelUnreachable
from laif.models import EndpointOptions, GenerationParams, open_model
from laif.runner import Runner, RunSettings
from laif.store import Store
from laif.suites.bias import BiasSuite

from .conftest import ScriptedEndpoint, run_laif

FAST = dict(languages=("en",), limit=1, params=GenerationParams(max_tokens=8), retries=2, backoff_base=0.01)



def _run(endpoint: ScriptedEndpoint, store: Store, max_concurrency: int = 2, **overrides: object):  # type: ignore[no-untyped-def]
    settings = RunSettings(**{**FAST, **overrides})  # type: ignore[arg-type]
    model = open_model(f"openai:{endpoint.base}#scripted", EndpointOptions(max_concurrency=max_concurrency, timeout=5))
    return asyncio.run(Runner(store, model, BiasSuite(), settings).run())


def test_429_with_retry_after_is_retried(scripted: ScriptedEndpoint, tmp_path: Path) -> None:
    scripted.script = [("status", 429, {"Retry-After": "0"})]
    outcome = _run(scripted, Store(f"sqlite:///{tmp_path}/t.db"))
    assert outcome.run.status == "complete"
    assert outcome.errored == 0
    assert scripted.requests == outcome.run.total_prompts + 1


def test_server_errors_are_retried_with_backoff(scripted: ScriptedEndpoint, tmp_path: Path) -> None:
    scripted.script = [("status", 500), ("status", 502)]
    store = Store(f"sqlite:///{tmp_path}/t.db")
    outcome = _run(scripted, store)
    assert outcome.run.status == "complete"
    assert sum(e.attempts for e in store.exchanges(outcome.run.id)) == outcome.run.total_prompts + 2


def test_slow_reply_times_out_and_is_retried(scripted: ScriptedEndpoint, tmp_path: Path) -> None:
    scripted.script = [("sleep", 1.5)]
    outcome = _run(scripted, Store(f"sqlite:///{tmp_path}/t.db"), request_timeout=0.5)
    assert outcome.run.status == "complete"
    assert outcome.errored == 0


def test_garbage_json_becomes_an_errored_test_not_a_pass(scripted: ScriptedEndpoint, tmp_path: Path) -> None:
    scripted.script = [("garbage",)] * 3  # every attempt of one prompt
    store = Store(f"sqlite:///{tmp_path}/t.db")
    outcome = _run(scripted, store, max_concurrency=1)
    assert outcome.errored == 1
    errored = [v for v in store.verdicts(outcome.run.id) if v.verdict == "error"]
    assert len(errored) == 1 and "unreadable response" in errored[0].reason
    assert sum(c.errored for c in outcome.scores.categories.values()) == 1
    with store.session() as s:
        from laif.store import CacheRow

        assert s.query(CacheRow).count() == outcome.run.total_prompts - 1  # errors are never cached


def test_unreachable_endpoint_raises_and_keeps_the_run(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/t.db")
    model = open_model("openai:http://127.0.0.1:9/v1#none", EndpointOptions(timeout=1))
    with pytest.raises(ModelUnreachable):
        asyncio.run(Runner(store, model, BiasSuite(), RunSettings(**FAST)).run())  # type: ignore[arg-type]
    (run,) = store.runs(status=None)
    assert run.status == "incomplete"


def test_cli_exits_3_keeps_answers_and_resumes(scripted: ScriptedEndpoint, tmp_path: Path) -> None:
    env = {"LAIF_HOME": str(tmp_path)}
    args = ["assess", "--model", f"openai:{scripted.base}#scripted", "--limit", "1", "--languages", "en",
            "--retries", "1", "--concurrency", "1", "--fixed-concurrency", "--quiet", "--out", str(tmp_path / "o")]
    scripted.script = [("ok", "No.")] * 5 + [("status", 503)] * 10
    failed = run_laif(*args, env=env)
    assert failed.returncode == 3, failed.stderr
    assert "no answer after 2 attempts" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert not (tmp_path / "o" / "report.html").exists()
    scripted.script = []
    resumed = run_laif(*args, env=env)
    assert resumed.returncode == 0, resumed.stderr
    m = re.search(r"resumed run \w+: (\d+) prompts — (\d+) asked, 0 from cache, (\d+) already answered", resumed.stderr)
    assert m, resumed.stderr
    total, asked, already = map(int, m.groups())
    assert already == 5 and asked == total - 5
    assert json.loads((tmp_path / "o" / "results.json").read_text())["status"] == "complete"


def test_bad_model_string_exits_2(tmp_path: Path) -> None:
    result = run_laif("assess", "--model", "openai:nohash", "--out", str(tmp_path), env={"LAIF_HOME": str(tmp_path)})
    assert result.returncode == 2
    assert "expected openai:BASE_URL#MODEL" in result.stderr


def test_unknown_language_exits_2(tmp_path: Path) -> None:
    result = run_laif("assess", "--languages", "en,xx", env={"LAIF_HOME": str(tmp_path)})
    assert result.returncode == 2
    assert "unknown language(s) xx" in result.stderr


def test_api_key_is_never_printed_or_stored(scripted: ScriptedEndpoint, tmp_path: Path) -> None:
    secret = "sk-test-DO-NOT-LEAK-1234"
    env = {"LAIF_HOME": str(tmp_path), "MY_KEY": secret}
    result = run_laif("assess", "--model", f"openai:{scripted.base}#scripted", "--api-key-env", "MY_KEY",
                      "--limit", "1", "--languages", "en", "--out", str(tmp_path / "o"), env=env)
    assert result.returncode == 0, result.stderr
    assert secret not in result.stdout + result.stderr
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
