"""AI Act qualification: is the system in scope, is it an AI system, is it prohibited, is it
high-risk, which transparency duties apply, is it a general-purpose AI model (with systemic
risk), which roles the organisation holds, and from which date each obligation binds.
Regulation (EU) 2024/1689.

The questions have stable ids (`laif qualify questions --json`); the answers file maps ids
to answers. Questions added after the first version carry a default, so older answers files
still qualify; every default used is listed under `assumed`. Every conclusion carries the
articles it rests on, as normalised references (`art-6.3`, `annex-iii.5.b`). This is a first
qualification to organise the evidence, not legal advice: the rationale says what each
conclusion rests on so a lawyer can check it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from laif._yaml import line_of, load_yaml
from laif.compliance.ai_act import (
    ANNEX_I_SECTIONS,
    ANNEX_III,
    AREAS,
    EXCEPTIONS,
    EXCLUSIONS,
    OBLIGATIONS,
    PROHIBITED,
    PROVIDER_ASSESSMENT,
    ROLE_CHANGES,
    ROLES,
    SCOPE,
    TRANSPARENCY_EXCEPTIONS,
)
from laif.compliance.dates import as_date, load_dates, rule_for
from laif.errors import BadInput

#: The obligations of a high-risk system by role, before the conditions of Arts. 22, 27, 49 and 86.
HIGH_RISK_BY_ROLE = {
    "provider": ["art-9", "art-10", "art-11", "art-12", "art-13", "art-14", "art-15", "art-16", "art-17",
                 "art-18", "art-19", "art-20", "art-43", "art-47", "art-48", "art-72", "art-73"],
    "deployer": ["art-26"],
    "importer": ["art-23"],
    "distributor": ["art-24"],
    "representative": ["art-22.3"],
}
SYSTEMIC_FLOPS = 1e25


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    kind: str  # yesno | choice | multi | number | date
    cites: tuple[str, ...]
    options: dict[str, str] = field(default_factory=dict)
    ask_if: str | None = None  # another question's id that must be answered "yes" (or a non-empty multi / not "none")
    help: str = ""
    default: Any = None  # questions added later have one, so older answers files keep working
    roles: tuple[str, ...] = ()  # asked only of these roles (empty: of every role)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "kind": self.kind, "cites": list(self.cites),
                "options": self.options, "ask_if": self.ask_if, "help": self.help,
                "default": self.default, "roles": list(self.roles)}


_NOT_PROVIDER = ("deployer", "importer", "distributor", "representative")
QUESTIONS = [
    Question("scope.union", "How is the system (or model) connected with the Union?", "choice",
             ("art-2.1",), options=SCOPE, default="market"),
    Question("scope.exclusions", "Does one of these exclusions describe the system? (list every one, or none)",
             "multi", ("art-2.3", "art-2.4", "art-2.6", "art-2.8", "art-2.10", "art-2.12"), options=EXCLUSIONS,
             default=["none"]),
    Question("scope.real_world_testing", "Is it tested in real-world conditions (outside a laboratory, e.g. in a "
             "regulatory sandbox's real-world testing plan)?", "yesno", ("art-2.8", "art-60"), default="no"),
    Question("ai_system.infers", "Does the system infer from its input how to generate outputs such as predictions, "
             "content, recommendations or decisions (rather than only applying rules people wrote)?",
             "yesno", ("art-3.1",), help="A language model, a trained classifier or a recommender: yes."),
    Question("ai_system.autonomy", "Is it designed to operate with some level of autonomy from human involvement?",
             "yesno", ("art-3.1",)),
    Question("role", "What is your organisation's role for this system?", "choice",
             ("art-3.3", "art-3.4", "art-3.5", "art-3.6", "art-3.7"), options=ROLES),
    Question("roles.also", "Does your organisation hold other roles for the same system, e.g. a provider that also "
             "uses it? (list them, or none)", "multi", ("art-3.3", "art-3.4", "art-3.5", "art-3.6", "art-3.7"),
             options=ROLES, default=["none"]),
    Question("provider.outside_union", "Is the provider established outside the Union?", "yesno",
             ("art-22.1", "art-54.1"), default="no"),
    Question("prohibited", "Does the system do any of these? (list every one that applies, or none)", "multi",
             ("art-5.1",), options=PROHIBITED),
    Question("annex_i.safety_component", "Is the system a product, or a safety component of a product, covered by "
             "the EU harmonisation legislation of Annex I that needs a third-party conformity assessment?",
             "yesno", ("art-6.1", "annex-i"), help="e.g. machinery, toys, medical devices, lifts, radio equipment."),
    Question("annex_i.section", "Which section of Annex I lists that legislation?", "choice",
             ("annex-i", "art-2.2"), options=ANNEX_I_SECTIONS, ask_if="annex_i.safety_component",
             default="section-a"),
    Question("annex_iii.uses", "Is it intended for any of these uses? (list every one that applies, or none)",
             "multi", ("art-6.2", "annex-iii"), options=ANNEX_III),
    Question("annex_iii.exception", "For those uses: does one of these describe all the system does?", "choice",
             ("art-6.3",), options=EXCEPTIONS, ask_if="annex_iii.uses"),
    Question("annex_iii.profiling", "Does it perform profiling of natural persons?", "yesno", ("art-6.3",),
             ask_if="annex_iii.uses", help="Profiling makes an Annex III system high-risk whatever the exception."),
    Question("annex_iii.provider_assessment", "Has the provider documented its assessment that the system is not "
             "high-risk, and registered the system?", "choice", ("art-6.4", "art-49.2"), options=PROVIDER_ASSESSMENT,
             ask_if="annex_iii.exception", default="unknown", roles=_NOT_PROVIDER,
             help="Only the provider can rely on Art. 6(3); other roles rely on its documented assessment."),
    Question("annex_iii.decisions", "Does it make, or assist in making, decisions about natural persons?", "yesno",
             ("art-26.11", "art-86.1"), ask_if="annex_iii.uses", default="yes"),
    Question("role_change", "Did one of these happen to you as deployer, importer or distributor? (list, or none)",
             "multi", ("art-25.1",), options=ROLE_CHANGES, default=["none"]),
    Question("transparency.interacts", "Does it interact directly with natural persons (e.g. a chatbot)?",
             "yesno", ("art-50.1",)),
    Question("transparency.generates", "Does it generate synthetic audio, image, video or text content?",
             "yesno", ("art-50.2",)),
    Question("transparency.emotion_or_categorisation", "Is it an emotion recognition or biometric categorisation "
             "system?", "yesno", ("art-50.3",)),
    Question("transparency.emotion_recognition", "Does it recognise or infer emotions or intentions (not only "
             "categorise)?", "yesno", ("art-3.39", "annex-iii.1.c"), ask_if="transparency.emotion_or_categorisation",
             default="no"),
    Question("emotion.medical_or_safety", "Is the emotion recognition intended for medical or safety reasons?",
             "yesno", ("art-5.1.f",), ask_if="transparency.emotion_or_categorisation", default="no"),
    Question("transparency.deep_fake", "Does it produce deep fakes, or text published to inform the public on "
             "matters of public interest?", "yesno", ("art-50.4",)),
    Question("transparency.exceptions", "Does one of these describe the system? (list, or none)", "multi",
             ("art-50.1", "art-50.2", "art-50.3", "art-50.4"), options=TRANSPARENCY_EXCEPTIONS, default=["none"]),
    Question("gpai.model", "Is what you place on the market a general-purpose AI model (trained on broad data, "
             "competent at a wide range of distinct tasks, integrable into many systems)?", "yesno",
             ("art-3.63", "art-51")),
    Question("gpai.training_flops", "Cumulative compute used to train the model, in floating-point operations "
             "(a number, or unknown; 0 is read as unknown)", "number", ("art-51.2",), ask_if="gpai.model"),
    Question("gpai.designated", "Has the Commission designated the model as having systemic risk?", "yesno",
             ("art-51.1.b",), ask_if="gpai.model"),
    Question("gpai.high_impact", "Has an evaluation with appropriate technical tools and methodologies (indicators, "
             "benchmarks) shown high-impact capabilities?", "yesno", ("art-51.1.a",), ask_if="gpai.model",
             default="no"),
    Question("gpai.rebuttal_accepted", "Has the Commission accepted your arguments that the model, although it "
             "meets Art. 51(1)(a), does not present systemic risks?", "yesno", ("art-52.2", "art-52.3"),
             ask_if="gpai.model", default="no"),
    Question("gpai.open_source", "Is the model released under a free and open-source licence allowing access, use, "
             "modification and distribution, with its parameters, weights, architecture and usage information "
             "public?", "yesno", ("art-53.2", "art-54.6"), ask_if="gpai.model", default="no"),
    Question("gpai.modified", "Did you modify (e.g. fine-tune) a general-purpose AI model another provider placed "
             "on the market?", "yesno", ("art-3.3",), ask_if="gpai.model", default="no",
             help="Modifying a model makes you the provider of the modified model, for the modification."),
    Question("deployer.public_service", "Is the deployer a body governed by public law, or a private entity "
             "providing public services?", "yesno", ("art-27.1",), ask_if="annex_iii.uses", roles=("deployer",)),
    Question("public_authority.use", "Is the system used by, or intended for, public authorities or Union "
             "institutions, bodies, offices or agencies (or persons acting on their behalf)?", "yesno",
             ("art-49.3", "art-26.8", "art-111.2"), default="no"),
    Question("deployer.workplace", "Is it used at the workplace by an employer?", "yesno", ("art-26.7",),
             default="no"),
    Question("market.placed_on", "When was it first placed on the market or put into service? (YYYY-MM-DD, or "
             "not yet)", "date", ("art-111",), default="not yet"),
    Question("market.significant_change", "Has its design changed significantly since 2 August 2026?", "yesno",
             ("art-111.2",), default="no"),
    Question("market.annex_x", "Is it a component of a large-scale IT system of Annex X (SIS, VIS, Eurodac, EES, "
             "ETIAS, ECRIS-TCN)?", "yesno", ("art-111.1", "annex-x"), default="no"),
]
BY_ID = {q.id: q for q in QUESTIONS}


def held_roles(answers: dict[str, Any]) -> list[str]:
    """The roles answered: the main one first, then the others."""
    also = answers.get("roles.also") or []
    return list(dict.fromkeys([answers.get("role"), *also]))


def applies(q: Question, answers: dict[str, Any]) -> bool:
    if q.roles and not set(held_roles(answers)) & set(q.roles):
        return False
    if q.ask_if is None:
        return True
    given = answers.get(q.ask_if)
    return bool(given) and given not in ("no", "none") and given != ["none"]


def _check_one(q: Question, value: Any, where: str, problems: list[str]) -> Any:
    """One answer checked and normalised; problems are appended."""
    if q.kind == "yesno":
        value = {True: "yes", False: "no"}.get(value, value)
        if value not in ("yes", "no"):
            problems.append(f"{where}: answer yes or no, not {value!r}")
    elif q.kind == "choice":
        if value not in q.options:
            problems.append(f"{where}: {value!r} is not one of {', '.join(q.options)}")
    elif q.kind == "multi":
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not value:
            problems.append(f"{where}: give a list of options, or [none]")
        else:
            areas = [v for v in value if v in AREAS]
            for area in areas:
                subs = [k for k in q.options if k.startswith(area + ".")]
                problems.append(f"{where}: {area} is an area; list the uses that apply among {', '.join(subs)}")
            bad = [v for v in value if v != "none" and v not in q.options and v not in AREAS]
            if bad:
                problems.append(f"{where}: unknown option(s) {', '.join(map(str, bad))}; "
                                f"use none or {', '.join(q.options)}")
            value = [v for v in value if v != "none"]
    elif q.kind == "number":
        if value == "unknown":
            return value
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                problems.append(f"{where}: not a number: {value!r}; give e.g. 3.2e24, or unknown")
                return value
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            problems.append(f"{where}: give a number of operations, e.g. 3.2e24, or unknown")
    elif q.kind == "date":
        try:
            valid = isinstance(value, str | date) and (as_date(value) is not None or value == "not yet")
        except ValueError:
            valid = False
        if not valid:
            problems.append(f"{where}: give a date as YYYY-MM-DD, or not yet, not {value!r}")
        value = value.isoformat() if isinstance(value, date) else value
    return value


def check_answers(data: Any, path: Path) -> dict[str, Any]:
    """Answers checked against the questions, then against each other; errors name the file, line
    and question id (both questions for a contradiction). Defaults used are listed under `_assumed`."""
    if not isinstance(data, dict):
        raise BadInput(f"{path}: expected a mapping of question ids to answers (see laif qualify questions)")
    problems = []
    for key in data:
        if key not in BY_ID:
            problems.append(f"{path}:{line_of(data, (key,))}: unknown question id {key!r}")
    answers: dict[str, Any] = {}
    assumed: list[str] = []
    for q in QUESTIONS:
        if not applies(q, {**data, **answers}):
            continue
        where = f"{path}:{line_of(data, (q.id,)) or 1}: {q.id}"
        if q.id not in data:
            if q.default is None:
                problems.append(f"{where}: missing ({q.text})")
                continue
            answers[q.id] = _check_one(q, q.default, where, problems)
            assumed.append(q.id)
            continue
        answers[q.id] = _check_one(q, data[q.id], where, problems)
    if not problems:
        problems += contradictions(answers, set(data), lambda qid: f"{path}:{line_of(data, (qid,)) or 1}: {qid}")
    if problems:
        raise BadInput(f"{len(problems)} problem(s) in the answers:\n" + "\n".join(problems))
    answers["_assumed"] = assumed
    return answers


def contradictions(a: dict[str, Any], given: set[str], at: Any) -> list[str]:
    """Answers that cannot all be true. Each problem names both questions, with their lines."""
    found: list[str] = []

    def clash(first: str, second: str, why: str) -> None:
        found.append(f"{at(first)} contradicts {at(second)}: {why}")

    uses = set(a.get("annex_iii.uses") or [])
    prohibited = set(a.get("prohibited") or [])
    exclusions = set(a.get("scope.exclusions") or [])
    roles = set(held_roles(a))
    emotion = "annex-iii.1.c" in uses or a.get("transparency.emotion_recognition") == "yes"
    if "annex-iii.1.c" in uses and a.get("transparency.emotion_or_categorisation") == "no":
        clash("annex_iii.uses", "transparency.emotion_or_categorisation",
              "an emotion recognition system (Annex III 1(c)) is one under Art. 50(3); answer yes")
    if a.get("transparency.emotion_recognition") == "yes" and "annex-iii.1.c" not in uses and not prohibited:
        clash("transparency.emotion_recognition", "annex_iii.uses",
              "emotion recognition is the high-risk use of Annex III 1(c) (Art. 6(2)); list annex-iii.1.c")
    at_work = a.get("deployer.workplace") == "yes" or any(u.startswith(("annex-iii.3.", "annex-iii.4.")) for u in uses)
    if emotion and at_work and "art-5.1.f" not in prohibited and a.get("emotion.medical_or_safety") != "yes":
        clash("annex_iii.uses" if "annex-iii.1.c" in uses else "transparency.emotion_recognition",
              "deployer.workplace" if a.get("deployer.workplace") == "yes" else "annex_iii.uses",
              "inferring emotions at the workplace or in education is prohibited by Art. 5(1)(f) unless it is for "
              "medical or safety reasons: list art-5.1.f under prohibited, or answer emotion.medical_or_safety: yes")
    if "annex-iii.5.a" in uses and "public_authority.use" in given and a.get("public_authority.use") == "no":
        clash("annex_iii.uses", "public_authority.use",
              "Annex III 5(a) covers only use by or on behalf of public authorities")
    if a.get("role_change") and "provider" in roles:
        clash("role", "role_change", "Art. 25(1) makes a deployer, importer or distributor a provider; a provider "
              "already holds the provider's obligations")
    if "art-2.10" in exclusions and roles != {"deployer"}:
        clash("scope.exclusions", "role", "the Art. 2(10) exclusion covers only deployers who are natural persons "
              "in a purely personal, non-professional activity")
    if "art-2.8" in exclusions and a.get("scope.real_world_testing") == "yes":
        clash("scope.exclusions", "scope.real_world_testing",
              "Art. 2(8) excludes research and testing before placing on the market, but not testing in real-world "
              "conditions")
    if exclusions & {"art-2.6", "art-2.8"} and as_date(a.get("market.placed_on")) is not None:
        clash("scope.exclusions", "market.placed_on", "a system only researched or developed (Art. 2(6), 2(8)) has "
              "not been placed on the market or put into service")
    if a.get("annex_iii.provider_assessment") == "yes" and a.get("annex_iii.profiling") == "yes":
        clash("annex_iii.provider_assessment", "annex_iii.profiling", "a system that profiles natural persons is "
              "always high-risk (Art. 6(3), last subparagraph); no provider can document otherwise")
    if a.get("market.significant_change") == "yes" and as_date(a.get("market.placed_on")) is None:
        clash("market.significant_change", "market.placed_on", "only a system already placed on the market or put "
              "into service can have changed since; give the date it was placed")
    return found


def load_answers(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise BadInput(f"{path}: no such answers file", hint="laif qualify questions --json lists the ids")
    return check_answers(load_yaml(path), path)


# --- the qualification ------------------------------------------------------------------------------


@dataclass
class _Findings:
    """What a qualification accumulates: conclusions, obligations with their holders, open points."""

    why: list[dict[str, Any]] = field(default_factory=list)
    obligations: dict[str, dict[str, Any]] = field(default_factory=dict)
    open_questions: list[str] = field(default_factory=list)

    def conclude(self, conclusion: str, because: str, cites: list[str]) -> None:
        self.why.append({"conclusion": conclusion, "because": because, "cites": cites})

    def oblige(self, oid: str, role: str, group: str = "general", route: str = "general",
               not_applicable: dict[str, str] | None = None) -> None:
        entry = self.obligations.setdefault(oid, {"id": oid, "title": OBLIGATIONS[oid], "roles": [], "group": group,
                                                  "route": route, "not_applicable": {}})
        if role not in entry["roles"]:
            entry["roles"].append(role)
        if route == "general":
            entry["route"] = "general"  # Annex III makes it bind from the earlier, general date
        entry["not_applicable"] |= not_applicable or {}


def _out_of_scope(a: dict[str, Any], roles: list[str]) -> tuple[str, list[str]] | None:
    """Why the Regulation does not apply at all, if it does not (Art. 2)."""
    if a["scope.union"] == "no":
        return "neither placed on the market nor put into service or used in the Union, nor its output used there", \
            ["art-2.1"]
    for ref in ("art-2.3", "art-2.4", "art-2.6", "art-2.8"):
        if ref in a["scope.exclusions"]:
            return EXCLUSIONS[ref], [ref]
    if "art-2.10" in a["scope.exclusions"] and roles == ["deployer"]:
        return EXCLUSIONS["art-2.10"], ["art-2.10"]
    return None


def _gpai(a: dict[str, Any], roles: list[str], f: _Findings) -> tuple[bool, bool, Any]:
    """General-purpose AI model: systemic risk (Arts. 51, 52) and the model provider's duties (53-55)."""
    if a.get("gpai.model") != "yes":
        return False, False, None
    f.conclude("general-purpose AI model", "placed on the market as a model competent at a wide range of tasks",
               ["art-3.63", "art-51"])
    raw = a.get("gpai.training_flops")
    flops = None if raw in (None, "unknown", 0, 0.0) else float(raw)
    presumed = flops is not None and flops > SYSTEMIC_FLOPS
    high_impact = presumed or a.get("gpai.high_impact") == "yes"
    designated = a.get("gpai.designated") == "yes"
    rebutted = high_impact and not designated and a.get("gpai.rebuttal_accepted") == "yes"
    systemic = designated or (high_impact and not rebutted)
    if designated:
        f.conclude("systemic risk", "designated by the Commission", ["art-51.1.b"])
    elif presumed and not rebutted:
        f.conclude("systemic risk", f"presumed: trained with {flops:.3g} floating-point operations, greater than "
                   f"{SYSTEMIC_FLOPS:.0e}", ["art-51.1.a", "art-51.2"])
    elif a.get("gpai.high_impact") == "yes" and not rebutted:
        f.conclude("systemic risk", "high-impact capabilities shown by evaluation", ["art-51.1.a"])
    elif rebutted:
        f.conclude("no systemic risk", "it meets Art. 51(1)(a) but the Commission accepted the provider's arguments "
                   "that it does not present systemic risks", ["art-52.2", "art-52.3"])
    if flops is None and not designated:
        f.open_questions.append("gpai.training_flops: the training compute is unknown, so the Art. 51(2) presumption "
                                "(greater than 1e25 floating-point operations) can be neither applied nor ruled out")
        f.conclude("training compute unknown", "the Art. 51(2) presumption cannot be checked; establish the figure",
                   ["art-51.2"])
    model_provider = "provider" in roles or a.get("gpai.modified") == "yes"
    if a.get("gpai.modified") == "yes":
        f.conclude("provider of the modified model", "modifying a general-purpose AI model makes you the provider of "
                   "the modified model; its obligations are limited to the modification", ["art-3.3", "recital-109"])
    if model_provider:
        open_source = a.get("gpai.open_source") == "yes"
        lapsed = {}
        if open_source and not systemic:
            lapsed = {"art-53.1.a": "free and open-source model without systemic risk (Art. 53(2))",
                      "art-53.1.b": "free and open-source model without systemic risk (Art. 53(2))"}
            f.conclude("open-source exemption", "Art. 53(1)(a) and (b) lapse; the copyright policy and the training "
                       "content summary (Art. 53(1)(c) and (d)) remain", ["art-53.2"])
        elif open_source:
            f.conclude("no open-source exemption", "the Art. 53(2) exemption does not apply to models with systemic "
                       "risk", ["art-53.2"])
        f.oblige("art-53", "provider", group="gpai", not_applicable=lapsed)
        if a.get("provider.outside_union") == "yes" and not (open_source and not systemic):
            f.oblige("art-54.1", "provider", group="gpai")
        if high_impact:
            f.oblige("art-52", "provider", group="gpai")
            f.conclude("notify the Commission", "the model meets the Art. 51(1)(a) condition: notify within two weeks; "
                       "the notification may argue that it does not present systemic risks", ["art-52.1", "art-52.2"])
        if systemic:
            f.oblige("art-55", "provider", group="gpai")
    if "representative" in roles and a.get("provider.outside_union") == "yes":
        f.oblige("art-54.3", "representative", group="gpai")
    return True, systemic, flops if flops is not None else "unknown"


