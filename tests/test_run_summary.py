"""Typed run summaries (laif.core.summary) describe exactly what laif writes: the summary of a run
of every built-in suite, scored by the runner's own code from answers kept in a real store, and
results.json around it, validate and dump back to the same bytes; older layouts of record schema 1
still read; anything else is refused naming the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from laif.core.summary import (
    RECORD_SCHEMAS,
    CaseExchange,
    CaseResult,
    CategoryFigures,
    Exchange,
    FormatCompliance,
    JudgeAgreement,
    ModelRef,
    RunResults,
    RunSummary,
    SuiteRef,
    read_results,
    read_summary,
)
from laif.errors import BadInput
from laif.reports.results import run_results
from laif.runner import Runner, RunSettings
from laif.runner.judge_model import JudgeSummary
from laif.store import RECORD_SCHEMA_VERSION, ExchangeRow, RunRow, Store
from laif.suites import load_suite
from tests.conftest import run_laif

#: Answers kept for the prompts in turn: readable and unreadable ones, an abstention, a number, a letter.
ANSWERS = ["Yes.", "No.", "42", "I don't know.", "B", "Non.", "Oui, bien sûr.", "zzz"]


def _scored_run(tmp_path: Path, suite_name: str, languages: tuple[str, ...], answer_mode: str = "free") -> dict[str, Any]:
    """A run of `suite_name` whose answers are put in the store as a model's would be, then scored
    by the runner (Runner.finish) and written out by laif.reports.results: what results.json holds."""
    store = Store(f"sqlite:///{tmp_path / 'laif.db'}")
    suite = load_suite(suite_name)
    settings = RunSettings(languages=languages, limit=1, answer_mode=answer_mode)
    cases = suite.cases(list(languages), 1, 0)
    run = store.add_run(RunRow(
        id=f"{suite_name}-{answer_mode}"[:40], spec_hash="0" * 64, status="running", suite=suite.name,
        suite_version=suite.version, library_hash=suite.library_hash(), languages=list(languages), limit=1, seed=0,
        model_spec="scripted", model_name="scripted", model_key="scripted",
        model_identity={"kind": "scripted", "name": "scripted", "key": "scripted", "details": {}},
        params={"temperature": 0.0}, laif_version="test", environment={}, total_prompts=0))
    prompts = [(case, p) for case in cases for p in case.prompts]
    for i, (case, prompt) in enumerate(dict((p.prompt_id, (c, p)) for c, p in prompts).values()):
        failed = i % 11 == 10  # now and then no answer: an error verdict
        store.record_exchange(ExchangeRow(
            run_id=run.id, prompt_id=prompt.prompt_id, cache_key=f"{i:064d}", category=case.category,
            language=case.language, template_id=case.template_id, groups=list(prompt.groups),
            messages=prompt.message_list, prompt_sha256="0" * 64, response=None if failed else ANSWERS[i % len(ANSWERS)],
            error="timed out" if failed else None, source="model", attempts=1, latency_s=0.25))
    Runner(store, None, suite, settings).finish(run.id, cases)  # type: ignore[arg-type]  # scoring asks no model
    return run_results(store, run.id)


@pytest.mark.parametrize(("suite", "languages", "mode"), [
    ("bias", ("en", "fr"), "free"),
    ("bias", ("en",), "constrained"),
    ("factual", ("en", "lb"), "free"),
    ("multilingual", ("en", "de"), "free"),
    ("robustness", ("en",), "free"),
    ("injection", ("en", "fr"), "free"),
])
def test_what_the_runner_writes_today_reads_and_dumps_back_byte_for_byte(
        tmp_path: Path, suite: str, languages: tuple[str, ...], mode: str) -> None:
    results = _scored_run(tmp_path, suite, languages, mode)
    written = json.dumps(results, ensure_ascii=False, indent=1)  # as laif assess writes results.json
    typed = read_results(json.loads(written))
    assert json.dumps(typed.as_json(), ensure_ascii=False, indent=1) == written
    assert typed.scores is not None and typed.scores.format_compliance is not None
    assert typed.scores.score_over and set(typed.scores.categories) <= set(load_suite(suite).categories)
    assert suite == "bias" or typed.scores.metrics is not None  # a suite's own figures
    assert typed.scores.answer_mode == (None if mode == "free" else mode)
    assert "abstained" in results["scores"]["categories"][next(iter(results["scores"]["categories"]))]
    without = results | {"exchanges": None}
    del without["exchanges"]  # results written without the exchanges
    assert read_results(without).as_json() == without


def test_the_judge_models_agreement_reads_as_the_judge_writes_it() -> None:
    summary = JudgeSummary(model="judge", model_key="judge-key", judged=4, agreed=3, asked=4,
                           confusion={"pass": {"pass": 2, "fail": 1}, "fail": {"fail": 1}}).as_dict()
    base = {"categories": {}, "mean": None, "by_language": {}, "mean_by_language": {}}
    for judge in (summary | {"not_read": 2}, summary):  # not_read since 90be5db
        typed = read_summary(base | {"judge": judge})
        assert typed.judge is not None and typed.judge.agreed == 3 and typed.as_json() == base | {"judge": judge}


OLDEST: dict[str, Any] = {  # record schema 1 as first written (7d8c2cb): no abstained, score_over, format_compliance
    "categories": {"Gender": {"passed": 3, "failed": 1, "refused": 0, "unparseable": 1, "errored": 0, "score": 75.0,
                              "low": 30.1, "high": 95.4, "decided": 4, "total": 5}},
    "mean": 75.0,
    "by_language": {"en": {"Gender": {"passed": 3, "failed": 1, "refused": 0, "unparseable": 1, "errored": 0,
                                      "score": 75.0, "low": 30.1, "high": 95.4, "decided": 4, "total": 5}}},
    "mean_by_language": {"en": 75.0},
}


def test_older_layouts_of_record_schema_1_read_with_what_they_lack_left_absent() -> None:
    typed = read_summary(OLDEST)
    assert typed.categories["Gender"].abstained == 0 and typed.score_over is None and typed.format_compliance is None
    assert typed.as_json() == OLDEST
    likelihood = OLDEST | {"answer_mode": "likelihood", "likelihood_mass": {"bias/x/en": [{"yes": 0.75, "no": 0.25},
                                                                                          None]}}
    assert read_summary(likelihood).as_json() == likelihood
    assert RECORD_SCHEMA_VERSION in RECORD_SCHEMAS


def test_anything_else_is_refused_naming_the_field() -> None:
    with pytest.raises(BadInput, match="run record schema 2 is not one this laif reads"):
        read_summary(OLDEST, record_schema=2)
    bad = OLDEST | {"categories": {"Gender": OLDEST["categories"]["Gender"] | {"passed": "three"}}}
    with pytest.raises(BadInput, match=r"runs/r1: categories\.Gender\.passed: Input should be a valid integer"):
        read_summary(bad, where="runs/r1")
    with pytest.raises(BadInput, match=r"summary: colour: Extra inputs are not permitted"):
        read_summary(OLDEST | {"colour": "red"})
    with pytest.raises(BadInput, match="no record_schema"):
        read_results({"run_id": "r1"})
    assert RunSummary.model_json_schema()["title"] == "RunSummary"


@pytest.mark.slow
def test_a_real_run_of_each_suite_reads_back_byte_for_byte(tmp_path: Path) -> None:
    env = {"LAIF_HOME": str(tmp_path / "home")}
    for suite, languages in (("bias", "en"), ("factual", "en"), ("multilingual", "en,lb"), ("robustness", "en"),
                             ("injection", "en")):
        r = run_laif("assess", "--suite", suite, "-l", languages, "--limit", "1", "--quiet", "--json",
                     "--out", str(tmp_path / suite), env=env)
        assert r.returncode == 0, r.stderr
        written = (tmp_path / suite / "results.json").read_text(encoding="utf-8")
        typed = read_results(json.loads(written), where=f"{suite}/results.json")
        assert json.dumps(typed.as_json(), ensure_ascii=False, indent=1) == written, suite


def test_the_run_record_page_names_every_field_the_models_read() -> None:
    page = (Path(__file__).resolve().parents[1] / "docs" / "run-record.md").read_text(encoding="utf-8")
    for model in (RunResults, RunSummary, CategoryFigures, FormatCompliance, JudgeAgreement, ModelRef, SuiteRef,
                  CaseResult, CaseExchange, Exchange):
        for name in model.model_fields:
            assert f"`{name}`" in page, f"docs/run-record.md does not name {model.__name__}.{name}"
