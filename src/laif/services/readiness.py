"""The readiness assessment as services: what the CLI calls, and what the web portal will; the
parts (question bank, scoring, findings, use cases, peers, report) live in `laif.readiness`.

    from laif.services import readiness as service
    form = service.questions("fr")                       # ids, texts, options, for a form
    answers = service.check_answers(posted, "portal")    # BadInput lists every problem
    result = service.assess(answers, "Boulangerie Example")
    paths = service.write_report(result, Path("out"))   # report.html, report.pdf, result.json
    service.history("Boulangerie Example")               # T0, T1, ... with their scores
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from laif import __version__
from laif._files import write_atomic
from laif.errors import BadInput
from laif.readiness import bank as _bank
from laif.readiness.bank import Answers, load_bank
from laif.readiness.peers import compare
from laif.readiness.portfolio import roadmap, use_cases
from laif.readiness.report import render_html, render_pdf
from laif.readiness.rules import findings
from laif.readiness.scoring import BAND_NAMES, band, score
from laif.readiness.store import AssessmentRow, ReadinessStore
from laif.store.db import shared

SCHEMA = "laif.readiness/1"
MAX_NAME = 200
REPORT_FILES = {"html": "report.html", "pdf": "report.pdf", "json": "result.json"}

__all__ = ["assess", "check_answers", "dimensions", "history", "load_answers", "questions", "report_paths",
           "write_report"]


def _lang(lang: str) -> str:
    if lang not in _bank.LANGUAGES:
        raise BadInput(f"--lang: {lang!r} is not one of {', '.join(_bank.LANGUAGES)}")
    return lang


def questions(lang: str = "en") -> list[dict[str, Any]]:
    """Every question with its id, dimension, text, help, source note and options (key, text, points)."""
    return [q.as_dict(_lang(lang)) for q in load_bank().bank.questions]


def dimensions(lang: str = "en") -> list[dict[str, Any]]:
    return [{"id": d.id, "family": d.family, "title": getattr(d, _lang(lang))} for d in load_bank().bank.dimensions]


def check_answers(data: Mapping[str, Any], source: str = "(answers)") -> Answers:
    """Answers from a form or a parsed file, checked; BadInput names each problem and question id."""
    return _bank.check_answers(dict(data), Path(source))


def load_answers(path: Path) -> Answers:
    return _bank.load_answers(path)


def _label(index: int) -> str:
    return f"T{index}"


def _progress(previous: list[AssessmentRow], dims: dict[str, float], overall: float) -> dict[str, Any]:
    if not previous:
        return {"previous": None, "baseline": None}

    def summary(i: int, row: AssessmentRow) -> dict[str, Any]:
        return {"label": _label(i), "taken_at": row.taken_at.isoformat(), "overall": row.overall,
                "band": row.band, "dimensions": dict(row.dimensions), "bank_version": row.bank_version}

    last, first = previous[-1], previous[0]
    return {
        "previous": summary(len(previous) - 1, last), "baseline": summary(0, first),
        "overall_change": round(overall - last.overall, 1),
        "change": {d: round(v - float(last.dimensions.get(d, 0.0)), 1) for d, v in dims.items()},
        "change_since_t0": {d: round(v - float(first.dimensions.get(d, 0.0)), 1) for d, v in dims.items()},
    }


def assess(answers: Answers, organisation: str | None = None, *, db_url: str | None = None, lang: str = "en",
           keep: bool = True, taken_at: datetime | None = None) -> dict[str, Any]:
    """Score the answers, find what stands out, suggest use cases, route a roadmap, compare with peers
    and with the organisation's earlier assessments; keep the assessment unless `keep` is False."""
    lang = _lang(lang)
    name = (organisation or answers.organisation or "").strip()
    if not name:
        raise BadInput(f"{answers.source}: no organisation named",
                       hint="give --org NAME, or `organisation: NAME` in the answers file")
    if len(name) > MAX_NAME:
        raise BadInput(f"{answers.source}: organisation: a name of at most {MAX_NAME} characters, not {len(name)}")
    loaded = load_bank()
    qbank = loaded.bank
    scores = score(answers, qbank)
    sector, size = str(answers.get("profile.sector")), str(answers.get("profile.size"))
    store = shared(ReadinessStore, db_url)
    earlier = store.history(name)
    row = AssessmentRow(id=uuid.uuid4().hex, organisation=name, sector=sector, size=size, bank_version=qbank.version,
                        taken_at=taken_at or datetime.now(UTC), answers=dict(answers.values),
                        dimensions=scores.dimensions, overall=scores.overall, band=scores.band)
    if keep:
        store.add(row)
    cell = [r for r in store.cell(sector, size) if r.organisation != name] + [row]
    found = findings(answers, scores.dimensions, lang)
    portfolio = use_cases(answers, scores.dimensions, lang)
    bands = BAND_NAMES[lang]

    def profile(qid: str) -> dict[str, Any]:
        q, key = qbank.question(qid), answers.get(qid)
        return {"key": key, "text": getattr(q.options[str(key)], lang) if q and key else None}

    return {
        "schema": SCHEMA, "id": row.id, "organisation": name, "label": _label(len(earlier)),
        "taken_at": row.taken_at.isoformat(), "language": lang, "kept": keep, "laif_version": __version__,
        "bank": {"version": qbank.version, "sha256": loaded.sha256},
        "profile": {k.split(".", 1)[1]: profile(k) for k in ("profile.sector", "profile.size", "profile.personal_data")},
        "scores": {
            "overall": scores.overall, "band": scores.band, "band_text": bands[scores.band],
            "dimensions": [{"id": d.id, "title": getattr(d, lang), "family": d.family, "score": scores.dimensions[d.id],
                            "band": band(scores.dimensions[d.id]), "band_text": bands[band(scores.dimensions[d.id])]}
                           for d in qbank.dimensions],
            "questions": scores.questions,
        },
        "dimension_titles": {d.id: getattr(d, lang) for d in qbank.dimensions},
        "findings": found,
        "use_cases": portfolio,
        "roadmap": roadmap(found, portfolio, scores.band, lang),
        "peers": compare(sector, size, cell, scores.dimensions, scores.overall),
        "progress": _progress(earlier, scores.dimensions, scores.overall),
        "answers": dict(answers.values),
    }


def history(organisation: str, db_url: str | None = None) -> list[dict[str, Any]]:
    """The organisation's assessments, T0 first, with overall score, band and dimension scores."""
    return [{"label": _label(i)} | row.as_dict() for i, row in enumerate(shared(ReadinessStore, db_url).history(organisation))]


def report_paths(out: Path) -> dict[str, Path]:
    """Where write_report puts the report (html, pdf) and the result (json) under `out`."""
    return {kind: out / name for kind, name in REPORT_FILES.items()}


def write_report(result: dict[str, Any], out: Path, pdf: bool = True) -> dict[str, Path]:
    """report.html, report.pdf (unless `pdf` is False) and result.json under `out`, each written whole."""
    paths = report_paths(out)
    html = render_html(result)
    write_atomic(paths["json"], json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    write_atomic(paths["html"], html)
    written = {"json": paths["json"], "html": paths["html"]}
    if pdf:
        data = render_pdf(html)
        tmp = paths["pdf"].with_name(f".{paths['pdf'].name}.partial")
        try:
            tmp.write_bytes(data)
            tmp.replace(paths["pdf"])
        finally:
            tmp.unlink(missing_ok=True)
        written["pdf"] = paths["pdf"]
    return written
