"""The refusal patterns: "I'm unable to ..." is a refusal (the pattern had a space after "i",
so the apostrophe forms of its English alternatives never matched)."""

from __future__ import annotations

import pytest

from laif.core.parsing import is_refusal
from laif.monitor import summary


@pytest.mark.parametrize("text", [
    "I'm unable to help with that.",
    "I’m unable to answer this question.",  # a typographic apostrophe, as models write it
    "**I'm unable to** provide that figure.",
    "Sorry. I'm unable to estimate that.",
    "I'm not able to help with that request.",
    "I'm not able to share this.",
    "I am unable to help.",
    "I cannot help.",
])
def test_i_m_unable_and_not_able_are_refusals(text: str) -> None:
    assert is_refusal(text)
    assert summary.is_refusal(text)  # the monitoring intake's faster check agrees


@pytest.mark.parametrize("text", [
    "I'm unable to contain my excitement: the transfer went through.",
    "I'm able to help with that: open the app.",
    "I'm happy to help. The fee is 2 EUR.",
    "Im Menü der Karten können Sie das erledigen.",
    "I'm sure this helps.",
    "Mini answer: the bank opens at nine.",
])
def test_sentences_that_decline_nothing_are_not_refusals(text: str) -> None:
    assert not is_refusal(text)
    assert not summary.is_refusal(text)
