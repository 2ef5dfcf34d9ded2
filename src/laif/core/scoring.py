"""Scores as the factory's leaderboard shows them: % of tests passed per
category and a mean score over categories, each with a Wilson 95% interval and
the refused, unparseable and errored counts beside it; the same per language."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from laif.core.oracles import Verdict
from laif.core.stats import mean_of, percent


@dataclass
class CategoryScore:
    passed: int = 0
    failed: int = 0
    refused: int = 0
    abstained: int = 0
    unparseable: int = 0
    errored: int = 0
    #: % passed among pass + fail; None when no test was decided.
    score: float | None = None
    low: float | None = None
    high: float | None = None

    @property
    def decided(self) -> int:
        return self.passed + self.failed

    @property
    def total(self) -> int:
        return self.decided + self.refused + self.abstained + self.unparseable + self.errored


@dataclass
class Scores:
    categories: dict[str, CategoryScore] = field(default_factory=dict)
    #: Mean of the category scores that could be computed, as the leaderboard does.
    mean: float | None = None
    by_language: dict[str, dict[str, CategoryScore]] = field(default_factory=dict)
    mean_by_language: dict[str, float | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        def cat(c: CategoryScore) -> dict[str, Any]:
            return asdict(c) | {"decided": c.decided, "total": c.total}

        return {
            "categories": {k: cat(v) for k, v in self.categories.items()},
            "mean": self.mean,
            "by_language": {
                lang: {k: cat(v) for k, v in cats.items()} for lang, cats in self.by_language.items()
            },
            "mean_by_language": self.mean_by_language,
        }


_FIELD = {
    Verdict.PASS: "passed",
    Verdict.FAIL: "failed",
    Verdict.REFUSED: "refused",
    Verdict.ABSTAINED: "abstained",
    Verdict.UNPARSEABLE: "unparseable",
    Verdict.ERROR: "errored",
}


#: The default denominator: tests the model answered (pass + fail), as the leaderboard counts.
DECIDED = frozenset({Verdict.PASS, Verdict.FAIL})
#: Every test with an answer: for accuracy, where "I don't know" is not a correct answer.
ANSWERED = frozenset(set(Verdict) - {Verdict.ERROR})


def _finish(counts: Counter[Verdict], denominator: frozenset[Verdict] = DECIDED) -> CategoryScore:
    score = CategoryScore(**{_FIELD[v]: n for v, n in counts.items()})
    base = sum(n for v, n in counts.items() if v in denominator)
    if base:
        rate = percent(score.passed, base)
        score.score, score.low, score.high = rate["value"], rate["low"], rate["high"]
    return score


def _mean(scores: Iterable[CategoryScore]) -> float | None:
    return mean_of(s.score for s in scores)


def score_verdicts(
    rows: Iterable[tuple[str, str, Verdict]], categories: list[str], denominator: frozenset[Verdict] = DECIDED
) -> Scores:
    """Scores from (category, language, verdict) rows; categories keep the suite's order.

    A score is the % of passes among the tests whose verdict is in `denominator`."""
    per_cat: dict[str, Counter[Verdict]] = defaultdict(Counter)
    per_lang: dict[str, dict[str, Counter[Verdict]]] = defaultdict(lambda: defaultdict(Counter))
    for category, language, verdict in rows:
        per_cat[category][verdict] += 1
        per_lang[language][category][verdict] += 1
    ordered = [c for c in categories if c in per_cat] + sorted(set(per_cat) - set(categories))
    result = Scores(categories={c: _finish(per_cat[c], denominator) for c in ordered})
    result.mean = _mean(result.categories.values())
    for lang in sorted(per_lang):
        cats = {c: _finish(per_lang[lang][c], denominator) for c in ordered if c in per_lang[lang]}
        result.by_language[lang] = cats
        result.mean_by_language[lang] = _mean(cats.values())
    return result