def _annex_iii(a: dict[str, Any], roles: list[str], f: _Findings) -> list[str]:
    """The Annex III uses that make the system high-risk (Art. 6(2)-(4)); the provider's duties when an
    Art. 6(3) exception applies."""
    uses: list[str] = list(a["annex_iii.uses"])
    if not uses:
        return []
    exception = a.get("annex_iii.exception", "none")
    if a.get("annex_iii.profiling") == "yes":
        f.conclude("high-risk", f"intended for {', '.join(uses)} and it profiles natural persons, so no Art. 6(3) "
                   "exception applies", ["art-6.2", "art-6.3", *uses])
        return uses
    if exception == "none":
        f.conclude("high-risk", f"intended for {', '.join(uses)}", ["art-6.2", *uses])
        return uses
    if "provider" in roles:
        f.conclude("not high-risk under Annex III", f"{EXCEPTIONS[exception]} and it does not profile natural "
                   "persons; the provider must document this assessment before placing it on the market and "
                   "register the system", ["art-6.3", exception, "art-6.4", "art-49.2"])
        f.oblige("art-6.4", "provider")
        f.oblige("art-49.2", "provider")
        return []
    if a.get("annex_iii.provider_assessment") == "yes":
        f.conclude("not high-risk under Annex III", f"{EXCEPTIONS[exception]}, it does not profile natural persons, "
                   "and the provider documented that assessment and registered the system", ["art-6.3", exception,
                                                                                              "art-6.4", "art-49.2"])
        return []
    f.conclude("high-risk", f"intended for {', '.join(uses)}; an Art. 6(3) exception is the provider's documented "
               "assessment, and none is known to exist", ["art-6.2", "art-6.3", "art-6.4", *uses])
    return uses


