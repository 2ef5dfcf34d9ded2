"""OpenTelemetry GenAI spans (OTLP/JSON) as calls.

A file holds one OTLP/JSON `ExportTraceServiceRequest` per line, as the OpenTelemetry
Collector's file exporter writes them. Each span with GenAI attributes becomes one call; other
spans are skipped. What is read, by the GenAI semantic conventions:

| call field | span |
| --- | --- |
| time, latency | `startTimeUnixNano`, `endTimeUnixNano` |
| status | `status.code` 2 (error) -> error, or timeout when `error.type` names one |
| model | `gen_ai.response.model`, else `gen_ai.request.model` |
| tokens | `gen_ai.usage.input_tokens`, `gen_ai.usage.output_tokens` |
| finish reason | the first of `gen_ai.response.finish_reasons` |
| prompt, answer | the text parts of `gen_ai.input.messages` (last user message) and `gen_ai.output.messages` |

Prompts and answers are captured only when the instrumented application opts in; without them
the call still counts (status, latency, tokens, model) and the text signals leave it out.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from laif.monitor.summary import Exchange


class OtlpError(ValueError):
    """A problem at one place in one request; the message names the place."""


def _value(v: Any, where: str) -> Any:
    """An OTLP AnyValue as a Python value."""
    if not isinstance(v, dict) or len(v) != 1:
        raise OtlpError(f"{where}: expected an AnyValue such as {{\"stringValue\": ...}}")
    kind, inner = next(iter(v.items()))
    if kind == "stringValue":
        return str(inner)
    if kind == "intValue":
        try:
            return int(inner)
        except (TypeError, ValueError):
            raise OtlpError(f"{where}.intValue: not a whole number: {inner!r}") from None
    if kind in ("doubleValue", "boolValue"):
        return inner
    if kind == "arrayValue":
        return [_value(x, f"{where}.arrayValue.values[{i}]") for i, x in enumerate((inner or {}).get("values", []))]
    return inner


def _attributes(span: dict[str, Any], where: str) -> dict[str, Any]:
    out = {}
    for i, kv in enumerate(span.get("attributes") or []):
        if not isinstance(kv, dict) or "key" not in kv:
            raise OtlpError(f"{where}.attributes[{i}]: expected {{\"key\": ..., \"value\": ...}}")
        value = kv.get("value")
        if type(value) is dict and len(value) == 1 and "stringValue" in value:  # most attributes: read at once
            out[str(kv["key"])] = str(value["stringValue"])
        else:
            out[str(kv["key"])] = _value(value, f"{where}.attributes[{i}] ({kv['key']})")
    return out


def _nanos(span: dict[str, Any], field: str, where: str) -> int:
    try:
        return int(span[field])
    except KeyError:
        raise OtlpError(f"{where}.{field} is missing") from None
    except (TypeError, ValueError):
        raise OtlpError(f"{where}.{field}: not a time in nanoseconds: {span[field]!r}") from None


def _text(messages: Any, role: str | None, where: str) -> str | None:
    """The text parts of the last message (with `role`, when given) in a GenAI messages attribute."""
    if messages is None:
        return None
    try:
        parsed = json.loads(messages) if isinstance(messages, str) else messages
    except ValueError:
        raise OtlpError(f"{where}: not JSON messages") from None
    if not isinstance(parsed, list):
        raise OtlpError(f"{where}: expected a list of messages")
    chosen = [m for m in parsed if isinstance(m, dict) and (role is None or m.get("role") == role)]
    if not chosen:
        return None
    parts = chosen[-1].get("parts") or []
    return " ".join(str(p.get("content", "")) for p in parts if isinstance(p, dict) and p.get("type") == "text")


def _exchange(span: dict[str, Any], where: str) -> Exchange | None:
    attrs = _attributes(span, where)
    if not any(key.startswith("gen_ai.") for key in attrs):
        return None
    start, end = _nanos(span, "startTimeUnixNano", where), _nanos(span, "endTimeUnixNano", where)
    if end < start:
        raise OtlpError(f"{where}.endTimeUnixNano: before startTimeUnixNano")
    status = "ok"
    if (span.get("status") or {}).get("code") in (2, "STATUS_CODE_ERROR"):
        status = "timeout" if "timeout" in str(attrs.get("error.type", "")).lower() else "error"
    prompt = _text(attrs.get("gen_ai.input.messages"), "user", f"{where} gen_ai.input.messages")
    answer = _text(attrs.get("gen_ai.output.messages"), None, f"{where} gen_ai.output.messages")
    reasons = attrs.get("gen_ai.response.finish_reasons")
    tokens = {k: attrs.get(f"gen_ai.usage.{k}") for k in ("input_tokens", "output_tokens")}
    for k, v in tokens.items():
        if v is not None and (not isinstance(v, int) or v < 0):
            raise OtlpError(f"{where} gen_ai.usage.{k}: expected a whole number >= 0, got {v!r}")
    return Exchange(
        time=datetime.fromtimestamp(start / 1e9, tz=UTC),
        prompt=prompt or "", answer=answer if status == "ok" else None, status=status,
        model=attrs.get("gen_ai.response.model") or attrs.get("gen_ai.request.model"),
        latency_s=(end - start) / 1e9,
        input_tokens=tokens["input_tokens"], output_tokens=tokens["output_tokens"],
        finish_reason=str(reasons[0]) if isinstance(reasons, list) and reasons else None,
        content=prompt is not None and (answer is not None or status != "ok"),
    )


def exchanges(request: Any) -> list[Exchange]:
    """The GenAI calls in one OTLP/JSON ExportTraceServiceRequest."""
    if not isinstance(request, dict) or not isinstance(request.get("resourceSpans"), list):
        raise OtlpError("expected an OTLP/JSON request with resourceSpans")
    found = []
    for r, resource in enumerate(request["resourceSpans"]):
        for s, scope in enumerate((resource or {}).get("scopeSpans") or []):
            for i, span in enumerate((scope or {}).get("spans") or []):
                where = f"resourceSpans[{r}].scopeSpans[{s}].spans[{i}]"
                if not isinstance(span, dict):
                    raise OtlpError(f"{where}: expected a span object")
                x = _exchange(span, where)
                if x is not None:
                    found.append(x)
    return found
