"""Drafting a dataset's metadata from a sample file: schema, types, rows, missing values,
value ranges and the personal data it holds.

Only aggregates leave this module: no value of the sample is kept, and columns that hold
personal data get no range at all (the smallest name or birth date would be a person).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from laif.errors import BadInput
from laif.ipms.detect import scan_column
from laif.ipms.files import csv_rows

MISSING = {"", "na", "n/a", "null", "none", "nan", "-"}
_INT = re.compile(r"^[+-]?\d+$")
_NUM = re.compile(r"^[+-]?(?:\d+[.,]?\d*|[.,]\d+)(?:[eE][+-]?\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$")
FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".json": "json", ".jsonl": "json"}


def sample_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise BadInput(f"{path}: unknown sample format {path.suffix or '(no extension)'}; "
                       f"use {', '.join(sorted(FORMATS))}")
    if not path.exists():
        raise BadInput(f"{path}: no such file")
    return fmt


def _read_csv(path: Path) -> tuple[list[str], list[list[Any]]]:
    header, rows = csv_rows(path)
    return header, [list(r) for r in zip(*list(rows), strict=False)] or [[] for _ in header]


def _read_parquet(path: Path) -> tuple[list[str], list[list[Any]]]:
    import pyarrow.parquet as pq  # type: ignore[import-untyped]  # only Parquet samples need it

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise BadInput(f"{path}: not a readable Parquet file ({exc})") from None
    return list(table.column_names), [table.column(name).to_pylist() for name in table.column_names]


def _read_json(path: Path) -> tuple[list[str], list[list[Any]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path}: not UTF-8 text ({exc.reason})") from None
    records: list[Any]
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            records = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadInput(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    else:  # JSON Lines
        records = []
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise BadInput(f"{path}:{number}: not valid JSON ({exc.msg})") from None
    header: list[str] = []
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise BadInput(f"{path}: record {i + 1} is not an object; give an array of objects or JSON Lines")
        header.extend(k for k in record if k not in header)
    return header, [[r.get(name) for r in records] for name in header]


def _type_of(values: list[Any]) -> str:
    if not values:
        return "empty"
    if all(isinstance(v, bool) for v in values):
        return "boolean"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "integer"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return "number"
    if all(isinstance(v, datetime) for v in values):
        return "datetime"
    if all(isinstance(v, date) for v in values):
        return "date"
    if not all(isinstance(v, str) for v in values):
        return "string" if all(not isinstance(v, dict | list) for v in values) else "object"
    texts: list[str] = [v.strip() for v in values]
    for kind, pattern in (("integer", _INT), ("number", _NUM), ("date", _DATE), ("datetime", _DATETIME)):
        if all(pattern.match(t) for t in texts):
            return kind
    if all(t.lower() in {"true", "false"} for t in texts):
        return "boolean"
    return "string"


def _as_value(v: Any, kind: str) -> Any:
    if isinstance(v, str):
        if kind == "integer":
            return int(v)
        if kind == "number":
            return float(v.replace(",", "."))
    return v


def _range(values: list[Any], kind: str) -> dict[str, Any]:
    if kind not in {"integer", "number", "date", "datetime"} or not values:
        return {}
    converted = [_as_value(v, kind) for v in values]
    low, high = min(converted), max(converted)
    if isinstance(low, date):
        return {"min": low.isoformat(), "max": high.isoformat()}
    return {"min": low, "max": high}


def _present(values: Iterable[Any]) -> list[Any]:
    return [v for v in values if v is not None and not (isinstance(v, str) and v.strip().lower() in MISSING)]


def profile(path: Path) -> dict[str, Any]:
    """The draft of a sample's metadata; raises BadInput naming the file for anything unreadable."""
    fmt = sample_format(path)
    reader = {"csv": _read_csv, "parquet": _read_parquet, "json": _read_json}[fmt]
    header, columns = reader(path)
    rows = max((len(c) for c in columns), default=0)
    out_columns = []
    for name, values in zip(header, columns, strict=True):
        present = _present(values)
        kind = _type_of(present)
        pii = scan_column(name, (str(v) for v in present))
        column: dict[str, Any] = {
            "name": name,
            "type": kind,
            "missing": rows - len(present),
            "missing_share": round((rows - len(present)) / rows, 4) if rows else 0.0,
            "distinct": len({json.dumps(v, sort_keys=True, default=str) for v in present}),
            "personal_data": pii["detected"],
        }
        if not pii["personal"]:
            column.update(_range(present, kind))
        out_columns.append(column)
    return {
        "format": fmt,
        "rows": rows,
        "columns": out_columns,
        "personal_data": [c["name"] for c in out_columns if c["personal_data"]],
    }
