"""Bad readiness answers files: exit 2, naming the file, the line and the question id, and
nothing written or stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from laif.errors import BadInput
from laif.services import readiness as service
from tests.conftest import run_laif

EXAMPLE = Path(__file__).parent.parent / "examples" / "readiness" / "logistics.yaml"


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "answers.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _line(path: Path, fragment: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if fragment in line)


def _fails(path: Path, laif_home: Path, *expected: str) -> str:
    out = laif_home.parent / "out"
    r = run_laif("readiness", "assess", "--answers", str(path), "--out", str(out), "--no-pdf")
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    message = " ".join(r.stderr.split())  # rich may wrap long lines
    for e in expected:
        assert e in message, (e, r.stderr)
    assert not out.exists()  # no report for bad answers
    assert service.history("Example Freight Lines") == []  # and nothing stored
    return message


def test_unknown_question_id(tmp_path: Path, laif_home: Path) -> None:
    path = _edited(tmp_path, "green.impact:", "green.impakt:")
    _fails(path, laif_home, f"{path}:{_line(path, 'green.impakt')}: green.impakt: unknown question id",
           "green.impact: missing required answer")


def test_option_not_offered(tmp_path: Path, laif_home: Path) -> None:
    path = _edited(tmp_path, "skills.people: part_time", "skills.people: wizards")
    _fails(path, laif_home, f"{path}:{_line(path, 'skills.people')}: skills.people: 'wizards' is not an option",
           "nobody, enthusiasts")


def test_option_not_offered_in_a_multiple_choice(tmp_path: Path, laif_home: Path) -> None:
    path = _edited(tmp_path, "[machine_learning, process_automation]", "[machine_learning, telepathy]")
    _fails(path, laif_home, f"{path}:{_line(path, 'telepathy')}: automation_ai.technologies: 'telepathy' not offered")


def test_none_with_other_options(tmp_path: Path, laif_home: Path) -> None:
    path = _edited(tmp_path, "governance.controls: [none]", "governance.controls: [none, testing]")
    _fails(path, laif_home, f"{path}:{_line(path, 'governance.controls')}: governance.controls: 'none' cannot be ticked")


def test_missing_required_answer(tmp_path: Path, laif_home: Path) -> None:
    path = _edited(tmp_path, "data_for_ai.rights: some\n", "")
    # named at the top of the answers mapping, where it would be added
    _fails(path, laif_home, f"{path}:{_line(path, 'organisation:')}: data_for_ai.rights: missing required answer")


def test_every_problem_is_listed_at_once(tmp_path: Path, laif_home: Path) -> None:
    path = _edited(tmp_path, "skills.people: part_time", "skills.peeple: part_time")
    path.write_text(path.read_text().replace("green.energy: estimated", "green.energy: lots"))
    message = _fails(path, laif_home, "3 problem(s)", "skills.peeple: unknown question id",
                     "skills.people: missing required answer", "green.energy: 'lots' is not an option")
    assert f"{path}:{_line(path, 'green.energy')}:" in message


def test_malformed_yaml(tmp_path: Path, laif_home: Path) -> None:
    path = _edited(tmp_path, "skills.people: part_time", "skills.people: [part_time")
    _fails(path, laif_home, f"{path}:", "not valid YAML")


def test_not_a_mapping(tmp_path: Path, laif_home: Path) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text("- strategy.plan\n- ideas\n")
    _fails(path, laif_home, f"{path}:1: expected a mapping of question ids to answers")


def test_missing_file(tmp_path: Path, laif_home: Path) -> None:
    _fails(tmp_path / "nowhere.yaml", laif_home, "nowhere.yaml: no such answers file")


def test_no_organisation(tmp_path: Path, laif_home: Path) -> None:
    path = _edited(tmp_path, "organisation: Example Freight Lines\n", "")
    _fails(path, laif_home, "no organisation named", "--org NAME")


def test_organisation_name_too_long(tmp_path: Path, laif_home: Path) -> None:
    path = _edited(tmp_path, "organisation: Example Freight Lines", "organisation: " + "F" * 201)
    _fails(path, laif_home, f"{path}: organisation: a name of at most 200 characters, not 201")


def test_no_answers_file_and_no_terminal_is_a_usage_error(laif_home: Path) -> None:
    r = run_laif("readiness", "assess")  # stdin is a pipe here
    assert r.returncode == 2 and "Usage:" in r.stderr and "--answers FILE" in r.stderr


def test_the_service_raises_bad_input_listing_each_problem(laif_home: Path) -> None:
    with pytest.raises(BadInput) as caught:
        service.check_answers({"strategy.plan": "someday", "profile.size": ["small"]}, "portal")
    message = caught.value.message
    assert "strategy.plan: 'someday' is not an option" in message
    assert "profile.size: ['small'] is not an option" in message
    assert "profile.sector: missing required answer" in message


def test_unknown_language_is_refused() -> None:
    with pytest.raises(BadInput, match="--lang: 'de'"):
        service.questions("de")
