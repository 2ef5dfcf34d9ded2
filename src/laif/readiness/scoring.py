"""Readiness scores, after the EDIH Digital Maturity Assessment (DMA): each question 0-10, each
dimension 0-100 %, the overall score the mean of the dimensions, and a band.

    single question     10 x points / (highest points among its options)
    multiple choice     10 x min(sum of ticked points, cap) / cap
    dimension           10 x mean of its questions' scores            (0-100 %)
    overall             mean of the dimensions                        (0-100 %)

A question never scores above 10: the cap is applied before dividing, and the bank refuses a cap
above what can be ticked. (The DMA's application to 30 SMEs in Technologies 2025, 13(12):541 let
a question exceed 10 when more items were ticked than its divisor counted.) Scores are rounded to
one decimal before the band is read, so the band always matches the figure shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import fmean

from laif.readiness.bank import Answers, Bank, Question

#: Lower edges of the bands, inclusive, on the rounded overall (or dimension) score in %.
BANDS: tuple[tuple[float, str], ...] = (
    (0.0, "Basic"), (25.0, "Average"), (50.0, "Moderately advanced"), (75.0, "Advanced"))
BAND_NAMES = {"en": {b: b for _, b in BANDS},
              "fr": {"Basic": "Basique", "Average": "Moyen", "Moderately advanced": "Modérément avancé",
                     "Advanced": "Avancé"}}


def band(score: float) -> str:
    """The band of a score in % (rounded to one decimal first): Basic [0, 25), Average [25, 50),
    Moderately advanced [50, 75), Advanced [75, 100]."""
    value = round(score, 1)
    if not 0.0 <= value <= 100.0:
        raise ValueError(f"a readiness score is between 0 and 100, not {score}")
    return [name for edge, name in BANDS if value >= edge][-1]


def question_score(q: Question, answer: str | list[str] | None) -> float:
    """0 to 10; an unanswered optional question scores 0."""
    if answer is None:
        return 0.0
    if q.kind == "single":
        top = max(o.score or 0 for o in q.options.values())
        assert isinstance(answer, str)
        return 10.0 * (q.options[answer].score or 0) / top
    assert q.cap is not None and isinstance(answer, list)
    ticked = sum(q.options[key].score or 0 for key in answer)
    return 10.0 * min(ticked, q.cap) / q.cap


@dataclass(frozen=True)
class Scores:
    questions: dict[str, float]  # question id -> 0..10
    dimensions: dict[str, float]  # dimension id -> 0..100, one decimal
    overall: float
    band: str


def score(answers: Answers, bank: Bank) -> Scores:
    per_question = {q.id: round(question_score(q, answers.get(q.id)), 2) for q in bank.questions if q.scored}
    dims = {}
    for d in bank.dimensions:
        mine = [question_score(q, answers.get(q.id)) for q in bank.questions if q.dimension == d.id]
        dims[d.id] = round(10.0 * fmean(mine), 1)
    overall = round(fmean(dims.values()), 1)
    return Scores(per_question, dims, overall, band(overall))
