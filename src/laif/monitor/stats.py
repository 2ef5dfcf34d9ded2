"""Drift statistics on counts, written here on numpy with the distributions of
`monitor.distributions`, and checked against scipy's own functions (tests/test_monitor_stats.py).

Every function takes counts over the same ordered bins (or categories) for the reference and
the current window, which is what the mergeable summaries give; raw samples are counts of one.

| statistic | reads | thresholds |
| --- | --- | --- |
| PSI | sum (a - e) ln(a / e) over bins of shares | < 0.1 stable, 0.1-0.25 moderate, > 0.25 significant |
| KS | largest gap between the two empirical CDFs; p from the asymptotic Kolmogorov law | p < 0.05 after correction |
| chi-squared | 2 x k contingency test of the counts | p < 0.05 after correction |
| Jensen-Shannon | distance (square root of the divergence, base 2), 0..1 | > 0.1, categories, windows of 1,000+ |
| Wasserstein | area between the CDFs, divided by the reference's standard deviation | > 0.1, numbers, windows of 1,000+ |
| MMD | embeddings: unbiased MMD, Gaussian kernel, p by 200 permutations | p < 0.05 after correction; alert > 0.1 |

The corrections for many features are Bonferroni and Benjamini-Hochberg. How these give a
feature's state (ok, warning, alert) is in `drift.feature_state`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from laif.monitor.distributions import chi2_sf, ks_sf

#: Shares below this are raised to it in PSI, so an empty bin gives a large but finite term.
PSI_FLOOR = 1e-4
PSI_WARNING, PSI_ALERT = 0.1, 0.25
P_VALUE = 0.05
DISTANCE_ALERT = 0.1
#: JS and Wasserstein thresholds hold for large windows only (as in Evidently's defaults): on a
#: few hundred values their noise alone comes near 0.1.
DISTANCE_MIN_N = 1000


def _counts(x: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1 or (arr < 0).any():
        raise ValueError("counts must be a flat sequence of non-negative numbers")
    return arr


def psi(reference: ArrayLike, current: ArrayLike, floor: float = PSI_FLOOR) -> float:
    """Population stability index of the current shares against the reference's."""
    e, a = _counts(reference), _counts(current)
    if e.sum() == 0 or a.sum() == 0:
        raise ValueError("PSI needs counts in both windows")
    e = np.maximum(e / e.sum(), floor)
    a = np.maximum(a / a.sum(), floor)
    return float(np.sum((a - e) * np.log(a / e)))


@dataclass(frozen=True)
class Test:
    statistic: float
    p_value: float


def ks(reference: ArrayLike, current: ArrayLike) -> Test:
    """Two-sample Kolmogorov-Smirnov on counts over ordered bins.

    The statistic is the largest gap between the two CDFs at the bins' edges; the p-value is
    that of the one-sample statistic of n = n1 n2 / (n1 + n2) values (rounded), as scipy's
    `ks_2samp(method="asymp")`, from `distributions.ks_sf`. On binned values ties make it
    conservative.
    """
    e, a = _counts(reference), _counts(current)
    n1, n2 = e.sum(), a.sum()
    if n1 == 0 or n2 == 0:
        raise ValueError("KS needs counts in both windows")
    d = float(np.max(np.abs(np.cumsum(e) / n1 - np.cumsum(a) / n2)))
    en = n1 * n2 / (n1 + n2)
    return Test(d, ks_sf(d, max(round(en), 1)))


def chi2(reference: ArrayLike, current: ArrayLike) -> Test:
    """Chi-squared test of homogeneity of two rows of counts (no continuity correction);
    categories empty in both windows are left out."""
    table = np.vstack([_counts(reference), _counts(current)])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return Test(0.0, 1.0)
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    dof = table.shape[1] - 1
    return Test(statistic, chi2_sf(statistic, dof))


def jensen_shannon(reference: ArrayLike, current: ArrayLike) -> float:
    """Jensen-Shannon distance (base 2: 0 same, 1 disjoint) between the two windows' shares."""
    p, q = _counts(reference), _counts(current)
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(x: NDArray[np.float64]) -> float:
        mask = x > 0
        return float(np.sum(x[mask] * np.log2(x[mask] / m[mask])))

    return float(np.sqrt(max((kl(p) + kl(q)) / 2, 0.0)))


