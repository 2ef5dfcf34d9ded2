"""`laif assess`: run a suite against a model, store it, report it."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from laif.cli._common import comma_list, err, leaderboard_table, out
from laif.core.stats import mean_of
from laif.models import EndpointOptions, GenerationParams
from laif.runner import RunSettings
from laif.runner.answer_modes import answer_modes
from laif.services import assessment
from laif.services.assessment import AssessmentOptions, SuiteRun
from laif.services.progress import TerminalProgress


def _languages(value: str) -> tuple[str, ...]:
    return tuple(comma_list(value, "--languages", "give at least one language, e.g. en,fr,de,lb"))


def _suites(value: str) -> list[str]:
    return list(dict.fromkeys(comma_list(value, "--suite", "name at least one suite, e.g. bias or factual,multilingual")))


def _report_judge(run: SuiteRun) -> None:
    judged = (run.run.summary or {}).get("judge")
    if judged:
        agreement = judged["agreement"]
        err.print(
            f"judge model {judged['model']}: agrees with the oracles on {judged['agreed']}/{judged['judged']} cases"
            + (f" ({agreement:.0f}%, kappa {judged['kappa']})" if agreement is not None else "")
            + "; the oracles' verdicts stand"
        )


def _report_compliance(run: SuiteRun) -> None:
    compliance = (run.run.summary or {}).get("format_compliance") or {}
    if compliance:
        shares = ", ".join(
            f"{lang} {c['share'] * 100:.0f}% ({c['read']}/{c['answers']})"
            for lang, c in compliance.items() if c["share"] is not None
        )
        err.print(f"format compliance (closed answers the parser could read): {shares}")


def _report_agreement(runs: list[SuiteRun]) -> None:
    """For each suite, how the verdicts of every other mode agree with the first mode's."""
    for run in runs:
        found = run.agreement
        if found is None:
            continue
        kappa = f", Cohen's kappa {found['kappa']}" if found["kappa"] is not None else ""
        err.print(
            f"{run.suite}: {found['with']} and {run.answer_mode} verdicts agree on {found['agreed']} of "
            f"{found['decided_in_both']} tests decided in both{kappa}"
        )


def suite_printer(bar: TerminalProgress, show: bool = True) -> assessment.OnSuite:
    """What `laif assess` and `laif sandbox run` print as each suite run finishes."""

    def printed(done: SuiteRun) -> None:
        bar.stop()
        run, outcome = done.run, done.outcome
        verb = "resumed" if outcome.resumed else "ran"
        err.print(
            f"{verb} run [bold]{run.id}[/bold]: {run.total_prompts} prompts — {outcome.asked} asked, "
            f"{outcome.from_cache} from cache, {outcome.already_answered} already answered"
            + (f", [red]{outcome.errored} unreadable[/red]" if outcome.errored else "")
        )
        _report_judge(done)
        _report_compliance(done)
        mode = "" if done.answer_mode == "free" else f" ({done.answer_mode} answers)"
        if show:
            out.print(leaderboard_table([done.leaderboard_row()], list(done.categories),
                                        f"{done.suite}: {run.model_name}{mode}"))
        err.print(f"report: {done.report_path}   results: {done.results_path}")

    return printed


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
    options = AssessmentOptions(
        model=model, suites=tuple(names), settings=settings, endpoint=endpoint, answer_modes=tuple(modes),
        judge_model=judge_model, judge_endpoint=judge_endpoint, db=db, out_dir=out_dir,
    )
    with TerminalProgress(err, bar=not quiet) as bar:
        runs = assessment.run_assessment(options, progress=bar, on_suite=suite_printer(bar, show=not as_json)).runs
    if len(modes) > 1:
        _report_agreement(runs)
    rows = [r.as_row() for r in runs]
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