def _high_risk(a: dict[str, Any], roles: list[str], high_uses: list[str], route: str, f: _Findings) -> None:
    """The obligations of a high-risk system, role by role, with the conditions of Arts. 22, 26, 27, 49, 86."""
    public_authority = a.get("public_authority.use") == "yes"
    beyond_point_2 = [u for u in high_uses if u != "annex-iii.2"]
    for role in roles:
        for oid in HIGH_RISK_BY_ROLE[role]:
            excluded: dict[str, str] = {}
            if oid == "art-26":
                if a.get("deployer.workplace") != "yes":
                    excluded["art-26.7"] = "not used at the workplace (Art. 26(7))"
                if not public_authority:
                    excluded["art-26.8"] = "the deployer is not a public authority or Union body (Art. 26(8))"
                if not high_uses or a.get("annex_iii.decisions") == "no":
                    excluded["art-26.11"] = "no Annex III decisions about natural persons (Art. 26(11))"
            f.oblige(oid, role, group="high-risk", route=route, not_applicable=excluded)
        if role == "provider":
            if a.get("provider.outside_union") == "yes":
                f.oblige("art-22.1", role, group="high-risk", route=route)
            if beyond_point_2:
                f.oblige("art-49.1", role, group="high-risk")
            if "annex-iii.2" in high_uses:
                f.oblige("art-49.5", role, group="high-risk")
        if role == "deployer" and beyond_point_2:
            if a.get("deployer.public_service") == "yes" or public_authority or \
                    {"annex-iii.5.b", "annex-iii.5.c"} & set(high_uses):
                f.oblige("art-27", role, group="high-risk")
                f.conclude("fundamental rights impact assessment", "a high-risk system of Annex III (other than "
                           "point 2) deployed by a public body or a private entity providing public services, or "
                           "used for credit scoring or life and health insurance pricing", ["art-27.1"])
            if public_authority:
                f.oblige("art-49.3", role, group="high-risk")
            if a.get("annex_iii.decisions") != "no":
                f.oblige("art-86", role, group="high-risk")
    if high_uses and "deployer" in roles and "art-27" not in f.obligations:
        f.conclude("no fundamental rights impact assessment", "Art. 27(1) binds only public bodies, private entities "
                   "providing public services, and deployers of Annex III 5(b) and 5(c) systems, and excludes "
                   "point 2", ["art-27.1"])


