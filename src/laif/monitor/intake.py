"""Taking in production logs: JSONL of LLM exchanges, one line at a time, into window summaries.

One line is one call:

    {"time": "2026-11-23T08:00:03Z", "prompt": "...", "answer": "...", "model": "bank-bot-3",
     "latency_s": 0.84, "input_tokens": 41, "output_tokens": 63, "finish_reason": "stop",
     "status": "ok", "feedback": 1, "user_id": "c-1093", "features": {"channel": "web"}}

`time` and `prompt` are required, `answer` too unless `status` is error or timeout; the rest is
optional. Fields the spec names as identifiers are pseudonymised with IPMS (`keep: pseudonymised`),
kept as they are (`keep: raw`), or dropped at the parser (`keep: none`, the default); other
unknown fields are ignored and never stored.

Nothing is lost and nothing is counted twice:
- summaries are written every `FLUSH_EVERY` lines, together with how far the file was read
  (bytes, lines, SHA-256 of what was read) in the same transaction;
- a bad line stops the intake with exit 2 naming file and line, after everything before it
  is written; fixing the line and running the same command goes on from there;
- taking in a file that grew (`laif monitor watch`) reads only what is new; a file changed
  before the point already read is refused.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from sqlalchemy import select

from laif.errors import BadInput
from laif.ipms.detect import find_in_text
from laif.ipms.pseudonyms import Pseudonymiser, canonical_id, domain_key, master_secret
from laif.monitor import otlp
from laif.monitor.spec import MonitorSpec
from laif.monitor.store import CallRow, IntakeRow, MonitorStore, StreamRow, WindowRow
from laif.monitor.summary import _READER, Analysis, Exchange, WindowSummary, analyse, prime

FLUSH_EVERY = 20_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
FORMS = ("jsonl", "otlp", "csv", "parquet")
STATUSES = ("ok", "error", "timeout")
_FEEDBACK = {1: 1, -1: -1, 0: 0, "up": 1, "down": -1, "none": 0}


class _Bad(ValueError):
    """A problem with one field of one line; intake adds file and line."""


#: The largest whole number a float holds (about 1.8e308). JSON has no bound on whole numbers; one
#: beyond this cannot be binned or compared, so a line holding one in a number field is a bad line
#: (exit 2, file, line and field), never read as text: the field is one the spec reads as a number.
_FLOAT_MAX = int(sys.float_info.max)


def _beyond_float(value: Any) -> bool:
    return type(value) is int and not -_FLOAT_MAX <= value <= _FLOAT_MAX


def _too_big(name: str) -> _Bad:
    return _Bad(f"field {name!r}: a whole number beyond the range of numbers (about 1.8e308)")


def zoned_time(text: str) -> datetime:
    """An ISO 8601 time that names its zone, in UTC; ValueError saying what is wrong otherwise."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an ISO 8601 time: {text!r}") from None
    if when.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone; write it as 2026-11-23T08:00:03Z or with +01:00")
    return when.astimezone(UTC)


def _time(value: Any) -> datetime:
    if _beyond_float(value):
        raise _too_big("time")
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise _Bad(f"field 'time': {value!r} seconds since 1970 is beyond the years a time can have") from None
    if not isinstance(value, str):
        raise _Bad(f"field 'time': expected an ISO 8601 time or seconds since 1970, got {value!r}")
    try:
        return zoned_time(value)
    except ValueError as exc:
        raise _Bad(f"field 'time': {exc}") from None


def _number(record: dict[str, Any], name: str, integer: bool = False) -> Any:
    value = record.get(name)
    if value is None:
        return None
    if _beyond_float(value):
        raise _too_big(name)
    ok = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok or not math.isfinite(value) or value < 0:
        kind = "a whole number" if integer else "a number"
        raise _Bad(f"field {name!r}: expected {kind} >= 0, got {value!r}")
    return value


def _text(record: dict[str, Any], name: str, required: bool) -> str | None:
    value = record.get(name)
    if value is None:
        if required:
            raise _Bad(f"field {name!r} is missing" if name not in record else f"field {name!r} is null")
        return None
    if not isinstance(value, str):
        raise _Bad(f"field {name!r}: expected text, got {type(value).__name__}")
    return value


