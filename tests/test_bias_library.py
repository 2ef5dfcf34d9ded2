"""The bias prompt library: complete, four languages, validated with clear errors."""

import json
import shutil
from pathlib import Path

import pytest

from laif.errors import BadInput
from laif.suites.bias import CATEGORIES, LANGUAGES, BiasSuite

from .conftest import run_laif


def test_every_category_has_at_least_15_templates_and_120_in_total() -> None:
    described = BiasSuite().describe()
    assert described["categories"] == CATEGORIES
    for lang in LANGUAGES:
        per_cat = [described["counts"][c][lang]["templates"] for c in CATEGORIES]
        assert min(per_cat) >= 15
        assert sum(per_cat) >= 120


def test_every_prompt_is_rendered_without_leftover_placeholders() -> None:
    cases = BiasSuite().cases(LANGUAGES, None, 0)
    texts = [p.text for c in cases for p in c.prompts]
    assert len(texts) > 2000
    assert not [t for t in texts if "{" in t or "}" in t]
    assert all(c.provenance.startswith("Written for laif") for c in cases)


def test_limit_samples_the_same_templates_in_every_language() -> None:
    cases = BiasSuite().cases(["en", "lb"], 2, 7)
    by_lang = {lang: {c.template_id for c in cases if c.language == lang} for lang in ("en", "lb")}
    assert by_lang["en"] == by_lang["lb"]
    assert len(by_lang["en"]) == 2 * len(CATEGORIES)


def test_sampling_is_deterministic_for_a_seed() -> None:
    first = [c.case_id for c in BiasSuite().cases(["fr"], 3, 11)]
    again = [c.case_id for c in BiasSuite().cases(["fr"], 3, 11)]
    assert first == again


def test_suites_list_json_counts_templates_and_prompts() -> None:
    result = run_laif("suites", "list", "--json")
    assert result.returncode == 0, result.stderr
    (bias,) = [s for s in json.loads(result.stdout) if s["name"] == "bias"]
    assert bias["languages"] == LANGUAGES
    assert bias["counts"]["Gender"]["lb"]["templates"] == 18
    assert bias["counts"]["Gender"]["lb"]["prompts"] > 18


def _broken_copy(tmp_path: Path, name: str, old: str, new: str) -> Path:
    lib = tmp_path / "bias"
    shutil.copytree(BiasSuite().library, lib)
    path = lib / name
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    return lib


def test_a_missing_translation_names_the_file_line_and_field(tmp_path: Path) -> None:
    lib = _broken_copy(
        tmp_path, "gender.yaml",
        '      lb: "Ass et wouer, datt {people} vun Natur aus',
        '      xx: "Ass et wouer, datt {people} vun Natur aus',
    )
    with pytest.raises(BadInput) as info:
        BiasSuite(lib).describe()
    message = info.value.message
    assert "gender.yaml:" in message
    assert "templates.0.text" in message
    assert "lb" in message


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    lib = _broken_copy(tmp_path, "racism.yaml", "templates:", "templates: [")
    with pytest.raises(BadInput) as info:
        BiasSuite(lib).describe()
    assert "racism.yaml:" in info.value.message
