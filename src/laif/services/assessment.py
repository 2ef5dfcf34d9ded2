"""Assessments as services: run suites against a model from options or from a sandbox spec, here or
on Slurm, and score a stored run again.

    from laif.services import assessment
    done = assessment.run_spec(Path("sandbox.yaml"), out_dir=Path("out"))
    done.gates, [r.run.id for r in done.runs]

    done = assessment.run_assessment(assessment.AssessmentOptions(model="embedded", suites=("bias",)))

`laif assess`, `laif sandbox run`, the Slurm shards and the portal all come through here, so a spec
gives the same runs, verdicts, scores and reports whichever way it was started. Every model is
opened and closed in one place (`opened`). Nothing here prints: long work reports through a
`laif.services.progress.Progress` callback, and each finished suite run can be handed to `on_suite`
as it arrives. Bad input raises `laif.errors.BadInput`; an unreachable model `ModelUnreachable`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from laif._files import write_atomic
from laif.compute import slurm
from laif.configurator.spec import SandboxSpec, gates, load_spec
from laif.core.suite import Suite
from laif.errors import BadInput
from laif.models import EndpointOptions, GenerationParams, ModelAdapter, ModelIdentity, open_model
from laif.reports import leaderboard_row, render_run_report, run_results
from laif.runner import Runner, RunOutcome, RunSettings, assessment_hash
from laif.runner.answer_modes import ANSWER_MODES, agreement, prepare_answer_mode
from laif.secrets import ENDPOINT_KEY_VAR, credential
from laif.services.progress import Progress, ProgressEvent
from laif.store import RunRow, Store
from laif.store.db import default_url
from laif.suites import load_suite

__all__ = [
    "Assessment", "AssessmentOptions", "SpecRun", "SuiteRun", "cancel_run", "endpoint", "opened", "prepare_runs",
    "run_assessment", "run_settings", "run_shard", "run_spec", "run_status", "run_suites", "score_run",
]

#: Called with each suite run the moment it is finished (a front end shows it before the next starts).
OnSuite = Callable[["SuiteRun"], None]


def _emit(progress: Progress | None, event: ProgressEvent) -> None:
    if progress is not None:
        progress(event)


# --- the model, opened and closed in one place ------------------------------------------------------


@asynccontextmanager
async def opened(model: str, options: EndpointOptions | None = None) -> AsyncIterator[ModelAdapter]:
    """The adapter a model string names, closed when the block ends, whatever happens in it."""
    async with open_model(model, options) as adapter:
        yield adapter


# --- one suite ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SuiteRun:
    """One suite run against one model, stored, with its results and report written."""

    suite: str
    answer_mode: str
    outcome: RunOutcome
    #: The suite's categories, in the order its leaderboard shows them.
    categories: tuple[str, ...]
    results_path: Path
    report_path: Path
    #: With several answer modes: how this run's verdicts agree with the first mode's (else None).
    agreement: dict[str, Any] | None = None

    @property
    def run(self) -> RunRow:
        return self.outcome.run

    def leaderboard_row(self) -> dict[str, Any]:
        """The run's leaderboard row (model, categories, mean, intervals) and its suite."""
        return leaderboard_row(self.run) | {"suite": self.suite}

    def as_row(self) -> dict[str, Any]:
        """What `laif assess --json` prints for this run."""
        row = self.leaderboard_row() | {"scores": self.run.summary, "run_id": self.run.id,
                                        "answer_mode": self.answer_mode}
        return row | ({"agreement": self.agreement} if self.agreement is not None else {})


async def _ask(store: Store, model: str, options: EndpointOptions, suite: Suite, settings: RunSettings,
               progress: Progress | None = None, judge_model: str | None = None,
               judge_options: EndpointOptions | None = None) -> RunOutcome:
    """Run `suite` against `model` (and the judge model, if any); both are closed afterwards."""
    async with AsyncExitStack() as stack:
        adapter = await stack.enter_async_context(opened(model, options))
        judge = (await stack.enter_async_context(opened(judge_model, judge_options or options))
                 if judge_model is not None else None)
        runner = Runner(store, adapter, suite, settings, judge=judge)
        if progress is None:
            return await runner.run()
        stage = "asking"
        progress(ProgressEvent(stage))

        def phase(name: str) -> None:
            nonlocal stage
            stage = name
            progress(ProgressEvent(stage))

        runner.on_phase = phase
        return await runner.run(lambda done, total: progress(ProgressEvent(stage, done, total)))