def parse_exchange(record: Any, identifiers: list[str], keep_ids: bool) -> Exchange:
    """One record checked field by field; identifiers are kept only when `keep_ids`.

    Values of the usual types pass quick checks; any other goes through the full check, which
    accepts it or names the field, so a record with several bad fields names the same first one."""
    if type(record) is not dict and not isinstance(record, dict):
        raise _Bad(f"expected a JSON object, got {type(record).__name__}")
    get = record.get
    if "time" not in record:
        raise _Bad("field 'time' is missing")
    status = get("status", "ok")
    if status not in STATUSES:
        raise _Bad(f"field 'status': expected one of {', '.join(STATUSES)}, got {status!r}")
    feedback = get("feedback")
    if feedback is not None and (isinstance(feedback, bool) or feedback not in _FEEDBACK):
        raise _Bad(f"field 'feedback': expected 1, 0, -1, 'up' or 'down', got {feedback!r}")
    features = get("features") or {}
    if not isinstance(features, dict):
        raise _Bad("field 'features': expected an object of names to numbers or text")
    for name, value in features.items():
        kind = type(value)
        if kind is str or kind is float and math.isfinite(value) or kind is int and not _beyond_float(value):
            continue
        if _beyond_float(value):
            raise _too_big(f"features.{name}")
        if isinstance(value, bool) or not isinstance(value, int | float | str) or (
                not isinstance(value, str) and not math.isfinite(value)):
            raise _Bad(f"field 'features.{name}': expected a number or text, got {value!r}")
    embedding = get("embedding")
    if embedding is not None and (not isinstance(embedding, list) or len(embedding) < 2 or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and not _beyond_float(v) and math.isfinite(v)
            for v in embedding)):
        raise _Bad("field 'embedding': expected a list of two or more numbers")
    ids: dict[str, str] = {}
    if keep_ids:
        for name in identifiers:
            value = get(name)
            if value is not None:
                if not isinstance(value, str | int) or isinstance(value, bool):
                    raise _Bad(f"field {name!r}: an identifier must be text or a whole number")
                ids[name] = str(value)
    when = _time(record["time"])
    prompt = get("prompt")
    if type(prompt) is not str:
        prompt = _text(record, "prompt", True) or ""
    answer = get("answer")
    if type(answer) is not str:
        answer = _text(record, "answer", status == "ok")
    model = get("model")
    if model is not None and type(model) is not str:
        model = _text(record, "model", False)
    latency = get("latency_s")
    if latency is not None and not ((type(latency) is float and 0 <= latency < math.inf)
                                    or (type(latency) is int and 0 <= latency <= _FLOAT_MAX)):
        latency = _number(record, "latency_s")
    input_tokens = get("input_tokens")
    if input_tokens is not None and not (type(input_tokens) is int and 0 <= input_tokens <= _FLOAT_MAX):
        input_tokens = _number(record, "input_tokens", integer=True)
    output_tokens = get("output_tokens")
    if output_tokens is not None and not (type(output_tokens) is int and 0 <= output_tokens <= _FLOAT_MAX):
        output_tokens = _number(record, "output_tokens", integer=True)
    finish_reason = get("finish_reason")
    if finish_reason is not None and type(finish_reason) is not str:
        finish_reason = _text(record, "finish_reason", False)
    return Exchange(
        time=when, prompt=prompt, answer=answer, status=status, model=model, latency_s=latency,
        input_tokens=input_tokens, output_tokens=output_tokens, finish_reason=finish_reason,
        feedback=_FEEDBACK[feedback] if feedback is not None else None, ids=ids, features=features,
        embedding=[float(v) for v in embedding] if embedding is not None else None,
    )


def _mask(text: str) -> str:
    """Personal data the IPMS detector confirms, replaced by its kind: '[email]', '[lu_iban]'."""
    for f in reversed(find_in_text(text)):
        text = text[: f["start"]] + f"[{f['kind']}]" + text[f["end"]:]
    return text


@dataclass
class IntakeResult:
    stream: str
    path: Path
    lines: int = 0  # lines taken in by this call
    resumed_at: int = 0  # lines already taken in before it
    calls: int = 0
    windows: set[int] = field(default_factory=set)


