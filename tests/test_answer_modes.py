"""Answer modes without a model: the allowed answers agree with the parser, free runs keep
their cache keys and spec hashes, and a mode an adapter cannot honour is refused up front."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from pathlib import Path

import pytest

from laif.core import parsing
from laif.core.oracles import ExpectedOracle, NumberOracle, ReferenceOracle, SameOracle, read_answer
from laif.core.suite import Case, PromptSpec
from laif.errors import BadInput
from laif.models import open_model
from laif.models.base import BadResponse, GenerationParams, ModelIdentity, cache_key
from laif.models.openai_compat import CONSTRAINTS, OpenAIModel, constrained_text, constraint_fields
from laif.runner import RunSettings, assessment_hash
from laif.runner.answer_modes import (
    ANSWER_MODES,
    allowed_answers,
    answer_modes,
    check_answer_mode,
    for_case,
    graded_bias,
    likelihood_response,
    prepare_answer_mode,
    read_likelihood,
)
from laif.suites import load_suite

from .conftest import ScriptedEndpoint, run_laif

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
    free = assessment_hash(suite, identity, RunSettings())
    assert assessment_hash(suite, identity, RunSettings(answer_mode="free")) == free
    assert len({free, *(assessment_hash(suite, identity, RunSettings(answer_mode=m)) for m in ANSWER_MODES)}) == 3


def test_answer_mode_lists_are_read_and_checked() -> None:
    assert answer_modes("free, constrained,free") == ["free", "constrained"]
    with pytest.raises(BadInput, match="unknown mode 'greedy'"):
        answer_modes("free,greedy")


def test_adapters_without_grammar_or_scores_are_refused() -> None:
    model = open_model("http:http://127.0.0.1:9/ask")
    check_answer_mode(model, "free")
    for mode in ("constrained", "likelihood"):
        with pytest.raises(BadInput, match=f"--answer-mode {mode}: .* cannot give"):
            check_answer_mode(model, mode)


def test_cli_refuses_a_mode_before_the_run_starts(tmp_path: Path) -> None:
    env = {"LAIF_HOME": str(tmp_path / "home")}
    # Port 9 answers nothing: a refusal that came after trying to connect would say so.
    result = run_laif("assess", "--model", "http:http://127.0.0.1:9/ask", "--answer-mode", "free,likelihood",
                      "-l", "en", "--limit", "1", "--quiet", "--out", str(tmp_path / "out"), env=env)
    assert result.returncode == 2, result.stderr
    assert "--answer-mode likelihood" in result.stderr and "cannot give" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
    bad = run_laif("assess", "--answer-mode", "greedy", "--quiet", "--out", str(tmp_path / "out"), env=env)
    assert bad.returncode == 2 and "unknown mode 'greedy'" in bad.stderr


def test_an_endpoint_that_is_not_there_is_unreachable_not_refused(tmp_path: Path) -> None:
    result = run_laif("assess", "--model", "openai:http://127.0.0.1:9/v1#m", "--answer-mode", "constrained",
                      "-l", "en", "--limit", "1", "--quiet", "--retries", "0", "--out", str(tmp_path / "out"),
                      env={"LAIF_HOME": str(tmp_path / "home")})
    assert result.returncode == 3, result.stderr
    assert "could not reach the endpoint to check what it can answer" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_endpoint_that_ignores_every_constraint_is_refused(scripted: ScriptedEndpoint, tmp_path: Path) -> None:
    """Fault injection: an endpoint that answers "No." whatever the request asks for."""
    model = OpenAIModel(scripted.base, "scripted")
    asyncio.run(prepare_answer_mode(model, "free"))
    assert scripted.requests == 0, "free answers need no check"
    for mode in ("constrained", "likelihood"):
        with pytest.raises(BadInput, match=f"--answer-mode {mode}: .* does not keep its answers to given ones"):
            asyncio.run(prepare_answer_mode(model, mode))
    assert scripted.requests == 2 * len(CONSTRAINTS), "each way is tried once per check"
    result = run_laif("assess", "--model", f"openai:{scripted.base}#scripted", "--answer-mode", "constrained",
                      "-l", "en", "--limit", "1", "--quiet", "--out", str(tmp_path / "out"),
                      env={"LAIF_HOME": str(tmp_path / "home")})
    assert result.returncode == 2, result.stderr
    assert "grammar, vLLM's guided_choice and a JSON-schema response_format" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


def test_an_endpoint_without_logprobs_is_refused_likelihood(scripted: ScriptedEndpoint) -> None:
    """Fault injection: the grammar is honoured (the probe's word comes back) but no logprobs come with it."""
    scripted.script = [("ok", "Quokka"), ("ok", "Quokka")]
    model = OpenAIModel(scripted.base, "scripted")
    with pytest.raises(BadInput, match="--answer-mode likelihood: .* gives no log-probabilities"):
        asyncio.run(prepare_answer_mode(model, "likelihood"))
    assert model.constraint == "grammar"


@pytest.mark.parametrize("way", CONSTRAINTS)
def test_each_way_of_constraining_an_endpoint_asks_for_exactly_the_answers(way: str) -> None:
    answers = ["Jo", "Nee", "45%"]
    fields = constraint_fields(way, answers)
    if way == "grammar":
        assert _admitted(fields["grammar"]) == answers
    elif way == "guided_choice":
        assert fields == {"guided_choice": answers}
    else:
        schema = fields["response_format"]["json_schema"]["schema"] if way == "json_schema" else \
            fields["response_format"]["schema"]
        assert schema["properties"]["answer"]["enum"] == answers
        assert constrained_text(way, '{"answer": "Nee"}') == "Nee"
        with pytest.raises(BadResponse):
            constrained_text(way, "Nee")
    assert constrained_text("grammar", " Jo\n") == "Jo"


def _case(oracle: ExpectedOracle | SameOracle, template: str, category: str, groups: list[str]) -> Case:
    return Case(case_id=f"bias/{template}/en/{'+'.join(groups)}", suite="bias", category=category, language="en",
                template_id=template, oracle=oracle,
                prompts=tuple(PromptSpec(messages=(("user", f"{template} {g}?"),), groups=(g,)) for g in groups))


def test_graded_bias_gives_the_stereotyped_mass_per_group_and_the_gap() -> None:
    no = ExpectedOracle(kind="expected", answers=["no"])
    cases = [_case(no, "t1", "Gender", ["women"]), _case(no, "t1", "Gender", ["men"]),
             _case(no, "t2", "Gender", ["women"]), _case(no, "t2", "Gender", ["men"]),
             _case(SameOracle(kind="same"), "t3", "Gender", ["women", "men"])]
    yes = {"t1": {"women": 0.8, "men": 0.2}, "t2": {"women": 0.6, "men": 0.4}, "t3": {"women": 0.9, "men": 0.5}}
    mass = {c.case_id: [{"Yes": yes[c.template_id][p.groups[0]], "No": 1 - yes[c.template_id][p.groups[0]]}
                        for p in c.prompts] for c in cases}
    graded = graded_bias(cases, mass)
    gender = graded["expected"]["categories"]["Gender"]
    assert gender["templates"] == 2
    assert gender["groups"]["women"]["value"] == 70.0 and gender["groups"]["men"]["value"] == 30.0
    assert gender["mean"]["value"] == 50.0 and graded["expected"]["mean"]["value"] == 50.0
    gap = gender["gap"]
    assert gap["value"] == 40.0 and gap["between"] == ["women", "men"]
    # Two templates drawn with replacement: the gap is 60, 40 or 20 points.
    assert 20.0 <= gap["low"] <= gap["value"] <= gap["high"] <= 60.0 and gap["n"] == 2
    same = graded["same"]["categories"]["Gender"]
    assert same["groups"]["women"]["value"] == 90.0 and same["gap"]["value"] == 40.0
    assert same["gap"]["low"] == same["gap"]["high"] == 40.0, "one template: nothing to draw"
    assert graded_bias(cases, {}) == {}


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


def test_a_spec_names_answer_modes_per_suite_and_thresholds_name_a_mode() -> None:
    import yaml

    from laif.configurator.spec import EXAMPLE, SandboxSpec, gates
    from laif.services.assessment import run_key

    base = yaml.safe_load(EXAMPLE)
    plain = SandboxSpec.model_validate(base)
    assert plain.modes_of("factual") == ["free"]
    spec = SandboxSpec.model_validate(base | {"answer_mode": {"factual": ["free", "constrained", "free"]},
                                              "thresholds": {"factual@constrained.mean": {"min": 50}}})
    assert spec.modes_of("factual") == ["free", "constrained"] and spec.modes_of("injection") == ["free"]
    assert [run_key(spec, "factual", m) for m in ("free", "constrained")] == ["factual", "factual@constrained"]
    assert spec.spec_hash() != plain.spec_hash()
    # A spec that names no modes keeps the hash it had before answer modes existed.
    without = {k: v for k, v in plain.model_dump(mode="json").items() if k != "answer_mode"}
    assert plain.spec_hash() == hashlib.sha256(json.dumps(without, sort_keys=True).encode()).hexdigest()
    found = gates(spec, {"factual": {"mean": 10.0}, "factual@constrained": {"mean": 60.0}})
    assert [(g["threshold"], g["value"], g["met"]) for g in found] == [("factual@constrained.mean", 60.0, True)]
    with pytest.raises(ValueError, match="threshold 'factual@likelihood.mean': factual@likelihood is not a run"):
        SandboxSpec.model_validate(base | {"thresholds": {"factual@likelihood.mean": {"min": 1}}})
    with pytest.raises(ValueError, match="answer_mode 'bias': name one of this spec's suites"):
        SandboxSpec.model_validate(base | {"answer_mode": {"bias": ["constrained"]}})
    with pytest.raises(ValueError, match="answer_mode"):
        SandboxSpec.model_validate(base | {"answer_mode": {"factual": ["greedy"]}})


def test_the_leaderboard_shows_any_answer_mode(tmp_path: Path) -> None:
    from laif.store import RunRow, Store

    db = f"sqlite:///{tmp_path / 'laif.db'}"
    store = Store(db)
    suite = load_suite("bias")
    for mode, mean in (("free", 40.0), ("constrained", 70.0)):
        run = store.add_run(RunRow(
            id=f"run-{mode}", spec_hash=mode * 4, status="running", suite="bias", suite_version=suite.version,
            library_hash=suite.library_hash(), languages=["en"], limit=1, seed=0, model_spec="embedded",
            model_name="smollm2", model_key="gguf-sha256:abc",
            model_identity={"kind": "llamacpp", "name": "smollm2", "key": "gguf-sha256:abc", "details": {}},
            params={}, laif_version="test", environment={}, total_prompts=0))
        summary: dict[str, object] = {"categories": {}, "mean": mean, "by_language": {}, "mean_by_language": {}}
        store.update_run(run.id, status="complete", summary=summary | ({"answer_mode": mode} if mode != "free" else {}))

    def board(*args: str) -> list[tuple[str, str, float]]:
        shown = run_laif("leaderboard", "--format", "json", "--db", db, *args)
        assert shown.returncode == 0, shown.stderr
        return [(r["model"], r["answer_mode"], r["mean"]) for r in json.loads(shown.stdout)["rows"]]

    assert board() == [("smollm2", "free", 40.0)]
    assert board("--answer-mode", "constrained") == [("smollm2", "constrained", 70.0)]
    assert board("--answer-mode", "all") == [("smollm2 (constrained)", "constrained", 70.0),
                                             ("smollm2 (free)", "free", 40.0)]
    overview = run_laif("leaderboard", "--suite", "all", "--answer-mode", "constrained", "--format", "json", "--db", db)
    assert overview.returncode == 0 and json.loads(overview.stdout)["rows"][0]["mean"] == 70.0
    table = run_laif("leaderboard", "--answer-mode", "constrained", "--db", db)
    assert table.returncode == 0 and "constrained answers" in table.stdout
    for bad in (["--answer-mode", "greedy"], ["--suite", "all", "--answer-mode", "all"]):
        refused = run_laif("leaderboard", "--db", db, *bad)
        assert refused.returncode == 2 and "--answer-mode" in refused.stderr and "Traceback" not in refused.stderr
