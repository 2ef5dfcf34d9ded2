"""The pseudonymiser as services: keyed pseudonyms per project domain, identity matching across
holders, personal-data detection and anonymity checks, on CSV files.

    from laif.services import pseudonymise
    done = pseudonymise.pseudonymise_file(Path("patients.csv"), Path("out.csv"), "name,birth_date:date",
                                          domain="study-42")          # reads LAIF_IPMS_SECRET
    done.rows, done.values, done.key_check                            # never the key itself

The master secret is the holder's: it is read from the environment variable the caller names
(`key_env`, as `--key-env` does on the command line), used to derive the domain's keys and
dropped. No function returns, logs or writes it; the manifests carry a key check value only.
Bad input raises `laif.errors.BadInput` naming the file, line and column.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from laif.errors import BadInput
from laif.ipms.anonymity import anonymity, shortfalls
from laif.ipms.detect import find_in_text, scan_column
from laif.ipms.files import check_same_key, csv_rows, manifest_path, parse_columns, pseudonymise_csv, read_manifest
from laif.ipms.linkage import HARDENING, BloomEncoder, FieldMap, Linkage, encode_csv, link_bloom, link_exact, write_pairs
from laif.ipms.linkage import evaluate as evaluate_pairs
from laif.ipms.pseudonyms import CANONICAL, Pseudonymiser, domain_key, master_secret
from laif.ipms.synthetic import Registers, registers

__all__ = ["DEFAULT_KEY_ENV", "HARDENING", "KINDS", "Encoded", "Linked", "Pseudonymised", "Registers",
           "check_anonymity", "detect_file", "detect_text", "encode_file", "evaluate_linkage", "link_files",
           "pseudonymise_file", "synthesise"]

#: The variable that holds the master secret unless the caller names another.
DEFAULT_KEY_ENV = "LAIF_IPMS_SECRET"
#: How a column's values are made canonical before they are pseudonymised.
KINDS = tuple(CANONICAL)


@dataclass(frozen=True)
class Pseudonymised:
    output: Path
    #: The manifest written beside the output (domain, key check, columns, counts, the output's hash).
    manifest_path: Path
    manifest: dict[str, Any]
    rows: int
    values: int
    #: Seconds spent pseudonymising (the key derivation left out).
    seconds: float
    #: A check value of the domain key: files made with another key or domain are told apart by it.
    key_check: str


@dataclass(frozen=True)
class Encoded:
    output: Path
    manifest_path: Path
    manifest: dict[str, Any]
    seconds: float
    key_check: str


@dataclass(frozen=True)
class Linked:
    output: Path
    manifest_path: Path
    #: "bloom", or "exact on COLUMN".
    how: str
    linkage: Linkage
    seconds: float


def _columns(columns: str | Mapping[str, str]) -> dict[str, str]:
    """Columns to pseudonymise, as `name,birth_date:date,matricule:id` or {column: kind}."""
    if isinstance(columns, str):
        return parse_columns(columns)
    wanted = {str(name).strip(): kind for name, kind in columns.items()}
    for name, kind in wanted.items():
        if kind not in CANONICAL:
            raise BadInput(f"--columns {name}:{kind}: unknown kind {kind!r}; use {', '.join(CANONICAL)}")
    if not wanted:
        raise BadInput("--columns: name at least one column, e.g. name,birth_date:date,matricule:id")
    return wanted


def _not_over(source: Path, output: Path) -> None:
    if output.resolve() == source.resolve():
        raise BadInput(f"--out {output}: would overwrite the input; name another file")


def _pseudonymiser(key_env: str, domain: str) -> Pseudonymiser:
    """The domain's pseudonymiser; the master secret lives only for the derivation."""
    return Pseudonymiser(domain_key(master_secret(key_env), domain))


def pseudonymise_file(source: Path, output: Path, columns: str | Mapping[str, str], domain: str, *,
                      key_env: str = DEFAULT_KEY_ENV, like: Path | None = None) -> Pseudonymised:
    """Replace identifying columns of a CSV by keyed pseudonyms (HMAC-SHA256 under a key derived per
    domain with HKDF); write `output` and its manifest OUTPUT.ipms.json. With `like` (an earlier
    output's manifest), refuse another key or domain than that file's."""
    wanted = _columns(columns)
    _not_over(source, output)
    pseudonymiser = _pseudonymiser(key_env, domain)
    if like is not None:
        check_same_key(read_manifest(like), like, domain, pseudonymiser)
    started = time.perf_counter()
    outcome = pseudonymise_csv(source, output, wanted, domain, pseudonymiser)
    seconds = time.perf_counter() - started
    return Pseudonymised(output, manifest_path(output), outcome.manifest, outcome.rows, outcome.values, seconds,
                         pseudonymiser.key_check)


