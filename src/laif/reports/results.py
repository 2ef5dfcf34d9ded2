"""The JSON results of a run (for machines and auditors) and the leaderboard rows."""

from __future__ import annotations

from typing import Any

from laif.core.figures import find_figures
from laif.core.stats import mean_of
from laif.core.suite import Metric
from laif.reports.suites import leaderboard_columns
from laif.store import RECORD_SCHEMA_VERSION, RunRow, Store


def run_results(store: Store, run_id: str, *, with_exchanges: bool = True) -> dict[str, Any]:
    """Everything about one run: identity, settings, scores, every case and answer."""
    run = store.get_run(run_id)
    if run is None:
        raise KeyError(run_id)
    exchanges = {e.prompt_id: e for e in store.exchanges(run.id)}
    second = {j.case_id: j for j in store.judgements(run.id)}
    cases = []
    for v in store.verdicts(run.id):
        cases.append(
            {
                "case_id": v.case_id,
                "category": v.category,
                "language": v.language,
                "template_id": v.template_id,
                "oracle": v.oracle,
                "options": v.options,
                "verdict": v.verdict,
                "parsed": v.parsed,
                "reason": v.reason,
                "provenance": v.provenance,
                "judge": (
                    {
                        "verdict": second[v.case_id].verdict,
                        "parsed": second[v.case_id].parsed,
                        "agrees": second[v.case_id].agrees,
                        "replies": second[v.case_id].replies,
                    }
                    if v.case_id in second
                    else None
                ),
                "exchanges": [
                    {
                        "prompt_id": pid,
                        "groups": exchanges[pid].groups if pid in exchanges else [],
                        "prompt": exchanges[pid].messages[-1]["content"] if pid in exchanges else None,
                        "response": exchanges[pid].response if pid in exchanges else None,
                        "error": exchanges[pid].error if pid in exchanges else None,
                    }
                    for pid in v.prompt_ids
                ],
            }
        )
    out: dict[str, Any] = {
        "record_schema": RECORD_SCHEMA_VERSION,
        "run_id": run.id,
        "status": run.status,
        "created_at": run.created_at.isoformat() if run.created_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "suite": {"name": run.suite, "version": run.suite_version, "library_sha256": run.library_hash},
        "languages": run.languages,
        "limit": run.limit,
        "seed": run.seed,
        "model": {"spec": run.model_spec, "name": run.model_name, **run.model_identity},
        "params": run.params,
        "laif_version": run.laif_version,
        "environment": run.environment,
        "total_prompts": run.total_prompts,
        "scores": run.summary,
        "cases": cases,
    }
    if with_exchanges:
        out["exchanges"] = [
            {
                "prompt_id": e.prompt_id,
                "prompt_sha256": e.prompt_sha256,
                "cache_key": e.cache_key,
                "category": e.category,
                "language": e.language,
                "template_id": e.template_id,
                "groups": e.groups,
                "messages": e.messages,
                "response": e.response,
                "error": e.error,
                "source": e.source,
                "attempts": e.attempts,
                "latency_s": e.latency_s,
                "answered_at": e.answered_at.isoformat() if e.answered_at else None,
            }
            for e in exchanges.values()
        ]
    return out


def leaderboard_figures(summary: dict[str, Any], metrics: list[Metric]) -> dict[str, Any]:
    """{path: {value, low, high, n}} of each leaderboard metric found in a run summary."""
    out: dict[str, Any] = {}
    for m in leaderboard_columns(metrics):
        found = find_figures(summary, m.path)
        f = found[0] if found else None
        out[m.path] = None if f is None else {"value": f.value, "low": f.low, "high": f.high, "n": f.n}
    return out


def leaderboard_row(run: RunRow, metrics: list[Metric] | None = None) -> dict[str, Any]:
    """A run as one leaderboard row: per-category scores and intervals, the mean, and (given the
    suite's declared metrics) each leaderboard metric's figure under `figures`, by its path."""
    summary = run.summary or {}
    categories = summary.get("categories", {})
    row = {
        "model": run.model_name,
        "model_key": run.model_key,
        "run_id": run.id,
        "languages": run.languages,
        "limit": run.limit,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "categories": {k: v.get("score") for k, v in categories.items()},
        "intervals": {k: [v.get("low"), v.get("high")] for k, v in categories.items()},
        "mean": summary.get("mean"),
        "answer_mode": summary.get("answer_mode", "free"),
    }
    if metrics is not None:
        row["figures"] = leaderboard_figures(summary, metrics)
    return row


def leaderboard_rows(store: Store, suite: str = "bias", metrics: list[Metric] | None = None,
                     answer_mode: str = "free") -> list[dict[str, Any]]:
    """One row per model: its latest complete run of `suite` in `answer_mode` (constrained and
    likelihood runs are siblings of the free one; "all": a row per model and mode), best mean first."""
    latest: dict[tuple[str, str], Any] = {}
    for run in store.runs(suite=suite):
        mode = (run.summary or {}).get("answer_mode", "free")
        if answer_mode in ("all", mode):
            latest[(run.model_key, mode)] = run
    rows = [leaderboard_row(run, metrics) for run in latest.values()]
    rows.sort(key=lambda r: -(r["mean"] if r["mean"] is not None else -1))
    return rows


def overview_rows(store: Store, answer_mode: str = "free") -> tuple[list[str], list[dict[str, Any]]]:
    """Across suites: one row per model, a column per suite with the mean score of its latest run
    in `answer_mode`."""
    latest: dict[tuple[str, str], RunRow] = {}
    models: dict[str, str] = {}
    for run in store.runs():
        if (run.summary or {}).get("answer_mode", "free") != answer_mode:
            continue  # sibling runs in another answer mode are not the model's headline
        latest[(run.model_key, run.suite)] = run
        models[run.model_key] = run.model_name
    suites = sorted({suite for _, suite in latest})
    rows: list[dict[str, Any]] = []
    for key, name in models.items():
        scores = {suite: (latest[(key, suite)].summary or {}).get("mean") for suite in suites if (key, suite) in latest}
        mean = mean_of(scores.values())
        rows.append({
            "model": name, "model_key": key,
            "runs": {suite: latest[(key, suite)].id for suite in suites if (key, suite) in latest},
            "languages": sorted({lang for (k, _), run in latest.items() if k == key for lang in run.languages}),
            "limit": None, "run_id": "", "categories": scores, "intervals": {},
            "mean": mean,
        })
    rows.sort(key=lambda r: -(r["mean"] if r["mean"] is not None else -1.0))
    return suites, rows