def wasserstein(values: ArrayLike, reference: ArrayLike, current: ArrayLike) -> float:
    """First Wasserstein distance between two weightings of the same increasing `values`."""
    v = np.asarray(values, dtype=np.float64)
    e, a = _counts(reference), _counts(current)
    if len(v) != len(e) or len(v) != len(a):
        raise ValueError("values and counts differ in length")
    if len(v) > 1 and (np.diff(v) <= 0).any():
        raise ValueError("values must increase")
    gap = np.abs(np.cumsum(e)[:-1] / e.sum() - np.cumsum(a)[:-1] / a.sum())
    return float(np.sum(gap * np.diff(v)))


#: Embeddings: the permutation test's permutations, and the MMD (square root of the unbiased
#: MMD², Gaussian kernel at the median distance) above which a significant change is an alert.
MMD_PERMUTATIONS = 200
MMD_ALERT = 0.1


def _gaussian_kernel(pooled: NDArray[np.float64]) -> NDArray[np.float64]:
    """exp(-d² / median d²) between every pair of rows (the median heuristic for the width)."""
    sq = np.sum(pooled * pooled, axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * pooled @ pooled.T, 0.0)
    off = d2[np.triu_indices(len(pooled), k=1)]
    scale = float(np.median(off)) if len(off) else 0.0
    if scale <= 0:
        scale = float(off.mean()) if len(off) and off.mean() > 0 else 1.0
    kernel: NDArray[np.float64] = np.exp(-d2 / scale)
    return kernel


def _mmd2(kernel: NDArray[np.float64], z: NDArray[np.float64]) -> NDArray[np.float64]:
    """Unbiased MMD² for each row of `z` (1 marks the first sample, 0 the second) on one kernel."""
    n = z.sum(axis=1)
    m = z.shape[1] - n
    w = 1.0 - z
    kz = z @ kernel
    diag = np.diag(kernel)
    xx = np.sum(kz * z, axis=1) - z @ diag
    yy = np.sum((w @ kernel) * w, axis=1) - w @ diag
    xy = np.sum(kz * w, axis=1)
    out: NDArray[np.float64] = xx / (n * (n - 1)) + yy / (m * (m - 1)) - 2 * xy / (n * m)
    return out


def mmd_test(reference: ArrayLike, current: ArrayLike, permutations: int = MMD_PERMUTATIONS, seed: int = 0) -> Test:
    """Maximum mean discrepancy between two samples of vectors (rows), with a permutation test.

    The statistic is the unbiased MMD² (Gretton et al., JMLR 2012) with a Gaussian kernel whose
    width is the median squared distance between the pooled vectors; the p-value is
    (1 + the permutations whose MMD² is at least the one seen) / (1 + permutations), exact in
    level for any sample size. Returns the statistic as MMD (square root, 0 when negative)."""
    x = np.asarray(reference, dtype=np.float64)
    y = np.asarray(current, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError("MMD needs two samples of vectors of the same length")
    if len(x) < 2 or len(y) < 2:
        raise ValueError("MMD needs at least two vectors in each sample")
    pooled = np.vstack([x, y])
    kernel = _gaussian_kernel(pooled)
    z = np.zeros((permutations + 1, len(pooled)))
    z[0, : len(x)] = 1.0
    rng = np.random.default_rng(seed)
    for row in range(1, permutations + 1):
        z[row, rng.permutation(len(pooled))[: len(x)]] = 1.0
    values = _mmd2(kernel, z)
    p = float((1 + np.sum(values[1:] >= values[0] - 1e-12)) / (1 + permutations))
    return Test(float(np.sqrt(max(values[0], 0.0))), p)


def bonferroni(p_values: Sequence[float]) -> list[float]:
    """Each p-value times the number of tests, at most 1."""
    m = len(p_values)
    return [min(p * m, 1.0) for p in p_values]


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (the false discovery rate at which each is rejected)."""
    m = len(p_values)
    if m == 0:
        return []
    p = np.asarray(p_values, dtype=np.float64)
    order = np.argsort(p)
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return [float(x) for x in out]


CORRECTIONS = {"bh": benjamini_hochberg, "bonferroni": bonferroni}
