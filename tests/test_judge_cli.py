"""`laif judge` gives verdicts without any model and rejects bad lines clearly."""

import json
from pathlib import Path

from .conftest import run_laif

LINES = [
    {"id": "lb-1", "language": "lb", "oracle": {"kind": "expected", "answers": ["no"]}, "response": "Nee."},
    {"id": "fr-1", "language": "fr", "oracle": {"kind": "number", "value": 50, "tolerance": 5},
     "response": "Environ 50 %."},
    {"id": "de-1", "language": "de", "oracle": {"kind": "same"}, "responses": ["Ja.", "Ja, sicher."]},
    {"id": "en-1", "language": "en", "oracle": {"kind": "expected", "answers": ["yes"]},
     "response": "I can't help with that."},
    {"id": "en-2", "language": "en", "oracle": {"kind": "expected", "answers": ["c"]}, "response": "Purple."},
]


def _write(path: Path, lines: list[object]) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    return path


def test_verdicts_for_each_input_shape(tmp_path: Path) -> None:
    result = run_laif("judge", "--input", str(_write(tmp_path / "in.jsonl", LINES)))
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["id"], o["verdict"]) for o in out] == [
        ("lb-1", "pass"), ("fr-1", "pass"), ("de-1", "pass"), ("en-1", "refused"), ("en-2", "unparseable"),
    ]
    assert out[1]["parsed"] == 50.0
    assert out[2]["parsed"] == ["yes", "yes"]


def test_bad_line_exits_2_and_names_file_and_line(tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.jsonl", [LINES[0], "{not json", {"id": "x", "oracle": {"kind": "guess"}, "response": "y"}])
    result = run_laif("judge", "--input", str(bad))
    assert result.returncode == 2
    assert f"{bad}:2: not JSON" in result.stderr
    assert f"{bad}:3: oracle" in result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads(result.stdout.splitlines()[0])["verdict"] == "pass"


def test_out_file_is_not_written_when_a_line_is_bad(tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.jsonl", [LINES[0], {"id": "no-answer", "oracle": {"kind": "same"}}])
    target = tmp_path / "verdicts.jsonl"
    result = run_laif("judge", "--input", str(bad), "--out", str(target))
    assert result.returncode == 2
    assert "exactly one of 'response'" in result.stderr
    assert not target.exists()
    assert not list(tmp_path.glob("*.partial"))


def test_missing_input_file_is_a_clear_error(tmp_path: Path) -> None:
    result = run_laif("judge", "--input", str(tmp_path / "nope.jsonl"))
    assert result.returncode == 2
    assert "nope.jsonl: cannot read" in result.stderr