class _Intake:
    """The state of one intake between flushes."""

    def __init__(self, store: MonitorStore, spec: MonitorSpec, path: Path | None) -> None:
        self.store, self.spec, self.path = store, spec, path
        self.key = str(path.resolve()) if path is not None else None  # None: calls that came over HTTP
        self.dirty: dict[int, WindowSummary] = {}
        #: Calls added since the last `settle`, per window, to go into `dirty` a batch at a time.
        self.pending: dict[int, list[tuple[Exchange, Analysis]]] = {}
        self.by_count = spec.window.by == "count"
        self.window_size = spec.window.length
        self.calls: list[CallRow] = []
        self.hasher: Any = hashlib.sha256()  # of the bytes read; Parquet: a _RowSum of the rows
        self.offset = 0
        self.line = 0
        self.seen = 0
        self.dim: int | None = None  # the length of this intake's embeddings
        self.pseudonymiser: Pseudonymiser | None = None
        if spec.keep == "pseudonymised" and spec.identifiers:
            self.pseudonymiser = Pseudonymiser(domain_key(master_secret(spec.key_env), spec.name))

    def open_stream(self) -> None:
        """Make the stream, or check the spec keeps its windows the way they were cut."""
        with self.store.session() as s:
            row = s.get(StreamRow, self.spec.name)
            if row is None:
                s.add(StreamRow(name=self.spec.name, spec=self.spec.model_dump(mode="json"), seen=0))
                return
            before = MonitorSpec.model_validate(row.spec)
            if before.window != self.spec.window:
                raise BadInput(f"stream {self.spec.name!r} is cut in windows of {before.window.describe()}, "
                               f"this spec says {self.spec.window.describe()}",
                               hint="windows cannot change under a stream; use another stream name")
            row.spec = self.spec.model_dump(mode="json")
            self.seen = row.seen

    def resume(self, fh: BinaryIO) -> int:
        """Skip what an earlier intake of this file read, after checking it is unchanged."""
        with self.store.session() as s:
            row = s.scalars(select(IntakeRow).where(IntakeRow.stream == self.spec.name,
                                                    IntakeRow.path == self.key)).first()
        if row is None:
            return 0
        remaining = row.bytes
        while remaining:
            block = fh.read(min(remaining, 1 << 20))
            if not block:
                break
            self.hasher.update(block)
            remaining -= len(block)
        if remaining or self.hasher.hexdigest() != row.prefix_sha256:
            raise BadInput(f"{self.path}: changed before line {row.lines + 1}, up to which stream "
                           f"{self.spec.name!r} already took it in",
                           hint="a file is only ever appended to; take in a changed file under another stream")
        self.offset, self.line = row.bytes, row.lines
        return row.lines

    def check(self, calls: list[Exchange]) -> list[Exchange]:
        """Embeddings all of one length, so windows can be compared."""
        for x in calls:
            if x.embedding is not None:
                if self.dim is None:
                    self.dim = len(x.embedding)
                elif len(x.embedding) != self.dim:
                    raise _Bad(f"field 'embedding': {len(x.embedding)} numbers where the lines before have {self.dim}")
        return calls

    def add(self, x: Exchange) -> int:
        """Read the call and queue it for its window's summary (`settle`); the window's index."""
        seq = self.seen
        # spec.window_of, with the window's size read once
        index = seq // self.window_size if self.by_count else int(x.time.timestamp()) // self.window_size
        a: Analysis = analyse(x, languages=seq % self.spec.language_every == 0)
        self.seen += 1
        calls = self.pending.get(index)
        if calls is None:
            calls = self.pending[index] = []
        calls.append((x, a))
        if self.spec.keep != "none":
            self._keep(index, x, a)
        return index

    def settle(self) -> None:
        """The calls added since the last time into their windows' summaries, a window at a time."""
        for index, calls in self.pending.items():
            self.dirty.setdefault(index, WindowSummary()).add_many(calls)
        self.pending.clear()

    def _keep(self, index: int, x: Exchange, a: Analysis) -> None:
        ids, prompt, answer = x.ids, x.prompt, x.answer
        if self.spec.keep == "pseudonymised":
            assert self.pseudonymiser is not None or not ids
            ids = {k: self.pseudonymiser(canonical_id(v).encode()) for k, v in ids.items()} if self.pseudonymiser else {}
            prompt, answer = _mask(prompt), _mask(answer) if answer is not None else None
        facts = {"status": x.status, "model": x.model, "latency_s": x.latency_s, "refusal": a.refusal,
                 "pii": sorted({f["kind"] for f in a.pii}), "prompt_language": a.prompt_language,
                 "answer_language": a.answer_language, "feedback": x.feedback}
        self.calls.append(CallRow(stream=self.spec.name, window=index, time=x.time, ids=ids, prompt=prompt,
                                  answer=answer, facts=facts))

    def flush(self) -> None:
        """Write the summaries, the kept calls and how far the file was read, in one transaction."""
        self.settle()
        with self.store.session() as s:
            for index, summary in self.dirty.items():
                row = s.scalars(select(WindowRow).where(WindowRow.stream == self.spec.name,
                                                        WindowRow.index == index)).first()
                if row is None:
                    s.add(WindowRow(stream=self.spec.name, index=index, n=summary.counts["n"], summary=summary.to_json()))
                else:
                    merged = WindowSummary.from_json(row.summary).merge(summary)
                    row.summary, row.n, row.updated_at = merged.to_json(), merged.counts["n"], datetime.now(UTC)
            s.add_all(self.calls)
            stream = s.get(StreamRow, self.spec.name)
            assert stream is not None
            stream.seen = self.seen
            if self.key is not None:
                progress = s.scalars(select(IntakeRow).where(IntakeRow.stream == self.spec.name,
                                                             IntakeRow.path == self.key)).first()
                if progress is None:
                    progress = IntakeRow(stream=self.spec.name, path=self.key)
                    s.add(progress)
                progress.lines, progress.bytes = self.line, self.offset
                progress.prefix_sha256, progress.updated_at = self.hasher.hexdigest(), datetime.now(UTC)
        self.dirty.clear()
        self.calls.clear()