def _transparency(a: dict[str, Any], roles: list[str], f: _Findings) -> bool:
    """Art. 50 duties by role, with their exceptions; True when any Art. 50 feature is present."""
    exceptions = set(a.get("transparency.exceptions") or [])
    features = {"art-50.1": "transparency.interacts", "art-50.2": "transparency.generates",
                "art-50.3": "transparency.emotion_or_categorisation", "art-50.4": "transparency.deep_fake"}
    holder = {"art-50.1": "provider", "art-50.2": "provider", "art-50.3": "deployer", "art-50.4": "deployer"}
    lifted = {"art-50.1": {"crime-law"}, "art-50.2": {"crime-law", "assistive-editing"},
              "art-50.3": {"crime-law"}, "art-50.4": {"crime-law", "editorial-control"}}
    present = False
    for ref, qid in features.items():
        if a[qid] != "yes":
            continue
        why = exceptions & lifted[ref]
        if why:
            f.conclude("no transparency duty", f"{OBLIGATIONS[ref]}: lifted because "
                       + "; ".join(TRANSPARENCY_EXCEPTIONS[w] for w in sorted(why)), [ref])
            continue
        present = True
        if holder[ref] in roles:
            f.conclude("transparency duty", OBLIGATIONS[ref], [ref])
            f.oblige(ref, holder[ref])
            if ref == "art-50.4" and "artistic-work" in exceptions:
                f.conclude("limited disclosure", "deep fakes in an evidently artistic, creative, satirical or "
                           "fictional work: disclose their existence in a way that does not hamper the work",
                           ["art-50.4"])
    return present


