"""The factual and multilingual suites: item library, figures, and end-to-end runs on the
real embedded model and on the same model behind llama.cpp's server."""

import json
from pathlib import Path

import pytest

from laif.core.langid import detect
from laif.core.oracles import NumberOracle, ReferenceOracle
from laif.core.suite import Case, CaseRecord, PromptSpec
from laif.errors import BadInput
from laif.suites import load_suite
from laif.suites.factual import FactualSuite, MultilingualSuite, factual_figures

from .conftest import run_laif


def test_library_has_100_items_per_language_on_three_topics() -> None:
    suite = FactualSuite()
    described = suite.describe()
    assert set(described["categories"]) == {"Luxembourg", "European Union", "General knowledge"}
    for lang in ("en", "fr", "de", "lb"):
        cases = suite.cases([lang])
        assert len(cases) >= 100
        assert len({c.prompts[0].text for c in cases}) == len(cases)  # every question written out
    kinds = {type(c.oracle) for c in suite.cases(["en"])}
    assert kinds == {ReferenceOracle, NumberOracle}
    # The same items, in the same order, whatever the language; sampling is per topic with the seed.
    assert [c.template_id for c in suite.cases(["en"], 2, 7)] == [c.template_id for c in suite.cases(["lb"], 2, 7)]
    assert len(suite.cases(["en"], 2, 7)) == 6


def test_bad_item_file_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "items.yaml"
    path.write_text(
        'version: "x"\nsystem: {en: a, fr: b, de: c, lb: d}\nitems:\n'
        "- id: ok-one\n  topic: eu\n  answers: [x]\n  en: Who?\n  fr: Qui ?\n  de: Wer?\n  lb: Wien?\n"
        "- id: bad-one\n  topic: eu\n  en: Who?\n  fr: Qui ?\n  de: Wer?\n  lb: Wien?\n",
        encoding="utf-8",
    )
    with pytest.raises(BadInput) as caught:
        FactualSuite(path).cases(["en"])
    message = caught.value.message
    assert f"{path}:11: items.1" in message and "answers" in message


def _record(verdict: str, response: str, lang: str = "en", item: str = "i1") -> CaseRecord:
    case = Case(case_id=f"f/{item}/{lang}", suite="factual", category="Luxembourg", language=lang, template_id=item,
                oracle=ReferenceOracle(kind="reference", answers=["x"]), prompts=(PromptSpec((("user", "q"),)),))
    return CaseRecord(case, verdict, None, [response])


def test_hallucination_counts_confident_wrong_answers_only() -> None:
    figures = factual_figures([
        _record("pass", "x"), _record("fail", "It is y."), _record("fail", "I think it is y."),
        _record("abstained", "I don't know."), _record("error", ""),
    ])
    assert figures["answers"] == 4
    assert figures["correct"] == 1 and figures["wrong"] == 2 and figures["hallucinated"] == 1
    assert figures["accuracy"]["value"] == 25.0
    assert figures["hallucination_rate"]["value"] == 25.0
    assert figures["accuracy"]["low"] < 25.0 < figures["accuracy"]["high"]


def test_multilingual_consistency_gap_and_fidelity() -> None:
    records = [
        _record("pass", "It is x.", "en", "a"), _record("pass", "Et ass x.", "lb", "a"),
        _record("pass", "It is x.", "en", "b"), _record("fail", "Das ist y, glaube ich nicht.", "lb", "b"),
    ]
    m = MultilingualSuite().metrics(records)
    assert m["gap_to_english"]["lb"] == -50.0
    assert m["consistency"]["items"] == 2
    assert m["consistency"]["same_outcome"]["value"] == 50.0
    assert m["consistency"]["correct_everywhere"]["value"] == 50.0
    assert m["language_fidelity"]["en"]["value"] == 100.0
    assert m["language_fidelity"]["lb"]["answers"] == 2
    assert m["language_id"]["library"] == "py3langid"


@pytest.mark.parametrize(
    ("text", "lang"),
    [("D'Haaptstad vu Lëtzebuerg ass d'Stad Lëtzebuerg.", "lb"), ("Die Hauptstadt ist Luxemburg.", "de"),
     ("La capitale est Luxembourg.", "fr"), ("The capital is Luxembourg City.", "en")],
)
def test_language_identification_knows_luxembourgish(text: str, lang: str) -> None:
    assert detect(text)[0] == lang


def test_multilingual_needs_two_languages() -> None:
    with pytest.raises(BadInput):
        load_suite("multilingual").cases(["en"])


def test_factual_and_multilingual_on_the_embedded_model(tmp_path: Path) -> None:
    env = {"LAIF_HOME": str(tmp_path / "home")}
    for suite in ("factual", "multilingual"):
        result = run_laif("assess", "--suite", suite, "--limit", "2", "-l", "en,lb", "--quiet", "--json",
                          "--out", str(tmp_path / suite), env=env)
        assert result.returncode == 0, result.stderr
        row = json.loads(result.stdout)
        assert set(row["categories"]) == {"Luxembourg", "European Union", "General knowledge"}
        results = json.loads((tmp_path / suite / "results.json").read_text())
        metrics = results["scores"]["metrics"]
        overall = metrics["overall"]
        assert overall["answers"] + overall["errored"] == len(results["cases"]) == 12
        assert overall["correct"] + overall["wrong"] + overall["abstained"] + overall["refused"] + \
            overall["unparseable"] == overall["answers"]
        html = (tmp_path / suite / "report.html").read_text()
        assert "<h2>Accuracy, hallucination rate" in html or "<h2>Accuracy and hallucination rate</h2>" in html
    assert metrics["kind"] == "multilingual"
    assert set(metrics["language_fidelity"]) == {"en", "lb"}
    assert metrics["consistency"]["items"] == 6

    board = run_laif("leaderboard", "--suite", "factual", "--format", "json", env=env)
    assert json.loads(board.stdout)["rows"][0]["model"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
    overview = run_laif("leaderboard", "--suite", "all", "--format", "json", env=env)
    assert overview.returncode == 0, overview.stderr
    data = json.loads(overview.stdout)
    assert data["categories"] == ["factual", "multilingual"]
    assert set(data["rows"][0]["categories"]) == {"factual", "multilingual"}