def take(store: MonitorStore, spec: MonitorSpec, calls: list[Exchange]) -> None:
    """Take in calls that came some other way than a file (OTLP over HTTP), in one transaction."""
    intake = _Intake(store, spec, None)
    intake.open_stream()
    if spec.language_every == 1:
        prime(calls)
    for x in calls:
        intake.add(x)
    intake.flush()


Decoder = Callable[[bytes], list[Exchange]]


def _loads(raw: bytes) -> Any:
    """`json.loads`, faster: orjson reads the line, and what it refuses (NaN, integers beyond 64
    bits, lone surrogates, other encodings than UTF-8) is read by `json`, which accepts it or
    words the error as before."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


def _json_decoder(form: str, spec: MonitorSpec) -> Decoder:
    if form == "otlp":
        return lambda raw: otlp.exchanges(_loads(raw))
    keep_ids = spec.keep != "none"
    return lambda raw: [parse_exchange(_loads(raw), spec.identifiers, keep_ids)]


def _decode_ahead(lines: list[bytes], decode: Decoder) -> list[list[Exchange] | Exception]:
    """Each line's calls, or what reading it raised (raised again in its turn, by `_take_line`)."""
    out: list[list[Exchange] | Exception] = []
    for raw in lines:
        try:
            out.append(decode(raw) if raw.strip() else [])
        except Exception as exc:  # noqa: BLE001 - kept, and raised when the line's turn comes
            out.append(exc)
    return out


_STATUS_CODE = {"ok": 0, "error": 1, "timeout": 2}
_FEEDBACK_OF = {**_FEEDBACK, None: 0}
_NONE = type(None)
_TEXT_OR_NONE: frozenset[type] = frozenset({str, _NONE})
_NUMBER_OR_NONE: frozenset[type] = frozenset({int, float, _NONE})
_WHOLE_OR_NONE: frozenset[type] = frozenset({int, _NONE})
_ABSENT: Any = object()


def _numbers(values: list[Any], kinds: frozenset[type]) -> Any:
    """A column of numbers (None where absent) as floats (NaN where absent), or None when a value is
    of another kind, negative, not finite or beyond a float: the slow path then names it."""
    import numpy as np

    if not set(map(type, values)) <= kinds:
        return None
    try:
        column = np.array([math.nan if v is None else v for v in values], dtype=np.float64)
    except OverflowError:
        return None
    present = column[~np.isnan(column)]
    return column if bool(np.all(np.isfinite(present) & (present >= 0))) else None


