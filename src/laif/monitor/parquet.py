"""Taking in a Parquet table of model inputs and outputs: a `time` column, every other column a
drift feature (as for CSV), read a row group at a time so no file has to fit in memory."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from laif.errors import BadInput
from laif.monitor.intake import _EPOCH, _MICROSECOND, IntakeResult, _Bad, _Intake, _time
from laif.monitor.sketch import Categories, Sketch
from laif.monitor.store import IntakeRow
from laif.monitor.summary import WindowSummary


def _cells(column: Any, kind: str, name: str, where: str) -> Any:
    """One Parquet column of a row group: times as a list (seconds or text), a number feature as a
    float array (nulls, NaN and infinities as NaN: left out), a label feature as a list of text."""
    import numpy as np
    import pyarrow as pa  # type: ignore[import-untyped]

    t = column.type
    if kind == "time":
        if pa.types.is_timestamp(t):
            if t.tz is None:
                raise BadInput(f"{where}, column 'time': timestamps without a time zone; write them "
                               "adjusted to UTC (pyarrow: pa.timestamp('us', tz='UTC'))")
            return [None if v is None else _EPOCH + timedelta(microseconds=v)
                    for v in column.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).to_pylist()]
        if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_integer(t) or pa.types.is_floating(t):
            return list(column.to_pylist())
        raise BadInput(f"{where}, column 'time': type {t} is not a time; use a timestamp with a time zone, "
                       "ISO 8601 text or seconds since 1970")
    if pa.types.is_dictionary(t) and (pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type)):
        chunks = column.chunks if hasattr(column, "chunks") else [column]
        cells: list[str | None] = []
        for chunk in chunks:  # each label once, then its place in the rows
            labels = [v if v is None or v.strip() else None for v in chunk.dictionary.to_pylist()] + [None]
            places = chunk.indices.fill_null(len(labels) - 1).to_numpy(zero_copy_only=False)
            cells += map(labels.__getitem__, places.tolist())
        return cells
    if pa.types.is_dictionary(t):
        column = column.cast(t.value_type)
        t = t.value_type
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        values = np.array(column.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
        values[~np.isfinite(values)] = np.nan
        return values
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return [v if v is None or v.strip() else None for v in column.to_pylist()]
    if pa.types.is_boolean(t):
        return [("true" if v else "false") if v is not None else None for v in column.to_pylist()]
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return [v.isoformat() if v is not None else None for v in column.to_pylist()]
    raise BadInput(f"{where}, column {name!r}: type {t} cannot be a drift feature; "
                   "use numbers, text, booleans or dates")


_MASK = (1 << 64) - 1


def _mix(h: Any) -> Any:
    """splitmix64's finaliser on a numpy array of uint64 (wrapping arithmetic)."""
    import numpy as np

    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