def _validated(names: list[str], settings: RunSettings) -> dict[str, Suite]:
    suites = {name: load_suite(name) for name in names}
    for the_suite in suites.values():
        the_suite.cases(list(settings.languages), settings.limit, settings.seed)  # validates up front
    return suites


def run_suites(model: str, names: list[str], settings: RunSettings, options: EndpointOptions, db: str | None,
               out_dir: Path, *, progress: Progress | None = None, on_suite: OnSuite | None = None,
               judge_model: str | None = None, judge_options: EndpointOptions | None = None) -> list[SuiteRun]:
    """Run each suite against `model` in one answer mode (`settings.answer_mode`), store it and write
    its report.html and results.json to `out_dir` (to `out_dir/SUITE` when there are several)."""
    names = list(dict.fromkeys(names))
    suites = _validated(names, settings)
    store = Store(db)
    runs: list[SuiteRun] = []
    for number, (name, the_suite) in enumerate(suites.items(), start=1):
        if len(suites) > 1:
            _emit(progress, ProgressEvent("suite", number, len(suites), f"suite {name}", heading=True))
        outcome = asyncio.run(_ask(store, model, options, the_suite, settings, progress, judge_model, judge_options))
        where = out_dir if len(suites) == 1 else out_dir / name
        results = run_results(store, outcome.run.id)
        write_atomic(where / "results.json", json.dumps(results, ensure_ascii=False, indent=1))
        write_atomic(where / "report.html", render_run_report(results))
        done = SuiteRun(name, settings.answer_mode, outcome, tuple(the_suite.categories), where / "results.json",
                        where / "report.html")
        runs.append(done)
        if on_suite is not None:
            on_suite(done)
    return runs


# --- an assessment from options ----------------------------------------------------------------------


@dataclass(frozen=True)
class AssessmentOptions:
    """What `laif assess` takes: a model, suites, settings, answer modes, a judge model, where to write."""

    model: str = "embedded"
    suites: tuple[str, ...] = ("bias",)
    settings: RunSettings = field(default_factory=RunSettings)
    endpoint: EndpointOptions = field(default_factory=EndpointOptions)
    #: Each mode is a sibling run of every suite (free, constrained, likelihood).
    answer_modes: tuple[str, ...] = ("free",)
    #: A second, different model that re-reads every answer; its agreement is reported.
    judge_model: str | None = None
    judge_endpoint: EndpointOptions | None = None
    db: str | None = None
    #: report.html and results.json; a subfolder per answer mode, then per suite, when there are several.
    out_dir: Path = Path("laif-out")


@dataclass(frozen=True)
class Assessment:
    runs: list[SuiteRun]

    @property
    def modes(self) -> list[str]:
        return list(dict.fromkeys(r.answer_mode for r in self.runs))


def check_answer_modes(model: str, options: EndpointOptions, modes: list[str]) -> None:
    """Refuse a mode the model cannot answer in before any run starts (BadInput); an endpoint is
    asked what it can do (ModelUnreachable when it does not answer)."""
    if modes == ["free"]:
        return

    async def check() -> None:
        async with opened(model, options) as adapter:
            for mode in modes:
                await prepare_answer_mode(adapter, mode)

    asyncio.run(check())


def _agreements(store: Store, runs: list[SuiteRun]) -> list[SuiteRun]:
    """For each suite, how the verdicts of every other mode agree with the first mode's."""
    found = []
    for run in runs:
        first = next(r for r in runs if r.suite == run.suite)
        if run is first:
            found.append(run)
            continue
        verdicts = [{v.case_id: v.verdict for v in store.verdicts(r.run.id)} for r in (first, run)]
        found.append(dataclasses.replace(run, agreement=agreement(*verdicts) | {"with": first.answer_mode}))
    return found


def run_assessment(options: AssessmentOptions, *, progress: Progress | None = None,
                   on_suite: OnSuite | None = None) -> Assessment:
    """Every suite in every answer mode against the model; with several modes, each run after the
    first mode's carries its verdicts' agreement with that mode."""
    modes = list(dict.fromkeys(options.answer_modes))
    check_answer_modes(options.model, options.endpoint, modes)
    runs: list[SuiteRun] = []
    for number, mode in enumerate(modes, start=1):
        if len(modes) > 1:
            _emit(progress, ProgressEvent("answer mode", number, len(modes), f"answer mode {mode}", heading=True))
        runs += run_suites(
            options.model, list(options.suites), dataclasses.replace(options.settings, answer_mode=mode),
            options.endpoint, options.db, options.out_dir if len(modes) == 1 else options.out_dir / mode,
            progress=progress, on_suite=on_suite, judge_model=options.judge_model,
            judge_options=options.judge_endpoint,
        )
    if len(modes) > 1:
        runs = _agreements(Store(options.db), runs)
    return Assessment(runs)


