"""Intake of JSONL exchanges: signals read from real texts, bad lines named and nothing lost,
resumption without counting twice, identifiers pseudonymised or dropped, the spec's checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from laif.errors import BadInput
from laif.ipms.pseudonyms import Pseudonymiser, canonical_id, domain_key
from laif.monitor.intake import ingest
from laif.monitor.spec import MonitorSpec, Window
from laif.monitor.store import CallRow, MonitorStore
from laif.monitor.summary import WindowSummary
from tests.conftest import run_laif

IBAN = "LU28 0019 4006 4475 0000"


def _call(i: int, **over: Any) -> dict[str, Any]:
    base = {"time": f"2026-11-23T08:{i // 60:02d}:{i % 60:02d}Z", "prompt": "Wéi kann ech meng Bankkaart spären?",
            "answer": "Dir kënnt dat an der App am Menü vun de Kaarten maachen.", "latency_s": 0.5 + i / 100,
            "input_tokens": 40, "output_tokens": 20 + i, "user_id": f"customer-{i}", "model": "bot-1"}
    return base | over


def _write(path: Path, records: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records),
                    encoding="utf-8")
    return path


def _spec(**over: Any) -> MonitorSpec:
    return MonitorSpec(name="bot", window=Window(by="count", size="5"), **over)


def _summaries(store: MonitorStore) -> dict[int, WindowSummary]:
    return {w.index: WindowSummary.from_json(w.summary) for w in store.windows("bot")}


@pytest.fixture()
def store(tmp_path: Path) -> MonitorStore:
    return MonitorStore(f"sqlite:///{tmp_path / 'laif.db'}")


def test_signals_are_read_from_the_texts(tmp_path: Path, store: MonitorStore) -> None:
    records = [
        _call(0),
        _call(1, answer="Et deet mer leed, mee ech kann Iech do net hëllefen."),  # a refusal, in Luxembourgish
        _call(2, answer=f"Your IBAN {IBAN} is registered for this card now."),  # personal data, and English
        _call(3, answer=""),
        _call(4, status="timeout", answer=None, feedback=-1),
    ]
    ingest(store, _spec(), _write(tmp_path / "a.jsonl", records))
    (summary,) = _summaries(store).values()
    s = summary.signals()
    assert summary.counts["n"] == 5 and summary.counts["answered"] == 3
    assert s["refusal_rate"]["value"] == pytest.approx(1 / 3)
    assert s["pii_rate"]["value"] == pytest.approx(1 / 3)
    assert s["empty_rate"]["value"] == pytest.approx(1 / 4)
    assert s["timeout_rate"]["value"] == pytest.approx(1 / 5)
    assert s["language_fidelity"]["value"] == pytest.approx(2 / 3)  # the English answer to a Luxembourgish question
    assert s["feedback_positive"] == {"value": 0.0, "n": 1}
    assert summary.labels["prompt_language"].counts == {"lb": 5}


def test_windows_by_count_and_by_time(tmp_path: Path, store: MonitorStore) -> None:
    path = _write(tmp_path / "a.jsonl", [_call(i, time=f"2026-11-23T{8 + i // 2:02d}:{i % 2 * 30:02d}:00Z")
                                         for i in range(12)])  # every 30 minutes
    ingest(store, _spec(), path)
    assert {i: s.counts["n"] for i, s in _summaries(store).items()} == {0: 5, 1: 5, 2: 2}
    by_time = MonitorStore(f"sqlite:///{tmp_path / 'time.db'}")
    ingest(by_time, MonitorSpec(name="bot", window=Window(by="time", size="1h")), path)
    assert sorted(w.n for w in by_time.windows("bot")) == [2, 2, 2, 2, 2, 2]


def test_a_bad_line_stops_with_file_and_line_and_keeps_what_came_before(tmp_path: Path, store: MonitorStore) -> None:
    records: list[Any] = [_call(i) for i in range(7)]
    records[4] = "{not json"
    path = _write(tmp_path / "a.jsonl", records)
    with pytest.raises(BadInput, match=r"a\.jsonl:5: not a JSON line"):
        ingest(store, _spec(), path)
    assert sum(s.counts["n"] for s in _summaries(store).values()) == 4
    records[4] = _call(4)
    _write(path, records)
    result = ingest(store, _spec(), path)
    assert result.resumed_at == 4 and result.calls == 3
    again = MonitorStore(f"sqlite:///{tmp_path / 'clean.db'}")
    ingest(again, _spec(), _write(tmp_path / "clean.jsonl", [_call(i) for i in range(7)]))
    assert {i: s.to_json() | {"first": None, "last": None} for i, s in _summaries(store).items()} == \
           {i: s.to_json() | {"first": None, "last": None} for i, s in _summaries(again).items()}


@pytest.mark.parametrize(("record", "message"), [
    ({"prompt": "x", "answer": "y"}, "field 'time' is missing"),
    (_call(0, time="2026-11-23T08:00:00"), "has no time zone"),
    (_call(0, time="yesterday"), "not an ISO 8601 time"),
    (_call(0, answer=None), "field 'answer' is null"),
    (_call(0, status="fine"), "field 'status': expected one of ok, error, timeout"),
    (_call(0, latency_s=-1), "field 'latency_s': expected a number >= 0"),
    (_call(0, output_tokens=2.5), "field 'output_tokens': expected a whole number"),
    (_call(0, feedback=5), "field 'feedback'"),
    (_call(0, features={"amount": [1]}), "field 'features.amount'"),
    ([1, 2], "expected a JSON object"),
])
def test_each_bad_field_is_named(tmp_path: Path, store: MonitorStore, record: Any, message: str) -> None:
    with pytest.raises(BadInput, match=rf"a\.jsonl:2: .*{message}"):
        ingest(store, _spec(), _write(tmp_path / "a.jsonl", [_call(0), record]))


def test_a_grown_file_is_read_from_where_it_stopped_and_a_half_line_waits(tmp_path: Path, store: MonitorStore) -> None:
    path = _write(tmp_path / "a.jsonl", [_call(i) for i in range(3)])
    ingest(store, _spec(), path, whole_lines_only=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(_call(3)) + "\n" + json.dumps(_call(4))[:20])  # the last line is being written
    result = ingest(store, _spec(), path, whole_lines_only=True)
    assert (result.resumed_at, result.calls) == (3, 1)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(_call(4))[20:] + "\n")
    assert ingest(store, _spec(), path, whole_lines_only=True).calls == 1
    assert sum(s.counts["n"] for s in _summaries(store).values()) == 5


def test_a_file_changed_before_the_point_read_is_refused(tmp_path: Path, store: MonitorStore) -> None:
    path = _write(tmp_path / "a.jsonl", [_call(i) for i in range(3)])
    ingest(store, _spec(), path)
    _write(path, [_call(0, prompt="changed"), _call(1), _call(2), _call(3)])
    with pytest.raises(BadInput, match="changed before line 4"):
        ingest(store, _spec(), path)


def test_windows_cannot_change_under_a_stream(tmp_path: Path, store: MonitorStore) -> None:
    ingest(store, _spec(), _write(tmp_path / "a.jsonl", [_call(0)]))
    with pytest.raises(BadInput, match="cut in windows of 5 calls"):
        ingest(store, MonitorSpec(name="bot"), _write(tmp_path / "b.jsonl", [_call(1)]))


def test_by_default_no_call_text_or_identifier_is_stored(tmp_path: Path) -> None:
    db = tmp_path / "laif.db"
    store = MonitorStore(f"sqlite:///{db}")
    ingest(store, _spec(), _write(tmp_path / "a.jsonl", [_call(i, prompt=f"secret question {i}") for i in range(5)]))
    store.engine.dispose()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("laif.db*"))
    assert b"customer-3" not in raw and b"secret question" not in raw
    with MonitorStore(f"sqlite:///{db}").session() as s:
        assert s.scalars(select(CallRow)).first() is None


def test_kept_calls_carry_pseudonyms_and_masked_personal_data(tmp_path: Path, store: MonitorStore,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "a-master-secret-of-enough-bytes"
    monkeypatch.setenv("TEST_IPMS_SECRET", secret)
    spec = _spec(keep="pseudonymised", key_env="TEST_IPMS_SECRET")
    ingest(store, spec, _write(tmp_path / "a.jsonl", [_call(0, prompt=f"My IBAN is {IBAN}, write to me@example.lu")]))
    with store.session() as s:
        (row,) = s.scalars(select(CallRow)).all()
    expected = Pseudonymiser(domain_key(secret.encode(), "bot"))(canonical_id("customer-0").encode())
    assert row.ids == {"user_id": expected}
    assert row.prompt == "My IBAN is [lu_iban], write to [email]"


def test_kept_pseudonymised_calls_need_the_secret(tmp_path: Path, store: MonitorStore,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UNSET_SECRET", raising=False)
    with pytest.raises(BadInput, match="--key-env UNSET_SECRET: the variable is not set"):
        ingest(store, _spec(keep="pseudonymised", key_env="UNSET_SECRET"), _write(tmp_path / "a.jsonl", [_call(0)]))


def test_cli_bad_line_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "log.jsonl", [_call(0), _call(1, status="fine")])
    r = run_laif("monitor", "ingest", str(path), "--stream", "bot", env={"LAIF_HOME": str(tmp_path / "home")})
    assert r.returncode == 2
    assert "log.jsonl:2: field 'status'" in r.stderr and "Traceback" not in r.stderr


def test_cli_spec_errors_name_file_and_line(tmp_path: Path) -> None:
    spec = tmp_path / "monitor.yaml"
    spec.write_text("version: 1\nname: bot\nwindow: {by: count, size: 1h}\nalerts:\n  refusals: {alert: {max: 1}}\n")
    r = run_laif("monitor", "ingest", str(_write(tmp_path / "a.jsonl", [_call(0)])), "--spec", str(spec),
                 env={"LAIF_HOME": str(tmp_path / "home")})
    assert r.returncode == 2, r.stderr
    assert "monitor.yaml:3: window" in r.stderr and "monitor.yaml:5: alerts" in r.stderr and "unknown signal" in r.stderr


def test_intake_resumes_and_incidents_keep_their_times_in_postgresql(pg_url: str, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from laif.monitor.alerts import evaluate
    from laif.monitor.incidents import describe, open_incident

    store = MonitorStore(pg_url)
    spec = MonitorSpec(name="pg-bot", window=Window(by="count", size="5"), min_window=1)
    records: list[Any] = [_call(i) for i in range(12)]
    records[7] = '{"time": "2026-11-23T08:00:07Z"'
    path = _write(tmp_path / "a.jsonl", records)
    with pytest.raises(BadInput, match=r"a\.jsonl:8"):
        ingest(store, spec, path)
    records[7] = _call(7)
    _write(path, records)
    assert ingest(store, spec, path).resumed_at == 7
    assert [w.n for w in store.windows("pg-bot")] == [5, 5, 2]
    assert [w.state for w in evaluate(store, "pg-bot").windows] == ["reference", "reference", "reference"]
    aware = datetime.fromisoformat("2026-11-27T10:00:00+01:00")
    row = open_incident(store, title="t", category="death", occurred=aware, aware=aware, stream="pg-bot")
    assert describe(store, row.id)["deadline"]["due"] == datetime(2026, 12, 7, 9, tzinfo=UTC).isoformat()


def test_languages_of_every_nth_call_only(tmp_path: Path, store: MonitorStore) -> None:
    ingest(store, MonitorSpec(name="bot", window=Window(by="count", size="100"), language_every=3),
           _write(tmp_path / "a.jsonl", [_call(i) for i in range(9)]))
    (summary,) = _summaries(store).values()
    assert summary.counts["lang_checked"] == 3 and summary.labels["prompt_language"].n == 3
    assert summary.counts["answered"] == 9  # refusals and personal data are still read in every answer


def test_cli_init_writes_a_spec_that_validates_and_never_overwrites(tmp_path: Path) -> None:
    env = {"LAIF_HOME": str(tmp_path / "home")}
    spec = tmp_path / "monitor.yaml"
    assert run_laif("monitor", "init", "--out", str(spec), env=env).returncode == 0
    r = run_laif("monitor", "plan", "--spec", str(spec), "--out", str(tmp_path / "plan.html"), env=env)
    assert r.returncode == 0, r.stderr
    assert "Banking assistant v3" in (tmp_path / "plan.html").read_text(encoding="utf-8")
    again = run_laif("monitor", "init", "--out", str(spec), env=env)
    assert again.returncode == 2 and "exists already" in again.stderr


@pytest.mark.parametrize(("field", "line"), [
    ("features", '"features": {"amount": 1' + "0" * 400 + "}"),
    ("latency_s", '"latency_s": 1' + "0" * 400),
    ("output_tokens", '"output_tokens": 1' + "0" * 400),
    ("time", '"time": 1' + "0" * 400),
    ("embedding", '"embedding": [1, 1' + "0" * 400 + "]"),
])
def test_a_whole_number_beyond_float_range_is_a_bad_line_naming_the_field(tmp_path: Path, store: MonitorStore,
                                                                        field: str, line: str) -> None:
    """JSON has no bound on whole numbers: one of 400 digits cannot be binned, so it is a bad line
    (exit 2 with file, line and field), not an OverflowError, and the lines before it are kept."""
    record = json.dumps(_call(1, time="2026-11-23T08:00:01Z"))[:-1] + ", " + line + "}"
    if field == "time":
        record = record.replace('"time": "2026-11-23T08:00:01Z", ', "")
    path = _write(tmp_path / "a.jsonl", [_call(0), record])
    with pytest.raises(BadInput, match=rf"a\.jsonl:2: field '{field}(\.amount)?'"):
        ingest(store, _spec(), path)
    assert sum(s.counts["n"] for s in _summaries(store).values()) == 1
    r = run_laif("monitor", "ingest", str(path), "--stream", "bot", env={"LAIF_HOME": str(tmp_path / "home")})
    assert r.returncode == 2 and "a.jsonl:2: field" in r.stderr and "Traceback" not in r.stderr
