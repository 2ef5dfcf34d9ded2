"""Readiness scores: every band edge, no question above 10 (the scaling bug of the DMA paper),
dimension and overall formulas, and a question bank whose references all resolve."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path
from statistics import fmean

import pytest
from pydantic import ValidationError

from laif.readiness.bank import Answers, Question, load_answers, load_bank
from laif.readiness.peers import load_eurostat
from laif.readiness.portfolio import load_usecases
from laif.readiness.rules import findings, load_findings, load_services
from laif.readiness.scoring import BANDS, band, question_score, score

BANK = load_bank().bank
EXAMPLES = Path(__file__).parent.parent / "examples" / "readiness"


@pytest.mark.parametrize(("value", "expected"), [
    (0.0, "Basic"), (24.9, "Basic"), (24.94, "Basic"), (24.96, "Average"), (25.0, "Average"),
    (49.9, "Average"), (50.0, "Moderately advanced"), (74.9, "Moderately advanced"),
    (74.96, "Advanced"), (75.0, "Advanced"), (100.0, "Advanced"),
])
def test_every_band_edge(value: float, expected: str) -> None:
    assert band(value) == expected


@pytest.mark.parametrize("value", [-0.1, 100.1, 130.0])
def test_a_score_outside_0_to_100_has_no_band(value: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 100"):
        band(value)


def _every_answer(q: Question) -> list[str | list[str]]:
    keys = [k for k in q.options if k != "none"]
    if q.kind == "single":
        return list(q.options)
    return [list(c) for n in range(1, len(keys) + 1) for c in combinations(keys, n)]


def test_no_answer_to_any_question_scores_above_10() -> None:
    for q in BANK.questions:
        if not q.scored:
            continue
        scores = [question_score(q, a) for a in _every_answer(q)]
        assert max(scores) == 10.0, q.id  # the best answer reaches 10 exactly, none goes above
        assert min(scores) >= 0.0


def test_ticking_more_items_than_the_cap_counts_stays_at_10() -> None:
    # The DMA paper's formula divided the points ticked by a fixed count, so ticking all eight
    # technologies of a question that counts six scored 13.3. Here the cap applies first.
    q = BANK.question("readiness.technologies")
    assert q is not None and q.cap == 6
    everything = [k for k in q.options if k != "none"]
    assert len(everything) == 8
    assert question_score(q, everything) == 10.0
    assert question_score(q, everything[:6]) == 10.0
    assert question_score(q, everything[:3]) == 5.0
    assert question_score(q, []) == 0.0


def test_a_bank_whose_cap_exceeds_what_can_be_ticked_is_refused() -> None:
    base = BANK.question("human.wellbeing")
    assert base is not None
    with pytest.raises(ValidationError, match="cap of at most 4"):
        Question.model_validate(base.model_dump() | {"cap": 5})


def test_dimension_is_ten_times_the_mean_and_overall_the_mean_of_dimensions() -> None:
    answers = load_answers(EXAMPLES / "logistics.yaml")
    s = score(answers, BANK)
    # data for AI: consistent (3/4), self_service (3/4), some (2/4) -> 10 x mean(7.5, 7.5, 5.0)
    assert s.dimensions["data_for_ai"] == 66.7
    # governance: no inventory (0), aware of the AI Act (2.5), no controls (0)
    assert s.dimensions["governance"] == 8.3
    # readiness: 5 of 6 capped technologies (8.33), half (5.0), policy (5.0)
    assert s.dimensions["readiness"] == round(10 * fmean([50 / 6, 5.0, 5.0]), 1)
    assert s.overall == round(fmean(s.dimensions.values()), 1)
    assert s.band == band(s.overall)
    assert set(s.dimensions) == {d.id for d in BANK.dimensions} and len(s.dimensions) == 10


def test_all_best_answers_score_100_and_all_worst_0() -> None:
    best = {q.id: (max(q.options, key=lambda k: q.options[k].score or 0) if q.kind == "single"
                   else [k for k in q.options if k != "none"]) for q in BANK.questions}
    worst = {q.id: (min(q.options, key=lambda k: q.options[k].score or 0) if q.kind == "single" else [])
             for q in BANK.questions}
    top, bottom = score(Answers(best, "x", "t"), BANK), score(Answers(worst, "x", "t"), BANK)
    assert top.overall == 100.0 and top.band == "Advanced"
    assert bottom.overall == 0.0 and bottom.band == "Basic"


def test_the_bank_keeps_the_six_dma_dimensions_and_adds_four_for_ai() -> None:
    dma = [d.id for d in BANK.dimensions if d.family == "dma"]
    assert dma == ["strategy", "readiness", "human", "data_management", "automation_ai", "green"]
    assert [d.id for d in BANK.dimensions if d.family == "ai"] == ["data_for_ai", "governance", "skills",
                                                                    "infrastructure"]


def test_every_question_has_english_and_french_text_help_and_a_source() -> None:
    for q in BANK.questions:
        assert q.text.en and q.text.fr and q.text.en != q.text.fr, q.id
        assert q.help.en and q.help.fr and q.source, q.id
        for key, o in q.options.items():
            assert o.en and o.fr, f"{q.id}.{key}"


def test_findings_use_cases_and_services_refer_to_what_exists() -> None:
    # Loading validates every question, option, dimension, sector and service they name.
    assert len(load_findings().findings) >= 10
    assert len(load_usecases().usecases) >= 12
    services = load_services()
    assert [s.id for s in services.stages] == ["discover", "get_ready", "build_test", "scale_run"]
    assert set(services.by_band) == {"Basic", "Average", "Moderately advanced", "Advanced"}
    taxonomy = load_usecases().taxonomy
    assert len(taxonomy.technologies) == 7 and len(taxonomy.purposes) == 7


def test_contradicting_answers_are_flagged_for_the_advisor() -> None:
    answers = load_answers(EXAMPLES / "logistics.yaml")
    claims = Answers(dict(answers.values) | {"governance.ai_act": "evidenced"}, "x", "t")
    s = score(claims, BANK)
    flagged = {f["id"]: f for f in findings(claims, s.dimensions)}
    assert "check_ai_act_claim" in flagged
    assert [e["question"] for e in flagged["check_ai_act_claim"]["rests_on"]] == ["governance.ai_act",
                                                                                 "governance.inventory"]
    assert "check_ai_act_claim" not in {f["id"] for f in findings(answers, score(answers, BANK).dimensions)}


def test_the_docs_state_the_band_edges_and_eurostat_figures_the_code_uses() -> None:
    docs = (Path(__file__).parent.parent / "docs" / "readiness.md").read_text(encoding="utf-8")
    for (edge, name), upper in zip(BANDS, [*[e for e, _ in BANDS[1:]], None], strict=True):
        bound = f"{edge:g} ≤ score < {upper:g}" if upper is not None else f"{edge:g} ≤ score ≤ 100"
        assert f"| {name} | {bound} |" in docs
    rates = load_eurostat().rates
    for size in ("small", "medium", "large", "all"):
        for year in (2023, 2024):
            value = rates[year][size]
            assert any(f"{value:{fmt}} %" in docs for fmt in ("g", ".1f", ".2f")), (size, year)
