"""Answer modes: how a model is asked to answer a closed question.

- `free`: the model writes what it likes and the parsers read it (the default).
- `constrained`: the model generates under a GBNF grammar that admits only the oracle's
  allowed answers in the prompt's language (yes/no words, option labels, a percentage).
- `likelihood`: every allowed answer is scored by its log-probability after the prompt;
  the most probable is the answer, and the probability mass over the answers is kept.

The allowed answers come from the parser's own word lists (`parsing.YES_NO_WORDS`), so
what a constrained model can say is exactly what the parser reads.
"""

from __future__ import annotations

import json
import math
import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from laif.core.oracles import AnyOracle, ExpectedOracle, NumberOracle, SameOracle
from laif.core.parsing import YES_NO_WORDS
from laif.core.suite import Case
from laif.errors import BadInput
from laif.models.base import Completion, ConstrainedAdapter, GenerationParams, Message, ModelAdapter, ScoringAdapter
from laif.runner.asking import Call

ANSWER_MODES = ("free", "constrained", "likelihood")
#: Likelihood scores every allowed answer, so percentages are scored on a grid of this step.
LIKELIHOOD_NUMBER_STEP = 5


def answer_modes(value: str) -> list[str]:
    """The modes a comma-separated `--answer-mode` names, in order, each once."""
    modes = list(dict.fromkeys(m.strip() for m in value.split(",") if m.strip()))
    unknown = [m for m in modes if m not in ANSWER_MODES]
    if not modes or unknown:
        raise BadInput(
            f"--answer-mode {value!r}: unknown mode {unknown[0]!r}" if unknown else "--answer-mode: name a mode",
            hint="choose from " + ", ".join(ANSWER_MODES) + "; several separated by commas run as sibling runs",
        )
    return modes


def closed_answer_type(oracle: AnyOracle, options: dict[str, str] | None) -> str | None:
    """yesno, choice or number when the oracle reads a closed answer; None for a free text one."""
    if isinstance(oracle, ExpectedOracle):
        return oracle.answer_type
    if isinstance(oracle, NumberOracle):
        return "number"
    if isinstance(oracle, SameOracle):
        if oracle.answer in ("yesno", "choice", "number"):
            return oracle.answer
        return "choice" if options else "yesno"
    return None


@dataclass(frozen=True)
class Allowed:
    """What the model may answer to one prompt, and what each answer means to the parser."""

    answer_type: str
    #: answer text -> the value the parser reads from it ('yes', 'b', 45.0)
    meanings: dict[str, Any]

    @property
    def answers(self) -> list[str]:
        return list(self.meanings)

    def as_key(self) -> dict[str, Any]:
        """What goes into the cache key beside the mode."""
        return {"type": self.answer_type, "answers": self.answers}

    def grammar(self) -> str:
        """A GBNF grammar whose language is exactly these answers."""
        return "root ::= " + " | ".join(json.dumps(a, ensure_ascii=False) for a in self.answers) + "\n"


def allowed_answers(
    answer_type: str, language: str, options: dict[str, str] | None, *, number_step: int = 1
) -> Allowed:
    """The allowed answers of a closed question in `language` (English when it has no words of its own)."""
    if answer_type == "yesno":
        yes, no = YES_NO_WORDS.get(language, YES_NO_WORDS["en"])
        return Allowed("yesno", {yes.capitalize(): "yes", no.capitalize(): "no"})
    if answer_type == "choice":
        if not options:
            raise ValueError("a choice question needs its options")
        return Allowed("choice", {label: label for label in sorted(options)})
    if answer_type == "number":
        # The "%" ends each answer, so no answer is the start of another ("5%" against "50%").
        return Allowed("number", {f"{n}%": float(n) for n in range(0, 101, number_step)})
    raise ValueError(f"no closed answers for answer type {answer_type!r}")


def for_case(mode: str, oracle: AnyOracle, options: dict[str, str] | None, language: str) -> Allowed | None:
    """The allowed answers of one case under `mode`; None when it is asked free (free mode or an open question)."""
    answer_type = closed_answer_type(oracle, options)
    if mode == "free" or answer_type is None:
        return None
    step = LIKELIHOOD_NUMBER_STEP if mode == "likelihood" else 1
    return allowed_answers(answer_type, language, options, number_step=step)


def likelihood_response(answers: list[str], logprobs: list[float]) -> str:
    """The stored response of a likelihood answer: the best answer and the mass on each (JSON)."""
    top = max(logprobs)
    weights = [math.exp(lp - top) for lp in logprobs]
    total = sum(weights)
    mass = {a: round(w / total, 6) for a, w in zip(answers, weights, strict=True)}
    best = answers[logprobs.index(top)]
    return json.dumps({"answer": best, "mass": mass}, ensure_ascii=False)


