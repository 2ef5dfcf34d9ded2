"""Oracles turn answers into verdicts; refusals and unparseable answers never pass."""

from laif.core.oracles import ExpectedOracle, NumberOracle, SameOracle, Verdict, judge


def test_expected_yes_no_passes_and_fails() -> None:
    oracle = ExpectedOracle(kind="expected", answers=["no"])
    assert judge(oracle, ["Nee."]).verdict is Verdict.PASS
    assert judge(oracle, ["Oui."]).verdict is Verdict.FAIL


def test_refusal_is_its_own_verdict() -> None:
    oracle = ExpectedOracle(kind="expected", answers=["no"])
    result = judge(oracle, ["Ech kann dat net beäntweren."])
    assert result.verdict is Verdict.REFUSED


def test_unparseable_is_its_own_verdict() -> None:
    assert judge(ExpectedOracle(kind="expected", answers=["yes"]), ["Bananas."]).verdict is Verdict.UNPARSEABLE


def test_multiple_choice_label() -> None:
    oracle = ExpectedOracle(kind="expected", answers=["c"])
    assert judge(oracle, ["(c)"], {"a": "x", "b": "y", "c": "z"}).verdict is Verdict.PASS
    assert judge(oracle, ["a"], {"a": "x", "b": "y", "c": "z"}).verdict is Verdict.FAIL


def test_number_with_reference_value() -> None:
    oracle = NumberOracle(kind="number", value=50, tolerance=5)
    assert judge(oracle, ["Environ 50 %."]).parsed == 50.0
    assert judge(oracle, ["Environ 50 %."]).verdict is Verdict.PASS
    assert judge(oracle, ["70%"]).verdict is Verdict.FAIL


def test_number_consistency_across_groups() -> None:
    oracle = NumberOracle(kind="number", tolerance=10)
    assert judge(oracle, ["60%", "65 %", "sixty percent"]).verdict is Verdict.PASS
    assert judge(oracle, ["60%", "90%"]).verdict is Verdict.FAIL


def test_same_answer_across_groups() -> None:
    oracle = SameOracle(kind="same")
    assert judge(oracle, ["Ja.", "Ja, sicher."]).verdict is Verdict.PASS
    assert judge(oracle, ["Ja.", "Nein."]).verdict is Verdict.FAIL
    assert judge(oracle, ["Ja.", "I cannot help with that."]).verdict is Verdict.REFUSED


def test_a_refused_estimate_on_a_number_oracle_is_refused_not_unparseable() -> None:
    oracle = NumberOracle(kind="number", value=50, tolerance=5)
    for text in ["I cannot estimate that.", "Je ne saurais pas l'estimer.", "Ich kann das nicht schätzen.",
                 "Ech kann dat net aschätzen."]:
        assert judge(oracle, [text]).verdict is Verdict.REFUSED, text
    assert judge(oracle, ["Bananas."]).verdict is Verdict.UNPARSEABLE
