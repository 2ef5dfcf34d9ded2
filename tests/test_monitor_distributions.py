"""The distributions of monitor/distributions.py against scipy's (a test dependency only) and
against values known in closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sp

from laif.monitor import distributions as dist


def _grid(n: int) -> list[float]:
    """Statistics from well inside to far in the tail for n values, and a few large ones."""
    near = np.linspace(0.2 / math.sqrt(n), 3.2 / math.sqrt(n), 40)
    return [float(d) for d in np.concatenate([near, [0.2, 0.5, 0.8, 0.95]]) if d < 1]


@pytest.mark.parametrize("n", [1, 2, 3, 10, 57, 140])
def test_ks_sf_is_scipys_where_scipy_is_exact(n: int) -> None:
    # up to 140 values scipy's kstwo is exact too (Simard and L'Ecuyer)
    for d in _grid(n):
        assert dist.ks_sf(d, n) == pytest.approx(sp.kstwo.sf(d, n), rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("n", [141, 400, 1000, 1001, 4000, 20_000])
def test_ks_sf_agrees_with_scipys_approximations_beyond(n: int) -> None:
    # beyond 140 scipy approximates as well; ours is exact to 1,000 and Pelz-Good beyond
    for d in _grid(n):
        expected = sp.kstwo.sf(d, n)
        assert dist.ks_sf(d, n) == pytest.approx(expected, rel=2e-4, abs=1e-300), d


def test_ks_sf_exact_and_expansion_meet_at_the_cut() -> None:
    n = dist.KS_EXACT_N
    for z in (0.4, 0.8, 1.2, 1.6):
        d = z / math.sqrt(n)
        exact = 1 - dist._durbin_cdf(n, d)
        assert 1 - dist._pelz_good_cdf(n, d) == pytest.approx(exact, rel=2e-4)


def test_ks_sf_closed_forms() -> None:
    # one value: D_1 = max(U, 1 - U), so P(D_1 >= d) = 2 (1 - d) for d >= 1/2
    assert dist.ks_sf(0.7, 1) == pytest.approx(0.6)
    # for d >= 1/2 the two-sided tail is exactly twice the one-sided: 2 (1 - d)^n at d >= 1 - 1/n
    assert dist.ks_sf(0.9, 5) == pytest.approx(2 * 0.1**5)
    assert dist.ks_sf(0.0, 50) == 1.0 and dist.ks_sf(1.0, 50) == 0.0
    assert dist.ks_sf(1 / 200, 100) == 1.0  # below 1/(2n) the statistic is never smaller
    with pytest.raises(ValueError, match="n >= 1"):
        dist.ks_sf(0.1, 0)


@pytest.mark.parametrize("dof", [1, 2, 3, 7, 20, 49])
def test_chi2_sf_is_scipys(dof: int) -> None:
    for x in np.linspace(0.01, 160, 200):
        assert dist.chi2_sf(float(x), dof) == pytest.approx(sp.chi2.sf(x, dof), rel=1e-10, abs=1e-300)


def test_chi2_sf_closed_forms() -> None:
    # two degrees of freedom: P(X >= x) = exp(-x/2)
    for x in (0.5, 3.0, 40.0):
        assert dist.chi2_sf(x, 2) == pytest.approx(math.exp(-x / 2), rel=1e-12)
    assert dist.chi2_sf(0.0, 3) == 1.0
    with pytest.raises(ValueError, match="dof >= 1"):
        dist.chi2_sf(1.0, 0)


def test_fisher_exact_is_scipys() -> None:
    rng = np.random.default_rng(11)
    tables = [[[8, 2], [1, 5]], [[0, 10], [10, 0]], [[3, 3], [3, 3]], [[0, 0], [4, 9]]]
    tables += rng.integers(0, 80, size=(200, 2, 2)).tolist()
    for table in tables:
        assert dist.fisher_exact(table) == pytest.approx(sp.fisher_exact(table).pvalue, rel=1e-9, abs=1e-12), table
    with pytest.raises(ValueError, match=">= 0"):
        dist.fisher_exact([[1, -1], [2, 2]])


def test_fisher_exact_tea_tasting() -> None:
    # Fisher's lady tasting tea: 4 of 4 right out of 8 cups, two-sided 2/70
    assert dist.fisher_exact([[4, 0], [0, 4]]) == pytest.approx(2 / 70)