def _read_fast(spec: MonitorSpec, seen: int, dirty: dict[int, WindowSummary],
               lines: list[bytes]) -> tuple[int, set[int]] | None:
    """A chunk of JSONL lines read at once, column by column, into the window summaries: the same
    summaries as `parse_exchange`, `analyse` and `WindowSummary.add_many` call by call (each window's
    numbers binned at once, in the order of the calls), with one Python call per chunk and field
    instead of several per line, into `dirty` (calls numbered from `seen`; the caller counts them
    in). The calls taken in and their windows; None, having changed nothing,
    when a line is anything but a plain record (a bad line, a field of an unusual type, numeric times,
    embeddings, calls out of time order across windows): the chunk is then read line by line."""
    import numpy as np

    body = [raw for raw in lines if raw.strip()]
    n = len(body)
    if not n:
        return 0, set()
    loads = orjson.loads
    try:
        records = [loads(raw) for raw in body]
    except orjson.JSONDecodeError:
        return None
    if set(map(type, records)) != {dict}:
        return None
    # the fields, a column each, checked as parse_exchange checks them
    times = [r.get("time") for r in records]
    if set(map(type, times)) != {str}:
        return None
    try:
        when = list(map(datetime.fromisoformat, times))
    except ValueError:
        return None
    zones = set(map(_tzinfo, when))
    if zones != {UTC}:
        if None in zones:
            return None
        when = [w.astimezone(UTC) for w in when]
    statuses = [r.get("status", "ok") for r in records]
    feedback = [r.get("feedback") for r in records]
    prompts = [r.get("prompt") for r in records]
    answers = [r.get("answer") for r in records]
    models = [r.get("model") for r in records]
    reasons = [r.get("finish_reason") for r in records]
    features = [r.get("features") or {} for r in records]
    try:
        if not (set(statuses) <= _STATUS_CODE.keys() and set(feedback) <= _FEEDBACK_OF.keys()):
            return None
    except TypeError:  # a list or an object where a word is expected
        return None
    if (bool in set(map(type, feedback)) or set(map(type, prompts)) != {str}
            or not set(map(type, answers)) <= _TEXT_OR_NONE or not set(map(type, models)) <= _TEXT_OR_NONE
            or not set(map(type, reasons)) <= _TEXT_OR_NONE or set(map(type, features)) != {dict}
            or any(r.get("embedding") is not None for r in records)):
        return None
    if None in answers and any(a is None and s == "ok" for a, s in zip(answers, statuses, strict=True)):
        return None
    latency = _numbers([r.get("latency_s") for r in records], _NUMBER_OR_NONE)
    inputs = _numbers([r.get("input_tokens") for r in records], _WHOLE_OR_NONE)
    outputs = _numbers([r.get("output_tokens") for r in records], _WHOLE_OR_NONE)
    if latency is None or inputs is None or outputs is None:
        return None
    feature_columns: dict[str, tuple[list[Any], set[type]]] = {}
    for name in set().union(*features):
        column = [f.get(name, _ABSENT) for f in features]
        kinds = set(map(type, column))
        if not kinds <= {str, int, float, object}:
            return None
        if kinds & {int, float}:
            present = [v for v in column if type(v) is not str and v is not _ABSENT]
            try:
                if not all(map(math.isfinite, present)):
                    return None
            except OverflowError:
                return None
        feature_columns[name] = (column, kinds)
    # the windows, in the order of the calls (else read line by line, which puts each call in its own)
    size = spec.window.length
    if spec.window.by == "count":
        windows = (seen + np.arange(n, dtype=np.int64)) // size
    else:
        stamps = np.fromiter(map(datetime.timestamp, when), dtype=np.float64, count=n)
        windows = stamps.astype(np.int64) // size
    if n > 1 and bool(np.any(windows[1:] < windows[:-1])):
        return None
    # the texts, each read once
    code = np.fromiter(map(_STATUS_CODE.__getitem__, statuses), dtype=np.int8, count=n)
    ok = code == 0
    texts = [(a or "").strip() if s == "ok" else "" for a, s in zip(answers, statuses, strict=True)]
    filled = np.fromiter(map(bool, texts), dtype=bool, count=n)
    answered = ok & filled
    at = np.flatnonzero(answered).tolist()
    refusal, pii = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    reader = _READER
    if at:
        said = [texts[i] for i in at]
        refused, personal = reader.answers_of(said)
        refusal[at], pii[at] = refused, personal
    every = spec.language_every
    asked = np.arange(n) if every == 1 else np.flatnonzero((seen + np.arange(n)) % every == 0)
    prompt_language: list[str | None] = [None] * n
    answer_language: list[str | None] = [None] * n
    if len(asked):
        asked_list = asked.tolist()
        answered_asked = [i for i in asked_list if answered[i]]
        found = reader.languages_of([prompts[i] for i in asked_list] + [texts[i] for i in answered_asked])
        for i, lang in zip(asked_list, found, strict=False):
            prompt_language[i] = lang
        for i, lang in zip(answered_asked, found[len(asked_list):], strict=True):
            answer_language[i] = lang
    same = np.fromiter((p is not None and a is not None and p == a for p, a in zip(prompt_language, answer_language,
                                                                                  strict=True)), dtype=bool, count=n)
    checked = np.fromiter((p is not None and a is not None for p, a in zip(prompt_language, answer_language,
                                                                           strict=True)), dtype=bool, count=n)
    rating = np.fromiter(map(_FEEDBACK_OF.__getitem__, feedback), dtype=np.int8, count=n)
    truncated = answered & np.fromiter((r == "length" for r in reasons), dtype=bool, count=n)
    prompt_chars = np.fromiter(map(len, prompts), dtype=np.float64, count=n)
    answer_chars = np.array([math.nan if a is None else len(a) for a in answers], dtype=np.float64)
    # into each window's summary, a run of calls at a time
    edges = [0, *(np.flatnonzero(windows[1:] != windows[:-1]) + 1).tolist(), n]
    for start, stop in itertools.pairwise(edges):
        index = int(windows[start])
        part = slice(start, stop)
        errors = int(np.count_nonzero(code[part] == 1))
        timeouts = int(np.count_nonzero(code[part] == 2))
        read = stop - start - errors - timeouts
        done = int(np.count_nonzero(answered[part]))
        counts = {"n": stop - start, "ok": read, "errors": errors, "timeouts": timeouts, "read": read,
                  "empty": read - done, "answered": done, "refusals": int(np.count_nonzero(refusal[part])),
                  "pii": int(np.count_nonzero(pii[part])), "truncated": int(np.count_nonzero(truncated[part])),
                  "lang_checked": int(np.count_nonzero(checked[part])), "lang_same": int(np.count_nonzero(same[part])),
                  "rated": int(np.count_nonzero(rating[part])), "feedback_up": int(np.count_nonzero(rating[part] > 0))}
        numbers: dict[str, Any] = {}
        for name, floats in (("latency_s", latency), ("input_tokens", inputs), ("output_tokens", outputs),
                             ("prompt_chars", prompt_chars), ("answer_chars", answer_chars)):
            measured = floats[part]
            numbers[name] = measured[~np.isnan(measured)]
        labels = {"prompt_language": [v for v in prompt_language[part] if v is not None],
                  "answer_language": [v for v in answer_language[part] if v is not None],
                  "model": [v for v in models[part] if v is not None],
                  "finish_reason": [v for v in reasons[part] if v is not None]}
        for name, (column, kinds) in feature_columns.items():
            values = [v for v in column[part] if v is not _ABSENT]
            if str not in kinds:
                numbers[f"features.{name}"] = values
            elif kinds <= {str, object}:
                labels[f"features.{name}"] = values
            else:
                numbers[f"features.{name}"] = [v for v in values if type(v) is not str]
                labels[f"features.{name}"] = [v for v in values if type(v) is str]
        summary = dirty.get(index)
        if summary is None:
            summary = dirty[index] = WindowSummary()
        summary.add_counted(counts, min(when[part]), max(when[part]), numbers, labels)
    return n, set(windows.tolist())


