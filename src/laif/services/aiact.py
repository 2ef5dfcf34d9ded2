"""The AI Act as services: qualify a system, and assess its obligations against the evidence.

    from laif.services import aiact
    result = aiact.qualify_file(Path("answers.yaml"))        # what `laif qualify --json` prints
    found = aiact.assess_obligations(qualification_file=Path("answers.yaml"), db="sqlite:///laif.db")
    found.result                                             # what `laif obligations --json` prints

The results are the documented JSON documents of the command line; bad input raises
`laif.errors.BadInput` naming the file, line and question or field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from laif._files import write_atomic
from laif.compliance import obligations as _obligations
from laif.compliance import qualify as _qualify
from laif.compliance.obligations import Answers, LoadedCatalogue, load_catalogue, resolve_scope
from laif.errors import BadInput
from laif.reports import run_results
from laif.store import Store

__all__ = ["RISKS", "ObligationsAssessment", "applies", "assess_obligations", "catalogue_text", "check_answers",
           "collect_results", "controls", "load_answers", "qualify", "qualify_file", "questions",
           "write_controls_template"]

#: The risk classes `assess_obligations(risk=...)` accepts instead of a qualification.
RISKS = _obligations.RISKS


# --- qualification --------------------------------------------------------------------------------


def questions() -> list[dict[str, Any]]:
    """The qualification questions with their stable ids, kinds, options, defaults and articles."""
    return [q.as_dict() for q in _qualify.QUESTIONS]


def applies(question_id: str, answers: Mapping[str, Any]) -> bool:
    """Whether the question is asked, given the answers so far (a questionnaire skips the others)."""
    question = _qualify.BY_ID.get(question_id)
    if question is None:
        raise BadInput(f"unknown question id {question_id!r}", hint="laif qualify questions --json lists the ids")
    return _qualify.applies(question, dict(answers))


def check_answers(data: Mapping[str, Any], source: str = "(answers)") -> dict[str, Any]:
    """Answers from a form or a parsed file (question id -> answer), checked against the questions
    and each other; BadInput lists every problem with its question id."""
    return _qualify.check_answers(dict(data), Path(source))


def load_answers(path: Path) -> dict[str, Any]:
    """An answers file (YAML), checked; BadInput names the file, line and question id."""
    return _qualify.load_answers(path)


def qualify(answers: dict[str, Any], on: date | None = None) -> dict[str, Any]:
    """Qualify checked answers (from `check_answers` or `load_answers`) at the date `on` (default:
    today): risk class, roles, scope, obligations with the dates they apply from, open questions."""
    return _qualify.qualify(answers, on)


def qualify_file(path: Path, on: date | None = None) -> dict[str, Any]:
    """`laif qualify --answers PATH [--date ON] --json`, as a value."""
    return qualify(load_answers(path), on)


# --- obligations ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObligationsAssessment:
    """The verdicts and everything they were drawn from (an evidence bundle carries them all)."""

    #: What `laif obligations --json` prints: scope, obligations, requirements, verdicts, missing evidence.
    result: dict[str, Any]
    catalogue: LoadedCatalogue
    #: The qualification the scope came from, if one was given.
    qualification: dict[str, Any] | None
    #: The controls file's answers, if one was given.
    controls: Answers | None
    #: The results of the runs used as evidence.
    runs: list[dict[str, Any]]


def collect_results(store: Store | str | None, run_ids: list[str]) -> list[dict[str, Any]]:
    """The results of the named runs, or else the latest complete run of each suite in the store for
    the model of the latest run (runs of different models are never assessed together). `store` is
    an open run store or a database URL (None: laif's default database)."""
    if not isinstance(store, Store):
        store = Store(store)
    if not run_ids:
        stored = store.runs()
        model = stored[-1].model_key if stored else None
        latest = {r.suite: r.id for r in stored if r.model_key == model}
        run_ids = list(latest.values())
    results = []
    for run_id in dict.fromkeys(run_ids):
        r = run_results(store, store.require_run(run_id).id)
        if r.get("status") != "complete":
            raise BadInput(f"run {run_id} is {r.get('status')}; finish it before using it as evidence")
        results.append(r)
    return results


def assess_obligations(run_ids: list[str] | None = None, *, qualification_file: Path | None = None,
                       risk: str | None = None, role: str = "provider", controls_file: Path | None = None,
                       catalogue_file: Path | None = None, db: str | None = None,
                       on: date | None = None) -> ObligationsAssessment:
    """Each applicable obligation, requirement by requirement: met, not met, inconclusive or not
    assessed. The scope comes from a qualification's answers file, or else from `risk` and `role`;
    the evidence from the runs named (default: the latest complete run of each suite) and from a
    controls file; `catalogue_file` is an edited copy of the obligations catalogue."""
    loaded = load_catalogue(catalogue_file)
    qualification = qualify_file(qualification_file, on) if qualification_file else None
    ids, scope = resolve_scope(qualification, risk, role)
    answers = _obligations.load_controls(controls_file, loaded.catalogue) if controls_file else None
    results = collect_results(db, run_ids or [])
    return ObligationsAssessment(_obligations.assess(loaded, ids, results, answers, scope), loaded, qualification,
                                 answers, results)


def catalogue_text(catalogue_file: Path | None = None) -> str:
    """The obligations catalogue (YAML) as shipped, or the edited copy given: copy it, edit the
    thresholds, pass it back as `catalogue_file`."""
    return load_catalogue(catalogue_file).text.decode("utf-8")


def _in_scope(loaded: LoadedCatalogue, qualification_file: Path | None, risk: str | None,
              role: str) -> tuple[list[str], dict[str, list[dict[str, str]]]]:
    """The obligations in scope and the requirements the qualification leaves out; every obligation
    when neither a qualification nor a risk is given."""
    if qualification_file or risk:
        ids, scope = resolve_scope(qualify_file(qualification_file) if qualification_file else None, risk, role)
        return ids, scope.get("not_applicable") or {}
    return [o.id for o in loaded.catalogue.obligations], {}


def controls(qualification_file: Path | None = None, risk: str | None = None, role: str = "provider",
             catalogue_file: Path | None = None) -> dict[str, dict[str, Any]]:
    """The manual controls (id -> title, question, scale, ...): every one, or those the obligations
    in scope need; what `laif obligations controls --json` prints."""
    loaded = load_catalogue(catalogue_file)
    ids, left_out = _in_scope(loaded, qualification_file, risk, role)
    wanted = _obligations.controls_for(loaded.catalogue, ids, left_out)
    return {cid: c.model_dump(by_alias=True) for cid, c in loaded.catalogue.controls.items() if cid in wanted}


def write_controls_template(path: Path, qualification_file: Path | None = None, risk: str | None = None,
                            role: str = "provider", catalogue_file: Path | None = None) -> Path:
    """Write a controls file to fill in (each control's question as a comment); never over an
    existing file, which holds someone's answers."""
    loaded = load_catalogue(catalogue_file)
    ids, left_out = _in_scope(loaded, qualification_file, risk, role)
    if path.exists():
        raise BadInput(f"{path}: already exists; not overwriting your answers")
    write_atomic(path, _obligations.controls_template(loaded.catalogue, ids, left_out) + "\n")
    return path
