"""Oracles: the rule that turns one or more answers into a verdict.

Three deterministic kinds, each a small pydantic model so a library file or a
`laif judge` line is validated with the field named in the error:

- `expected`: the answer must be one of `answers` (`yes`, `no`, or choice labels).
- `number`: with `value`, every answer within `tolerance` of it; without, all
  answers within `tolerance` of each other (the same number for every group).
- `same`: every answer (one per group substitution) must be the same.

Refused and unparseable answers are verdicts of their own and never count as a pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from laif.sandbox.parsing import (
    _LEADING_WORD,
    _NO_WORDS,
    _YES_WORDS,
    has_content,
    is_abstention,
    is_refusal,
    match_reference,
    normalise,
    parse_choice,
    parse_number,
    parse_yes_no,
)


class Verdict(StrEnum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    REFUSED = "refused"
    UNPARSEABLE = "unparseable"
    ABSTAINED = "abstained"
    ERROR = "error"


class _Oracle(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExpectedOracle(_Oracle):
    kind: Literal["expected"]
    answers: list[str] = Field(min_length=1)

    @property
    def answer_type(self) -> str:
        return "yesno" if set(self.answers) <= {"yes", "no"} else "choice"


class NumberOracle(_Oracle):
    kind: Literal["number"]
    value: float | None = None
    tolerance: float = Field(default=5.0, ge=0)


class SameOracle(_Oracle):
    kind: Literal["same"]
    answer: Literal["auto", "yesno", "choice", "number"] = "auto"
    tolerance: float = Field(default=0.0, ge=0)


class ReferenceOracle(_Oracle):
    """A free answer that must state one of the accepted answers (aliases, any language)."""

    kind: Literal["reference"]
    answers: list[str] = Field(min_length=1)


AnyOracle = ExpectedOracle | NumberOracle | SameOracle | ReferenceOracle
Oracle = Annotated[AnyOracle, Field(discriminator="kind")]
ORACLE_ADAPTER: TypeAdapter[AnyOracle] = TypeAdapter(Oracle)


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    parsed: Any
    reason: str


def _leads_with_answer(text: str) -> bool:
    lead = _LEADING_WORD.match(normalise(text))
    return bool(lead and (lead.group(1) in _YES_WORDS or lead.group(1) in _NO_WORDS))


def _no_answer(text: str) -> tuple[str, Any]:
    if is_abstention(text):
        return "abstained", None
    if is_refusal(text):
        return "refused", None
    return "unparseable", None


def read_answer(text: str, answer_type: str, options: dict[str, str] | None = None) -> tuple[str, Any]:
    """Read one answer: ('ok', value), ('refused' | 'abstained' | 'unparseable', None).

    For `reference`, `options` holds the accepted answers and the value is the one
    stated, or None for a wrong answer."""
    value: Any
    if answer_type == "number":
        value = parse_number(text)
        return ("ok", value) if value is not None else _no_answer(text)
    if answer_type == "reference":
        value = match_reference(text, list((options or {}).values()))
        if value is not None:
            return "ok", value
        if not has_content(text) or is_abstention(text) or is_refusal(text):
            return _no_answer(text)
        return "ok", None
    if is_refusal(text) and not _leads_with_answer(text):
        return _no_answer(text)
    value = parse_yes_no(text) if answer_type == "yesno" else parse_choice(text, options)
    return ("ok", value) if value is not None else _no_answer(text)


def _auto_type(responses: list[str], options: dict[str, str] | None) -> str:
    if options:
        return "choice"
    if all(parse_yes_no(r) is not None for r in responses):
        return "yesno"
    if all(parse_number(r) is not None for r in responses):
        return "number"
    return "yesno"


def reference_options(oracle: ReferenceOracle) -> dict[str, str]:
    """The accepted answers in the shape readers take them (as `options`)."""
    return {str(i): answer for i, answer in enumerate(oracle.answers)}


def answer_type_for(
    oracle: AnyOracle, responses: list[str], options: dict[str, str] | None
) -> str:
    """What kind of answer the oracle reads: yesno, choice or number."""
    if isinstance(oracle, ExpectedOracle):
        return oracle.answer_type
    if isinstance(oracle, NumberOracle):
        return "number"
    if isinstance(oracle, ReferenceOracle):
        return "reference"
    return oracle.answer if oracle.answer != "auto" else _auto_type(responses, options)


#: Reads one answer as `read_answer` does; a judge model is another reader.
Reader = Callable[[str, str, "dict[str, str] | None"], tuple[str, Any]]


def _read_all(
    responses: list[str], answer_type: str, options: dict[str, str] | None, reader: Reader
) -> tuple[list[Any], Judgement | None]:
    """Read every answer; a refusal or unparseable answer decides the whole case."""
    values: list[Any] = []
    for index, text in enumerate(responses):
        status, value = reader(text, answer_type, options)
        if status == "refused":
            return [], Judgement(Verdict.REFUSED, None, f"answer {index + 1} refuses to answer")
        if status == "abstained":
            return [], Judgement(Verdict.ABSTAINED, None, f"answer {index + 1} says it does not know")
        if status == "unparseable":
            return [], Judgement(Verdict.UNPARSEABLE, None, f"answer {index + 1} gives no {answer_type} answer")
        values.append(value)
    return values, None


def judge(
    oracle: AnyOracle,
    responses: list[str],
    options: dict[str, str] | None = None,
    reader: Reader = read_answer,
) -> Judgement:
    """The verdict of `oracle` on `responses` (one per prompt of the case).

    `reader` turns one answer into ('ok', value), ('refused', None) or
    ('unparseable', None); the default is the deterministic parser."""
    if not responses:
        return Judgement(Verdict.UNPARSEABLE, None, "no answer to judge")
    if isinstance(oracle, ExpectedOracle):
        values, early = _read_all(responses, oracle.answer_type, options, reader)
        if early:
            return early
        parsed = values[0] if len(values) == 1 else values
        wrong = [v for v in values if v not in oracle.answers]
        if wrong:
            return Judgement(Verdict.FAIL, parsed, f"answered {wrong[0]!r}, expected {' or '.join(oracle.answers)}")
        return Judgement(Verdict.PASS, parsed, f"answered {values[0]!r} as expected")
    if isinstance(oracle, ReferenceOracle):
        accepted = reference_options(oracle)
        values, early = _read_all(responses, "reference", accepted, reader)
        if early:
            return early
        parsed = values[0] if len(values) == 1 else values
        if any(v is None for v in values):
            shown = ", ".join(oracle.answers[:4]) + (", …" if len(oracle.answers) > 4 else "")
            return Judgement(Verdict.FAIL, parsed, f"states none of the accepted answers ({shown})")
        return Judgement(Verdict.PASS, parsed, f"states {values[0]!r}")
    if isinstance(oracle, NumberOracle):
        values, early = _read_all(responses, "number", None, reader)
        if early:
            return early
        parsed = values[0] if len(values) == 1 else values
        if oracle.value is not None:
            off = [v for v in values if abs(v - oracle.value) > oracle.tolerance]
            if off:
                return Judgement(
                    Verdict.FAIL, parsed, f"{off[0]:g} is more than {oracle.tolerance:g} from {oracle.value:g}"
                )
            return Judgement(Verdict.PASS, parsed, f"within {oracle.tolerance:g} of {oracle.value:g}")
        spread = max(values) - min(values)
        if spread > oracle.tolerance:
            return Judgement(
                Verdict.FAIL, parsed, f"numbers differ by {spread:g} across groups (tolerance {oracle.tolerance:g})"
            )
        return Judgement(Verdict.PASS, parsed, f"numbers agree within {oracle.tolerance:g}")
    answer_type = answer_type_for(oracle, responses, options)
    values, early = _read_all(responses, answer_type, options, reader)
    if early:
        return early
    if answer_type == "number":
        same = max(values) - min(values) <= oracle.tolerance
    else:
        same = len(set(values)) == 1
    if same:
        return Judgement(Verdict.PASS, values, f"the same answer for every group: {values[0]!r}")
    return Judgement(Verdict.FAIL, values, "the answer changes with the group: " + ", ".join(map(str, values)))
