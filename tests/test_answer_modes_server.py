"""Answer modes through llama.cpp's own server (`python -m llama_cpp.server` on loopback, the
embedded GGUF): the check before a run finds its grammar field, constrained answers keep to the
allowed ones, likelihood scores agree with llama.cpp in process, a likelihood run yields graded
bias, and a server started without logprobs is refused likelihood before the run."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from laif.core.oracles import read_answer
from laif.errors import BadInput
from laif.models.base import GenerationParams
from laif.models.llamacpp import LlamaCppModel
from laif.models.openai_compat import OpenAIModel
from laif.runner.answer_modes import allowed_answers, likelihood_response, prepare_answer_mode, read_likelihood

from .conftest import llama_server_process, run_laif
from .test_answer_modes_real import PARIS


@pytest.fixture(scope="module")
def local() -> Iterator[LlamaCppModel]:
    the_model = LlamaCppModel("embedded")
    yield the_model
    asyncio.run(the_model.aclose())


def _ask(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


async def _prepared(base: str, mode: str) -> OpenAIModel:
    model = OpenAIModel(base, "smollm2")
    await prepare_answer_mode(model, mode)
    return model


def test_the_check_finds_the_grammar_and_constrained_answers_keep_to_the_allowed(llama_server: str) -> None:
    async def go() -> list[tuple[str, str, list[str]]]:
        model = await _prepared(llama_server, "constrained")
        assert model.constraint == "grammar"
        got = []
        for lang, question in PARIS.items():
            allowed = allowed_answers("yesno", lang, None)
            got.append((lang, (await model.complete_choice(_ask(question), GenerationParams(), allowed.answers)).text,
                        allowed.answers))
        number = allowed_answers("number", "en", None)
        text = (await model.complete_choice(_ask("What share of people are left-handed, in percent?"),
                                            GenerationParams(), number.answers)).text
        got.append(("en", text, number.answers))
        await model.aclose()
        return got

    for lang, text, answers in asyncio.run(go()):
        assert text in answers, (lang, text)
        assert read_answer(text, "number" if text.endswith("%") else "yesno")[0] == "ok"


def test_likelihood_from_the_server_agrees_with_llama_cpp_in_process(llama_server: str, local: LlamaCppModel) -> None:
    """The same GGUF: the same most probable answer and the same mass on it, in every language,
    for yes/no words and for percentages (several tokens each)."""
    async def go() -> list[tuple[str, list[str], list[float], list[float]]]:
        model = await _prepared(llama_server, "likelihood")
        pairs = []
        questions = [(lang, q, allowed_answers("yesno", lang, None).answers) for lang, q in PARIS.items()]
        questions.append(("en", "What share of people are left-handed, in percent?",
                          allowed_answers("number", "en", None, number_step=25).answers))
        for lang, question, answers in questions:
            pairs.append((lang, answers, await model.score_answers(_ask(question), answers),
                          await local.score_answers(_ask(question), answers)))
        await model.aclose()
        return pairs

    for lang, answers, served, in_process in asyncio.run(go()):
        best_served, mass_served = read_likelihood(likelihood_response(answers, served))
        best_local, mass_local = read_likelihood(likelihood_response(answers, in_process))
        assert best_served == best_local, (lang, served, in_process)
        assert mass_served is not None and mass_local is not None
        assert math.isclose(mass_served[best_served], mass_local[best_local], abs_tol=0.02), (lang, served, in_process)


def test_a_likelihood_run_through_the_server_reports_graded_bias(llama_server: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_laif("assess", "--model", f"openai:{llama_server}#smollm2", "--suite", "bias", "-l", "lb",
                      "--limit", "1", "--answer-mode", "likelihood", "--quiet", "--out", str(out),
                      env={"LAIF_HOME": str(tmp_path / "home")}, timeout=1200)
    assert result.returncode == 0, result.stderr
    scores = json.loads((out / "results.json").read_text(encoding="utf-8"))["scores"]
    assert scores["answer_mode"] == "likelihood"
    assert scores["format_compliance"]["lb"]["read"] == scores["format_compliance"]["lb"]["answers"] > 0
    graded = scores["graded_bias"]
    assert "expected" in graded and set(graded) <= {"expected", "same"}  # one template per category: no `same` one
    for kind in graded.values():
        assert 0 <= kind["mean"]["low"] <= kind["mean"]["value"] <= kind["mean"]["high"] <= 100
        for category in kind["categories"].values():
            gap = category["gap"]
            if gap is not None:
                assert gap["low"] <= gap["value"] <= gap["high"] and len(gap["between"]) == 2
    assert "Graded bias" in (out / "report.html").read_text(encoding="utf-8")


def test_a_server_without_logprobs_is_refused_likelihood_before_the_run(model_path: Path, tmp_path: Path) -> None:
    async def check(base: str, mode: str) -> str | None:
        model = OpenAIModel(base, "smollm2")
        try:
            await prepare_answer_mode(model, mode)
            return model.constraint
        finally:
            await model.aclose()

    with llama_server_process(model_path, tmp_path / "server.log", "--logits_all", "false") as base:
        assert asyncio.run(check(base, "constrained")) == "grammar"
        with pytest.raises(BadInput, match="gives no log-probabilities"):
            asyncio.run(check(base, "likelihood"))
        result = run_laif("assess", "--model", f"openai:{base}#smollm2", "--suite", "bias", "-l", "en", "--limit",
                          "1", "--answer-mode", "likelihood", "--quiet", "--out", str(tmp_path / "out"),
                          env={"LAIF_HOME": str(tmp_path / "home")})
    assert result.returncode == 2, result.stderr
    assert "--answer-mode likelihood" in result.stderr and "--logits_all" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()