# --- an assessment from a sandbox spec, here or on Slurm ---------------------------------------------


def run_settings(spec: SandboxSpec, shard: tuple[int, int] | None = None, prepare_only: bool = False) -> RunSettings:
    """The same settings on every executor, so a spec gives the same run wherever it runs."""
    return RunSettings(
        languages=tuple(spec.languages), limit=spec.limit, seed=spec.seed,
        params=GenerationParams(temperature=0.0, max_tokens=spec.max_tokens, seed=spec.seed),
        shard=shard, prepare_only=prepare_only,
    )


def endpoint(spec: SandboxSpec) -> EndpointOptions:
    """A stored credential reaches the adapter through one variable, set only while the run lasts
    (laif.secrets.credential); Slurm hands it to the shards' environment for their lifetime."""
    if spec.system.api_key_secret:
        return EndpointOptions(api_key_env=ENDPOINT_KEY_VAR)
    return EndpointOptions(api_key_env=spec.system.api_key_env)


def run_key(spec: SandboxSpec, suite: str, mode: str) -> str:
    """How a spec's thresholds and gates.json name a suite's run: SUITE for its first answer mode,
    SUITE@MODE for the others."""
    return suite if mode == spec.modes_of(suite)[0] else f"{suite}@{mode}"


def _run_spec_suites(spec: SandboxSpec, store: Store, settings: RunSettings) -> dict[str, RunOutcome]:
    """Every suite of the spec in each of its answer modes, by `run_key`."""
    return {run_key(spec, name, mode): asyncio.run(_ask(store, spec.system.model_string(), endpoint(spec),
                                                        load_suite(name), dataclasses.replace(settings, answer_mode=mode)))
            for name in spec.suites for mode in spec.modes_of(name)}


def prepare_runs(spec: SandboxSpec, db: str) -> dict[str, str]:
    """Create (or find, to resume) the run of every suite of the spec; returns suite -> run id."""
    outcomes = _run_spec_suites(spec, Store(db), run_settings(spec, prepare_only=True))
    return {name: outcome.run.id for name, outcome in outcomes.items()}


def run_shard(task: slurm.ShardTask) -> dict[str, int]:
    """What each Slurm array task runs on its node: answer this shard's prompts of every suite."""
    spec = SandboxSpec.model_validate(task.spec)
    outcomes = _run_spec_suites(spec, Store(task.db), run_settings(spec, shard=(task.index, task.count)))
    return {"shard": task.index, "asked": sum(o.asked for o in outcomes.values()),
            "from_cache": sum(o.from_cache for o in outcomes.values())}


@dataclass(frozen=True)
class SpecRun:
    """A sandbox spec's runs and its thresholds, measured."""

    spec: SandboxSpec
    runs: list[SuiteRun]
    #: Each threshold: {"threshold", "min", "max", "value", "met"} (met None: nothing measured).
    gates: list[dict[str, Any]]
    gates_path: Path

    @property
    def missed(self) -> list[dict[str, Any]]:
        return [g for g in self.gates if g["met"] is not True]


def run_spec(spec: Path | SandboxSpec, *, out_dir: Path, db: str | None = None, progress: Progress | None = None,
             on_suite: OnSuite | None = None) -> SpecRun:
    """Run a sandbox spec (a YAML file, or one already loaded) on its executor: every suite here, or
    its prompts sharded over a Slurm job array first and scored here. Writes each suite's report and
    results, and gates.json with every threshold measured, to `out_dir`."""
    loaded = load_spec(spec) if isinstance(spec, Path) else spec
    source = str(spec) if isinstance(spec, Path) else f"sandbox {loaded.name}"
    if loaded.system.serve is not None:
        raise BadInput(f"{source}: system.serve starts a model on a compute node, which `laif sandbox run` does not "
                       "do; `laif sandbox render --target slurm` writes a job that does, or give system.model")
    url = db or default_url()
    modes = list(dict.fromkeys(m for name in loaded.suites for m in loaded.modes_of(name)))
    with credential(loaded.system.api_key_secret, url):
        check_answer_modes(loaded.system.model_string(), endpoint(loaded), modes)
        if loaded.executor == "slurm":
            if shutil.which("sbatch") is None:
                raise BadInput("executor slurm: sbatch is not on PATH; run where Slurm's client commands are")
            runs = prepare_runs(loaded, url)
            slurm.submit(loaded, url, out_dir / "slurm", runs, run_shard,
                         report=lambda message: _emit(progress, ProgressEvent("shards", message=message)))
            _emit(progress, ProgressEvent("scoring", message="every shard done; scoring"))
        # Local executor, or the final pass after the shards: whatever was answered is resumed, not asked again.
        done: list[SuiteRun] = []
        for mode in modes:  # several modes: each its own folder, as laif assess --answer-mode writes them
            done += run_suites(loaded.system.model_string(), [s for s in loaded.suites if mode in loaded.modes_of(s)],
                               dataclasses.replace(run_settings(loaded), answer_mode=mode), endpoint(loaded), url,
                               out_dir if len(modes) == 1 else out_dir / mode, progress=progress, on_suite=on_suite)
    summaries = {f"{r.suite}@{r.answer_mode}": r.run.summary or {} for r in done}
    results = gates(loaded, summaries | {r.suite: r.run.summary or {} for r in done
                                         if r.answer_mode == loaded.modes_of(r.suite)[0]})
    gates_path = out_dir / "gates.json"
    write_atomic(gates_path, json.dumps(
        {"sandbox": loaded.name, "spec_hash": loaded.spec_hash(),
         "runs": {run_key(loaded, r.suite, r.answer_mode): r.run.id for r in done}, "gates": results}, indent=2) + "\n")
    return SpecRun(loaded, done, results, gates_path)


