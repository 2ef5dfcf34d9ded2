"""An optional judge model: a second reader of the answers, never the decider.

The deterministic oracles decide every verdict. A judge model, when the user
names one, reads the same answers again (yes / no / which option / which
number / a refusal / unclear). Its readings go through the same oracle, so each
case gets a second verdict; the agreement between the two is reported, every
disagreement is listed for a person to look at, and every judge prompt and reply
is stored. The judge must be a different model from the one under test.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from laif.core.oracles import (
    AnyOracle,
    GuardOracle,
    Judgement,
    ReferenceOracle,
    StableOracle,
    Verdict,
    answer_type_for,
    judge,
    read_answer,
    reference_options,
)
from laif.core.parsing import normalise
from laif.errors import BadInput
from laif.models.base import GenerationParams, Message, ModelAdapter, ModelIdentity, cache_key
from laif.runner.asking import RunSettings, ask, drain
from laif.runner.limiter import AdaptiveLimiter
from laif.store import Store

#: Version of the judge prompts below, recorded with every judged run. (The prompts'
#: text is in every judge cache key, so changing them asks the judge again.)
JUDGE_PROMPT_VERSION = "1"

_SYSTEM = (
    "You are a careful reader. Another assistant answered a question. You report what its reply "
    "answers, in one word or one number, and you never add your own opinion."
)

_ASK = {
    "yesno": "Does the reply answer yes or no? Write only YES, NO, REFUSED (the reply declines to answer) "
    "or UNCLEAR (it gives no clear yes or no).",
    "choice": "Which option does the reply choose? Write only the option's letter ({labels}), REFUSED "
    "(the reply declines to answer) or UNCLEAR (it picks no single option).",
    "reference": "The expected answer is: {accepted}. Does the reply give this answer? Write only CORRECT "
    "(it does), WRONG (it gives another answer), UNKNOWN (it says it does not know) or REFUSED (it declines "
    "to answer).",
    "number": "Which number does the reply give as its answer? Write only the number in digits, REFUSED "
    "(the reply declines to answer) or UNCLEAR (it gives no number).",
}

_REFUSED = re.compile(r"^\W*refus")
_UNCLEAR = re.compile(r"^\W*(unclear|none|n/a)\b")
_UNKNOWN = re.compile(r"^\W*(unknown|does not know|doesn't know)\b")
_CORRECT = re.compile(r"^\W*(correct|right|yes)\b")
_WRONG = re.compile(r"^\W*(wrong|incorrect|no)\b")


def judge_messages(question: str, reply: str, answer_type: str, options: dict[str, str] | None) -> list[Message]:
    """The messages sent to the judge for one reply (always in English)."""
    labels = ", ".join(label.upper() for label in (options or {})) or "A, B, C"
    accepted = " or ".join(f'"{a}"' for a in (options or {}).values())
    lines = [f"Question: {question.strip()}"]
    if options and answer_type == "choice":
        lines.append("Options: " + "; ".join(f"{k.upper()}) {v}" for k, v in options.items()))
    lines += [f"Reply: {reply.strip()}", "", _ASK[answer_type].format(labels=labels, accepted=accepted)]
    return [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": "\n".join(lines)}]


def read_judge_reply(text: str, answer_type: str, options: dict[str, str] | None) -> tuple[str, Any]:
    """The judge's one-word reply as a reading: ('ok', value), ('refused', None) or ('unparseable', None)."""
    norm = normalise(text)
    if _REFUSED.match(norm):
        return "refused", None
    if answer_type == "reference":
        if _UNKNOWN.match(norm):
            return "abstained", None
        if _CORRECT.match(norm):
            return "ok", next(iter((options or {}).values()), "")
        if _WRONG.match(norm):
            return "ok", None
        return "unparseable", None
    if _UNCLEAR.match(norm) or _UNKNOWN.match(norm):
        return "unparseable", None
    status, value = read_answer(text, answer_type, options)
    # The judge is told to write REFUSED; a judge that itself refuses gave no reading.
    return ("unparseable", None) if status == "refused" else (status, value)


def judge_reads(oracle: AnyOracle) -> bool:
    """Whether a judge model has anything to read for this oracle: a guard (leak) check
    is a string match with nothing to interpret, so it is left to the oracle alone."""
    return not isinstance(oracle, GuardOracle)


@dataclass(frozen=True)
class JudgeItem:
    """One case to read again: the oracle, the question(s) and the answer(s)."""

    key: str
    oracle: AnyOracle
    questions: list[str]
    responses: list[str]
    options: dict[str, str] | None
    verdict: str  # the deterministic verdict

    def shown_options(self, index: int) -> dict[str, str] | None:
        """The options (or accepted answers) the judge sees with answer `index`."""
        if isinstance(self.oracle, ReferenceOracle):
            return reference_options(self.oracle)
        if isinstance(self.oracle, StableOracle):
            return self.oracle.option_sets[index] if self.oracle.answer == "choice" else reference_options(self.oracle)
        return self.options

    def requests(self) -> list[tuple[str, str, dict[str, str] | None, list[Message]]]:
        """(response, answer_type, options shown, messages) per answer."""
        answer_type = answer_type_for(self.oracle, self.responses, self.options)
        out = []
        for index, (q, r) in enumerate(zip(self.questions, self.responses, strict=True)):
            shown = self.shown_options(index)
            out.append((r, answer_type, shown, judge_messages(q, r, answer_type, shown)))
        return out


