"""AI Act qualification: is it an AI system, is it prohibited, is it high-risk, which
transparency duties apply, is it a general-purpose AI model (with systemic risk), and what
the user's role makes them responsible for. Regulation (EU) 2024/1689.

The questions have stable ids (`laif qualify questions --json`); the answers file maps ids
to answers. Every conclusion carries the articles it rests on, as normalised references
(`art-6.3`, `annex-iii.5.b`). This is a first qualification to organise the evidence, not
legal advice: the rationale says what each conclusion rests on so a lawyer can check it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from laif._yaml import line_of, load_yaml
from laif.errors import BadInput

PROHIBITED = {
    "art-5.1.a": "subliminal, manipulative or deceptive techniques that distort behaviour and cause significant harm",
    "art-5.1.b": "exploiting vulnerabilities due to age, disability or a social or economic situation",
    "art-5.1.c": "social scoring leading to detrimental or unfavourable treatment",
    "art-5.1.d": "predicting the risk of a person committing a crime solely from profiling or personality traits",
    "art-5.1.e": "untargeted scraping of facial images to build or expand facial recognition databases",
    "art-5.1.f": "inferring emotions in the workplace or in education (except for medical or safety reasons)",
    "art-5.1.g": "biometric categorisation to infer race, political opinions, union membership, religion, "
                 "sex life or sexual orientation",
    "art-5.1.h": "real-time remote biometric identification in publicly accessible spaces for law enforcement",
}

ANNEX_III = {
    "annex-iii.1": "biometrics: remote identification, categorisation by sensitive attributes, emotion recognition",
    "annex-iii.2": "safety components of critical infrastructure (digital infrastructure, traffic, water, gas, "
                   "heating, electricity)",
    "annex-iii.3": "education and vocational training: admission, evaluation of learning, monitoring in tests",
    "annex-iii.4": "employment: recruitment and selection, decisions on work relationships, task allocation, "
                   "monitoring of workers",
    "annex-iii.5.a": "eligibility for essential public assistance benefits and services",
    "annex-iii.5.b": "creditworthiness or credit scores of natural persons (not fraud detection)",
    "annex-iii.5.c": "risk assessment and pricing for natural persons in life and health insurance",
    "annex-iii.5.d": "evaluating and classifying emergency calls, dispatching emergency services, triage",
    "annex-iii.6": "law enforcement uses",
    "annex-iii.7": "migration, asylum and border control management",
    "annex-iii.8": "administration of justice and democratic processes (including influencing elections)",
}

EXCEPTIONS = {
    "none": "none of these",
    "art-6.3.a": "it performs a narrow procedural task",
    "art-6.3.b": "it improves the result of a human activity already completed",
    "art-6.3.c": "it detects decision-making patterns or deviations, without replacing or influencing the human "
                 "assessment without proper human review",
    "art-6.3.d": "it performs a preparatory task to an assessment relevant to an Annex III use",
}

ROLES = {
    "provider": "provider: develops the system (or has it developed) and places it on the market or puts it into "
                "service under its own name (art-3.3)",
    "deployer": "deployer: uses the system under its authority (art-3.4)",
    "importer": "importer: places on the EU market a system bearing the name of a provider established outside "
                "the EU (art-3.6)",
    "distributor": "distributor: makes the system available on the EU market, neither provider nor importer "
                   "(art-3.7)",
}

#: Obligation id -> title. Ids are the article references.
OBLIGATIONS = {
    "art-4": "AI literacy of staff dealing with AI systems",
    "art-5": "the practice is prohibited: the system may not be placed on the market, put into service or used",
    "art-9": "risk management system",
    "art-10": "data and data governance",
    "art-11": "technical documentation (Annex IV)",
    "art-12": "record-keeping (automatic logs)",
    "art-13": "transparency and information to deployers",
    "art-14": "human oversight",
    "art-15": "accuracy, robustness and cybersecurity",
    "art-16": "obligations of providers of high-risk AI systems",
    "art-17": "quality management system",
    "art-23": "obligations of importers",
    "art-24": "obligations of distributors",
    "art-26": "obligations of deployers of high-risk AI systems",
    "art-27": "fundamental rights impact assessment",
    "art-43": "conformity assessment",
    "art-47": "EU declaration of conformity (Annex V)",
    "art-48": "CE marking",
    "art-49": "registration in the EU database",
    "art-50.1": "inform people that they are interacting with an AI system",
    "art-50.2": "mark synthetic audio, image, video or text as artificially generated, machine-readably",
    "art-50.3": "inform people exposed to emotion recognition or biometric categorisation",
    "art-50.4": "disclose deep fakes and AI-generated text published on matters of public interest",
    "art-53": "obligations of providers of general-purpose AI models",
    "art-55": "obligations of providers of general-purpose AI models with systemic risk",
    "art-72": "post-market monitoring",
    "art-73": "reporting of serious incidents",
}
HIGH_RISK_BY_ROLE = {
    "provider": ["art-9", "art-10", "art-11", "art-12", "art-13", "art-14", "art-15", "art-16", "art-17",
                 "art-43", "art-47", "art-48", "art-49", "art-72", "art-73"],
    "deployer": ["art-26"],
    "importer": ["art-23"],
    "distributor": ["art-24"],
}
SYSTEMIC_FLOPS = 1e25


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    kind: str  # yesno | choice | multi | number
    cites: tuple[str, ...]
    options: dict[str, str] = field(default_factory=dict)
    ask_if: str | None = None  # another question's id that must be answered "yes" (or a non-empty multi)
    help: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "kind": self.kind, "cites": list(self.cites),
                "options": self.options, "ask_if": self.ask_if, "help": self.help}


QUESTIONS = [
    Question("ai_system.infers", "Does the system infer from its input how to generate outputs such as predictions, "
             "content, recommendations or decisions (rather than only applying rules people wrote)?",
             "yesno", ("art-3.1",), help="A language model, a trained classifier or a recommender: yes."),
    Question("ai_system.autonomy", "Is it designed to operate with some level of autonomy from human involvement?",
             "yesno", ("art-3.1",)),
    Question("role", "What is your organisation's role for this system?", "choice",
             ("art-3.3", "art-3.4", "art-3.6", "art-3.7"), options=ROLES),
    Question("prohibited", "Does the system do any of these? (list every one that applies, or none)", "multi",
             ("art-5.1",), options=PROHIBITED),
    Question("annex_i.safety_component", "Is the system a product, or a safety component of a product, covered by "
             "the EU harmonisation legislation of Annex I that needs a third-party conformity assessment?",
             "yesno", ("art-6.1", "annex-i"), help="e.g. machinery, toys, medical devices, lifts, radio equipment."),
    Question("annex_iii.uses", "Is it intended for any of these uses? (list every one that applies, or none)",
             "multi", ("art-6.2", "annex-iii"), options=ANNEX_III),
    Question("annex_iii.exception", "For those uses: does one of these describe all the system does?", "choice",
             ("art-6.3",), options=EXCEPTIONS, ask_if="annex_iii.uses"),
    Question("annex_iii.profiling", "Does it perform profiling of natural persons?", "yesno", ("art-6.3",),
             ask_if="annex_iii.uses", help="Profiling makes an Annex III system high-risk whatever the exception."),
    Question("transparency.interacts", "Does it interact directly with natural persons (e.g. a chatbot)?",
             "yesno", ("art-50.1",)),
    Question("transparency.generates", "Does it generate synthetic audio, image, video or text content?",
             "yesno", ("art-50.2",)),
    Question("transparency.emotion_or_categorisation", "Is it an emotion recognition or biometric categorisation "
             "system?", "yesno", ("art-50.3",)),
    Question("transparency.deep_fake", "Does it produce deep fakes, or text published to inform the public on "
             "matters of public interest?", "yesno", ("art-50.4",)),
    Question("gpai.model", "Is what you place on the market a general-purpose AI model (trained on broad data, "
             "competent at a wide range of distinct tasks, integrable into many systems)?", "yesno",
             ("art-3.63", "art-51")),
    Question("gpai.training_flops", "Cumulative compute used to train the model, in floating-point operations "
             "(0 if unknown)", "number", ("art-51.2",), ask_if="gpai.model"),
    Question("gpai.designated", "Has the Commission designated the model as having systemic risk?", "yesno",
             ("art-51.1.b",), ask_if="gpai.model"),
    Question("deployer.public_service", "Is the deployer a body governed by public law, or a private entity "
             "providing public services?", "yesno", ("art-27.1",), ask_if="annex_iii.uses"),
]
BY_ID = {q.id: q for q in QUESTIONS}


def applies(q: Question, answers: dict[str, Any]) -> bool:
    if q.ask_if is None:
        return True
    given = answers.get(q.ask_if)
    return bool(given) and given != "no" and given != ["none"]


def check_answers(data: Any, path: Path) -> dict[str, Any]:
    """Answers checked against the questions; errors name the file, line and question id."""
    if not isinstance(data, dict):
        raise BadInput(f"{path}: expected a mapping of question ids to answers (see laif qualify questions)")
    problems = []
    for key in data:
        if key not in BY_ID:
            problems.append(f"{path}:{line_of(data, (key,))}: unknown question id {key!r}")
    answers: dict[str, Any] = {}
    for q in QUESTIONS:
        if not applies(q, {**data, **answers}):
            continue
        where = f"{path}:{line_of(data, (q.id,)) or 1}: {q.id}"
        if q.id not in data:
            problems.append(f"{where}: missing ({q.text})")
            continue
        value = data[q.id]
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
                bad = [v for v in value if v != "none" and v not in q.options]
                if bad:
                    problems.append(f"{where}: unknown option(s) {', '.join(map(str, bad))}; "
                                    f"use none or {', '.join(q.options)}")
                value = [v for v in value if v != "none"]
        elif q.kind == "number":
            if isinstance(value, str):
                try:
                    value = float(value)
                except ValueError:
                    problems.append(f"{where}: not a number: {value!r}")
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                problems.append(f"{where}: give a number of operations, e.g. 3.2e24")
        answers[q.id] = value
    if problems:
        raise BadInput(f"{len(problems)} problem(s) in the answers:\n" + "\n".join(problems))
    return answers


def load_answers(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise BadInput(f"{path}: no such answers file", hint="laif qualify questions --json lists the ids")
    return check_answers(load_yaml(path), path)


def qualify(answers: dict[str, Any]) -> dict[str, Any]:
    """The qualification: risk class, obligations, and the rationale of each conclusion."""
    why: list[dict[str, Any]] = []
    obligations: list[str] = []

    def conclude(conclusion: str, because: str, cites: list[str]) -> None:
        why.append({"conclusion": conclusion, "because": because, "cites": cites})

    role = answers["role"]
    is_ai = answers["ai_system.infers"] == "yes" and answers["ai_system.autonomy"] == "yes"
    gpai = answers.get("gpai.model") == "yes"
    systemic = gpai and (answers.get("gpai.designated") == "yes"
                         or float(answers.get("gpai.training_flops") or 0) >= SYSTEMIC_FLOPS)
    if gpai:
        conclude("general-purpose AI model", "placed on the market as a model competent at a wide range of tasks",
                 ["art-3.63", "art-51"])
        if role == "provider":
            obligations.append("art-53")
        if systemic:
            reason = ("designated by the Commission" if answers.get("gpai.designated") == "yes"
                      else f"trained with at least {SYSTEMIC_FLOPS:.0e} floating-point operations")
            conclude("systemic risk", reason, ["art-51.1", "art-51.2"])
            if role == "provider":
                obligations.append("art-55")
    if not is_ai:
        conclude("not an AI system", "it does not both infer its outputs and operate with some autonomy",
                 ["art-3.1"])
        risk = "not an AI system"
        return _result(answers, risk, is_ai, gpai, systemic, obligations, why)
    conclude("AI system", "it infers how to generate outputs and operates with some autonomy", ["art-3.1"])
    obligations.append("art-4")
    prohibited = answers["prohibited"]
    if prohibited:
        for ref in prohibited:
            conclude("prohibited practice", PROHIBITED[ref], [ref])
        obligations.append("art-5")
        return _result(answers, "prohibited", is_ai, gpai, systemic, obligations, why)

    high = False
    if answers["annex_i.safety_component"] == "yes":
        high = True
        conclude("high-risk", "a product or safety component under Annex I legislation with third-party "
                 "conformity assessment", ["art-6.1", "annex-i"])
    uses = answers["annex_iii.uses"]
    if uses:
        exception = answers.get("annex_iii.exception", "none")
        profiling = answers.get("annex_iii.profiling") == "yes"
        if profiling:
            high = True
            conclude("high-risk", f"intended for {', '.join(uses)} and it profiles natural persons, so no "
                     "Art. 6(3) exception applies", ["art-6.2", "art-6.3", *uses])
        elif exception != "none":
            conclude("not high-risk under Annex III", f"{EXCEPTIONS[exception]} and it does not profile natural "
                     "persons; the provider must document this assessment and register the system",
                     ["art-6.3", exception, "art-6.4", "art-49.2"])
            if role == "provider":
                obligations.append("art-49")
        else:
            high = True
            conclude("high-risk", f"intended for {', '.join(uses)}", ["art-6.2", *uses])
    if high:
        obligations += HIGH_RISK_BY_ROLE[role]
        if role == "deployer" and uses and (
                answers.get("deployer.public_service") == "yes"
                or {"annex-iii.5.b", "annex-iii.5.c"} & set(uses)):
            if set(uses) - {"annex-iii.2"}:
                obligations.append("art-27")
                conclude("fundamental rights impact assessment", "a deployer that is a public body or provides "
                         "public services, or uses it for credit scoring or life and health insurance pricing",
                         ["art-27.1"])
    transparency = []
    if role == "provider":
        transparency += [o for q, o in (("transparency.interacts", "art-50.1"), ("transparency.generates", "art-50.2"))
                         if answers[q] == "yes"]
    if role == "deployer":
        transparency += [o for q, o in (("transparency.emotion_or_categorisation", "art-50.3"),
                                        ("transparency.deep_fake", "art-50.4")) if answers[q] == "yes"]
    for ref in transparency:
        conclude("transparency duty", OBLIGATIONS[ref], [ref])
    obligations += transparency
    any_transparency = any(answers[q] == "yes" for q in ("transparency.interacts", "transparency.generates",
                                                         "transparency.emotion_or_categorisation",
                                                         "transparency.deep_fake"))
    risk = "high" if high else "limited" if any_transparency else "minimal"
    if risk == "minimal":
        conclude("minimal risk", "an AI system with none of the uses or features the Act regulates further",
                 ["art-4", "art-95"])
    return _result(answers, risk, is_ai, gpai, systemic, obligations, why)


def _result(answers: dict[str, Any], risk: str, is_ai: bool, gpai: bool, systemic: bool,
            obligations: list[str], why: list[dict[str, Any]]) -> dict[str, Any]:
    unique = list(dict.fromkeys(obligations))
    return {
        "regulation": "Regulation (EU) 2024/1689 (AI Act)",
        "ai_system": is_ai,
        "risk_class": risk,
        "role": answers["role"],
        "general_purpose_model": gpai,
        "systemic_risk": systemic,
        "obligations": [{"id": o, "title": OBLIGATIONS[o]} for o in unique],
        "rationale": why,
        "answers": answers,
        "disclaimer": "A first qualification to organise evidence, not legal advice.",
    }
