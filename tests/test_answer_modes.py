"""Answer modes without a model: the allowed answers agree with the parser, free runs keep
their cache keys and spec hashes, and a mode an adapter cannot honour is refused up front."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from laif.core import parsing
from laif.core.oracles import ExpectedOracle, NumberOracle, ReferenceOracle, SameOracle, read_answer
from laif.errors import BadInput
from laif.models import open_model
from laif.models.base import GenerationParams, ModelIdentity, cache_key
from laif.runner import RunSettings, spec_hash
from laif.runner.answer_modes import (
    ANSWER_MODES,
    allowed_answers,
    answer_modes,
    check_answer_mode,
    for_case,
    likelihood_response,
    read_likelihood,
)
from laif.suites import load_suite

from .conftest import run_laif

LANGUAGES = ("en", "fr", "de", "lb")
OPTIONS = {"a": "the man", "b": "the woman", "c": "it cannot be determined"}


def _admitted(grammar: str) -> list[str]:
    """The strings a grammar of one alternation of literals admits (what `Allowed.grammar` writes)."""
    head, _, body = grammar.strip().partition(" ::= ")
    assert head == "root"
    literals = re.findall(r'"((?:[^"\\]|\\.)*)"', body)
    assert body == " | ".join(f'"{x}"' for x in literals), "the grammar is one alternation of literals"
    return [json.loads(f'"{x}"') for x in literals]


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("answer_type", ["yesno", "choice", "number"])
def test_every_string_the_grammar_admits_parses_to_the_intended_answer(lang: str, answer_type: str) -> None:
    allowed = allowed_answers(answer_type, lang, OPTIONS)
    admitted = _admitted(allowed.grammar())
    assert admitted == allowed.answers
    for text in admitted:
        assert read_answer(text, answer_type, OPTIONS) == ("ok", allowed.meanings[text]), (lang, text)
    assert len({allowed.meanings[t] for t in admitted}) == len(admitted), "two answers mean the same"
    # No answer starts another, so scoring answers as the start of the reply is unambiguous.
    assert not [(a, b) for a in admitted for b in admitted if a != b and b.startswith(a)]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_canonical_yes_and_no_of_each_language_are_admitted(lang: str) -> None:
    yes, no = parsing.YES_NO_WORDS[lang]
    meanings = allowed_answers("yesno", lang, None).meanings
    assert {k.lower(): v for k, v in meanings.items()} == {yes: "yes", no: "no"}
    # The parser's lone yes and no words are exactly the canonical words of the four languages.
    assert {y for y, _ in parsing.YES_NO_WORDS.values()} == parsing._LONE_YES
    assert {n for _, n in parsing.YES_NO_WORDS.values()} == parsing._LONE_NO


def test_the_grammars_compile_in_llama_cpp() -> None:
    from llama_cpp.llama_grammar import LlamaGrammar

    for lang in LANGUAGES:
        for answer_type in ("yesno", "choice", "number"):
            assert LlamaGrammar.from_string(allowed_answers(answer_type, lang, OPTIONS).grammar(), verbose=False)


def test_only_closed_questions_get_allowed_answers() -> None:
    assert for_case("constrained", ExpectedOracle(kind="expected", answers=["no"]), None, "fr").answers == ["Oui", "Non"]
    assert for_case("constrained", SameOracle(kind="same"), OPTIONS, "de").answers == ["a", "b", "c"]
    assert len(for_case("constrained", NumberOracle(kind="number"), None, "lb").answers) == 101
    assert len(for_case("likelihood", NumberOracle(kind="number"), None, "lb").answers) == 21
    assert for_case("constrained", ReferenceOracle(kind="reference", answers=["x"]), None, "en") is None
    assert for_case("free", ExpectedOracle(kind="expected", answers=["no"]), None, "en") is None


def test_likelihood_response_keeps_the_best_answer_and_the_mass() -> None:
    text = likelihood_response(["Jo", "Nee"], [-0.5, -2.0])
    answer, mass = read_likelihood(text)
    assert answer == "Jo"
    assert mass is not None and mass["Jo"] > 0.8 and abs(sum(mass.values()) - 1) < 1e-6
    assert read_likelihood("Jo, dat stëmmt.") == ("Jo, dat stëmmt.", None)


def test_free_answers_keep_their_cache_keys_and_spec_hash() -> None:
    identity = ModelIdentity(kind="llamacpp", name="m", key="gguf-sha256:abc")
    params = GenerationParams()
    messages = [{"role": "user", "content": "Ja oder nein?"}]
    # The key as it was computed before answer modes existed.
    before = hashlib.sha256(
        json.dumps({"model": identity.key, "params": params.as_dict(), "messages": messages},
                   sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    ).hexdigest()
    assert cache_key(identity, params, messages) == before
    constrained = cache_key(identity, params, messages, {"mode": "constrained", "answers": ["Ja", "Nein"]})
    assert constrained != before
    suite = load_suite("bias")
    free = spec_hash(suite, identity, RunSettings())
    assert spec_hash(suite, identity, RunSettings(answer_mode="free")) == free
    assert len({free, *(spec_hash(suite, identity, RunSettings(answer_mode=m)) for m in ANSWER_MODES)}) == 3


def test_answer_mode_lists_are_read_and_checked() -> None:
    assert answer_modes("free, constrained,free") == ["free", "constrained"]
    with pytest.raises(BadInput, match="unknown mode 'greedy'"):
        answer_modes("free,greedy")


@pytest.mark.parametrize("spec", ["openai:http://127.0.0.1:9/v1#m", "http:http://127.0.0.1:9/ask"])
def test_adapters_without_grammar_or_scores_are_refused(spec: str) -> None:
    model = open_model(spec)
    check_answer_mode(model, "free")
    for mode in ("constrained", "likelihood"):
        with pytest.raises(BadInput, match=f"--answer-mode {mode}: .* cannot give"):
            check_answer_mode(model, mode)


def test_cli_refuses_a_mode_before_the_run_starts(tmp_path: Path) -> None:
    env = {"LAIF_HOME": str(tmp_path / "home")}
    # Port 9 answers nothing: a refusal that came after trying to connect would say so.
    result = run_laif("assess", "--model", "openai:http://127.0.0.1:9/v1#m", "--answer-mode", "free,likelihood",
                      "-l", "en", "--limit", "1", "--quiet", "--out", str(tmp_path / "out"), env=env)
    assert result.returncode == 2, result.stderr
    assert "--answer-mode likelihood" in result.stderr and "cannot give" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
    bad = run_laif("assess", "--answer-mode", "greedy", "--quiet", "--out", str(tmp_path / "out"), env=env)
    assert bad.returncode == 2 and "unknown mode 'greedy'" in bad.stderr


def test_agreement_between_modes_counts_tests_decided_in_both() -> None:
    from laif.runner.answer_modes import agreement

    free = {"a": "pass", "b": "fail", "c": "unparseable", "d": "pass", "e": "fail"}
    constrained = {"a": "pass", "b": "fail", "c": "pass", "d": "fail", "e": "fail"}
    found = agreement(free, constrained)
    assert (found["decided_in_both"], found["agreed"]) == (4, 3)
    assert found["share"] == 0.75
    # observed 0.75; chance (2/4 * 1/4 + 2/4 * 3/4) = 0.5; kappa (0.75 - 0.5) / 0.5
    assert found["kappa"] == 0.5
    assert agreement({"a": "refused"}, {"a": "pass"})["kappa"] is None
