"""OpenTelemetry GenAI spans (OTLP/JSON lines) taken in as calls; bad payloads named by line and place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from laif.errors import BadInput
from laif.monitor.intake import ingest
from laif.monitor.spec import MonitorSpec, Window
from laif.monitor.store import MonitorStore
from laif.monitor.summary import WindowSummary
from tests.conftest import run_laif

T0 = 1_795_420_800_000_000_000  # 2026-11-23T08:00:00Z in nanoseconds


def _attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, list):
        return {"key": key, "value": {"arrayValue": {"values": [{"stringValue": v} for v in value]}}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def _span(i: int, answer: str | None = "You can block it in the app under the cards menu.", error: str | None = None,
          content: bool = True, **extra: Any) -> dict[str, Any]:
    attrs = [_attr("gen_ai.operation.name", "chat"), _attr("gen_ai.request.model", "bank-bot"),
             _attr("gen_ai.usage.input_tokens", 40), _attr("gen_ai.usage.output_tokens", 12 + i),
             _attr("gen_ai.response.finish_reasons", ["stop"])]
    if content:
        attrs.append(_attr("gen_ai.input.messages", json.dumps(
            [{"role": "system", "parts": [{"type": "text", "content": "You are a bank assistant."}]},
             {"role": "user", "parts": [{"type": "text", "content": "How do I block my debit card today?"}]}])))
        if answer is not None:
            attrs.append(_attr("gen_ai.output.messages", json.dumps(
                [{"role": "assistant", "parts": [{"type": "text", "content": answer}], "finish_reason": "stop"}])))
    if error:
        attrs.append(_attr("error.type", error))
    span = {"traceId": f"{i:032x}", "spanId": f"{i:016x}", "name": "chat bank-bot", "kind": 3,
            "startTimeUnixNano": str(T0 + i * 10**9), "endTimeUnixNano": str(T0 + i * 10**9 + 750_000_000),
            "attributes": attrs, "status": {"code": 2} if error else {}}
    return span | extra


def _request(*spans: dict[str, Any]) -> dict[str, Any]:
    other = {"traceId": "f" * 32, "spanId": "e" * 16, "name": "GET /health", "startTimeUnixNano": str(T0),
             "endTimeUnixNano": str(T0 + 1000), "attributes": [_attr("http.method", "GET")]}
    return {"resourceSpans": [{"resource": {"attributes": [_attr("service.name", "bank-bot")]},
                               "scopeSpans": [{"scope": {"name": "genai"}, "spans": [other, *spans]}]}]}


def _write(path: Path, requests: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in requests), encoding="utf-8")
    return path


@pytest.fixture()
def store(tmp_path: Path) -> MonitorStore:
    return MonitorStore(f"sqlite:///{tmp_path / 'laif.db'}")


def test_genai_spans_become_calls_and_other_spans_are_skipped(tmp_path: Path, store: MonitorStore) -> None:
    path = _write(tmp_path / "spans.jsonl", [
        _request(_span(0), _span(1, answer="I'm sorry, but I cannot help with that.")),
        _request(_span(2, error="timeout"), _span(3, content=False)),
    ])
    result = ingest(store, MonitorSpec(name="bot", window=Window(by="count", size="100")), path, form="otlp")
    assert result.calls == 4
    (row,) = store.windows("bot")
    summary = WindowSummary.from_json(row.summary)
    s = summary.signals()
    assert summary.counts["n"] == 4 and summary.counts["read"] == 2  # the span without content is not read
    assert s["refusal_rate"]["value"] == pytest.approx(0.5) and s["timeout_rate"]["value"] == pytest.approx(0.25)
    assert s["empty_rate"]["value"] == 0.0
    assert s["latency_p50_s"]["value"] == pytest.approx(0.75, rel=0.01)
    assert summary.labels["model"].counts == {"bank-bot": 4}
    assert summary.numbers["output_tokens"].n == 4


@pytest.mark.parametrize(("span", "message"), [
    (_span(0, startTimeUnixNano="soon"), r"spans\[1\]\.startTimeUnixNano: not a time in nanoseconds"),
    (_span(0, endTimeUnixNano=str(T0 - 1)), r"spans\[1\]\.endTimeUnixNano: before startTimeUnixNano"),
    (_span(0, attributes=[{"key": "gen_ai.usage.input_tokens", "value": {"intValue": "many"}}]),
     r"spans\[1\]\.attributes\[0\] \(gen_ai.usage.input_tokens\)\.intValue: not a whole number"),
    (_span(0, attributes=[_attr("gen_ai.input.messages", "{not json")]), r"spans\[1\] gen_ai.input.messages: not JSON messages"),
])
def test_bad_payloads_name_line_and_place(tmp_path: Path, store: MonitorStore, span: dict[str, Any], message: str) -> None:
    path = _write(tmp_path / "spans.jsonl", [_request(_span(0)), _request(span)])
    with pytest.raises(BadInput, match=rf"spans\.jsonl:2: resourceSpans\[0\]\.scopeSpans\[0\]\.{message}"):
        ingest(store, MonitorSpec(name="bot"), path, form="otlp")
    assert sum(w.n for w in store.windows("bot")) == 1  # the first request's call is kept


def test_cli_otlp_not_a_request_exits_2(tmp_path: Path) -> None:
    path = _write(tmp_path / "spans.jsonl", [{"spans": []}])
    r = run_laif("monitor", "ingest", str(path), "--stream", "bot", "--format", "otlp",
                 env={"LAIF_HOME": str(tmp_path / "home")})
    assert r.returncode == 2 and "spans.jsonl:1: expected an OTLP/JSON request with resourceSpans" in r.stderr


def test_the_otlp_http_receiver_takes_spans_and_answers_400_naming_the_field(store: MonitorStore) -> None:
    import threading

    import httpx

    from laif.monitor.receiver import make_server

    server = make_server(store, MonitorSpec(name="live"), port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1/traces"
    try:
        ok = httpx.post(url, json=_request(_span(0), _span(1)))
        assert (ok.status_code, ok.json()) == (200, {"partialSuccess": {}})
        bad = httpx.post(url, json=_request(_span(2), _span(3, endTimeUnixNano="later")))
        assert bad.status_code == 400
        assert bad.json()["error"] == ("resourceSpans[0].scopeSpans[0].spans[2].endTimeUnixNano: "
                                       "not a time in nanoseconds: 'later'")
        assert httpx.post(url, content=b"\x0a\x00", headers={"Content-Type": "application/x-protobuf"}).status_code == 415
        assert httpx.post(url.replace("traces", "logs"), json={}).status_code == 404
    finally:
        server.shutdown()
        server.server_close()
    assert sum(w.n for w in store.windows("live")) == 2  # the bad request changed nothing
