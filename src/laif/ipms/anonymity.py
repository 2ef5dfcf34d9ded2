"""The anonymity of a table before release, over the quasi-identifiers the holder declares:
k-anonymity (the smallest group of records sharing their quasi-identifiers), distinct
l-diversity (the fewest distinct sensitive values in a group) and the share of records that
are unique on their quasi-identifiers. The file is streamed; memory grows with the groups."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from laif.errors import BadInput
from laif.ipms.files import csv_rows


def anonymity(path: Path, quasi: list[str], sensitive: list[str]) -> dict[str, Any]:
    header, rows = csv_rows(path)
    missing = [c for c in quasi + sensitive if c not in header]
    if missing:
        raise BadInput(f"{path}: no column(s) {', '.join(missing)}; the header has {', '.join(header)}")
    q = [header.index(c) for c in quasi]
    s = {c: header.index(c) for c in sensitive}
    groups: Counter[tuple[str, ...]] = Counter()
    values: dict[str, dict[tuple[str, ...], set[str]]] = {c: defaultdict(set) for c in sensitive}
    records = 0
    for row in rows:
        key = tuple(row[i] for i in q)
        groups[key] += 1
        for c, i in s.items():
            values[c][key].add(row[i])
        records += 1
    if not records:
        raise BadInput(f"{path}: no records after the header")
    smallest = min(groups.values())
    unique = sum(1 for n in groups.values() if n == 1)
    return {
        "records": records,
        "groups": len(groups),
        "quasi_identifiers": quasi,
        "k": smallest,
        "records_in_groups_below": {str(k): sum(n for n in groups.values() if n < k) for k in (2, 5, 10)},
        "unique_share": unique / records,
        "l_diversity": {c: min(len(v) for v in values[c].values()) for c in sensitive},
    }


def shortfalls(result: dict[str, Any], k: int | None, l_min: int | None, max_unique: float | None) -> list[str]:
    """What misses the thresholds given, in words; empty when everything passes."""
    out = []
    if k is not None and result["k"] < k:
        out.append(f"k-anonymity is {result['k']}, below {k}")
    if l_min is not None:
        out += [f"distinct l-diversity of {c} is {v}, below {l_min}" for c, v in result["l_diversity"].items() if v < l_min]
    if max_unique is not None and result["unique_share"] > max_unique:
        out.append(f"{result['unique_share']:.2%} of records are unique, above {max_unique:.2%}")
    return out
