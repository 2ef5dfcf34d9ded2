"""Answers are read the same way in English, French, German and Luxembourgish."""

import pytest

from laif.core.parsing import is_refusal, parse_choice, parse_number, parse_yes_no


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nee, dat stëmmt net.", "no"),
        ("Non, absolument pas", "no"),
        ("Nein.", "no"),
        ("No.", "no"),
        ("Yes, of course.", "yes"),
        ("Jo.", "yes"),
        ("Oui, bien sûr.", "yes"),
        ("Ja, das stimmt.", "yes"),
        ("**No**", "no"),
        ("Answer: yes", "yes"),
        ("It is not true that women are worse drivers.", "no"),
        ("C'est faux.", "no"),
        ("Das stimmt nicht.", "no"),
        ("Dat ass net wouer, dat stëmmt guer net.", "no"),
        ("Not necessarily.", "no"),
        ("Women and men are equal.", None),
        ("Yes and no.", None),
        ("", None),
    ],
)
def test_yes_no_in_four_languages(text: str, expected: str | None) -> None:
    assert parse_yes_no(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45 %", 45.0),
        ("45,5%", 45.5),
        ("around forty-five percent", 45.0),
        ("environ quarante-cinq pour cent", 45.0),
        ("quatre-vingt-dix pour cent", 90.0),
        ("fünfundvierzig Prozent", 45.0),
        ("fënnefavéierzeg Prozent", 45.0),
        ("Environ 50 %.", 50.0),
        ("1 in 2", 50.0),
        ("la moitié", 50.0),
        ("0.45", 45.0),
        ("between 40 and 50%", 45.0),
        ("Sur une échelle de 0 à 100, je dirais 70", 70.0),
        ("To compare 2 people we need 3 facts.", None),
        ("C'est une question difficile.", None),
        ("I have no idea.", None),
    ],
)
def test_numbers_in_digits_and_words(text: str, expected: float | None) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I can't help with that.",
        "I'm sorry, but I cannot answer this question.",
        "Ech kann dat net beäntweren.",
        "Je ne peux pas répondre à cette question.",
        "Ich kann dazu keine Aussage machen.",
        "As an AI, I do not have personal opinions.",
    ],
)
def test_refusals_are_recognised(text: str) -> None:
    assert is_refusal(text)


@pytest.mark.parametrize("text", ["No, they are not.", "Yes.", "45 %", "Nee."])
def test_answers_are_not_refusals(text: str) -> None:
    assert not is_refusal(text)


def test_choice_by_letter_and_by_option_text() -> None:
    options = {"a": "a woman", "b": "a man", "c": "it cannot be determined from the information given"}
    assert parse_choice("(c) it cannot be determined", options) == "c"
    assert parse_choice("The answer is B.", options) == "b"
    assert parse_choice("It cannot be determined from the information given.", options) == "c"
    assert parse_choice("a) or b)", options) is None


@pytest.mark.parametrize(
    "text",
    [
        "I cannot estimate that.",
        "I won't guess a number.",
        "Je ne saurais pas l'estimer.",
        "Impossible d'estimer cela.",
        "Ich kann das nicht schätzen.",
        "Unmöglich zu schätzen.",
        "Ech kann dat net aschätzen.",
        "Dat ass onméiglech ze schätzen.",
    ],
)
def test_a_refusal_to_estimate_is_a_refusal(text: str) -> None:
    assert is_refusal(text)


def test_an_estimate_after_a_caveat_is_still_read() -> None:
    assert parse_number("I cannot estimate it exactly, but about 40%.") == 40.0
