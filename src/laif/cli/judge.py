"""`laif judge`: verdicts from stored answers without calling any model, so the
oracles can be audited line by line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO, TypeVar

import typer
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from laif.cli._common import err, write_atomic
from laif.core.oracles import Oracle, judge
from laif.errors import BadInput

MAX_REPORTED = 20


class JudgeLine(BaseModel):
    """One line of judge input: an oracle and the answer(s) to judge."""

    model_config = ConfigDict(extra="forbid")

    id: str
    language: str | None = None
    oracle: Oracle
    response: str | None = None
    responses: list[str] | None = None
    options: dict[str, str] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> JudgeLine:
        if (self.response is None) == (self.responses is None):
            raise ValueError("give exactly one of 'response' (a string) or 'responses' (a list of strings)")
        return self

    def answers(self) -> list[str]:
        return [self.response] if self.response is not None else list(self.responses or [])


L = TypeVar("L", bound=BaseModel)


def parse_line(raw: str, model: type[L]) -> L:
    """One JSONL line as `model`; raises ValueError naming the field on bad input."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at column {exc.colno})") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "line"
        raise ValueError(f"{field}: {first['msg']}") from exc


def judge_line(raw: str) -> dict[str, Any]:
    """Judge one JSONL line; raises ValueError with a readable message on bad input."""
    line = parse_line(raw, JudgeLine)
    verdict = judge(line.oracle, line.answers(), line.options)
    return {"id": line.id, "verdict": verdict.verdict.value, "parsed": verdict.parsed, "reason": verdict.reason}


def judge_stream(source: TextIO, name: str, sink: TextIO) -> tuple[int, list[str]]:
    """Judge every line of `source` into `sink`; return (judged, errors naming file:line)."""
    judged = 0
    errors: list[str] = []
    for number, raw in enumerate(source, start=1):
        if not raw.strip():
            continue
        try:
            result = judge_line(raw)
        except ValueError as exc:
            errors.append(f"{name}:{number}: {exc}")
            continue
        sink.write(json.dumps(result, ensure_ascii=False) + "\n")
        judged += 1
    return judged, errors


def judge_command(
    input_file: Path = typer.Option(..., "--input", "-i", help="JSONL file of oracle + response lines; - for stdin."),
    output: Path | None = typer.Option(None, "--out", "-o", help="Write verdicts here (whole or not at all)."),
) -> None:
    """Print one verdict line per input line: {"id", "verdict", "parsed", "reason"}."""
    name = "<stdin>" if str(input_file) == "-" else str(input_file)
    try:
        source: TextIO = sys.stdin if name == "<stdin>" else input_file.open(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"{input_file}: cannot read ({exc.strerror})") from exc
    try:
        if output is None:
            judged, errors = judge_stream(source, name, sys.stdout)
        else:
            import io

            buffer = io.StringIO()
            judged, errors = judge_stream(source, name, buffer)
            if not errors:
                write_atomic(output, buffer.getvalue())
    except UnicodeDecodeError as exc:
        raise BadInput(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    finally:
        if source is not sys.stdin:
            source.close()
    if errors:
        for line in errors[:MAX_REPORTED]:
            err.print(line, soft_wrap=True, markup=False)
        if len(errors) > MAX_REPORTED:
            err.print(f"... and {len(errors) - MAX_REPORTED} more bad lines")
        kept = f"{judged} good lines judged" + ("" if output is None else f"; {output} not written")
        raise BadInput(f"{name}: {len(errors)} bad line(s); {kept}")
    err.print(f"{judged} verdicts", style="dim")