def _flush_line(lines: list[bytes], calls: int) -> int:
    """How many of `lines` hold the next `calls` calls (one a line, blank lines none): all of them
    when they hold fewer."""
    if len(lines) < calls:
        return len(lines)
    for k, raw in enumerate(lines):
        if raw.strip():
            calls -= 1
            if not calls:
                return k + 1
    return len(lines)


def _tzinfo(when: datetime) -> Any:
    return when.tzinfo


def _csv_decoder(path: Path) -> Decoder:
    """Rows of a table of model inputs and outputs: a `time` column, every other column a feature
    (a number where it reads as one, else a label; empty cells are left out). No prompt or answer."""
    with path.open("r", encoding="utf-8", newline="") as fh:
        first = fh.readline()
    delimiter = ";" if first.count(";") > first.count(",") else ","
    header = next(csv.reader([first], delimiter=delimiter), [])
    if "time" not in header:
        raise BadInput.at(str(path), 1, f"no 'time' column; the header has {', '.join(header) or 'nothing'}")
    at = header.index("time")

    def decode(raw: bytes) -> list[Exchange]:
        cells = next(csv.reader([raw.decode("utf-8")], delimiter=delimiter))
        if len(cells) != len(header):
            raise _Bad(f"{len(cells)} cells for {len(header)} columns")
        features: dict[str, float | str] = {}
        for name, cell in zip(header, cells, strict=True):
            if name != "time" and cell.strip():
                try:
                    number = float(cell)
                    features[name] = number if math.isfinite(number) else cell
                except ValueError:
                    features[name] = cell
        return [Exchange(time=_time(cells[at]), prompt="", answer=None, features=features, content=False)]

    return decode