class _RowSum:
    """A fingerprint of the rows taken in that does not depend on how they were grouped: each row
    gets a 64-bit hash of its number and cells, and the fingerprint is their sum (mod 2^64) with
    the count, so rows 1-600 read in one piece or in three give the same. Cells are hashed by
    value: numbers by their bits, text by BLAKE2b. It catches a changed row, not a forger."""

    def __init__(self) -> None:
        self.total, self.rows = 0, 0

    def update_rows(self, columns: dict[str, Any], first: int, end: int, row0: int) -> None:
        import numpy as np

        if end <= first:
            return
        with np.errstate(over="ignore"):
            h = _mix(np.arange(row0 + first, row0 + end, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15))
            for c, values in enumerate(columns.values()):
                if isinstance(values, np.ndarray):
                    part = values[first:end].copy()
                    part[np.isnan(part)] = np.inf  # one code for every missing number
                    cells = part.view(np.uint64)
                elif isinstance(next((v for v in values if v is not None), None), datetime):  # times: microseconds
                    cells = np.fromiter(((v - _EPOCH) // _MICROSECOND if v is not None else -1 for v in values[first:end]),
                                        dtype=np.int64, count=end - first).view(np.uint64)
                else:
                    part = values[first:end]
                    codes = {v: int.from_bytes(hashlib.blake2b(repr(v).encode(), digest_size=8).digest(), "little")
                             for v in set(part)}
                    cells = np.fromiter(map(codes.__getitem__, part), dtype=np.uint64, count=len(part))
                h = _mix(h ^ _mix(cells + np.uint64(c + 1)))
            self.total = (self.total + int(h.sum(dtype=np.uint64))) & _MASK
        self.rows += end - first

    def hexdigest(self) -> str:
        return hashlib.sha256(f"rows {self.rows} sum {self.total}".encode()).hexdigest()


def _add_rows(intake: _Intake, result: IntakeResult, columns: dict[str, Any], times: list[datetime], first: int) -> None:
    """Rows first.. of a row group (their times parsed) into the window summaries, a column at a time."""
    import numpy as np

    count = len(times)
    if intake.spec.window.by == "time":  # as window_of: whole seconds since 1970 over the window's seconds
        micros = np.fromiter(((t - _EPOCH) // _MICROSECOND for t in times), dtype=np.int64, count=count)
        indices = micros // 1_000_000 // intake.spec.window.seconds
    else:
        indices = np.arange(intake.seen, intake.seen + count, dtype=np.int64) // int(intake.spec.window.size)
    intake.seen += count
    result.calls += count
    result.lines += count
    for index in np.unique(indices).tolist():
        where = np.flatnonzero(indices == index)
        summary = intake.dirty.setdefault(index, WindowSummary())
        summary.counts["n"] += len(where)
        summary.counts["ok"] += len(where)
        chosen = [times[k] for k in where.tolist()]
        low, high = min(chosen), max(chosen)
        summary.first = low if summary.first is None or low < summary.first else summary.first
        summary.last = high if summary.last is None or high > summary.last else summary.last
        rows = where + first
        for name, values in columns.items():
            if name == "time":
                continue
            if isinstance(values, np.ndarray):
                picked = values[rows]
                picked = picked[~np.isnan(picked)]
                if len(picked):
                    summary.numbers.setdefault(f"features.{name}", Sketch()).add_many(picked)
            else:
                labels = Counter(values[first:first + count] if len(rows) == count else map(values.__getitem__, rows.tolist()))
                labels.pop(None, None)
                if labels:
                    cats = summary.labels.setdefault(f"features.{name}", Categories())
                    for label, n in labels.items():
                        cats.add(label, n)
        result.windows.add(index)


#: Rows of a Parquet row group summarised at a time (a row group may hold a million).
BATCH_ROWS = 16_384


class _Unreadable(Exception):
    """A row group that pyarrow cannot read (a damaged page); the message names it."""


def ingest_parquet(intake: _Intake, path: Path, result: IntakeResult, flush_every: int) -> IntakeResult:
    """A Parquet table, one row group at a time (never the whole file in memory), each column
    summarised at once: a `time` column, every other column a feature, as for CSV. Progress is
    kept in rows, with a fingerprint of the rows taken in (`_RowSum`), so a file fixed after a
    bad row goes on from that row, and a file whose earlier rows changed is refused."""
    import pyarrow as pa
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    try:
        table = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise BadInput(f"{path}: not a Parquet file ({exc})") from None
    names = table.schema_arrow.names
    if "time" not in names:
        raise BadInput(f"{path}: no 'time' column; the columns are {', '.join(names) or 'none'}")
    with intake.store.session() as s:
        done = s.scalars(select(IntakeRow).where(IntakeRow.stream == intake.spec.name,
                                                 IntakeRow.path == intake.key)).first()
        skip, expected = (done.lines, done.prefix_sha256) if done is not None else (0, "")
    result.resumed_at = skip
    row, pending = 0, 0
    intake.hasher = _RowSum()

    def check_prefix() -> None:
        if intake.hasher.hexdigest() != expected:
            raise BadInput(f"{path}: changed in its first {skip} rows, which stream {intake.spec.name!r} already "
                           "took in", hint="take in a changed file under another stream")

    def pieces() -> Any:
        """(row group, its rows in batches of at most BATCH_ROWS), read as they are needed."""
        for group in range(table.num_row_groups):
            where = f"{path}: row group {group}"
            try:
                for data in table.iter_batches(batch_size=BATCH_ROWS, row_groups=[group]):
                    yield where, data
            except (pa.ArrowException, OSError) as exc:
                raise _Unreadable(f"{where}: cannot be read ({exc})") from None

    batches = pieces()
    while True:
        try:
            piece = next(batches, None)
            if piece is None:
                break
            where, data = piece
            columns = {name: _cells(data.column(name), "time" if name == "time" else "feature", name, where)
                       for name in names}
        except _Unreadable as exc:
            if row >= skip:
                intake.flush()
            raise BadInput(str(exc), hint=f"rows 1-{row} are taken in") from None
        except BadInput:
            if row >= skip:  # never progress behind what was taken in
                intake.flush()
            raise
        except (pa.ArrowException, OSError) as exc:
            if row >= skip:
                intake.flush()
            raise BadInput(f"{where}: cannot be read ({exc})", hint=f"rows 1-{row} are taken in") from None
        size = data.num_rows
        start = min(max(skip - row, 0), size)  # rows of this batch taken in before
        intake.hasher.update_rows(columns, 0, start, row)
        if start and row + start == skip:
            check_prefix()
        times: list[datetime] = []
        bad: tuple[int, str] | None = None
        for i in range(start, size):
            when = columns["time"][i]
            try:
                if when is None:
                    raise _Bad("empty")
                times.append(when if isinstance(when, datetime) else _time(when))
            except _Bad as exc:
                bad = i, str(exc).removeprefix("field 'time': ")
                break
        end = start + len(times)
        _add_rows(intake, result, columns, times, start)
        intake.hasher.update_rows(columns, start, end, row)
        pending += end - start
        row += end
        intake.line = row
        if bad is not None:
            intake.flush()
            raise BadInput(f"{where}, row {row + 1} of the file, column 'time': {bad[1]}",
                           hint=f"rows 1-{row} are taken in; fix the row and run the same command to go on from it")
        row += size - end
        if pending >= flush_every:
            intake.flush()
            pending = 0
    if row < skip:
        raise BadInput(f"{path}: has {row} rows, fewer than the {skip} stream {intake.spec.name!r} already took in",
                       hint="take in a changed file under another stream")
    intake.flush()
    return result
