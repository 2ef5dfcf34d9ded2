"""`laif assess`: run a suite against a model, store it, report it."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from laif.cli._common import comma_list, err, leaderboard_table, out, write_atomic
from laif.core.stats import mean_of
from laif.models import EndpointOptions, GenerationParams, open_model
from laif.reports import leaderboard_row, render_run_report, run_results
from laif.runner import Runner, RunOutcome, RunSettings
from laif.runner.answer_modes import agreement, answer_modes, check_answer_mode
from laif.store import RunRow, Store
from laif.suites import load_suite


class _RateColumn(TextColumn):
    def __init__(self) -> None:
        super().__init__("")

    def render(self, task):  # type: ignore[no-untyped-def]
        speed = task.finished_speed or task.speed
        return f"{speed:.1f} prompts/s" if speed else "… prompts/s"


def _languages(value: str) -> tuple[str, ...]:
    return tuple(comma_list(value, "--languages", "give at least one language, e.g. en,fr,de,lb"))


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


def _suites(value: str) -> list[str]:
    return list(dict.fromkeys(comma_list(value, "--suite", "name at least one suite, e.g. bias or factual,multilingual")))


def _report_judge(run: RunRow) -> None:
    judged = (run.summary or {}).get("judge")
    if judged:
        agreement = judged["agreement"]
        err.print(
            f"judge model {judged['model']}: agrees with the oracles on {judged['agreed']}/{judged['judged']} cases"
            + (f" ({agreement:.0f}%, kappa {judged['kappa']})" if agreement is not None else "")
            + "; the oracles' verdicts stand"
        )


def _report_compliance(run: RunRow) -> None:
    compliance = (run.summary or {}).get("format_compliance") or {}
    if compliance:
        shares = ", ".join(
            f"{lang} {c['share'] * 100:.0f}% ({c['read']}/{c['answers']})"
            for lang, c in compliance.items() if c["share"] is not None
        )
        err.print(f"format compliance (closed answers the parser could read): {shares}")


def _report_agreement(store: Store, rows: list[dict[str, Any]]) -> None:
    """For each suite, how the verdicts of every other mode agree with the first mode's."""
    for row in rows:
        first = next(r for r in rows if r["suite"] == row["suite"])
        if row is first:
            continue
        verdicts = [{v.case_id: v.verdict for v in store.verdicts(r["run_id"])} for r in (first, row)]
        found = agreement(*verdicts)
        row["agreement"] = found | {"with": first["answer_mode"]}
        kappa = f", Cohen's kappa {found['kappa']}" if found["kappa"] is not None else ""
        err.print(
            f"{row['suite']}: {first['answer_mode']} and {row['answer_mode']} verdicts agree on {found['agreed']} of "
            f"{found['decided_in_both']} tests decided in both{kappa}"
        )


def _check_modes(model: str, endpoint: EndpointOptions, modes: list[str]) -> None:
    """Refuse a mode the model cannot answer in before any run starts."""
    if modes == ["free"]:
        return
    adapter = open_model(model, endpoint)
    try:
        for mode in modes:
            check_answer_mode(adapter, mode)
    finally:
        asyncio.run(adapter.aclose())


