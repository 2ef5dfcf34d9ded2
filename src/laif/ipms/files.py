"""Pseudonymising CSV files at the source, streamed row by row (files larger than memory).

The output is written next to its final place under a temporary name and renamed only
when every row is done, with a manifest beside it (`OUT.csv.ipms.json`: scheme, domain,
columns, row count, key check value, SHA-256 of the output). A bad row stops the run with
the file, line and column named; no output is left behind.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from laif._files import atomic_output, file_sha256, write_atomic
from laif.errors import BadInput
from laif.ipms.pseudonyms import CANONICAL, SCHEME, Pseudonymiser

BATCH = 4096
BLOCK = 1 << 22  # bytes per call of the C kernel

try:  # built from _fastpath.c at install when a compiler and OpenSSL's headers are there
    from laif.ipms import _fastpath  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - depends on the build
    _fastpath = None
_ICONV = "convert it first, e.g. iconv -f latin1 -t utf-8"


def parse_columns(spec: str) -> dict[str, str]:
    """`name,birth_date:date,matricule:id` -> {column: kind}; the kind defaults to text."""
    out: dict[str, str] = {}
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        name, _, kind = part.partition(":")
        kind = kind.strip() or "text"
        if kind not in CANONICAL:
            raise BadInput(f"--columns {part}: unknown kind {kind!r}; use {', '.join(CANONICAL)}")
        out[name.strip()] = kind
    if not out:
        raise BadInput("--columns: name at least one column, e.g. name,birth_date:date,matricule:id")
    return out


def manifest_path(out: Path) -> Path:
    return out.with_name(out.name + ".ipms.json")


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"{path}: no such manifest") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: not a laif IPMS manifest ({exc})") from None
    if not isinstance(data, dict) or data.get("scheme") != SCHEME or "key_check" not in data:
        raise BadInput(f"{path}: not a laif IPMS manifest (scheme {SCHEME})")
    return data


def check_same_key(manifest: dict[str, Any], source: Path, domain: str, pseudonymiser: Pseudonymiser) -> None:
    """Refuse to go on when `manifest` was made with another domain or another master secret."""
    if manifest.get("domain") != domain:
        raise BadInput(f"{source}: made for domain {manifest.get('domain')!r}, not {domain!r}")
    if manifest["key_check"] != pseudonymiser.key_check:
        raise BadInput(
            f"{source}: made with another master secret than the one in the key variable",
            hint="pseudonyms from two keys can never match; use the key the other file was made with",
        )


def _decoded(raw: BinaryIO, path: Path) -> Iterator[str]:
    """The lines of `raw` as text, each decoded on its own so an error names its line."""
    for number, line in enumerate(raw, 1):
        if number == 1 and line.startswith(codecs.BOM_UTF8):
            line = line[len(codecs.BOM_UTF8):]
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadInput(f"{path}:{number}: not UTF-8 text ({exc.reason})", hint=_ICONV) from None


def _open_csv(path: Path) -> tuple[BinaryIO, Any, list[str]]:
    """Open `path` for reading as CSV (UTF-8, BOM allowed; ',' or ';'); return the handle, reader, header."""
    try:
        raw = path.open("rb")
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BadInput(f"{path}: a folder, not a CSV file") from None
    lines = _decoded(raw, path)
    try:
        first = next(lines, "")
    except BadInput:
        raw.close()
        raise
    if not first.strip():
        raw.close()
        raise BadInput(f"{path}: empty file, no header line")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter)
    header = next(reader)
    return raw, reader, header


def _rows(reader: Any, path: Path, width: int) -> Iterator[list[str]]:
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise BadInput(f"{path}:{reader.line_num}: malformed CSV ({exc})") from None
        if len(row) != width:
            if not row:
                continue
            raise BadInput(f"{path}:{reader.line_num}: {len(row)} fields where the header has {width}")
        yield row


def csv_rows(path: Path) -> tuple[list[str], Iterator[list[str]]]:
    """The header and a stream of the rows of a CSV file, every problem named by file and line."""
    fh, reader, header = _open_csv(path)

    def rows() -> Iterator[list[str]]:
        with fh:
            yield from _rows(reader, path, len(header))

    return header, rows()


def _missing(source: Path, header: list[str], columns: dict[str, str]) -> None:
    missing = [c for c in columns if c not in header]
    if missing:
        raise BadInput(f"{source}: no column(s) {', '.join(missing)}; the header has {', '.join(header)}")


def _pseudonymise_python(
    source: Path, out: Path, columns: dict[str, str], pseudonymiser: Pseudonymiser
) -> tuple[int, int]:
    fh, reader, header = _open_csv(source)
    with fh:
        _missing(source, header, columns)
        plan: list[tuple[int, str, Callable[[str], str]]] = [
            (header.index(c), c, CANONICAL[kind]) for c, kind in columns.items()
        ]
        rows = values = 0
        with atomic_output(out, newline="") as sink:
            writer = csv.writer(sink, delimiter=reader.dialect.delimiter, lineterminator="\n")
            writer.writerow(header)
            batch: list[list[str]] = []
            for row in _rows(reader, source, len(header)):
                for index, name, canon in plan:
                    value = row[index]
                    if value:
                        try:
                            row[index] = pseudonymiser(canon(value).encode("utf-8"))
                        except ValueError as exc:
                            raise BadInput(f"{source}:{reader.line_num}: column {name}: {exc}") from None
                        values += 1
                batch.append(row)
                if len(batch) >= BATCH:
                    writer.writerows(batch)
                    rows += len(batch)
                    batch.clear()
            writer.writerows(batch)
            rows += len(batch)
    return rows, values


class _NotPlain(Exception):
    """The file needs the Python path (non-ASCII, quotes, an irregular line, ...)."""


def _pseudonymise_plain(
    source: Path, out: Path, columns: dict[str, str], pseudonymiser: Pseudonymiser
) -> tuple[int, int] | None:
    """The C kernel over blocks of whole lines; None when the file is not plain (nothing is left written)."""
    assert _fastpath is not None
    fh, reader, header = _open_csv(source)
    with fh:
        _missing(source, header, columns)
        if reader.line_num != 1:  # a header spread over lines: leave it to the Python path
            return None
        codes = [0] * len(header)
        for c, kind in columns.items():
            codes[header.index(c)] = 1 if kind == "id" else 2
        kinds, delimiter, width = bytes(codes), reader.dialect.delimiter, len(header)
        key = pseudonymiser._key
        rows = values = 0
        try:
            with atomic_output(out, newline="") as sink:
                csv.writer(sink, delimiter=delimiter, lineterminator="\n").writerow(header)
                sink.flush()
                carry = b""
                while True:
                    chunk = fh.read(BLOCK)
                    block = carry + chunk
                    if chunk:
                        cut = block.rfind(b"\n") + 1
                        block, carry = block[:cut], block[cut:]
                    if block:
                        done = _fastpath.pseudonymise_block(key, block, ord(delimiter), width, kinds)
                        if done is None:
                            raise _NotPlain
                        sink.buffer.write(done[0])
                        rows += done[1]
                        values += done[2]
                    if not chunk:
                        break
        except _NotPlain:
            return None
    return rows, values


@dataclass
class Outcome:
    rows: int
    values: int
    manifest: dict[str, Any]


def pseudonymise_csv(
    source: Path, out: Path, columns: dict[str, str], domain: str, pseudonymiser: Pseudonymiser,
    fast: bool = True,
) -> Outcome:
    """Replace the values of `columns` in `source` by their pseudonyms; write `out` and its manifest.

    Plain files (ASCII, no quotes, `id` and `text` columns) go through the C kernel when it
    was built; anything else, and every error, through the Python path. Both write the same
    bytes (tests/test_ipms.py checks it).
    """
    counted = None
    if fast and _fastpath is not None and set(columns.values()) <= {"id", "text"}:
        counted = _pseudonymise_plain(source, out, columns, pseudonymiser)
    if counted is None:
        counted = _pseudonymise_python(source, out, columns, pseudonymiser)
    rows, values = counted
    manifest = {
        "scheme": SCHEME,
        "domain": domain,
        "key_check": pseudonymiser.key_check,
        "columns": columns,
        "rows": rows,
        "values": values,
        "output": out.name,
        "output_sha256": file_sha256(out),
    }
    write_atomic(manifest_path(out), json.dumps(manifest, indent=2) + "\n")
    return Outcome(rows, values, manifest)
