"""Taking in a Parquet table of model inputs and outputs: a `time` column, every other column a
drift feature (as for CSV), read a row group at a time so no file has to fit in memory."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from laif.errors import BadInput
from laif.monitor.intake import _EPOCH, _MICROSECOND, IntakeResult, _Bad, _Intake, _time
from laif.monitor.store import IntakeRow
from laif.monitor.summary import WindowSummary


def _cells(column: Any, name: str, where: str) -> Any:
    """A piece of a feature column: numbers as a float array (nulls, NaN and infinities as NaN:
    left out), anything else as a list of text. Read without Arrow's compute functions where the
    type allows, since loading them costs more memory than a row group's column."""
    import numpy as np
    import pyarrow as pa  # type: ignore[import-untyped]

    t = column.type
    if pa.types.is_dictionary(t) and (pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type)):
        chunks = column.chunks if hasattr(column, "chunks") else [column]
        cells: list[str | None] = []
        for chunk in chunks:  # each label once, then its place in the rows
            labels = [v if v is None or v.strip() else None for v in chunk.dictionary.to_pylist()] + [None]
            places = np.asarray(chunk.indices.to_numpy(zero_copy_only=False))
            if chunk.null_count:  # a null place comes as NaN: the None at the end of `labels`
                places = np.where(np.isnan(places), len(labels) - 1, places)
            cells += map(labels.__getitem__, places.astype(np.int64).tolist())
        return cells
    if pa.types.is_dictionary(t):
        column = column.cast(t.value_type)
        t = t.value_type
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        if pa.types.is_decimal(t):
            column = column.cast(pa.float64())
        values = np.array(column.to_numpy(zero_copy_only=False), dtype=np.float64)
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


def _codes(values: Any) -> Any:
    """A 64-bit code per cell, by value: numbers by their bits (every missing number one code),
    times as microseconds since 1970 (missing: -1), text and other cells by BLAKE2b."""
    import numpy as np

    if isinstance(values, np.ndarray):
        if values.dtype == np.int64:
            return values.view(np.uint64)
        part = values.copy()
        part[np.isnan(part)] = np.inf
        return part.view(np.uint64)
    codes = {v: int.from_bytes(hashlib.blake2b(repr(v).encode(), digest_size=8).digest(), "little") for v in set(values)}
    return np.fromiter(map(codes.__getitem__, values), dtype=np.uint64, count=len(values))


class _RowSum:
    """A fingerprint of the rows taken in that does not depend on how they were grouped or read:
    each row gets a 64-bit hash of its number and its cells column by column, and the fingerprint
    is their sum (mod 2^64) with the count, so rows 1-600 read in one piece or in three give the
    same. It catches a changed row, not a forger."""

    def __init__(self) -> None:
        self.total, self.rows = 0, 0

    @staticmethod
    def start(row0: int, size: int) -> Any:
        """The hashes of rows row0.. before any cell is mixed in."""
        import numpy as np

        with np.errstate(over="ignore"):
            return _mix(np.arange(row0, row0 + size, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15))

    @staticmethod
    def mix_column(h: Any, column: int, codes: Any) -> Any:
        """`h` (rows' hashes) with the cells of the column at `column` (0-based) mixed in."""
        import numpy as np

        with np.errstate(over="ignore"):
            return _mix(h ^ _mix(codes + np.uint64(column + 1)))

    def add(self, h: Any) -> None:
        import numpy as np

        with np.errstate(over="ignore"):
            self.total = (self.total + int(h.sum(dtype=np.uint64))) & _MASK
        self.rows += len(h)

    def hexdigest(self, total: int | None = None, rows: int | None = None) -> str:
        total = self.total if total is None else total
        rows = self.rows if rows is None else rows
        return hashlib.sha256(f"rows {rows} sum {total}".encode()).hexdigest()


#: Rows of a column of a Parquet row group read at a time (a row group may hold a million).
BATCH_ROWS = 16_384


