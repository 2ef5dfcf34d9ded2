"""Intervals for pass rates: a score is never a bare float."""

from __future__ import annotations

import math
from collections.abc import Iterable

Z95 = 1.959963984540054


def wilson(passed: int, total: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion, as fractions in [0, 1].

    >>> tuple(round(x, 3) for x in wilson(8, 10))
    (0.49, 0.943)
    """
    if total <= 0:
        return (0.0, 1.0)
    p = passed / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def percent(k: int, n: int) -> dict[str, float | int | None]:
    """`k` of `n` as a percentage with its Wilson 95% interval (None throughout when n is 0)."""
    if not n:
        return {"value": None, "low": None, "high": None, "k": k, "n": n}
    low, high = wilson(k, n)
    return {"value": 100.0 * k / n, "low": 100.0 * low, "high": 100.0 * high, "k": k, "n": n}


def mean_of(values: Iterable[float | None]) -> float | None:
    """The mean of the values that are there (None is skipped); None when none are."""
    present = [float(v) for v in values if v is not None]
    return sum(present) / len(present) if present else None
