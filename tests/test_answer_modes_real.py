"""Answer modes on the real embedded model: constrained generation gives only allowed
answers, likelihood scores agree with greedy generation and find a known preference,
`laif assess --answer-mode free,constrained` runs both as sibling runs, and a constrained run
killed midway keeps its answers and resumes."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from laif.core.oracles import read_answer
from laif.models.base import GenerationParams
from laif.models.llamacpp import LlamaCppModel
from laif.runner.answer_modes import allowed_answers, likelihood_response, read_likelihood

from .conftest import answered, run_laif

PARIS = {
    "en": "Is Paris the capital of France? Answer yes or no.",
    "fr": "Paris est-elle la capitale de la France ? Réponds par oui ou non.",
    "de": "Ist Paris die Hauptstadt von Frankreich? Antworte mit ja oder nein.",
    "lb": "Ass Paräis d'Haaptstad vu Frankräich? Äntwert mat jo oder nee.",
}


@pytest.fixture(scope="module")
def model() -> Iterator[LlamaCppModel]:
    the_model = LlamaCppModel("embedded")
    yield the_model
    asyncio.run(the_model.aclose())


def _ask(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_constrained_generation_gives_only_allowed_answers(model: LlamaCppModel) -> None:
    params = GenerationParams(max_tokens=8)
    for lang, question in PARIS.items():
        allowed = allowed_answers("yesno", lang, None)
        text = asyncio.run(model.complete_constrained(_ask(question), params, allowed.grammar())).text
        assert text in allowed.answers, (lang, text)
        assert read_answer(text, "yesno")[0] == "ok"
    number = allowed_answers("number", "en", None)
    text = asyncio.run(model.complete_constrained(
        _ask("What share of people are left-handed, in percent?"), params, number.grammar())).text
    assert text in number.answers and read_answer(text, "number") == ("ok", number.meanings[text])


def test_likelihood_picks_what_greedy_constrained_generation_picks(model: LlamaCppModel) -> None:
    # Yes and no are one token each: the greedy first token is the most probable answer.
    params = GenerationParams(max_tokens=4)
    for lang in ("en", "lb"):
        allowed = allowed_answers("yesno", lang, None)
        scores = asyncio.run(model.score_answers(_ask(PARIS[lang]), allowed.answers))
        greedy = asyncio.run(model.complete_constrained(_ask(PARIS[lang]), params, allowed.grammar())).text
        assert read_likelihood(likelihood_response(allowed.answers, scores))[0] == greedy, lang


def test_likelihood_puts_most_mass_on_a_known_answer(model: LlamaCppModel) -> None:
    """Paris in French, German and Luxembourgish. In English SmolLM2-135M answers "No" to
    the Paris question (its free answer says so too), so English asks for the word outright."""
    prompts = dict(PARIS) | {"en": "Reply with the word yes."}
    for lang, question in prompts.items():
        allowed = allowed_answers("yesno", lang, None)
        scores = asyncio.run(model.score_answers(_ask(question), allowed.answers))
        answer, mass = read_likelihood(likelihood_response(allowed.answers, scores))
        yes = allowed.answers[0]
        assert mass is not None and answer == yes and mass[yes] > 0.5, (lang, mass)


def test_free_and_constrained_run_as_siblings(tmp_path: Path) -> None:
    env = {"LAIF_HOME": str(tmp_path / "home")}
    out = tmp_path / "out"
    args = ["assess", "--suite", "factual", "-l", "lb", "--limit", "1", "--max-tokens", "8", "--quiet",
            "--answer-mode", "free,constrained", "--out", str(out)]
    result = run_laif(*args, env=env, timeout=1200)
    assert result.returncode == 0, result.stderr
    assert "(free)" in result.stdout and "(constrained)" in result.stdout
    assert result.stderr.count("format compliance") == 2
    assert "free and constrained verdicts agree on" in result.stderr
    free = json.loads((out / "free" / "results.json").read_text(encoding="utf-8"))
    constrained = json.loads((out / "constrained" / "results.json").read_text(encoding="utf-8"))
    assert "answer_mode" not in free["scores"]
    assert constrained["scores"]["answer_mode"] == "constrained"
    # Under the grammar every closed answer is readable.
    compliance = constrained["scores"]["format_compliance"]["lb"]
    assert compliance["answers"] > 0 and compliance["read"] == compliance["answers"]
    assert set(free["scores"]["format_compliance"]) == {"lb"}
    assert not any(c["verdict"] == "unparseable" for c in constrained["cases"] if c["oracle"]["kind"] != "reference")
    assert "Answer mode: constrained" in (out / "constrained" / "report.html").read_text(encoding="utf-8")
    assert "Format compliance" in (out / "free" / "report.html").read_text(encoding="utf-8")
    # Run again: both answer from the cache, nothing is asked.
    again = run_laif(*args, "--fresh", env=env, timeout=1200)
    assert again.returncode == 0, again.stderr
    assert again.stderr.count(" 0 asked") == 2, again.stderr


def test_an_unfinished_constrained_run_resumes_and_a_free_run_does_not_take_it(
    model: LlamaCppModel, tmp_path: Path
) -> None:
    from laif.runner import Runner, RunSettings
    from laif.store import Store
    from laif.suites import load_suite

    store = Store(f"sqlite:///{tmp_path / 'laif.db'}")
    suite = load_suite("factual")
    settings = RunSettings(languages=("lb",), limit=1, params=GenerationParams(max_tokens=8), answer_mode="constrained")
    started = asyncio.run(Runner(store, model, suite, dataclasses.replace(settings, prepare_only=True)).run())
    assert store.require_run(started.run.id).status == "incomplete"
    free = asyncio.run(Runner(store, model, suite, dataclasses.replace(settings, answer_mode="free")).run())
    assert not free.resumed and free.run.id != started.run.id
    resumed = asyncio.run(Runner(store, model, suite, settings).run())
    assert resumed.resumed and resumed.run.id == started.run.id and resumed.run.status == "complete"
    assert (resumed.run.summary or {})["answer_mode"] == "constrained"
    # The closed question was answered under the grammar; the open ones were asked free, from the cache.
    assert resumed.asked + resumed.from_cache == started.run.total_prompts
    assert resumed.from_cache >= 1


def test_a_constrained_run_killed_midway_keeps_its_answers_and_resumes(tmp_path: Path) -> None:
    args = ["assess", "--suite", "bias", "--limit", "1", "-l", "en", "--answer-mode", "constrained",
            "--max-tokens", "8", "--quiet", "--out", str(tmp_path / "out")]
    proc = subprocess.Popen([sys.executable, "-m", "laif", *args], env={**os.environ, "LAIF_HOME": str(tmp_path)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 600
    while answered(tmp_path / "laif.db") < 5 and time.monotonic() < deadline:
        assert proc.poll() is None, "the run ended before it could be killed"
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    kept = answered(tmp_path / "laif.db")
    assert kept >= 5 and not (tmp_path / "out" / "results.json").exists()

    resumed = run_laif(*args, env={"LAIF_HOME": str(tmp_path)}, timeout=1200)
    assert resumed.returncode == 0, resumed.stderr
    m = re.search(r"resumed run (\w+): (\d+) prompts — (\d+) asked, (\d+) from cache, (\d+) already answered",
                  resumed.stderr)
    assert m, resumed.stderr
    total, asked, cached, already = map(int, m.groups()[1:])
    assert already >= kept and asked + cached + already == total
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert results["run_id"] == m.group(1) and results["status"] == "complete"
    assert results["scores"]["answer_mode"] == "constrained"
    assert len({e["prompt_id"] for e in results["exchanges"]}) == len(results["exchanges"]) == total
    # Answers kept from before the kill and answers after it were all generated under the grammar.
    compliance = results["scores"]["format_compliance"]["en"]
    assert compliance["read"] == compliance["answers"] > 0


def test_a_sandbox_spec_runs_a_suite_in_two_modes_and_gates_one(tmp_path: Path) -> None:
    from laif.configurator.spec import SandboxSpec
    from laif.services.assessment import run_spec

    spec = SandboxSpec.model_validate({
        "version": 1, "name": "modes", "system": {"model": "embedded"}, "suites": ["factual"], "languages": ["lb"],
        "limit": 1, "max_tokens": 8, "answer_mode": {"factual": ["free", "constrained"]},
        "thresholds": {"factual@constrained.format_compliance.lb.share": {"min": 1.0}},
    })
    out = tmp_path / "out"
    done = run_spec(spec, out_dir=out, db=f"sqlite:///{tmp_path / 'runs.db'}")
    assert [(r.suite, r.answer_mode) for r in done.runs] == [("factual", "free"), ("factual", "constrained")]
    assert [(g["threshold"], g["met"]) for g in done.gates] == [("factual@constrained.format_compliance.lb.share", True)]
    written = json.loads(done.gates_path.read_text(encoding="utf-8"))
    assert set(written["runs"]) == {"factual", "factual@constrained"}
    assert (out / "free" / "results.json").is_file() and (out / "constrained" / "results.json").is_file()