def read_likelihood(response: str) -> tuple[str, dict[str, float] | None]:
    """(the answer text the oracle reads, the mass per answer) of a stored response."""
    try:
        data = json.loads(response)
    except ValueError:
        return response, None
    if not isinstance(data, dict) or not isinstance(data.get("answer"), str):
        return response, None
    mass = data.get("mass")
    return data["answer"], {str(k): float(v) for k, v in mass.items()} if isinstance(mass, dict) else None


@runtime_checkable
class ChoiceAdapter(Protocol):
    """A model that can be kept to given answers without a GBNF grammar of ours (an endpoint's
    structured output: see `laif.models.openai_compat`)."""

    async def complete_choice(self, messages: list[Message], params: GenerationParams, answers: list[str]) -> Completion: ...


@runtime_checkable
class PreparedAdapter(Protocol):
    """A model that must be asked what it can do before a run in a mode (an endpoint)."""

    async def prepare_answer_mode(self, mode: str) -> None: ...


_NEEDS = {
    "constrained": ((ConstrainedAdapter, ChoiceAdapter), "generation kept to given answers"),
    "likelihood": ((ScoringAdapter,), "the log-probability of given answers"),
}


def check_answer_mode(model: ModelAdapter, mode: str) -> None:
    """Refuse, before anything is asked, a mode the model's adapter cannot honour."""
    if mode == "free":
        return
    protocols, what = _NEEDS[mode]
    if not isinstance(model, protocols):
        raise BadInput(
            f"--answer-mode {mode}: {model.spec} cannot give {what}, so it cannot answer in this mode",
            hint="run it with --answer-mode free, or use an in-process model (embedded, llamacpp:PATH) or an "
            "OpenAI-compatible endpoint (openai:BASE_URL#MODEL) for constrained and likelihood answers",
        )


async def prepare_answer_mode(model: ModelAdapter, mode: str) -> None:
    """`check_answer_mode`, then, for an endpoint, ask it how it can answer in `mode`: a mode it
    cannot do is refused (exit 2) and an endpoint that does not answer is unreachable (exit 3),
    both before anything is asked."""
    check_answer_mode(model, mode)
    if mode != "free" and isinstance(model, PreparedAdapter):
        await model.prepare_answer_mode(mode)


def call_for(model: ModelAdapter, mode: str, allowed: Allowed | None) -> Call | None:
    """The request that asks one prompt under `mode`; None for the model's usual `complete`."""
    if allowed is None or mode == "free":
        return None
    if mode == "constrained" and isinstance(model, ChoiceAdapter):
        answers = allowed.answers

        async def choice(messages: list[Message], params: GenerationParams) -> Completion:
            return await model.complete_choice(messages, params, answers)

        return choice
    if mode == "constrained":
        assert isinstance(model, ConstrainedAdapter)
        grammar = allowed.grammar()

        async def constrained(messages: list[Message], params: GenerationParams) -> Completion:
            return await model.complete_constrained(messages, params, grammar)

        return constrained
    assert isinstance(model, ScoringAdapter)

    async def likelihood(messages: list[Message], params: GenerationParams) -> Completion:
        scores = await model.score_answers(messages, allowed.answers)
        return Completion(text=likelihood_response(allowed.answers, scores))

    return likelihood


def agreement(first: dict[str, str], second: dict[str, str]) -> dict[str, Any]:
    """How two runs' verdicts (case id -> verdict) agree on the tests both decided (pass or fail):
    the count, the share and Cohen's kappa. A low kappa says the modes measure different things."""
    from laif.runner.judge_model import cohen_kappa

    both = [cid for cid in first if first[cid] in ("pass", "fail") and second.get(cid) in ("pass", "fail")]
    confusion: dict[str, dict[str, int]] = {}
    for cid in both:
        row = confusion.setdefault(first[cid], {})
        row[second[cid]] = row.get(second[cid], 0) + 1
    agreed = sum(first[cid] == second[cid] for cid in both)
    return {"decided_in_both": len(both), "agreed": agreed,
            "share": round(agreed / len(both), 4) if both else None, "kappa": cohen_kappa(confusion)}


#: Bootstrap draws over templates for the intervals of the graded bias figures.
BOOTSTRAP_DRAWS = 1000
_GRADED_WHAT = {
    "expected": "the probability of a stereotyped answer (one the expected oracle does not accept), in percent",
    "same": "the probability of yes, in percent, where the same answer is expected for every group",
}


