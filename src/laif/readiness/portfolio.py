"""Use cases suggested from the sector and the answers (`data/usecases.yaml`, keyed to Eurostat's
taxonomy of AI technologies and purposes), ranked by feasibility; and the roadmap that routes
findings, use cases and the band to the factory's services (`data/services.yaml`), by stage.

Feasibility of a use case is the mean score (%) of the dimensions it needs. A use case fits when
its sectors include the organisation's (or `any`) and its conditions hold.
"""

from __future__ import annotations

from functools import cache
from statistics import fmean
from typing import Any

from pydantic import Field

from laif._yaml import validate
from laif.core.strict import Frozen
from laif.readiness.bank import Answers, Text, data_file, load_bank
from laif.readiness.rules import SEVERITIES, Condition, check_conditions, load_services

#: Use cases shown in the portfolio, and how many of them route to services in the roadmap.
PORTFOLIO_SIZE = 5
ROUTED_USE_CASES = 3


class Taxonomy(Frozen):
    source: str
    technologies: dict[str, Text]
    purposes: dict[str, Text]


class UseCase(Frozen):
    id: str
    en: str
    fr: str
    what: Text
    technology: str
    purpose: str
    sectors: list[str] = Field(min_length=1)
    needs: list[str] = Field(min_length=1)
    when: list[Condition] = []
    services: list[str]
    ai_act: str | None = None


class UseCases(Frozen):
    version: str
    taxonomy: Taxonomy
    usecases: list[UseCase]


@cache
def load_usecases() -> UseCases:
    data, _raw, where = data_file("usecases.yaml")
    catalogue = validate(UseCases, data, where, every_error=True)
    bank, services = load_bank().bank, load_services()
    sector_q = bank.question("profile.sector")
    sectors = set(sector_q.options) if sector_q else set()
    dims = {d.id for d in bank.dimensions}
    problems = []
    for u in catalogue.usecases:
        problems += check_conditions(u.id, u.when, bank)
        problems += [f"{u.id}: unknown sector {s!r}" for s in u.sectors if s not in sectors | {"any"}]
        problems += [f"{u.id}: unknown dimension {d!r}" for d in u.needs if d not in dims]
        problems += [f"{u.id}: unknown service {s!r}" for s in u.services if s not in services.services]
        if u.technology not in catalogue.taxonomy.technologies:
            problems.append(f"{u.id}: {u.technology!r} is not in Eurostat's technologies")
        if u.purpose not in catalogue.taxonomy.purposes:
            problems.append(f"{u.id}: {u.purpose!r} is not in Eurostat's purposes")
    if problems:
        raise ValueError(f"{where}: " + "; ".join(problems))
    return catalogue


def use_cases(answers: Answers, dimensions: dict[str, float], lang: str = "en") -> list[dict[str, Any]]:
    """The use cases that fit, most feasible first (sector-specific before general on a tie)."""
    catalogue = load_usecases()
    tax = catalogue.taxonomy
    sector = answers.get("profile.sector")
    in_use = answers.get("automation_ai.technologies") or []
    fitting = []
    for u in catalogue.usecases:
        if not ({"any", str(sector)} & set(u.sectors)) or not all(c.holds(answers, dimensions) for c in u.when):
            continue
        feasibility = round(fmean(dimensions[d] for d in u.needs), 1)
        fitting.append({
            "id": u.id, "title": getattr(u, lang), "what": u.what.get(lang),
            "technology": u.technology, "technology_text": tax.technologies[u.technology].get(lang),
            "purpose": u.purpose, "purpose_text": tax.purposes[u.purpose].get(lang),
            "feasibility": feasibility, "needs": {d: dimensions[d] for d in u.needs},
            "sector_specific": "any" not in u.sectors, "technology_in_use": u.technology in in_use,
            "ai_act": u.ai_act, "services": list(u.services),
        })
    fitting.sort(key=lambda u: (-u["feasibility"], not u["sector_specific"], u["id"]))
    return fitting[:PORTFOLIO_SIZE]


def roadmap(findings: list[dict[str, Any]], portfolio: list[dict[str, Any]], band: str,
            lang: str = "en") -> list[dict[str, Any]]:
    """Stages in order, each with its services and the reasons each was recommended."""
    catalogue = load_services()
    entries: dict[str, dict[str, Any]] = {}

    def route(service: str, kind: str, ref: str, reason: str, rank: int) -> None:
        s = catalogue.services[service]
        entry = entries.setdefault(service, {"id": service, "title": getattr(s, lang), "partner": s.partner,
                                             "laif": s.laif, "stage": s.stage, "reasons": [], "rank": rank})
        entry["rank"] = min(entry["rank"], rank)
        if not any(r["ref"] == ref for r in entry["reasons"]):
            entry["reasons"].append({"kind": kind, "ref": ref, "text": reason})

    for f in findings:
        for service in f["services"]:
            route(service, "finding", f["id"], f["title"], SEVERITIES.index(f["severity"]))
    for u in portfolio[:ROUTED_USE_CASES]:
        for service in u["services"]:
            route(service, "use case", u["id"], u["title"], len(SEVERITIES))
    for b in catalogue.by_band.get(band, []):
        route(b.service, "band", band, getattr(b, lang), len(SEVERITIES) + 1)
    stages = []
    for stage in catalogue.stages:
        mine = sorted((e for e in entries.values() if e["stage"] == stage.id), key=lambda e: (e["rank"], e["id"]))
        stages.append({"id": stage.id, "title": getattr(stage, lang),
                       "services": [{k: v for k, v in e.items() if k != "rank"} for e in mine]})
    return stages