def qualify(answers: dict[str, Any], on: date | None = None) -> dict[str, Any]:
    """The qualification at date `on` (default today): scope, risk class, roles, obligations with the
    date each applies from, and the rationale of each conclusion."""
    on = on or date.today()
    a = answers
    f = _Findings()
    roles = held_roles(a)
    out = _out_of_scope(a, roles)
    if out is not None:
        f.conclude("out of scope", out[0], out[1])
        return _result(a, on, "out of scope", roles, False, False, False, None, f, out)
    f.conclude("in scope", SCOPE[a["scope.union"]], ["art-2.1"])
    is_ai = a["ai_system.infers"] == "yes" and a["ai_system.autonomy"] == "yes"
    gpai, systemic, flops = _gpai(a, roles, f)
    if not is_ai:
        f.conclude("not an AI system", "it does not both infer its outputs and operate with some autonomy",
                   ["art-3.1"])
        return _result(a, on, "not an AI system", roles, is_ai, gpai, systemic, flops, f, None)
    f.conclude("AI system", "it infers how to generate outputs and operates with some autonomy", ["art-3.1"])
    if a["prohibited"]:
        for ref in a["prohibited"]:
            f.conclude("prohibited practice", PROHIBITED[ref], [ref])
        for role in roles:
            f.oblige("art-5", role)
        return _result(a, on, "prohibited", roles, is_ai, gpai, systemic, flops, f, None)

    annex_i = a["annex_i.safety_component"] == "yes"
    section_b = annex_i and a.get("annex_i.section") == "section-b"
    if section_b:
        f.conclude("high-risk (Annex I, Section B)", "a product or safety component under the sector legislation "
                   "of Annex I Section B: of this Regulation only Art. 6(1), Arts. 102 to 109 and Art. 112 apply; "
                   "its requirements reach the system through that legislation", ["art-6.1", "annex-i", "art-2.2"])
    elif annex_i:
        f.conclude("high-risk", "a product or safety component under Annex I Section A legislation with third-party "
                   "conformity assessment", ["art-6.1", "annex-i"])
    high_uses = _annex_iii(a, roles, f)
    high = bool(high_uses) or (annex_i and not section_b)
    if section_b and not high:
        return _result(a, on, "high", roles, is_ai, gpai, systemic, flops, f, None)
    if a.get("role_change") and high:
        f.conclude("provider by Art. 25", "; ".join(ROLE_CHANGES[c] for c in a["role_change"]) + ": you are "
                   "considered the provider of the high-risk system, with the provider's obligations",
                   ["art-25.1", *a["role_change"]])
        roles = list(dict.fromkeys([*roles, "provider"]))
    elif a.get("role_change"):
        f.conclude("role unchanged", "Art. 25(1) applies only to a system that is or becomes high-risk", ["art-25.1"])
    for role in roles:
        if role in ("provider", "deployer"):
            f.oblige("art-4", role)
    if high:
        _high_risk(a, roles, high_uses, "general" if high_uses else "annex-i", f)
    transparent = _transparency(a, roles, f)
    risk = "high" if high else "limited" if transparent else "minimal"
    if "art-2.12" in a["scope.exclusions"]:
        if risk == "minimal":
            f.obligations = {k: v for k, v in f.obligations.items() if v["group"] == "gpai"}
            why = EXCLUSIONS["art-2.12"] + ("; the obligations of its general-purpose AI model remain (Art. 53(2) "
                                            "decides them)" if f.obligations else "")
            f.conclude("out of scope", why, ["art-2.12"])
            return _result(a, on, "out of scope", roles, is_ai, gpai, systemic, flops, f, (why, ["art-2.12"]))
        f.conclude("open-source exclusion does not apply", "the system is high-risk or has Art. 50 duties",
                   ["art-2.12"])
    if risk == "minimal":
        f.conclude("minimal risk", "an AI system with none of the uses or features the Act regulates further",
                   ["art-4", "art-95"])
    return _result(a, on, risk, roles, is_ai, gpai, systemic, flops, f, None)