class _Unreadable(Exception):
    """A row group that pyarrow cannot read (a damaged page); the message names it."""


def _times(raw: Any, first: int) -> tuple[Any, Any, tuple[int, str] | None]:
    """A piece of the time column: the codes of its cells (for the fingerprint), the microseconds
    since 1970 of cells first.. up to the first bad one, and that bad one (place, reason) if any."""
    import numpy as np
    import pyarrow as pa

    if pa.types.is_timestamp(raw.type):  # datetime64 in UTC, nulls as NaT
        stamps = np.asarray(raw.to_numpy(zero_copy_only=False)).astype("datetime64[us]")
        missing = np.isnat(stamps)
        micros = stamps.view(np.int64).copy()
        micros[missing] = -1
        nulls = np.flatnonzero(missing[first:])
        bad = (first + int(nulls[0]), "empty") if len(nulls) else None
        return micros, micros[first:bad[0] if bad else len(micros)], bad
    values = raw.to_pylist()
    out: list[int] = []
    bad = None
    for i in range(first, len(values)):
        when = values[i]
        try:
            if when is None:
                raise _Bad("empty")
            out.append((_time(when) - _EPOCH) // _MICROSECOND)
        except _Bad as exc:
            bad = i, str(exc).removeprefix("field 'time': ")
            break
    return _codes(values), np.array(out, dtype=np.int64), bad


def _check_types(table: Any, names: list[str], path: Path) -> None:
    """Refuse a column whose type cannot be read before anything is taken in (types are the same in
    every row group)."""
    import pyarrow as pa

    where = f"{path}: row group 0"
    for name in names:
        t = table.schema_arrow.field(name).type
        if name != "time":
            _cells(pa.array([], type=t), name, where)
        elif pa.types.is_timestamp(t):
            if t.tz is None:
                raise BadInput(f"{where}, column 'time': timestamps without a time zone; write them "
                               "adjusted to UTC (pyarrow: pa.timestamp('us', tz='UTC'))")
        elif not (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_integer(t)
                  or pa.types.is_floating(t)):
            raise BadInput(f"{where}, column 'time': type {t} is not a time; use a timestamp with a time zone, "
                           "ISO 8601 text or seconds since 1970")


class _Group:
    """The rows of one row group taken in: their window, and where each window's rows are."""

    def __init__(self, intake: _Intake, micros: Any, first: int) -> None:
        import numpy as np

        self.first, self.end = first, first + len(micros)
        if intake.spec.window.by == "time":  # as window_of: whole seconds since 1970 over the window's seconds
            indices = micros // 1_000_000 // intake.spec.window.seconds
        else:
            indices = np.arange(intake.seen, intake.seen + len(micros), dtype=np.int64) // int(intake.spec.window.size)
        self.indices = indices
        self.windows = np.unique(indices).tolist()
        for index in self.windows:
            chosen = micros[indices == index]
            intake.dirty.setdefault(index, WindowSummary()).add_counted(
                {"n": len(chosen), "ok": len(chosen)}, _EPOCH + timedelta(microseconds=int(chosen.min())),
                _EPOCH + timedelta(microseconds=int(chosen.max())), {}, {})
        intake.seen += len(micros)

    def add(self, intake: _Intake, name: str, values: Any, at: int) -> None:
        """Cells at..at+len(values) of the group's column `name` into their windows' summaries."""
        import numpy as np

        a, b = max(self.first, at), min(self.end, at + len(values))
        if a >= b:
            return
        part = values[a - at:b - at]
        indices = self.indices[a - self.first:b - self.first]
        whole, key = len(self.windows) == 1, f"features.{name}"
        for index in (self.windows if whole else np.unique(indices).tolist()):
            if isinstance(part, np.ndarray):
                picked = part if whole else part[indices == index]
                intake.dirty[index].add_values({key: picked[~np.isnan(picked)]}, {})
            else:
                cells = part if whole else [v for v, w in zip(part, indices == index, strict=True) if w]
                intake.dirty[index].add_values({}, {key: [v for v in cells if v is not None]})


def ingest_parquet(intake: _Intake, path: Path, result: IntakeResult, flush_every: int) -> IntakeResult:
    """A Parquet table, one row group at a time and in it one column at a time (never the whole
    file, nor a whole row group's columns at once, in memory): a `time` column, every other
    column a feature, as for CSV. Progress is kept in rows, with a fingerprint of the rows taken
    in (`_RowSum`), so a file fixed after a bad row goes on from that row, and a file whose
    earlier rows changed is refused. A row group that cannot be read leaves nothing of itself."""
    import copy

    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    try:
        table = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise BadInput(f"{path}: not a Parquet file ({exc})") from None
    names = table.schema_arrow.names
    if "time" not in names:
        raise BadInput(f"{path}: no 'time' column; the columns are {', '.join(names) or 'none'}")
    _check_types(table, names, path)
    with intake.store.session() as s:
        done = s.scalars(select(IntakeRow).where(IntakeRow.stream == intake.spec.name,
                                                 IntakeRow.path == intake.key)).first()
        skip, expected = (done.lines, done.prefix_sha256) if done is not None else (0, "")
    result.resumed_at = skip
    row, pending = 0, 0
    intake.hasher = hasher = _RowSum()

    def pieces(group: int, name: str) -> Any:
        """(first row, column piece) of a row group's column, BATCH_ROWS rows at a time."""
        at = 0
        try:
            for data in table.iter_batches(batch_size=BATCH_ROWS, row_groups=[group], columns=[name], use_threads=False):
                yield at, data.column(0)
                at += data.num_rows
        except (pa.ArrowException, OSError) as exc:
            raise _Unreadable(f"{path}: row group {group}: cannot be read ({exc})") from None

    for group in range(table.num_row_groups):
        where = f"{path}: row group {group}"
        size = table.metadata.row_group(group).num_rows
        start = min(max(skip - row, 0), size)  # rows of this group taken in before
        before = (copy.deepcopy(intake.dirty), intake.seen)
        try:
            time_codes = np.empty(size, dtype=np.uint64)
            micros_parts: list[Any] = []
            bad: tuple[int, str] | None = None
            for at, raw in pieces(group, "time"):
                codes, micros, bad_here = _times(raw, max(start - at, 0) if bad is None else len(raw))
                time_codes[at:at + len(raw)] = codes
                if bad is None:
                    micros_parts.append(micros)
                    bad = (at + bad_here[0], bad_here[1]) if bad_here is not None else None
            micros = np.concatenate(micros_parts) if micros_parts else np.array([], dtype=np.int64)
            end = start + len(micros)  # rows start..end are taken in now
            taken = _Group(intake, micros, start)
            h = hasher.start(row, size)
            for c, name in enumerate(names):
                if name == "time":
                    h = hasher.mix_column(h, c, time_codes)
                    continue
                for at, raw in pieces(group, name):
                    values = _cells(raw, name, where)
                    h[at:at + len(raw)] = hasher.mix_column(h[at:at + len(raw)], c, _codes(values))
                    taken.add(intake, name, values, at)
        except _Unreadable as exc:
            intake.dirty, intake.seen = before
            if row >= skip:
                intake.flush()
            raise BadInput(str(exc), hint=f"rows 1-{row} are taken in") from None
        if row < skip <= row + size:
            total = (hasher.total + int(h[:skip - row].sum(dtype=np.uint64))) & _MASK
            if hasher.hexdigest(total, hasher.rows + skip - row) != expected:
                raise BadInput(f"{path}: changed in its first {skip} rows, which stream {intake.spec.name!r} already "
                               "took in", hint="take in a changed file under another stream")
        hasher.add(h[:end])
        result.windows.update(taken.windows)
        result.calls += end - start
        result.lines += end - start
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