def run_suites(
    model: str, names: list[str], settings: RunSettings, endpoint: EndpointOptions, db: str | None, out_dir: Path,
    quiet: bool = False, show: bool = True, judge_model: str | None = None,
    judge_endpoint: EndpointOptions | None = None,
) -> list[dict[str, Any]]:
    """Run each suite against `model`, write its report and results, and return its leaderboard row
    with the run's summary under "scores" (used by `laif assess` and `laif sandbox run`)."""
    suites = {name: load_suite(name) for name in names}
    for the_suite in suites.values():
        the_suite.cases(list(settings.languages), settings.limit, settings.seed)  # validates up front
    store = Store(db)
    rows: list[dict[str, Any]] = []
    for name, the_suite in suites.items():
        if len(suites) > 1:
            err.print(f"[bold]suite {name}[/bold] ({names.index(name) + 1} of {len(names)})")
        adapter = open_model(model, endpoint)
        judge_adapter = open_model(judge_model, judge_endpoint or endpoint) if judge_model is not None else None
        outcome = asyncio.run(_run(Runner(store, adapter, the_suite, settings, judge=judge_adapter), quiet))
        run = outcome.run
        verb = "resumed" if outcome.resumed else "ran"
        err.print(
            f"{verb} run [bold]{run.id}[/bold]: {run.total_prompts} prompts — {outcome.asked} asked, "
            f"{outcome.from_cache} from cache, {outcome.already_answered} already answered"
            + (f", [red]{outcome.errored} unreadable[/red]" if outcome.errored else "")
        )
        _report_judge(run)
        _report_compliance(run)
        where = out_dir if len(suites) == 1 else out_dir / name
        results = run_results(store, run.id)
        write_atomic(where / "results.json", json.dumps(results, ensure_ascii=False, indent=1))
        write_atomic(where / "report.html", render_run_report(results))
        row = leaderboard_row(run) | {"suite": name}
        rows.append(row | {"scores": run.summary, "run_id": run.id})
        mode = "" if settings.answer_mode == "free" else f" ({settings.answer_mode} answers)"
        if show:
            out.print(leaderboard_table([row], list(the_suite.categories), f"{name}: {run.model_name}{mode}"))
        err.print(f"report: {where / 'report.html'}   results: {where / 'results.json'}")
    return rows


def assess(
    model: str = typer.Option("embedded", "--model", "-m", help="embedded, llamacpp:PATH, openai:BASE_URL#MODEL or http:URL"),
    suite: str = typer.Option(
        "bias", "--suite", "-s", help="Suite(s) to run, comma-separated, e.g. factual,robustness (see `laif suites list`)."
    ),
    languages: str = typer.Option("en,fr,de,lb", "--languages", "-l", help="Comma-separated: en,fr,de,lb"),
    limit: int | None = typer.Option(None, "--limit", min=1, help="At most N templates per category, sampled with --seed."),
    out_dir: Path = typer.Option(
        Path("laif-out"), "--out", "-o", help="Folder for report.html and results.json (one subfolder per suite when several)."
    ),
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
    answer_mode: str = typer.Option(
        "free", "--answer-mode",
        help="free (the model writes, the parser reads), constrained (only the allowed answers can be generated) "
        "or likelihood (the most probable allowed answer); several, comma-separated, run as sibling runs.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the leaderboard row(s) as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Run one or more suites against a model; print each leaderboard row; write the HTML report and JSON results."""
    names = _suites(suite)
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
    endpoint = EndpointOptions(
        api_key_env=api_key_env, timeout=timeout, max_concurrency=concurrency,
        request_template=request_template, response_path=response_path,
    )
    judge_endpoint = EndpointOptions(api_key_env=judge_api_key_env, timeout=timeout, max_concurrency=concurrency)
    modes = answer_modes(answer_mode)
    _check_modes(model, endpoint, modes)
    rows = []
    for mode in modes:
        if len(modes) > 1:
            err.print(f"[bold]answer mode {mode}[/bold] ({modes.index(mode) + 1} of {len(modes)})")
        rows += [
            row | {"answer_mode": mode}
            for row in run_suites(
                model, names, dataclasses.replace(settings, answer_mode=mode), endpoint, db,
                out_dir if len(modes) == 1 else out_dir / mode, quiet=quiet, show=not as_json,
                judge_model=judge_model, judge_endpoint=judge_endpoint,
            )
        ]
    if len(modes) > 1:
        _report_agreement(Store(db), rows)
    if as_json:
        typer.echo(json.dumps(rows[0] if len(rows) == 1 else rows, ensure_ascii=False, indent=2))
    elif len(modes) > 1:
        side = [r | {"model": f"{r['model']} ({r['answer_mode']})"} for r in rows]
        for name in names:
            the_rows = [r for r in side if r["suite"] == name]
            out.print(leaderboard_table(the_rows, list(the_rows[0]["categories"]), f"{name}: answer modes side by side"))
    elif len(rows) > 1:
        overview = [{"model": rows[0]["model"], "categories": {r["suite"]: r["mean"] for r in rows},
                     "mean": mean_of(r["mean"] for r in rows), "intervals": {}}]
        out.print(leaderboard_table(overview, names, "Mean score per suite"))