def _dated(a: dict[str, Any], f: _Findings) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Each obligation with the date it applies from (Art. 113), after the transitional rules of
    Art. 111; and the obligations Art. 111(2) leaves dormant."""
    t = load_dates().transitional
    placed = as_date(a.get("market.placed_on"))
    dated, dormant = [], []
    for o in f.obligations.values():
        rule = rule_for(o["id"], o["route"])
        start, cite, note = rule.from_, rule.cite, rule.text
        if o["group"] == "gpai" and placed and t["gpai"].placed_before and placed < t["gpai"].placed_before:
            start, cite, note = t["gpai"].comply_by or start, t["gpai"].cite, t["gpai"].text
        if o["group"] == "high-risk" and placed:
            if a.get("market.annex_x") == "yes" and t["annex-x"].placed_before and placed < t["annex-x"].placed_before:
                start, cite, note = t["annex-x"].comply_by or start, t["annex-x"].cite, t["annex-x"].text
            elif (t["high-risk"].placed_before and placed < t["high-risk"].placed_before
                  and a.get("market.significant_change") != "yes"):
                if a.get("public_authority.use") == "yes":
                    start, cite, note = (t["public-authorities"].comply_by or start, t["public-authorities"].cite,
                                         t["public-authorities"].text)
                else:
                    dormant.append({"id": o["id"], "title": o["title"], "roles": o["roles"], "cite": t["high-risk"].cite,
                                    "because": t["high-risk"].text})
                    continue
        dated.append({"id": o["id"], "title": o["title"], "roles": o["roles"], "applies_from": start.isoformat(),
                      "date_cite": cite, "date_rule": note,
                      "not_applicable": [{"id": k, "because": v} for k, v in o["not_applicable"].items()]})
    return dated, dormant


@functools.cache
def _coverage() -> dict[str, str]:
    """How much of each article the packaged catalogue checks, as the qualification states it."""
    from laif.compliance.obligations import load_catalogue  # that module imports this one

    catalogue = load_catalogue().catalogue
    found = {}
    for o in catalogue.obligations:
        checked = len([r for r in o.requirements if not r.laif_specific])
        found[o.id] = (f"{checked} of {checked + len(o.not_covered)} listed duties checked by laif's catalogue "
                       f"{catalogue.version}")
    return found


def _result(a: dict[str, Any], on: date, risk: str, roles: list[str], is_ai: bool, gpai: bool, systemic: bool,
            flops: Any, f: _Findings, out_of_scope: tuple[str, list[str]] | None) -> dict[str, Any]:
    coverage = _coverage()
    dated, dormant = _dated(a, f)
    for o in dated:
        o["applies_at_date"] = o["applies_from"] <= on.isoformat()
        o["coverage"] = coverage.get(o["id"], "not in laif's catalogue: not checked")
    if dormant:
        f.conclude("not yet subject (Art. 111(2))", f"{', '.join(o['id'] for o in dormant)}: {dormant[0]['because']}",
                   [dormant[0]["cite"]])
    later = sorted({o["applies_from"] for o in dated if not o["applies_at_date"]})
    dates = load_dates()
    answers = {k: v for k, v in a.items() if k != "_assumed"}
    return {
        "regulation": "Regulation (EU) 2024/1689 (AI Act)",
        "evaluation_date": on.isoformat(),
        "scope": {"in_scope": out_of_scope is None,
                  "because": out_of_scope[0] if out_of_scope else SCOPE[a["scope.union"]],
                  "cites": out_of_scope[1] if out_of_scope else ["art-2.1"]},
        "ai_system": is_ai,
        "risk_class": risk,
        "role": a["role"],
        "roles": roles,
        "general_purpose_model": gpai,
        "systemic_risk": systemic,
        "training_compute": flops,
        "obligations": dated,
        "applies_now": [o["id"] for o in dated if o["applies_at_date"]],
        "comes_next": [{"date": d, "obligations": [o["id"] for o in dated if o["applies_from"] == d]} for d in later],
        "not_yet_subject": dormant,
        "dates": {"version": dates.version, "source": dates.source, "checked": dates.checked.isoformat(),
                  "pending": [p.model_dump() for p in dates.pending]},
        "open_questions": f.open_questions,
        "rationale": f.why,
        "answers": answers,
        "assumed": {q: answers[q] for q in a.get("_assumed", [])},
        "disclaimer": "A first qualification to organise evidence, not legal advice.",
    }