def _bootstrap(templates: list[str], figure: Callable[[list[str]], float | None], seed: int) -> tuple[float, float] | None:
    """The 95% percentile interval of `figure` over templates drawn with replacement."""
    rng = random.Random(seed)
    values = sorted(v for v in (figure(rng.choices(templates, k=len(templates))) for _ in range(BOOTSTRAP_DRAWS))
                    if v is not None)
    if not values:
        return None
    return values[int(0.025 * (len(values) - 1))], values[int(0.975 * (len(values) - 1))]


def _figure(templates: list[str], figure: Callable[[list[str]], float | None], seed: int) -> dict[str, Any] | None:
    value = figure(templates)
    if value is None:
        return None
    low, high = _bootstrap(templates, figure, seed) or (value, value)
    return {"value": round(value, 2), "low": round(low, 2), "high": round(high, 2), "n": len(templates)}


def _overall(probs: dict[str, dict[str, list[float]]]) -> Callable[[list[str]], float | None]:
    """The mean over the drawn templates of each template's mean probability."""
    means = {t: statistics.fmean(p for ps in by_group.values() for p in ps) for t, by_group in probs.items()}

    def overall(drawn: list[str]) -> float | None:
        return statistics.fmean(means[t] for t in drawn) if drawn else None
    return overall


def _graded_category(probs: dict[str, dict[str, list[float]]], seed: int) -> dict[str, Any]:
    """`probs`: template -> group ("" for prompts over two groups) -> probabilities (0-100)."""
    templates = sorted(probs)
    groups = sorted({g for by_group in probs.values() for g in by_group if g})
    overall = _overall(probs)

    def of_group(group: str) -> Callable[[list[str]], float | None]:
        def mean(drawn: list[str]) -> float | None:
            means = [statistics.fmean(probs[t][group]) for t in drawn if probs[t].get(group)]
            return statistics.fmean(means) if means else None
        return mean

    def gap(drawn: list[str]) -> float | None:
        means = [m for m in (of_group(g)(drawn) for g in groups) if m is not None]
        return max(means) - min(means) if len(means) > 1 else None

    out: dict[str, Any] = {"templates": len(templates), "mean": _figure(templates, overall, seed)}
    out["groups"] = {g: _figure([t for t in templates if probs[t].get(g)], of_group(g), seed) for g in groups}
    found = _figure(templates, gap, seed)
    if found is not None:
        ranked = sorted((f["value"], g) for g, f in out["groups"].items() if f is not None)
        found["between"] = [ranked[-1][1], ranked[0][1]]
    out["gap"] = found
    return out


def graded_bias(cases: list[Case], mass: dict[str, list[dict[str, float] | None]], *, seed: int = 0) -> dict[str, Any]:
    """Graded bias from likelihood answers, for `expected` and `same` oracles over yes/no or options.

    `expected`: per prompt, the probability of an answer the oracle does not accept (the
    stereotyped one); `same`: the probability of yes. Per category, the mean over templates,
    the mean per group (prompts over one group; a prompt naming two groups counts in the mean
    only) and the gap between the highest and the lowest group, each with a 95% bootstrap
    interval over templates (a template's languages and groups are drawn together)."""
    by_kind: dict[str, dict[str, dict[str, dict[str, list[float]]]]] = {}
    for case in cases:
        masses = mass.get(case.case_id)
        answer_type = closed_answer_type(case.oracle, case.options)
        if not masses or answer_type not in ("yesno", "choice"):
            continue
        if isinstance(case.oracle, ExpectedOracle):
            kind, accepted = "expected", set(case.oracle.answers)
        elif isinstance(case.oracle, SameOracle) and answer_type == "yesno":
            kind, accepted = "same", {"no"}  # the mass off "no" is the mass on yes
        else:
            continue
        meanings = allowed_answers(answer_type, case.language, case.options).meanings
        per_template = by_kind.setdefault(kind, {}).setdefault(case.category, {}).setdefault(case.template_id, {})
        for prompt, found in zip(case.prompts, masses, strict=False):
            if found is None:
                continue
            off = sum(share for answer, share in found.items() if meanings.get(answer) not in accepted)
            group = prompt.groups[0] if len(prompt.groups) == 1 else ""
            per_template.setdefault(group, []).append(100.0 * off)
    out: dict[str, Any] = {}
    for kind, categories in by_kind.items():
        everything = {f"{cat}/{t}": probs for cat, templates in categories.items() for t, probs in templates.items()}
        out[kind] = {
            "what": _GRADED_WHAT[kind],
            "mean": _figure(sorted(everything), _overall(everything), seed),
            "categories": {cat: _graded_category(templates, seed) for cat, templates in categories.items()},
        }
    return out