def detect_text(text: str) -> list[dict[str, Any]]:
    """Personal data in free text: kind, value and where it starts, for each finding."""
    return find_in_text(text)


def _first(rows: Iterator[list[str]], count: int) -> list[list[str]]:
    kept: list[list[str]] = []
    for row in rows:
        kept.append(row)
        if len(kept) >= count:
            break
    return kept


def detect_file(source: Path, sample: int = 10000) -> dict[str, Any]:
    """Personal data in a CSV, column by column, from its first `sample` rows: checked LU national
    numbers, LU IBANs and VAT numbers, e-mails, phones, telling column names."""
    if sample < 1:
        raise BadInput(f"--sample {sample}: read at least one row")
    header, rows = csv_rows(source)
    kept = _first(rows, sample)
    report = [scan_column(name, (row[i] for row in kept)) for i, name in enumerate(header)]
    return {"file": str(source), "rows_read": len(kept), "columns": report}


def check_anonymity(source: Path, quasi: Sequence[str], sensitive: Sequence[str] = (), *, k: int | None = None,
                    l_min: int | None = None, max_unique: float | None = None) -> dict[str, Any]:
    """k-anonymity over the quasi-identifiers, distinct l-diversity of the sensitive columns and the
    share of unique records, with the thresholds given and those `missed` (empty: ready for release)."""
    if not quasi:
        raise BadInput("--quasi: name at least one column")
    result = anonymity(source, list(quasi), list(sensitive))
    missed = shortfalls(result, k, l_min, max_unique)
    result["thresholds"] = {"k": k, "l": l_min, "max_unique": max_unique}
    result["missed"] = missed
    return result


def encode_file(source: Path, output: Path, id_column: str, names: Sequence[str], birth: str, domain: str, *,
                hardening: str = "balance", key_env: str = DEFAULT_KEY_ENV) -> Encoded:
    """Encode a register at the source for fuzzy matching: the record id's pseudonym and a hardened
    Bloom filter of the first name, family name and birth date, under keys of the domain."""
    fields = FieldMap.parse(id_column, list(names), birth)
    _not_over(source, output)
    secret = master_secret(key_env)
    pseudonymiser = Pseudonymiser(domain_key(secret, domain))
    encoder = BloomEncoder(domain_key(secret, domain, "bloom"), hardening)
    del secret
    started = time.perf_counter()
    manifest = encode_csv(source, output, fields, domain, pseudonymiser, encoder)
    return Encoded(output, manifest_path(output), manifest, time.perf_counter() - started, pseudonymiser.key_check)


def link_files(a: Path, b: Path, output: Path, *, on: str | None = None, id_column: str | None = None,
               threshold: float | None = None) -> Linked:
    """The people two holders share, as pairs of pseudonyms written to `output` (never names, dates
    or scores): exact matching on a pseudonymised column `on`, else fuzzy matching of two encodings
    (`threshold`: the Dice coefficient, by default the one of their hardening). No secret is needed."""
    if on is None and id_column is not None:
        raise BadInput("--id goes with --on (exact matching); fuzzy matching reports the encodings' pseudonyms")
    started = time.perf_counter()
    if on is not None:
        result, how = link_exact(a, b, on, id_column), f"exact on {on}"
    else:
        result, how = link_bloom(a, b, threshold), "bloom"
    seconds = time.perf_counter() - started
    write_pairs(output, result, (a, b), how)
    return Linked(output, manifest_path(output), how, result, seconds)


def synthesise(output: Path, people: int = 1000, overlap: float = 0.5, typos: float = 0.3, seed: int = 1) -> Registers:
    """Two made-up registers that share people (B's with typing errors) and the truth, to measure linkage."""
    return registers(output, people, overlap, typos, seed)


def evaluate_linkage(pairs: Path, truth: Path, domain: str, *, key_env: str = DEFAULT_KEY_ENV) -> dict[str, Any]:
    """Precision and recall of a linkage against known true pairs of record ids, with 95% intervals."""
    return evaluate_pairs(pairs, truth, _pseudonymiser(key_env, domain))
