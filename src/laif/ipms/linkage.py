"""Identity matching across holders, without any holder showing another its identifiers.

Exact matching: two files pseudonymised in the same domain with the same master secret
share pseudonyms for the same person; the pairs are found by joining on them.

Fuzzy matching, for registers with typing errors and no shared identifier:

1. Each holder encodes its records at the source (`encode_csv`). First and family name are
   cut into letter pairs (" anna " -> " a", "an", "nn", "na", "a "), the birth date into year,
   month and day; each piece sets a few bits of a Bloom filter, chosen by HMAC-SHA256 under a
   key derived for the domain ("bloom" purpose, HKDF). Only the record's pseudonym and the
   filter leave the holder.
2. Hardening against frequency attacks (a filter's bits betray common letter pairs):
   - `balance` (default): the filter followed by its complement, the bits shuffled by a
     permutation keyed by the same key, so every filter has exactly half its bits set;
   - `xor-fold`: the two halves of the filter XOR-ed together;
   - `none`: the plain filter (for comparison only).
3. The linkage unit (`link_bloom`) needs no secret. Blocking: Hamming locality-sensitive
   hashing, records sharing all the bits at one band of sampled positions become candidate
   pairs. Each candidate pair is scored by the Dice coefficient of the filters; pairs at or
   above the threshold go to a one-to-one solver (greedy on descending score: each record is
   matched at most once).
4. The output is pairs of pseudonyms only, never a similarity score.
"""

from __future__ import annotations

import base64
import csv
import json
import operator
import random
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from laif._files import atomic_output, file_sha256, write_atomic
from laif.core.stats import percent
from laif.errors import BadInput
from laif.ipms.files import csv_rows, manifest_path, read_manifest
from laif.ipms.pseudonyms import SCHEME, Pseudonymiser, canonical_date, canonical_id, canonical_text

HARDENING = ("balance", "xor-fold", "none")
BITS = 1024
NAME_HASHES = 10
DATE_HASHES = 30
BANDS = 40
#: Per hardening: (Dice threshold, bits per blocking band). Balanced filters have half their
#: bits set, so unrelated records score higher and need a higher threshold; folded filters
#: are shorter and denser, so they need shorter bands. Chosen on synthetic registers
#: (10,000 people each, 40% shared, 30% typing errors per field; benchmarks/bench_linkage.py).
DEFAULTS = {"balance": (0.9, 24), "xor-fold": (0.75, 16), "none": (0.8, 24)}
_ENCODED_HEADER = ["pseudonym", "bloom"]
_PAIRS_HEADER = ["pseudonym_a", "pseudonym_b"]


def letter_pairs(value: str) -> set[str]:
    padded = f" {canonical_text(value)} "
    return {padded[i:i + 2] for i in range(len(padded) - 1)}


