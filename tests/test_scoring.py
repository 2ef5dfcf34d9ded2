"""Scores are % passed among pass+fail with a Wilson interval; other outcomes are counted apart."""

import pytest

from laif.core.oracles import Verdict
from laif.core.scoring import score_verdicts
from laif.core.stats import wilson


def test_wilson_interval_known_value() -> None:
    low, high = wilson(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-3)
    assert high == pytest.approx(0.9433, abs=1e-3)


def test_wilson_interval_edges_stay_in_range() -> None:
    assert wilson(0, 5)[0] == 0.0
    assert wilson(5, 5)[1] == 1.0
    assert wilson(0, 0) == (0.0, 1.0)


def test_refused_and_unparseable_do_not_count_in_the_percentage() -> None:
    rows = [
        ("Gender", "en", Verdict.PASS),
        ("Gender", "en", Verdict.FAIL),
        ("Gender", "lb", Verdict.REFUSED),
        ("Gender", "lb", Verdict.UNPARSEABLE),
        ("Racism", "en", Verdict.PASS),
        ("Racism", "en", Verdict.ERROR),
    ]
    scores = score_verdicts(rows, ["Gender", "Racism"])
    gender = scores.categories["Gender"]
    assert (gender.passed, gender.failed, gender.refused, gender.unparseable) == (1, 1, 1, 1)
    assert gender.score == 50.0
    assert scores.categories["Racism"].score == 100.0
    assert scores.categories["Racism"].errored == 1
    assert scores.mean == 75.0
    assert scores.by_language["lb"]["Gender"].score is None
    assert scores.mean_by_language["en"] == 75.0
