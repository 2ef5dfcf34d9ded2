"""The three distributions the drift and canary tests need, written here on numpy and the
standard library so that monitoring does not load scipy (scipy.stats alone was a third of the
drift statistics' peak memory). tests/test_monitor_distributions.py checks each against scipy.

- `ks_sf(d, n)`: P(D_n >= d) for the two-sided Kolmogorov-Smirnov statistic of n values.
  - In the tail (p below `KS_TAIL`): twice the one-sided probability, which is exact by
    Birnbaum and Tingey's sum (1951); the two differ by the chance of crossing both bands,
    under a millionth of p there.
  - Otherwise, up to `KS_EXACT_N` values: exact, by Durbin's matrix as Marsaglia, Tsang and
    Wang (2003) evaluate it.
  - Beyond: Pelz and Good's expansion (1976) to the 1/n term; its relative error is below
    2e-4 at n = 1,000 and falls as n^-1.5.
- `chi2_sf(x, dof)`: the regularised upper incomplete gamma Q(dof/2, x/2), by its series
  below a + 1 and by its continued fraction above.
- `fisher_exact(table)`: the two-sided p-value of a 2 x 2 table, summing every table with the
  same margins that is no more likely than the one seen.
"""

from __future__ import annotations

import math

import numpy as np

KS_TAIL = 1e-3
KS_EXACT_N = 1000


def _smirnov_sf(n: int, d: float, block: int = 1 << 15) -> float:
    """P(D+_n >= d), the one-sided statistic, by Birnbaum and Tingey's sum, taken in logs and in
    blocks of terms so that n = 500,000 needs no more than a block's memory."""
    if d <= 0:
        return 1.0
    if d >= 1:
        return 0.0
    last = math.floor(n * (1 - d) + 1e-12)
    top, total, log_choose_before = -math.inf, 0.0, 0.0  # running max and sum of exp(term - max)
    for low in range(0, last + 1, block):
        j = np.arange(low, min(low + block, last + 1), dtype=np.float64)
        steps = np.log((n - j + 1) / np.maximum(j, 1))
        steps[j == 0] = 0.0  # log C(n, 0) = 0
        log_choose = log_choose_before + np.cumsum(steps)
        log_choose_before = float(log_choose[-1])
        a = np.maximum(1 - d - j / n, 0.0)  # the last term's base may round below zero
        with np.errstate(divide="ignore"):
            terms = log_choose + (n - j) * np.log(a) + (j - 1) * np.log(d + j / n)
        terms = terms[np.isfinite(terms)]
        if not len(terms):
            continue
        high = float(terms.max())
        if high > top:
            total *= math.exp(top - high)
            top = high
        total += float(np.exp(terms - top).sum())
    return min(d * math.exp(top) * total, 1.0)


def _durbin_cdf(n: int, d: float) -> float:
    """P(D_n < d), exact: n!/n^n times the middle entry of H^n (Marsaglia, Tsang and Wang),
    the matrix rescaled after each product with its scale kept in logs."""
    k = math.floor(n * d) + 1
    m = 2 * k - 1
    h = k - n * d
    log_fact = np.array([math.lgamma(i + 1) for i in range(m + 1)])
    gap = np.arange(m)[:, None] - np.arange(m)[None, :] + 1
    matrix = np.where(gap >= 0, np.exp(-log_fact[np.clip(gap, 0, m)]), 0.0)
    powers = h ** np.arange(1, m + 1)
    inverse_fact = np.exp(-log_fact[1:])
    matrix[:, 0] = (1 - powers) * inverse_fact
    matrix[m - 1, :] = (1 - powers[::-1]) * inverse_fact[::-1]
    matrix[m - 1, 0] = (1 - 2 * h**m + max(0.0, 2 * h - 1) ** m) * inverse_fact[m - 1]
    result: np.ndarray | None = None
    result_log, base_log, e = 0.0, 0.0, n
    while e:
        if e & 1:
            if result is None:
                result, result_log = matrix.copy(), base_log
            else:
                result = result @ matrix
                scale = float(np.abs(result).max())
                result, result_log = result / scale, result_log + base_log + math.log(scale)
        e >>= 1
        if e:
            matrix = matrix @ matrix
            scale = float(np.abs(matrix).max())
            matrix, base_log = matrix / scale, 2 * base_log + math.log(scale)
    assert result is not None
    middle = float(result[k - 1, k - 1])
    if middle <= 0:
        return 0.0
    return min(math.exp(math.log(middle) + result_log + math.lgamma(n + 1) - n * math.log(n)), 1.0)


