"""Canaries: the same small slice of a sandbox suite asked again of the system in production,
compared with the sandbox run, category by category, with intervals.

This is how quality drift shows without labels: the sandbox run is the reference, the canary
asks exactly the same prompts (same suite, languages, limit and seed, so the same slice) with
the same generation parameters, in a database of its own so that no answer comes from the
cache. Two figures are compared per category and overall, each with its Wilson 95% interval:

- the score (% passed among decided tests), as the leaderboard reads it;
- the refusal share (% refused among all tests), which the score leaves out.

| state | when |
| --- | --- |
| ok | no significant difference |
| warning | Fisher's exact test of the two 2 x 2 counts gives p < 0.05 |
| alert | the two intervals do not overlap |

A single answer that differs (a server's numerics can vary between runs) moves a small
category's value a lot but is not significant, so it stays ok.
"""

from __future__ import annotations

from typing import Any

from laif.core.stats import percent
from laif.monitor.distributions import fisher_exact
from laif.monitor.stats import P_VALUE

FIGURES = {"score": ("passed", "decided"), "refused": ("refused", "total")}


def _figure(counts: dict[str, Any], figure: str) -> dict[str, Any] | None:
    num, den = FIGURES[figure]
    n = int(counts.get(den) or 0)
    return percent(int(counts.get(num) or 0), n) if n else None


def _state(base: dict[str, Any], canary: dict[str, Any]) -> str:
    if canary["high"] < base["low"] or canary["low"] > base["high"]:
        return "alert"
    table = [[base["k"], base["n"] - base["k"]], [canary["k"], canary["n"] - canary["k"]]]
    if fisher_exact(table) < P_VALUE:
        return "warning"
    return "ok"


def _overall(categories: dict[str, dict[str, Any]]) -> dict[str, int]:
    keys = ("passed", "decided", "refused", "total")
    return {k: sum(int(c.get(k) or 0) for c in categories.values()) for k in keys}


def compare(baseline: dict[str, Any], canary: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (category, figure), 'all' first: both values with intervals and the state."""
    base_cats, canary_cats = baseline.get("categories") or {}, canary.get("categories") or {}
    groups = {"all": (_overall(base_cats), _overall(canary_cats))}
    groups |= {name: (base_cats[name], canary_cats[name]) for name in base_cats if name in canary_cats}
    rows = []
    for group, (b_counts, c_counts) in groups.items():
        for figure in FIGURES:
            b, c = _figure(b_counts, figure), _figure(c_counts, figure)
            if b is None or c is None:
                continue
            rows.append({"category": group, "figure": figure, "sandbox": b, "canary": c, "state": _state(b, c)})
    return rows


def worst_state(rows: list[dict[str, Any]]) -> str:
    states = {r["state"] for r in rows}
    return "alert" if "alert" in states else "warning" if "warning" in states else "ok"