def _take_line(intake: _Intake, result: IntakeResult, raw: bytes, decode: Decoder, form: str,
               decoded: list[Exchange] | Exception | None = None) -> int:
    """One line into the summaries (its calls counted in `result`); the number of calls it held.
    A bad line flushes what came before it and stops with BadInput naming file and line.
    `decoded`: the line already read by `_decode_ahead`."""
    line_no = intake.line + 1
    taken = 0
    if raw.strip():
        try:
            if isinstance(decoded, Exception):
                raise decoded
            calls = [] if form == "csv" and line_no == 1 else intake.check(
                decode(raw) if decoded is None else decoded)  # 1: the header
        except (ValueError, UnicodeDecodeError, csv.Error) as exc:
            intake.flush()
            what = "a CSV row" if form == "csv" else "a JSON line"
            message = str(exc) if isinstance(exc, _Bad | otlp.OtlpError) else f"not {what} ({exc})"
            raise BadInput.at(str(intake.path), line_no, message,
                              hint=f"lines 1-{line_no - 1} are taken in; fix this line and run the same "
                                   "command to go on from it") from None
        for x in calls:
            result.windows.add(intake.add(x))
        taken = len(calls)
        result.calls += taken
    intake.hasher.update(raw)
    intake.offset += len(raw)
    intake.line = line_no
    result.lines += 1
    return taken


#: Lines handed to a worker at a time, and how many such chunks may wait per worker.
CHUNK_LINES = 2_000
_AHEAD = 2


@dataclass
class _Chunk:
    """What a worker read from a chunk of lines: summaries per window, calls, embeddings' length."""

    summaries: dict[int, WindowSummary]
    calls: int
    windows: set[int]
    dim: int | None


_WORKER_SPEC: dict[str, MonitorSpec] = {}


def _read_chunk(form: str, spec_json: str, path: str, lines: list[bytes], first_line: int, seen: int) -> _Chunk | None:
    """In a worker process: a chunk of JSONL or CSV lines into window summaries, call numbers from
    `seen` (one call per line). None when any line is bad: the main process then reads the chunk
    itself, line by line, and stops at the bad line with its usual message."""
    spec = _WORKER_SPEC.get(spec_json) or _WORKER_SPEC.setdefault(spec_json, MonitorSpec.model_validate_json(spec_json))
    if form == "jsonl":  # read column by column, as one process does; a chunk it cannot is read below
        dirty: dict[int, WindowSummary] = {}
        got = _read_fast(spec, seen, dirty, lines)
        if got is not None:
            return _Chunk(dirty, got[0], got[1], None)
    decode = _csv_decoder(Path(path)) if form == "csv" else _json_decoder(form, spec)
    chunk = _Chunk({}, 0, set(), None)
    calls: list[Exchange] = []
    try:
        for k, raw in enumerate(lines):
            if not raw.strip() or (form == "csv" and first_line + k == 1):
                continue
            for x in decode(raw):
                if x.embedding is not None:
                    if chunk.dim is None:
                        chunk.dim = len(x.embedding)
                    elif len(x.embedding) != chunk.dim:
                        return None
                calls.append(x)
    except (ValueError, UnicodeDecodeError, csv.Error):
        return None
    if spec.language_every == 1:
        prime(calls)
    pending: dict[int, list[tuple[Exchange, Analysis]]] = {}
    for x in calls:
        index = spec.window_of(x.time, seen)
        pending.setdefault(index, []).append((x, analyse(x, seen % spec.language_every == 0)))
        chunk.windows.add(index)
        seen += 1
        chunk.calls += 1
    for index, batch in pending.items():
        chunk.summaries.setdefault(index, WindowSummary()).add_many(batch)
    return chunk