def _pelz_good_cdf(n: int, d: float) -> float:
    """P(D_n <= d) by Pelz and Good's expansion in 1/sqrt(n), to the 1/n term."""
    z = d * math.sqrt(n)
    pi2 = math.pi**2
    k = np.arange(0, 40, dtype=np.float64)
    half2 = (k + 0.5) ** 2
    limit = math.sqrt(2 * math.pi) / z * float(np.exp(-pi2 * (2 * k + 1) ** 2 / (8 * z * z)).sum())
    e = np.exp(-pi2 * half2 / (2 * z * z))
    # The sums below run over every integer k; the terms are even in k + 1/2 (or k), hence the 2s.
    first = 2 * math.sqrt(math.pi / 2) / (6 * z**4) * float(np.sum((pi2 * half2 - z * z) * e))
    k1 = k[1:]
    second = (2 * math.sqrt(math.pi / 2) / (72 * z**7)
              * float(np.sum((6 * z**6 + 2 * z**4 + pi2 * (2 * z**4 - 5 * z * z) * half2
                              + pi2**2 * (1 - 2 * z * z) * half2**2) * e))
              - 2 * math.sqrt(math.pi / 2) / (36 * z**3) * float(np.sum(pi2 * k1**2 * np.exp(-pi2 * k1**2 / (2 * z * z)))))
    return limit + first / math.sqrt(n) + second / n


def ks_sf(d: float, n: int) -> float:
    """P(D_n >= d) for the two-sided Kolmogorov-Smirnov statistic of n values (n >= 1)."""
    if n < 1:
        raise ValueError("the KS distribution needs n >= 1")
    if d <= 1 / (2 * n):
        return 1.0
    if d >= 1:
        return 0.0
    if 2 * math.exp(-2 * n * d * d) < 10 * KS_TAIL:  # by the limit law, in or near the tail
        tail = 2 * _smirnov_sf(n, d)
        if tail < KS_TAIL:
            return tail
    cdf = _durbin_cdf(n, d) if n <= KS_EXACT_N else _pelz_good_cdf(n, d)
    return min(max(1.0 - cdf, 0.0), 1.0)


def chi2_sf(x: float, dof: int) -> float:
    """P(X >= x) for a chi-squared variable with `dof` degrees of freedom."""
    if dof < 1:
        raise ValueError("chi-squared needs dof >= 1")
    if x <= 0:
        return 1.0
    a, y = dof / 2, x / 2
    log_front = a * math.log(y) - y - math.lgamma(a)
    if y < a + 1:  # P by its series, Q = 1 - P
        term = total = 1 / a
        k = a
        while abs(term) > abs(total) * 1e-16:
            k += 1
            term *= y / k
            total += term
        return min(max(1.0 - math.exp(log_front) * total, 0.0), 1.0)
    # Q by its continued fraction (modified Lentz)
    tiny = 1e-300
    b = y + 1 - a
    c, dd = 1 / tiny, 1 / b
    f = dd
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        dd = an * dd + b
        dd = tiny if abs(dd) < tiny else dd
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        dd = 1 / dd
        step = dd * c
        f *= step
        if abs(step - 1) < 1e-16:
            break
    return min(math.exp(log_front) * f, 1.0)


def fisher_exact(table: list[list[int]]) -> float:
    """Two-sided p-value of Fisher's exact test on [[a, b], [c, d]]."""
    (a, b), (c, d) = table
    if min(a, b, c, d) < 0:
        raise ValueError("Fisher's test needs counts >= 0")
    row, col, total = a + b, a + c, a + b + c + d
    low, high = max(0, col - (total - row)), min(row, col)
    cells = np.arange(low, high + 1)

    def log_choose(n: int, k: np.ndarray) -> np.ndarray:
        return np.array([math.lgamma(n + 1) - math.lgamma(int(j) + 1) - math.lgamma(n - int(j) + 1) for j in k])

    log_p = log_choose(row, cells) + log_choose(total - row, col - cells) - (
        math.lgamma(total + 1) - math.lgamma(col + 1) - math.lgamma(total - col + 1))
    seen = log_p[a - low]
    # tables as likely as the one seen, up to rounding, count with it
    return min(float(np.exp(log_p[log_p <= seen + 1e-7]).sum()), 1.0)
