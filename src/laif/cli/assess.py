"""`laif assess`: run a suite against a model, store it, report it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from laif.cli._common import err, leaderboard_table, out, write_atomic
from laif.errors import BadInput
from laif.models import EndpointOptions, GenerationParams, open_model
from laif.reports import leaderboard_row, render_run_report, run_results
from laif.sandbox.runner import Runner, RunOutcome, RunSettings
from laif.store import Store
from laif.suites import load_suite


class _RateColumn(TextColumn):
    def __init__(self) -> None:
        super().__init__("")

    def render(self, task):  # type: ignore[no-untyped-def]
        speed = task.finished_speed or task.speed
        return f"{speed:.1f} prompts/s" if speed else "… prompts/s"


def _languages(value: str) -> tuple[str, ...]:
    langs = tuple(part.strip() for part in value.split(",") if part.strip())
    if not langs:
        raise BadInput("--languages: give at least one language, e.g. en,fr,de,lb")
    return langs


async def _run(runner: Runner, quiet: bool) -> RunOutcome:
    try:
        if quiet:
            return await runner.run()
        return await _run_with_bar(runner)
    finally:
        await runner.model.aclose()
        if runner.judge is not None:
            await runner.judge.aclose()


async def _run_with_bar(runner: Runner) -> RunOutcome:
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    ) as bar:
        task = bar.add_task("asking", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        def phase(name: str) -> None:
            bar.reset(task, description=name, total=None)

        runner.on_phase = phase

        return await runner.run(progress)


def assess(
    model: str = typer.Option("embedded", "--model", "-m", help="embedded, llamacpp:PATH, openai:BASE_URL#MODEL or http:URL"),
    suite: str = typer.Option("bias", "--suite", "-s", help="Suite to run (see `laif suites list`)."),
    languages: str = typer.Option("en,fr,de,lb", "--languages", "-l", help="Comma-separated: en,fr,de,lb"),
    limit: int | None = typer.Option(None, "--limit", min=1, help="At most N templates per category, sampled with --seed."),
    out_dir: Path = typer.Option(Path("laif-out"), "--out", "-o", help="Folder for report.html and results.json."),
    seed: int = typer.Option(0, "--seed", help="Seed for template sampling and for the model's sampler."),
    temperature: float = typer.Option(0.0, "--temperature", min=0.0),
    max_tokens: int = typer.Option(64, "--max-tokens", min=1),
    concurrency: int = typer.Option(8, "--concurrency", min=1, help="Most requests in flight to an endpoint."),
    fixed_concurrency: bool = typer.Option(False, "--fixed-concurrency", help="Do not adapt concurrency to latency."),
    timeout: float = typer.Option(120.0, "--timeout", min=1.0, help="Seconds per request."),
    retries: int = typer.Option(4, "--retries", min=0, help="Retries on 429, 5xx and timeouts."),
    api_key_env: str | None = typer.Option(None, "--api-key-env", help="Name of the variable holding the API key."),
    request_template: str | None = typer.Option(None, "--request-template", help="http: JSON body with {prompt}."),
    response_path: str | None = typer.Option(None, "--response-path", help="http: dotted path to the answer text."),
    db: str | None = typer.Option(None, "--db", help="Database URL (default: SQLite under $LAIF_HOME or ~/.laif)."),
    judge_model: str | None = typer.Option(
        None, "--judge-model", help="A second, different model that re-reads every answer; its agreement is reported."
    ),
    judge_api_key_env: str | None = typer.Option(None, "--judge-api-key-env", help="Variable holding the judge's API key."),
    fresh: bool = typer.Option(False, "--fresh", help="Start a new run instead of resuming an unfinished one."),
    as_json: bool = typer.Option(False, "--json", help="Print the leaderboard row as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Run a suite against a model; print its leaderboard row; write the HTML report and JSON results."""
    the_suite = load_suite(suite)
    settings = RunSettings(
        languages=_languages(languages),
        limit=limit,
        seed=seed,
        params=GenerationParams(temperature=temperature, max_tokens=max_tokens, seed=seed),
        retries=retries,
        request_timeout=timeout,
        adaptive=not fixed_concurrency,
        fresh=fresh,
    )
    the_suite.cases(list(settings.languages), limit, seed)  # validates languages and the library up front
    store = Store(db)
    adapter = open_model(
        model,
        EndpointOptions(
            api_key_env=api_key_env, timeout=timeout, max_concurrency=concurrency,
            request_template=request_template, response_path=response_path,
        ),
    )
    judge_adapter = None
    if judge_model is not None:
        judge_adapter = open_model(
            judge_model, EndpointOptions(api_key_env=judge_api_key_env, timeout=timeout, max_concurrency=concurrency)
        )
    outcome = asyncio.run(_run(Runner(store, adapter, the_suite, settings, judge=judge_adapter), quiet))
    run = outcome.run
    verb = "resumed" if outcome.resumed else "ran"
    err.print(
        f"{verb} run [bold]{run.id}[/bold]: {run.total_prompts} prompts — {outcome.asked} asked, "
        f"{outcome.from_cache} from cache, {outcome.already_answered} already answered"
        + (f", [red]{outcome.errored} unreadable[/red]" if outcome.errored else "")
    )
    judged = (run.summary or {}).get("judge")
    if judged:
        agreement = judged["agreement"]
        err.print(
            f"judge model {judged['model']}: agrees with the oracles on {judged['agreed']}/{judged['judged']} cases"
            + (f" ({agreement:.0f}%, kappa {judged['kappa']})" if agreement is not None else "")
            + "; the oracles' verdicts stand"
        )
    results = run_results(store, run.id)
    write_atomic(out_dir / "results.json", json.dumps(results, ensure_ascii=False, indent=1))
    write_atomic(out_dir / "report.html", render_run_report(results))
    row = leaderboard_row(run)
    if as_json:
        typer.echo(json.dumps(row | {"scores": run.summary}, ensure_ascii=False, indent=2))
    else:
        out.print(leaderboard_table([row], list(the_suite.categories), f"{suite}: {run.model_name}"))
    err.print(f"report: {out_dir / 'report.html'}   results: {out_dir / 'results.json'}")