class BloomEncoder:
    """Bloom-filter encodings of (first name, family name, birth date) under one key."""

    def __init__(self, key: bytes, hardening: str = "balance", bits: int = BITS,
                 name_hashes: int = NAME_HASHES, date_hashes: int = DATE_HASHES) -> None:
        if hardening not in HARDENING:
            raise BadInput(f"--hardening {hardening}: use one of {', '.join(HARDENING)}")
        self.hardening, self.bits = hardening, bits
        self.name_hashes, self.date_hashes = name_hashes, date_hashes
        self._hmac = Pseudonymiser(key)
        self._masks: dict[str, tuple[int, int]] = {}
        self._perm: list[int] = list(range(2 * bits))
        self._complement_all = 0
        if hardening == "balance":
            # A keyed permutation: positions sorted by their HMAC, unknown without the key.
            self._perm = [0] * (2 * bits)
            order = sorted(range(2 * bits), key=lambda i: self._hmac.digest(b"permutation:%d" % i))
            for target, source in enumerate(order):
                self._perm[source] = target
            for p in range(bits):
                self._complement_all |= 1 << self._perm[bits + p]

    @property
    def width(self) -> int:
        return {"balance": 2 * self.bits, "xor-fold": self.bits // 2, "none": self.bits}[self.hardening]

    def parameters(self) -> dict[str, Any]:
        return {"bits": self.bits, "width": self.width, "hardening": self.hardening,
                "name_hashes": self.name_hashes, "date_hashes": self.date_hashes}

    def _mask(self, token: str, k: int) -> tuple[int, int]:
        cached = self._masks.get(token)
        if cached is not None:
            return cached
        d = self._hmac.digest(token.encode("utf-8"))
        h1, h2 = int.from_bytes(d[:8], "big"), int.from_bytes(d[8:16], "big") | 1
        positions = {(h1 + i * h2) % self.bits for i in range(k)}
        on = off = 0
        for p in positions:
            on |= 1 << self._perm[p]
            if self.hardening == "balance":
                off |= 1 << self._perm[self.bits + p]
        self._masks[token] = (on, off)
        return on, off

    def encode(self, first: str, last: str, birth: str) -> int:
        """The hardened filter as an int; `birth` in any form `canonical_date` reads."""
        tokens = [("f:" + g, self.name_hashes) for g in letter_pairs(first)]
        tokens += [("l:" + g, self.name_hashes) for g in letter_pairs(last)]
        if birth.strip():
            y, m, d = canonical_date(birth).split("-")
            tokens += [("y:" + y, self.date_hashes), ("m:" + m, self.date_hashes), ("d:" + d, self.date_hashes)]
        on = off = 0
        for token, k in tokens:
            a, b = self._mask(token, k)
            on |= a
            off |= b
        if self.hardening == "balance":
            return on | (self._complement_all ^ off)
        if self.hardening == "xor-fold":
            half = self.bits // 2
            return (on >> half) ^ (on & ((1 << half) - 1))
        return on


def dice(a: int, b: int) -> float:
    total = a.bit_count() + b.bit_count()
    return 2 * (a & b).bit_count() / total if total else 0.0


# --- holder side: encode a register --------------------------------------------------------------


@dataclass
class FieldMap:
    id: str
    first: str
    last: str
    birth: str

    @classmethod
    def parse(cls, id_column: str, names: list[str], birth: str) -> FieldMap:
        if len(names) != 2:
            raise BadInput(f"--names {','.join(names)}: give two columns, first name then family name")
        return cls(id_column, names[0], names[1], birth)


def encode_csv(source: Path, out: Path, fields: FieldMap, domain: str,
               pseudonymiser: Pseudonymiser, encoder: BloomEncoder) -> dict[str, Any]:
    """Write `out` (pseudonym of the record id, Bloom filter in base64) and its manifest."""
    header, rows = csv_rows(source)
    wanted = [fields.id, fields.first, fields.last, fields.birth]
    missing = [c for c in wanted if c not in header]
    if missing:
        raise BadInput(f"{source}: no column(s) {', '.join(missing)}; the header has {', '.join(header)}")
    i_id, i_first, i_last, i_birth = (header.index(c) for c in wanted)
    width_bytes = (encoder.width + 7) // 8
    count = 0
    with atomic_output(out, newline="") as sink:
        writer = csv.writer(sink, lineterminator="\n")
        writer.writerow(_ENCODED_HEADER)
        for line, row in enumerate(rows, 2):
            if not row[i_id].strip():
                raise BadInput(f"{source}:{line}: column {fields.id}: empty record id")
            try:
                bloom = encoder.encode(row[i_first], row[i_last], row[i_birth])
            except ValueError as exc:
                raise BadInput(f"{source}:{line}: column {fields.birth}: {exc}") from None
            writer.writerow([pseudonymiser(canonical_id(row[i_id]).encode("utf-8")),
                             base64.b64encode(bloom.to_bytes(width_bytes, "big")).decode("ascii")])
            count += 1
    manifest = {
        "scheme": SCHEME, "kind": "bloom", "domain": domain, "key_check": pseudonymiser.key_check,
        "fields": {"id": fields.id, "first": fields.first, "last": fields.last, "birth": fields.birth},
        **encoder.parameters(), "rows": count, "output": out.name, "output_sha256": file_sha256(out),
    }
    write_atomic(manifest_path(out), json.dumps(manifest, indent=2) + "\n")
    return manifest


# --- linkage unit: no secret needed ----------------------------------------------------------------


def _checked_manifest(path: Path) -> dict[str, Any]:
    """The manifest beside `path`, after checking that `path` is the file it describes."""
    manifest = read_manifest(manifest_path(path))
    if manifest.get("output_sha256") != file_sha256(path):
        raise BadInput(f"{path}: changed since it was written (its SHA-256 is not the one in {manifest_path(path).name})")
    return manifest


def _same_key(a: Path, ma: dict[str, Any], b: Path, mb: dict[str, Any]) -> None:
    if ma.get("domain") != mb.get("domain"):
        raise BadInput(f"{b}: made for domain {mb.get('domain')!r}, {a} for {ma.get('domain')!r}; "
                       "records of two domains never link")
    if ma["key_check"] != mb["key_check"]:
        raise BadInput(f"{b}: made with another master secret than {a}",
                       hint="both holders must use the project's shared secret; encodings under two keys never match")


def read_encoded(path: Path, manifest: dict[str, Any]) -> tuple[list[str], list[int]]:
    header, rows = csv_rows(path)
    if header != _ENCODED_HEADER:
        raise BadInput(f"{path}:1: expected the header {','.join(_ENCODED_HEADER)} of `laif ipms encode`")
    width_bytes = (int(manifest["width"]) + 7) // 8
    names, blooms = [], []
    for line, (pseudonym, text) in enumerate(rows, 2):
        try:
            raw = base64.b64decode(text, validate=True)
        except ValueError:
            raise BadInput(f"{path}:{line}: column bloom: not base64") from None
        if len(raw) != width_bytes:
            raise BadInput(f"{path}:{line}: column bloom: {len(raw)} bytes where the manifest says {width_bytes}")
        names.append(pseudonym)
        blooms.append(int.from_bytes(raw, "big"))
    return names, blooms


def _bands(width: int, bands: int, band_bits: int) -> list[Callable[[str], Any]]:
    """Sampled bit positions per band; public (derived from the width), so no secret is needed."""
    rng = random.Random(f"laif-lsh:{width}:{bands}:{band_bits}")
    return [operator.itemgetter(*rng.sample(range(width), band_bits)) for _ in range(bands)]


def candidate_pairs(a: list[int], b: list[int], width: int, band_bits: int,
                    bands: int = BANDS) -> set[tuple[int, int]]:
    """Pairs (index in a, index in b) that agree on every bit of at least one band."""
    getters = _bands(width, bands, band_bits)
    a_bits = [format(x, f"0{width}b") for x in a]
    b_bits = [format(x, f"0{width}b") for x in b]
    pairs: set[tuple[int, int]] = set()
    for get in getters:
        buckets: dict[Any, list[int]] = defaultdict(list)
        for j, bits in enumerate(b_bits):
            buckets[get(bits)].append(j)
        for i, bits in enumerate(a_bits):
            for j in buckets.get(get(bits), ()):
                pairs.add((i, j))
    return pairs


def one_to_one(scored: Iterable[tuple[float, int, int]]) -> list[tuple[int, int]]:
    """Greedy one-to-one assignment: best score first, each record used at most once."""
    used_a: set[int] = set()
    used_b: set[int] = set()
    chosen = []
    for _, i, j in sorted(scored, key=lambda t: (-t[0], t[1], t[2])):
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            chosen.append((i, j))
    return chosen


@dataclass
class Linkage:
    pairs: list[tuple[str, str]]
    comparisons: int
    records_a: int
    records_b: int


def link_bloom(a: Path, b: Path, threshold: float | None = None) -> Linkage:
    """Fuzzy linkage of two encodings; `threshold` defaults to the one of their hardening."""
    ma, mb = _checked_manifest(a), _checked_manifest(b)
    for path, m in ((a, ma), (b, mb)):
        if m.get("kind") != "bloom":
            raise BadInput(f"{path}: not an encoding made by `laif ipms encode`")
    _same_key(a, ma, b, mb)
    keys = ("width", "hardening", "name_hashes", "date_hashes")
    if [ma.get(k) for k in keys] != [mb.get(k) for k in keys] or ma.get("hardening") not in DEFAULTS:
        raise BadInput(f"{b}: encoded with other settings than {a} ({', '.join(keys)} must all agree)")
    names_a, blooms_a = read_encoded(a, ma)
    names_b, blooms_b = read_encoded(b, mb)
    default_threshold, band_bits = DEFAULTS[str(ma["hardening"])]
    threshold = default_threshold if threshold is None else threshold
    candidates = candidate_pairs(blooms_a, blooms_b, int(ma["width"]), band_bits)
    scored = [(s, i, j) for i, j in candidates if (s := dice(blooms_a[i], blooms_b[j])) >= threshold]
    pairs = [(names_a[i], names_b[j]) for i, j in one_to_one(scored)]
    return Linkage(pairs, len(candidates), len(names_a), len(names_b))


def link_exact(a: Path, b: Path, on: str, id_column: str | None = None) -> Linkage:
    """Join two pseudonymised files on column `on`; report the `id_column` pseudonyms of each pair."""
    ma, mb = _checked_manifest(a), _checked_manifest(b)
    _same_key(a, ma, b, mb)
    ident = id_column or on
    for path, m in ((a, ma), (b, mb)):
        pseudonymised = m.get("columns") or {}
        for col in {on, ident}:
            if col not in pseudonymised:
                raise BadInput(f"{path}: column {col} is not pseudonymised in it "
                               f"(pseudonymised: {', '.join(pseudonymised) or 'none'})",
                               hint="exact matching joins pseudonyms, and reports nothing else")
    index: dict[str, str] = {}
    header_a, rows_a = csv_rows(a)
    if on not in header_a or ident not in header_a:
        raise BadInput(f"{a}: no column {on if on not in header_a else ident}")
    ka, ia = header_a.index(on), header_a.index(ident)
    count_a = 0
    for row in rows_a:
        count_a += 1
        if row[ka]:
            index.setdefault(row[ka], row[ia])
    header_b, rows_b = csv_rows(b)
    if on not in header_b or ident not in header_b:
        raise BadInput(f"{b}: no column {on if on not in header_b else ident}")
    kb, ib = header_b.index(on), header_b.index(ident)
    pairs: list[tuple[str, str]] = []
    taken: set[str] = set()
    count_b = 0
    for row in rows_b:
        count_b += 1
        key = row[kb]
        if key in index and key not in taken:
            taken.add(key)
            pairs.append((index[key], row[ib]))
    return Linkage(pairs, count_b, count_a, count_b)


def write_pairs(out: Path, linkage: Linkage, sources: tuple[Path, Path], how: str) -> None:
    with atomic_output(out, newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(_PAIRS_HEADER)
        w.writerows(linkage.pairs)
    manifest = {"scheme": SCHEME, "kind": "pairs", "method": how, "sources": [p.name for p in sources],
                "records": [linkage.records_a, linkage.records_b], "pairs": len(linkage.pairs),
                "comparisons": linkage.comparisons, "output": out.name, "output_sha256": file_sha256(out)}
    write_atomic(manifest_path(out), json.dumps(manifest, indent=2) + "\n")


def evaluate(pairs: Path, truth: Path, pseudonymiser: Pseudonymiser) -> dict[str, Any]:
    """Precision and recall of `pairs` against a truth file of record ids (as `laif ipms synth` writes)."""
    header, rows = csv_rows(pairs)
    if header != _PAIRS_HEADER:
        raise BadInput(f"{pairs}:1: expected the header {','.join(_PAIRS_HEADER)}")
    found = {(x, y) for x, y in rows}
    header, rows = csv_rows(truth)
    if len(header) != 2:
        raise BadInput(f"{truth}:1: expected two columns, the record ids of holder A and of holder B")

    def p(v: str) -> str:
        return pseudonymiser(canonical_id(v).encode("utf-8"))

    true = {(p(x), p(y)) for x, y in rows}
    hits = len(found & true)
    return {"pairs": len(found), "true_pairs": len(true), "correct": hits,
            "precision": percent(hits, len(found)), "recall": percent(hits, len(true))}
