"""Drift statistics and the mergeable sketch, against scipy's own functions and values worked by hand."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from scipy import stats as sp
from scipy.spatial.distance import jensenshannon

from laif.monitor import stats
from laif.monitor.sketch import ALPHA, MAX_CATEGORIES, OTHER, Categories, Sketch


def _counts_on_union(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    values = np.union1d(a, b)
    return values, np.array([np.sum(a == v) for v in values]), np.array([np.sum(b == v) for v in values])


@pytest.mark.parametrize("shift", [0.0, 0.1, 0.5])
def test_ks_on_counts_equals_scipy_ks_2samp_on_the_samples(shift: float) -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, 400).round(2), rng.normal(shift, 1, 300).round(2)
    _, ca, cb = _counts_on_union(a, b)
    ours = stats.ks(ca, cb)
    theirs = sp.ks_2samp(a, b, method="asymp")
    assert ours.statistic == pytest.approx(theirs.statistic, abs=1e-12)
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=2e-4)  # n = 171: scipy approximates (test_monitor_distributions)


def test_chi2_equals_scipy_contingency_without_correction() -> None:
    ref, cur = [120, 80, 40, 0, 10], [90, 95, 60, 0, 5]
    ours = stats.chi2(ref, cur)
    table = np.array([ref, cur])[:, [0, 1, 2, 4]]
    statistic, p, dof, _ = sp.chi2_contingency(table, correction=False)
    assert ours.statistic == pytest.approx(statistic)
    assert ours.p_value == pytest.approx(p)


def test_jensen_shannon_equals_scipy_base_2() -> None:
    p, q = [10, 20, 30, 0], [5, 5, 40, 10]
    assert stats.jensen_shannon(p, q) == pytest.approx(jensenshannon(np.array(p) / 60, np.array(q) / 60, base=2))
    assert stats.jensen_shannon([1, 0], [0, 1]) == pytest.approx(1.0)
    assert stats.jensen_shannon([3, 4], [6, 8]) == pytest.approx(0.0)


def test_wasserstein_equals_scipy_on_weighted_values() -> None:
    values = [0.5, 1.0, 2.5, 4.0, 7.0]
    ref, cur = [3, 5, 8, 2, 1], [1, 2, 5, 6, 4]
    expected = sp.wasserstein_distance(values, values, u_weights=ref, v_weights=cur)
    assert stats.wasserstein(values, ref, cur) == pytest.approx(expected)
    # a whole distribution moved by 2 moves by 2
    assert stats.wasserstein([0, 1, 2, 3], [1, 1, 0, 0], [0, 0, 1, 1]) == pytest.approx(2.0)


def test_psi_known_value_worked_by_hand() -> None:
    # shares 0.5/0.5 -> 0.25/0.75: (0.25-0.5) ln(0.5) + (0.75-0.5) ln(1.5) = 0.25 ln 3
    assert stats.psi([50, 50], [25, 75]) == pytest.approx(0.25 * math.log(3))
    assert stats.psi([10, 20, 30], [20, 40, 60]) == pytest.approx(0.0)


def test_psi_of_an_empty_bin_is_large_but_finite() -> None:
    value = stats.psi([100, 0], [50, 50])
    assert math.isfinite(value) and value > stats.PSI_ALERT


def test_benjamini_hochberg_equals_scipy_false_discovery_control() -> None:
    p = [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216]
    assert stats.benjamini_hochberg(p) == pytest.approx(list(sp.false_discovery_control(p, method="bh")))


def test_bonferroni_multiplies_and_caps_at_one() -> None:
    assert stats.bonferroni([0.01, 0.2, 0.5]) == pytest.approx([0.03, 0.6, 1.0])


def test_counts_must_be_non_negative() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        stats.psi([1, -1], [1, 1])


def test_sketch_quantiles_are_within_its_relative_accuracy() -> None:
    rng = random.Random(5)
    values = [rng.lognormvariate(0, 1.2) for _ in range(20000)]
    sketch = Sketch.of(values)
    ordered = sorted(values)
    for q in (0.01, 0.25, 0.5, 0.9, 0.95, 0.99):
        true = ordered[int(q * (len(values) - 1))]
        got = sketch.quantile(q)
        assert got is not None
        assert abs(got - true) <= ALPHA * true * 1.0001


def test_sketch_merge_is_the_sketch_of_all_values_in_any_order() -> None:
    rng = random.Random(9)
    parts = [[rng.gauss(0, 5) for _ in range(300)] for _ in range(4)]
    whole = Sketch.of(v for part in parts for v in part)
    merged = Sketch()
    for part in reversed(parts):
        merged.merge(Sketch.of(part))
    assert merged.bins() == whole.bins()
    assert merged.n == whole.n and merged.total == pytest.approx(whole.total)
    assert Sketch.from_json(merged.to_json()).bins() == whole.bins()


def test_sketch_keeps_zero_and_negative_values_in_order() -> None:
    sketch = Sketch.of([-3.0, 0.0, 2.0, -1.0])
    assert [round(v, 1) for v, _ in sketch.bins()] == [-3.0, -1.0, 0.0, 2.0]
    assert sketch.quantile(0.0) == pytest.approx(-3.0, rel=ALPHA)


def test_categories_cap_new_labels_as_other() -> None:
    cats = Categories()
    for i in range(MAX_CATEGORIES + 5):
        cats.add(f"label-{i}")
    assert len(cats.counts) == MAX_CATEGORIES + 1 and cats.counts[OTHER] == 5 and cats.n == MAX_CATEGORIES + 5
