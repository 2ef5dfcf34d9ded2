"""The assessment runner: asks the model every prompt of a suite once, keeps
every answer the moment it arrives, and turns answers into verdicts and scores.

It stands above both `laif.core` (cases, oracles, parsing, verdicts, statistics) and
`laif.suites` (which build on the core), so that dependencies point one way;
tests/test_import_cycles.py keeps them so. Its modules: `asking` (one call to a model, with
retries), `limiter` (adaptive concurrency), `answer_modes` (free, constrained, likelihood) and
`judge_model` (a second model that reads answers the oracles could not).

- bounded, adaptive concurrency per endpoint (see `laif.runner.limiter`);
- retries with exponential backoff and jitter on 429, 5xx and timeouts,
  honouring Retry-After, with a per-request timeout;
- a content-addressed response cache: a re-run asks nothing already answered;
- resumable: starting the same assessment again continues an unfinished run.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from laif import __version__
from laif.core.oracles import Verdict, read_answer
from laif.core.scoring import Scores, score_verdicts
from laif.core.suite import Case, CaseRecord, PromptSpec, Suite, score_over, suite_figures
from laif.models.base import (
    ModelAdapter,
    ModelIdentity,
    cache_key,
)
from laif.runner.answer_modes import (
    Allowed,
    call_for,
    closed_answer_type,
    for_case,
    graded_bias,
    prepare_answer_mode,
    read_likelihood,
)
from laif.runner.asking import RunSettings, ask, drain
from laif.runner.judge_model import JudgeItem, JudgeModel, JudgeSummary, judge_reads
from laif.runner.limiter import AdaptiveLimiter
from laif.store import ExchangeRow, JudgeRow, RunRow, Store, VerdictRow

__all__ = ["RunOutcome", "RunSettings", "Runner", "ask", "assessment_hash"]


@dataclass
class RunOutcome:
    run: RunRow
    scores: Scores
    resumed: bool
    asked: int
    from_cache: int
    already_answered: int
    errored: int


Progress = Callable[[int, int], None]


def _environment() -> dict[str, Any]:
    env: dict[str, Any] = {"python": sys.version.split()[0], "platform": platform.platform()}
    for dist in ("llama-cpp-python", "httpx", "sqlalchemy", "pydantic"):
        try:
            env[dist] = version(dist)
        except PackageNotFoundError:
            env[dist] = None
    return env


def assessment_hash(suite: Suite, identity: ModelIdentity, settings: RunSettings) -> str:
    """SHA-256 of what makes two runs the same assessment (and so resumable into each other): the
    suite and its library, languages, limit, seed, the model's key, its parameters and a mode other
    than free. Kept in the run record as `spec_hash`, the name of the column since the first
    record; it hashes no spec file (a sandbox spec's own hash is SandboxSpec.spec_hash)."""
    spec: dict[str, Any] = {
        "suite": suite.name,
        "library": suite.library_hash(),
        "languages": list(settings.languages),
        "limit": settings.limit,
        "seed": settings.seed,
        "model": identity.key,
        "params": settings.params.as_dict(),
    }
    if settings.answer_mode != "free":  # free runs keep the hash they had before answer modes
        spec["answer_mode"] = settings.answer_mode
    raw = json.dumps(spec, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass
class _Work:
    prompt: PromptSpec
    case: Case
    key: str
    #: The answers the mode allows; None when the prompt is asked free.
    allowed: Allowed | None = None


def _format_compliance(cases: list[Case], responses: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Per language: how many answers to closed questions (yes/no, an option, a number) the parser could read."""
    tally: dict[str, list[int]] = {}
    for case in cases:
        answer_type = closed_answer_type(case.oracle, case.options)
        if answer_type is None:
            continue
        for prompt in case.prompts:
            text = responses.get(prompt.prompt_id)
            if text is None:
                continue
            counts = tally.setdefault(case.language, [0, 0])
            counts[0] += read_answer(text, answer_type, case.options)[0] != "unparseable"
            counts[1] += 1
    return {
        lang: {"read": read, "answers": total, "share": round(read / total, 4) if total else None}
        for lang, (read, total) in sorted(tally.items())
    }


class Runner:
    def __init__(
        self,
        store: Store,
        model: ModelAdapter,
        suite: Suite,
        settings: RunSettings,
        *,
        judge: ModelAdapter | None = None,
    ) -> None:
        self.store = store
        self.model = model
        self.suite = suite
        self.settings = settings
        #: The optional judge model: a second reader whose agreement is reported.
        self.judge = judge
        #: Called with "asking" or "judging" when the work changes.
        self.on_phase: Callable[[str], None] | None = None

    def _exchange(self, run_id: str, work: _Work, **fields: Any) -> ExchangeRow:
        messages = work.prompt.message_list
        return ExchangeRow(
            run_id=run_id,
            prompt_id=work.prompt.prompt_id,
            cache_key=work.key,
            category=work.case.category,
            language=work.case.language,
            template_id=work.case.template_id,
            groups=list(work.prompt.groups),
            messages=messages,
            prompt_sha256=hashlib.sha256(json.dumps(messages, ensure_ascii=False).encode()).hexdigest(),
            **fields,
        )

    async def run(self, progress: Progress | None = None) -> RunOutcome:
        s = self.settings
        await prepare_answer_mode(self.model, s.answer_mode)
        identity = await self.model.identity()
        judge_model = None
        if self.judge is not None:
            judge_identity = await self.judge.identity()
            JudgeModel.check_separate(judge_identity, identity.key)
            judge_model = JudgeModel(self.judge, judge_identity)
        cases = self.suite.cases(list(s.languages), s.limit, s.seed)
        work: dict[str, _Work] = {}
        for case in cases:
            allowed = for_case(s.answer_mode, case.oracle, case.options, case.language)
            answering = {"mode": s.answer_mode} | allowed.as_key() if allowed is not None else None
            for prompt in case.prompts:
                work.setdefault(
                    prompt.prompt_id,
                    _Work(prompt, case, cache_key(identity, s.params, prompt.message_list, answering), allowed),
                )
        digest = assessment_hash(self.suite, identity, s)
        previous = None if s.fresh else self.store.resumable_run(digest)
        if previous is not None:
            run = previous
            self.store.update_run(run.id, status="running")
        else:
            run = self.store.add_run(
                RunRow(
                    id=uuid.uuid4().hex[:12],
                    spec_hash=digest,
                    status="running",
                    suite=self.suite.name,
                    suite_version=self.suite.version,
                    library_hash=self.suite.library_hash(),
                    languages=list(s.languages),
                    limit=s.limit,
                    seed=s.seed,
                    model_spec=self.model.spec,
                    model_name=identity.name,
                    model_key=identity.key,
                    model_identity=identity.as_dict(),
                    params=s.params.as_dict(),
                    laif_version=__version__,
                    environment=_environment(),
                    total_prompts=len(work),
                )
            )
        if s.prepare_only:
            self.store.update_run(run.id, status="incomplete")
            return RunOutcome(run, Scores(), previous is not None, 0, 0, 0, 0)
        answered = self.store.answered_prompt_ids(run.id)
        todo = [w for pid, w in work.items() if pid not in answered]
        if s.shard is not None:
            index, count = s.shard
            order = {pid: i for i, pid in enumerate(sorted(work))}
            todo = [w for w in todo if order[w.prompt.prompt_id] % count == index]
        done = len(work) - len(todo)
        total = len(work)
        if progress:
            progress(done, total)

        cached = self.store.cached(w.key for w in todo)
        from_cache = 0
        remaining: list[_Work] = []
        for w in todo:
            if w.key in cached:
                self.store.record_exchange(
                    self._exchange(run.id, w, response=cached[w.key], source="cache", attempts=0, latency_s=0.0)
                )
                from_cache += 1
                done += 1
                if progress:
                    progress(done, total)
            else:
                remaining.append(w)

        limiter = AdaptiveLimiter(self.model.max_concurrency, adaptive=s.adaptive)
        asked = errored = 0

        async def answer(w: _Work) -> None:
            nonlocal asked, errored, done
            call = call_for(self.model, s.answer_mode, w.allowed)
            response, error, attempts, latency = await ask(self.model, w.prompt.message_list, s, limiter, call)
            self.store.record_exchange(
                self._exchange(
                    run.id, w, response=response, error=error, source="model", attempts=attempts, latency_s=latency,
                ),
                cache_model_key=identity.key,
            )
            asked += 1
            errored += error is not None
            done += 1
            if progress:
                progress(done, total)

        try:
            await drain(remaining, limiter.max_limit, answer)
        except BaseException:
            self.store.update_run(run.id, status="incomplete")
            raise
        if s.shard is not None:  # the final pass scores, once every shard has answered
            self.store.update_run(run.id, status="incomplete")
            final_run = self.store.get_run(run.id)
            assert final_run is not None
            return RunOutcome(final_run, Scores(), True, asked, from_cache, total - len(todo), errored)
        scores, records = self.finish(run.id, cases)
        if judge_model is not None:
            if self.on_phase:
                self.on_phase("judging")
            await self.second_opinion(judge_model, run.id, records, progress)
        final = self.store.get_run(run.id)
        assert final is not None
        return RunOutcome(final, scores, previous is not None, asked, from_cache, total - len(todo), errored)

    def finish(self, run_id: str, cases: list[Case]) -> tuple[Scores, list[CaseRecord]]:
        """Judge every case from the stored answers and write verdicts and the summary."""
        answers = {e.prompt_id: e for e in self.store.exchanges(run_id)}
        mode = self.settings.answer_mode
        rows: list[VerdictRow] = []
        records: list[CaseRecord] = []
        read: dict[str, str] = {}  # prompt id -> the answer text the oracle reads
        mass: dict[str, list[dict[str, float] | None]] = {}  # case id -> likelihood mass per prompt
        for case in cases:
            exchanges = [answers.get(p.prompt_id) for p in case.prompts]
            responses = [e.response if e is not None else None for e in exchanges]
            if mode == "likelihood" and for_case(mode, case.oracle, case.options, case.language) is not None:
                decoded = [read_likelihood(r) if r is not None else (None, None) for r in responses]
                responses = [text for text, _ in decoded]
                mass[case.case_id] = [m for _, m in decoded]
            read |= {p.prompt_id: r for p, r in zip(case.prompts, responses, strict=True) if r is not None}
            missing = [e for e in exchanges if e is None or e.response is None]
            if missing:
                errors = [e.error for e in missing if e is not None and e.error]
                verdict, parsed = Verdict.ERROR, None
                reason = errors[0] if errors else "no answer stored"
            else:
                judgement = case.judge([r for r in responses if r is not None])
                verdict, parsed, reason = judgement.verdict, judgement.parsed, judgement.reason
            records.append(CaseRecord(case, verdict.value, parsed, responses))
            rows.append(
                VerdictRow(
                    run_id=run_id,
                    case_id=case.case_id,
                    category=case.category,
                    language=case.language,
                    template_id=case.template_id,
                    oracle=case.oracle.model_dump(),
                    options=case.options,
                    prompt_ids=[p.prompt_id for p in case.prompts],
                    verdict=verdict.value,
                    parsed=parsed,
                    reason=reason,
                    provenance=case.provenance,
                )
            )
        self.store.replace_verdicts(run_id, rows)
        denominator = frozenset(Verdict(v) for v in score_over(self.suite))
        scores = score_verdicts(
            ((r.category, r.language, Verdict(r.verdict)) for r in rows), list(self.suite.categories), denominator
        )
        summary = scores.as_dict() | {"score_over": sorted(v.value for v in denominator)}
        summary["format_compliance"] = _format_compliance(cases, read)
        if mode != "free":
            summary["answer_mode"] = mode
        if mass:
            summary["likelihood_mass"] = mass
            summary["graded_bias"] = graded_bias(cases, mass)
        figures = suite_figures(self.suite, records)
        if figures is not None:
            summary["metrics"] = figures
        self.store.update_run(run_id, status="complete", finished_at=datetime.now(UTC), summary=summary)
        return scores, records

    async def second_opinion(
        self, judge_model: JudgeModel, run_id: str, records: list[CaseRecord], progress: Progress | None = None
    ) -> JudgeSummary:
        """Have the judge model read every judged case (as `finish` returned them) again;
        store and summarise its agreement."""
        items = [
            JudgeItem(
                key=r.case.case_id,
                oracle=r.case.oracle,
                questions=[p.text for p in r.case.prompts],
                responses=[text for text in r.responses if text is not None],
                options=r.case.options,
                verdict=r.verdict,
            )
            for r in records
            # an error verdict means an answer is missing
            if r.verdict != Verdict.ERROR.value and judge_reads(r.case.oracle)
        ]
        key = judge_model.identity.key
        outcomes, summary = await judge_model.judge_items(items, self.store, self.settings, progress)
        self.store.replace_judgements(
            run_id,
            [
                JudgeRow(
                    run_id=run_id, case_id=o.key, judge_model_key=key, verdict=o.verdict,
                    parsed=o.parsed, reason=o.reason, replies=o.replies, agrees=o.agrees,
                )
                for o in outcomes
            ],
        )
        run = self.store.get_run(run_id)
        assert run is not None
        not_read = len(records) - len(items)
        self.store.update_run(run_id, summary=(run.summary or {}) | {"judge": summary.as_dict() | {"not_read": not_read}})
        return summary