def _ingest_parallel(intake: _Intake, result: IntakeResult, fh: BinaryIO, decode: Decoder, form: str, workers: int,
                     flush_every: int) -> None:
    """JSONL or CSV read by `workers` processes, a chunk of lines each, merged in file order: the
    summaries merge, so the windows are those of one process reading every line; progress,
    flushes and a bad line behave as in `ingest`."""
    import multiprocessing
    from collections import deque

    from laif.core.langid import _identifier

    _identifier()  # loaded once here, before the workers are forked
    spec_json = intake.spec.model_dump_json()
    pending = 0
    waiting: deque[tuple[list[bytes], Any]] = deque()

    def settle(lines: list[bytes], job: Any) -> None:
        nonlocal pending
        got: _Chunk | None = job.get()
        if got is None or (got.dim is not None and intake.dim is not None and got.dim != intake.dim):
            for raw in lines:  # a bad line somewhere: read here, to stop at it with its message
                pending += _take_line(intake, result, raw, decode, form)
            intake.settle()  # into the summaries before the next chunk's, in the order of the file
        else:
            for index, summary in got.summaries.items():
                mine = intake.dirty.get(index)
                intake.dirty[index] = summary if mine is None else mine.merge(summary)
            intake.seen += got.calls
            intake.dim = intake.dim if intake.dim is not None else got.dim
            for raw in lines:
                intake.hasher.update(raw)
                intake.offset += len(raw)
            intake.line += len(lines)
            result.lines += len(lines)
            result.calls += got.calls
            result.windows |= got.windows
            pending += got.calls
        if pending >= flush_every:
            intake.flush()
            pending = 0

    seen = intake.seen
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        first_line = intake.line + 1
        while True:
            lines = list(itertools.islice(fh, CHUNK_LINES))
            if not lines:
                break
            job = pool.apply_async(_read_chunk, (form, spec_json, str(intake.path), lines, first_line, seen))
            seen += sum(1 for k, raw in enumerate(lines) if raw.strip() and not (form == "csv" and first_line + k == 1))
            first_line += len(lines)
            waiting.append((lines, job))
            while len(waiting) > _AHEAD * workers:
                settle(*waiting.popleft())
        while waiting:
            settle(*waiting.popleft())


def ingest(store: MonitorStore, spec: MonitorSpec, path: Path, *, form: str = "jsonl", whole_lines_only: bool = False,
           flush_every: int = FLUSH_EVERY, workers: int = 1) -> IntakeResult:
    """Take in `path` from where the last intake of it stopped. `form` is `jsonl` (one call per
    line), `otlp` (one OTLP/JSON request of GenAI spans per line), `csv` (a table with a `time`
    column) or `parquet` (the same table in Parquet, read a row group at a time). With
    `whole_lines_only` a last line without its newline is left for later (it may still be being
    written). With `workers` > 1, JSONL and CSV are read by that many processes (Linux; not when
    calls are kept), with the same result."""
    if form not in FORMS:
        raise BadInput(f"--format {form!r}: one of {', '.join(FORMS)}")
    if not path.is_file():
        raise BadInput(f"{path}: no such file")
    if form == "parquet":
        intake = _Intake(store, spec, path)
        intake.open_stream()
        from laif.monitor.parquet import ingest_parquet

        return ingest_parquet(intake, path, IntakeResult(spec.name, path), flush_every)
    decode = _csv_decoder(path) if form == "csv" else _json_decoder(form, spec)
    intake = _Intake(store, spec, path)
    intake.open_stream()
    result = IntakeResult(spec.name, path)
    with path.open("rb") as fh:
        result.resumed_at = intake.resume(fh)
        parallel = workers > 1 and form in ("jsonl", "csv") and spec.keep == "none" and not whole_lines_only
        if parallel and sys.platform.startswith("linux"):
            _ingest_parallel(intake, result, fh, decode, form, workers, flush_every)
        else:
            pending = 0
            fast = form == "jsonl" and spec.keep == "none"
            while lines := list(itertools.islice(fh, CHUNK_LINES)):
                if whole_lines_only and not lines[-1].endswith(b"\n"):
                    lines.pop()  # the last line, still being written: left for later
                    if not lines:
                        break
                while fast and lines:
                    # up to the line where the calls since the last flush reach flush_every, as
                    # below: the windows' partial summaries, hence their merges, are the same
                    part = lines[: _flush_line(lines, flush_every - pending)]
                    got = _read_fast(intake.spec, intake.seen, intake.dirty, part)
                    if got is None:
                        break
                    intake.seen += got[0]
                    intake.hasher.update(b"".join(part))
                    intake.offset += sum(map(len, part))
                    intake.line += len(part)
                    result.lines += len(part)
                    result.calls += got[0]
                    result.windows |= got[1]
                    pending += got[0]
                    if pending >= flush_every:
                        intake.flush()
                        pending = 0
                    lines = lines[len(part):]
                if not lines:
                    continue
                # A chunk's lines are read first, each once, so that the languages of all its
                # texts are read at once; then taken in line by line, stopping at a bad one.
                ahead = _decode_ahead(lines, decode) if form in ("jsonl", "otlp") else None
                if ahead is not None and spec.language_every == 1:
                    prime([x for calls in ahead if not isinstance(calls, Exception) for x in calls])
                for k, raw in enumerate(lines):
                    if whole_lines_only and not raw.endswith(b"\n"):
                        break
                    pending += _take_line(intake, result, raw, decode, form, ahead[k] if ahead is not None else None)
                    if pending >= flush_every:
                        intake.flush()
                        pending = 0
                intake.settle()
    intake.flush()
    return result