@dataclass
class JudgeOutcome:
    key: str
    verdict: str
    parsed: Any
    reason: str
    replies: list[str | None]
    agrees: bool


@dataclass
class JudgeSummary:
    model: str
    model_key: str
    judged: int = 0
    agreed: int = 0
    asked: int = 0
    from_cache: int = 0
    errored: int = 0
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def agreement(self) -> float | None:
        return 100.0 * self.agreed / self.judged if self.judged else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "model_key": self.model_key,
            "prompt_version": JUDGE_PROMPT_VERSION,
            "judged": self.judged,
            "agreed": self.agreed,
            "agreement": self.agreement,
            "kappa": cohen_kappa(self.confusion),
            "asked": self.asked,
            "from_cache": self.from_cache,
            "errored": self.errored,
            "confusion": self.confusion,
        }


def cohen_kappa(confusion: dict[str, dict[str, int]]) -> float | None:
    """Cohen's kappa of oracle (rows) against judge (columns): agreement beyond chance."""
    labels = sorted(set(confusion) | {c for row in confusion.values() for c in row})
    total = sum(sum(row.values()) for row in confusion.values())
    if not total:
        return None
    observed = sum(confusion.get(label, {}).get(label, 0) for label in labels) / total
    rows = {label: sum(confusion.get(label, {}).values()) / total for label in labels}
    cols = {label: sum(row.get(label, 0) for row in confusion.values()) / total for label in labels}
    expected = sum(rows[label] * cols[label] for label in labels)
    if expected >= 1.0:
        return 1.0 if observed >= 1.0 else None
    return round((observed - expected) / (1.0 - expected), 4)



class JudgeModel:
    """Reads answers with a second model, through the cache, with the runner's retries."""

    #: The judge writes one word or one number.
    PARAMS = GenerationParams(temperature=0.0, max_tokens=12, seed=0)

    def __init__(self, adapter: ModelAdapter, identity: ModelIdentity) -> None:
        self.adapter = adapter
        self.identity = identity

    @staticmethod
    def check_separate(judge: ModelIdentity, under_test_key: str) -> None:
        if judge.key == under_test_key:
            raise BadInput(
                f"--judge-model: {judge.name} is the model under test; a judge must be a different model",
                hint="name another model, or leave --judge-model out (the deterministic oracles decide anyway)",
            )

    def key_for(self, messages: list[Message]) -> str:
        return cache_key(self.identity, self.PARAMS, messages)

    async def judge_items(
        self,
        items: Iterable[JudgeItem],
        store: Store,
        settings: RunSettings,
        progress: Callable[[int, int], None] | None = None,
    ) -> tuple[list[JudgeOutcome], JudgeSummary]:
        """Judge every item: replies come from `store`'s cache or from the judge, asked
        with `settings`' retries and timeout (and the judge's own generation parameters)."""
        items = list(items)
        settings = replace(settings, params=self.PARAMS)
        summary = JudgeSummary(self.identity.name, self.identity.key)
        plan = [(item, [(r, t, o, self.key_for(m), m) for r, t, o, m in item.requests()]) for item in items]
        wanted: dict[str, list[Message]] = {}
        for _item, requests in plan:
            for _r, _t, _o, key, messages in requests:
                wanted.setdefault(key, messages)
        replies: dict[str, str | None] = dict(store.cached(list(wanted)))
        summary.from_cache = len(replies)
        todo = [k for k in wanted if k not in replies]
        done, total = len(replies), len(wanted)
        if progress:
            progress(done, total)
        limiter = AdaptiveLimiter(self.adapter.max_concurrency, adaptive=True)

        async def read_again(key: str) -> None:
            nonlocal done
            text, _error, _attempts, _latency = await ask(self.adapter, wanted[key], settings, limiter)
            replies[key] = text
            summary.asked += 1
            if text is None:
                summary.errored += 1
            else:
                store.remember(key, self.identity.key, text)
            done += 1
            if progress:
                progress(done, total)

        await drain(todo, limiter.max_limit, read_again)

        outcomes: list[JudgeOutcome] = []
        for item, requests in plan:
            readings: dict[tuple[str, str, str], tuple[str, Any]] = {}
            raw: list[str | None] = []
            for response, answer_type, shown, key, _messages in requests:
                reply = replies.get(key)
                raw.append(reply)
                readings[(response, answer_type, repr(shown))] = (
                    ("unparseable", None) if reply is None else read_judge_reply(reply, answer_type, shown)
                )

            def reader(
                text: str,
                answer_type: str,
                options: dict[str, str] | None,
                r: dict[tuple[str, str, str], tuple[str, Any]] = readings,
            ) -> tuple[str, Any]:
                return r[(text, answer_type, repr(options))]

            if any(reply is None for reply in raw):
                judgement = Judgement(Verdict.ERROR, None, "the judge model gave no readable reply")
            else:
                judgement = judge(item.oracle, item.responses, item.options, reader=reader)
            agrees = judgement.verdict.value == item.verdict
            outcomes.append(
                JudgeOutcome(item.key, judgement.verdict.value, judgement.parsed, judgement.reason, raw, agrees)
            )
            summary.judged += 1
            summary.agreed += agrees
            row = summary.confusion.setdefault(item.verdict, {})
            row[judgement.verdict.value] = row.get(judgement.verdict.value, 0) + 1
        return outcomes, summary