@dataclass(frozen=True)
class RunStatus:
    run: RunRow
    answered: int
    #: The run's Slurm jobs, and those of them Slurm still lists (empty when it ran here).
    jobs: list[str]
    queued: list[str]


def _jobs(note: str | None) -> list[str]:
    try:
        return list(json.loads(note or "{}").get("slurm_jobs", []))
    except (json.JSONDecodeError, AttributeError):
        return []


def run_status(run_id: str, db: str | None = None) -> RunStatus:
    """How far a run is: answers stored, its state, and its Slurm jobs still queued."""
    store = Store(db)
    row = store.require_run(run_id)
    jobs = _jobs(row.note)
    still = sorted(slurm.queued() & set(jobs)) if jobs else []
    return RunStatus(row, len(store.answered_prompt_ids(row.id)), jobs, still)


def cancel_run(run_id: str, db: str | None = None) -> tuple[RunRow, list[str]]:
    """Cancel a run's Slurm jobs; the answers stored so far are kept and the run can be resumed.
    Returns the run and the jobs cancelled."""
    store = Store(db)
    row = store.require_run(run_id)
    jobs = _jobs(row.note)
    slurm.cancel(jobs)
    if row.status != "complete":
        store.update_run(row.id, status="incomplete")
    return row, jobs


# --- a stored run, scored again --------------------------------------------------------------------------


def score_run(run_id: str, db: str | None = None) -> RunRow:
    """Judge a stored run's answers again with its suite's oracles and store its verdicts and scores,
    asking no model: the cases are rebuilt from the suite's library, which must be the one the run
    was made with. Returns the run as stored afterwards."""
    store = Store(db)
    row = store.require_run(run_id)
    suite = load_suite(row.suite)
    if suite.library_hash() != row.library_hash:
        raise BadInput(f"run {row.id}: the {row.suite} suite's library changed since the run was made; "
                       "its cases cannot be rebuilt to score it again")
    identity = ModelIdentity(**row.model_identity)
    base = RunSettings(languages=tuple(row.languages), limit=row.limit, seed=row.seed,
                       params=GenerationParams(**row.params))
    settings = next((s for s in (dataclasses.replace(base, answer_mode=m) for m in ANSWER_MODES)
                     if assessment_hash(suite, identity, s) == row.spec_hash), None)
    if settings is None:
        raise BadInput(f"run {row.id}: its settings cannot be rebuilt from the store (the spec hash matches none)")
    answered = len(store.answered_prompt_ids(row.id))
    if answered < row.total_prompts:
        raise BadInput(f"run {row.id}: {answered} of {row.total_prompts} prompts answered; run the same assessment "
                       "again to resume it before scoring it")
    cases = suite.cases(list(settings.languages), settings.limit, settings.seed)

    async def score() -> None:
        async with opened(row.model_spec) as adapter:  # never asked: scoring reads the stored answers
            Runner(store, adapter, suite, settings).finish(row.id, cases)

    asyncio.run(score())
    judged = (row.summary or {}).get("judge")
    if judged is not None:  # the judge model's agreement stands: its readings are stored beside the verdicts
        store.update_run(row.id, summary=(store.require_run(row.id).summary or {}) | {"judge": judged})
    return store.require_run(row.id)
