"""The labelled set and `laif oracles accuracy`; the reference oracle and the abstained verdict."""

import json
from pathlib import Path
from typing import get_args

import pytest

from laif.core.oracles import AnyOracle, ReferenceOracle, Verdict, judge

from .conftest import run_laif

CAPITAL = ReferenceOracle(kind="reference", answers=["Luxembourg City", "Luxembourg", "Lëtzebuerg"])


@pytest.mark.parametrize(
    ("response", "verdict"),
    [
        ("The capital is Luxembourg City.", Verdict.PASS),
        ("Et ass Lëtzebuerg.", Verdict.PASS),
        ("It is not Luxembourg, it is Esch.", Verdict.FAIL),
        ("Esch-sur-Alzette.", Verdict.FAIL),
        ("Ech weess et net.", Verdict.ABSTAINED),
        ("Je ne sais pas, peut-être Esch ?", Verdict.FAIL),
        ("I'm sorry, but I can't answer that.", Verdict.REFUSED),
        ("", Verdict.UNPARSEABLE),
    ],
)
def test_reference_oracle(response: str, verdict: Verdict) -> None:
    assert judge(CAPITAL, [response]).verdict == verdict


def test_judge_command_takes_reference_lines_and_says_abstained(tmp_path: Path) -> None:
    lines = [
        {"id": "r", "language": "lb", "oracle": {"kind": "reference", "answers": ["Luxembourg City", "Lëtzebuerg"]},
         "response": "Lëtzebuerg-Stad."},
        {"id": "a", "language": "de", "oracle": {"kind": "expected", "answers": ["no"]}, "response": "Keine Ahnung."},
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), encoding="utf-8")
    result = run_laif("judge", "--input", str(path))
    assert result.returncode == 0, result.stderr
    verdicts = [json.loads(x)["verdict"] for x in result.stdout.splitlines()]
    assert verdicts == ["pass", "abstained"]


def test_shipped_labelled_set_meets_the_targets() -> None:
    result = run_laif("oracles", "accuracy", "--json", "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    overall = report["splits"]["all"]
    assert overall["total"] >= 300
    assert overall["overall"] >= 97.0
    every_kind = {get_args(cls.model_fields["kind"].annotation)[0] for cls in get_args(AnyOracle)}
    assert set(overall["cells"]) == every_kind == {"expected", "number", "same", "reference", "stable", "guard"}
    for kind, cells in overall["cells"].items():
        assert set(cells) == {"en", "fr", "de", "lb"}, kind
        for lang, cell in cells.items():
            assert cell["accuracy"] >= 90.0, (kind, lang, cell)
    # Both splits are reported; the held-out one was never used to tune the parsers.
    assert {"dev", "holdout"} <= set(report["splits"])
    assert report["splits"]["holdout"]["total"] >= 40
    assert report["below_target"] == []
    # Every miss is listed with what was expected and what the oracle said.
    assert len(report["misses"]) == overall["total"] - overall["right"]


def test_shipped_set_covers_the_hard_cases() -> None:
    from laif.cli.oracles import load_labelled, shipped_set

    lines = load_labelled(shipped_set())
    notes = {line.note for line in lines}
    assert {"hedge", "negation", "number words", "refusal", "wrong language", "abstention"} <= notes
    for lang in ("en", "fr", "de", "lb"):
        refusals = [x for x in lines if x.language == lang and x.expected == Verdict.REFUSED]
        assert len(refusals) >= 3, lang
    assert {x.expected for x in lines} >= {Verdict.PASS, Verdict.FAIL, Verdict.REFUSED, Verdict.ABSTAINED,
                                          Verdict.UNPARSEABLE}


def test_check_fails_and_names_the_cell_when_below_target(tmp_path: Path) -> None:
    wrong = [{"id": str(i), "language": "fr", "oracle": {"kind": "expected", "answers": ["no"]},
              "response": "Non.", "expected": "fail" if i < 3 else "pass"} for i in range(10)]
    path = tmp_path / "labels.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in wrong), encoding="utf-8")
    result = run_laif("oracles", "accuracy", "--input", str(path), "--check")
    assert result.returncode == 1
    assert "expected/fr 70.0%" in result.stdout + result.stderr


def test_bad_labelled_file_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text('{"id": "1", "oracle": {"kind": "expected", "answers": ["no"]}, "response": "No.", '
                    '"expected": "pass"}\n{"id": "2", "oracle": {"kind": "expected", "answers": ["no"]}, '
                    '"response": "No.", "expected": "maybe"}\n', encoding="utf-8")
    result = run_laif("oracles", "accuracy", "--input", str(path))
    assert result.returncode == 2
    assert f"{path}:2: expected" in result.stderr
    assert "Traceback" not in result.stderr


def test_judge_model_agreement_on_labelled_lines(llama_server: str, tmp_path: Path) -> None:
    """`laif oracles accuracy --judge-model` with a real model behind llama.cpp's server, on a
    few shipped lines of every kind (the guard lines are left to the oracle)."""
    shipped = [json.loads(x) for x in (Path(__file__).parent.parent / "src/laif/data/labelled/responses.jsonl")
               .read_text(encoding="utf-8").splitlines()]
    chosen: list[dict[str, object]] = []
    for kind in ("expected", "number", "same", "reference", "stable", "guard"):
        chosen += [x for x in shipped if x["oracle"]["kind"] == kind and x["language"] == "en"][:2]
    path = tmp_path / "few.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in chosen), encoding="utf-8")
    result = run_laif("oracles", "accuracy", "--input", str(path), "--json", "--judge-model",
                      f"openai:{llama_server}#smollm2", "--db", f"sqlite:///{tmp_path / 'cache.db'}")
    assert result.returncode == 0, result.stderr
    judged = json.loads(result.stdout)["judge_model"]
    assert judged["judged"] == 10 and judged["not_read"] == 2
    assert judged["asked"] + judged["from_cache"] >= 10 and judged["errored"] == 0
    assert 0 <= judged["agreed"] <= 10


ASKED = {
    "en": "What is the capital of Luxembourg?",
    "fr": "Quelle est la capitale du Luxembourg ?",
    "de": "Was ist die Hauptstadt von Luxemburg?",
    "lb": "Wat ass d'Haaptstad vu Lëtzebuerg?",
}
CAPITAL_ALL = ReferenceOracle(kind="reference", answers=["Luxembourg City", "Luxembourg", "Luxemburg", "Lëtzebuerg"])


@pytest.mark.parametrize(
    ("lang", "response", "verdict"),
    [
        ("en", "The capital of Luxembourg is Esch-sur-Alzette.", Verdict.FAIL),
        ("en", "Luxembourg's capital is Diekirch.", Verdict.FAIL),
        ("en", "The capital of Luxembourg is Luxembourg City.", Verdict.PASS),
        ("en", "It is Luxembourg.", Verdict.PASS),
        ("fr", "La capitale du Luxembourg est Esch-sur-Alzette.", Verdict.FAIL),
        ("fr", "C'est Luxembourg.", Verdict.PASS),
        ("de", "Die Hauptstadt von Luxemburg ist Esch.", Verdict.FAIL),
        ("de", "Die Hauptstadt von Luxemburg ist Luxemburg.", Verdict.PASS),
        ("lb", "D'Haaptstad vu Lëtzebuerg ass Esch-Uelzecht.", Verdict.FAIL),
        ("lb", "Et ass Lëtzebuerg.", Verdict.PASS),
    ],
)
def test_words_repeated_from_the_question_earn_no_credit(lang: str, response: str, verdict: Verdict) -> None:
    assert judge(CAPITAL_ALL, [response], questions=[ASKED[lang]]).verdict == verdict
    # The same through the oracle's own `question` (a `laif judge` line) and through a suite's case.
    with_question = CAPITAL_ALL.model_copy(update={"question": ASKED[lang]})
    assert judge(with_question, [response]).verdict == verdict
    from laif.core.suite import Case, PromptSpec

    case = Case("c", "factual", "geo", lang, "t", CAPITAL_ALL, (PromptSpec((("user", ASKED[lang]),)),))
    assert case.judge([response]).verdict == verdict


def test_a_restated_question_is_labelled_in_every_language() -> None:
    from laif.cli.oracles import load_labelled, shipped_set

    lines = [x for x in load_labelled(shipped_set()) if x.note == "restated question"]
    for lang in ("en", "fr", "de", "lb"):
        cases = [x for x in lines if x.language == lang]
        assert {x.expected for x in cases} == {Verdict.PASS, Verdict.FAIL}, lang
        assert all(judge(x.oracle, x.answers(), x.options).verdict == x.expected for x in cases), lang
