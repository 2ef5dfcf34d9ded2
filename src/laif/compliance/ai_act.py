"""The AI Act's texts as laif's questionnaire offers them: the options of each question (our
summaries of the conditions of Regulation (EU) 2024/1689, keeping every condition that decides
an answer) and the title of each obligation. Keys are normalised references (`art-5.1.c`,
`annex-iii.6.b`) or, for options that are not article points, plain words.
"""

from __future__ import annotations

SCOPE = {
    "market": "it is placed on the market or put into service in the Union (whoever and wherever the provider is)",
    "deployer": "it is used by a deployer established or located in the Union",
    "output": "its provider or deployer is in a third country, but its output is used in the Union",
    "no": "none of these: it is not placed on the market, put into service or used in the Union, and its output "
          "is not used there",
}
EXCLUSIONS = {
    "art-2.3": "placed on the market, put into service or used exclusively for military, defence or national "
               "security purposes (or its output is used in the Union exclusively for those purposes)",
    "art-2.4": "used by a public authority of a third country or an international organisation under an "
               "international agreement for law enforcement or judicial cooperation with the Union or a Member "
               "State, with adequate safeguards for fundamental rights",
    "art-2.6": "specifically developed and put into service for the sole purpose of scientific research and "
               "development",
    "art-2.8": "only researched, tested or developed, not yet placed on the market or put into service (testing "
               "in real-world conditions is not covered by this exclusion)",
    "art-2.10": "used by a natural person in the course of a purely personal, non-professional activity",
    "art-2.12": "released under a free and open-source licence (the exclusion lapses for a high-risk system and "
                "for one under Art. 5 or Art. 50)",
}
PROHIBITED = {
    "art-5.1.a": "subliminal techniques beyond a person's consciousness, or purposefully manipulative or deceptive "
                 "techniques, with the objective or effect of materially distorting behaviour by appreciably "
                 "impairing informed decisions, causing or reasonably likely to cause significant harm",
    "art-5.1.b": "exploiting vulnerabilities due to age, disability or a specific social or economic situation, with "
                 "the objective or effect of materially distorting behaviour, causing or reasonably likely to "
                 "cause significant harm",
    "art-5.1.c": "social scoring: evaluating or classifying people over time by social behaviour or personal or "
                 "personality characteristics, the score leading to detrimental or unfavourable treatment in "
                 "social contexts unrelated to those where the data were generated or collected, or treatment "
                 "unjustified or disproportionate to their social behaviour or its gravity",
    "art-5.1.d": "assessing or predicting the risk that a person commits a criminal offence based solely on "
                 "profiling or on assessing personality traits and characteristics (not: supporting a human "
                 "assessment of involvement in a criminal activity already based on objective and verifiable "
                 "facts directly linked to it)",
    "art-5.1.e": "creating or expanding facial recognition databases through untargeted scraping of facial images "
                 "from the internet or CCTV footage",
    "art-5.1.f": "inferring emotions of a natural person in the workplace or in education institutions, except "
                 "where intended for medical or safety reasons",
    "art-5.1.g": "biometric categorisation of individuals based on their biometric data to deduce or infer their "
                 "race, political opinions, trade union membership, religious or philosophical beliefs, sex life "
                 "or sexual orientation (not: labelling or filtering of lawfully acquired biometric datasets, or "
                 "categorising biometric data in law enforcement)",
    "art-5.1.h": "'real-time' remote biometric identification in publicly accessible spaces for law enforcement, "
                 "other than a use strictly necessary for one of the objectives of Art. 5(1)(h)(i)-(iii) and "
                 "authorised and conducted under Art. 5(2) to (7)",
}
ANNEX_I_SECTIONS = {
    "section-a": "Section A (new legislative framework: e.g. machinery, toys, lifts, radio equipment, pressure "
                 "equipment, medical and in vitro diagnostic devices)",
    "section-b": "Section B (e.g. civil aviation, two- or three-wheel and agricultural vehicles, motor vehicles, "
                 "marine equipment, rail interoperability)",
}
ANNEX_III = {
    "annex-iii.1.a": "remote biometric identification (not biometric verification whose sole purpose is to confirm "
                     "that a person is who they claim to be)",
    "annex-iii.1.b": "biometric categorisation according to sensitive or protected attributes or characteristics, "
                     "based on the inference of those attributes",
    "annex-iii.1.c": "emotion recognition",
    "annex-iii.2": "safety component in the management and operation of critical digital infrastructure, road "
                   "traffic, or the supply of water, gas, heating or electricity",
    "annex-iii.3.a": "education: determining access or admission, or assigning persons to institutions at all levels",
    "annex-iii.3.b": "education: evaluating learning outcomes, including to steer the learning process",
    "annex-iii.3.c": "education: assessing the appropriate level of education a person will receive or be able to "
                     "access",
    "annex-iii.3.d": "education: monitoring and detecting prohibited behaviour of students during tests",
    "annex-iii.4.a": "employment: recruitment or selection (targeted job advertisements, analysing and filtering "
                     "applications, evaluating candidates)",
    "annex-iii.4.b": "employment: decisions affecting terms of work relationships, promotion or termination, "
                     "allocating tasks based on individual behaviour or personal traits or characteristics, or "
                     "monitoring and evaluating performance and behaviour",
    "annex-iii.5.a": "used by or on behalf of public authorities to evaluate eligibility for essential public "
                     "assistance benefits and services (including healthcare), or to grant, reduce, revoke or "
                     "reclaim them",
    "annex-iii.5.b": "evaluating the creditworthiness of natural persons or establishing their credit score (not "
                     "detecting financial fraud)",
    "annex-iii.5.c": "risk assessment and pricing for natural persons in life and health insurance",
    "annex-iii.5.d": "evaluating and classifying emergency calls, dispatching or prioritising emergency first "
                     "response services, or emergency healthcare patient triage",
    "annex-iii.6.a": "law enforcement: assessing the risk of a natural person becoming the victim of criminal "
                     "offences",
    "annex-iii.6.b": "law enforcement: polygraphs or similar tools",
    "annex-iii.6.c": "law enforcement: evaluating the reliability of evidence in investigating or prosecuting "
                     "criminal offences",
    "annex-iii.6.d": "law enforcement: assessing the risk of a person offending or re-offending not solely on the "
                     "basis of profiling, or assessing personality traits, characteristics or past criminal "
                     "behaviour",
    "annex-iii.6.e": "law enforcement: profiling of natural persons in the detection, investigation or prosecution "
                     "of criminal offences",
    "annex-iii.7.a": "migration, asylum, border control: polygraphs or similar tools",
    "annex-iii.7.b": "migration, asylum, border control: assessing a security, irregular-migration or health risk "
                     "posed by a person entering or who has entered a Member State",
    "annex-iii.7.c": "migration, asylum, border control: assisting the examination of applications for asylum, "
                     "visa or residence permits and related complaints, including the reliability of evidence",
    "annex-iii.7.d": "migration, asylum, border control: detecting, recognising or identifying persons (not the "
                     "verification of travel documents)",
    "annex-iii.8.a": "justice: assisting a judicial authority (or alternative dispute resolution) in researching "
                     "and interpreting facts and the law and applying the law to facts",
    "annex-iii.8.b": "democratic processes: influencing the outcome of an election or referendum or voting "
                     "behaviour (not tools whose output people are not directly exposed to, such as tools to "
                     "organise, optimise or structure political campaigns administratively or logistically)",
}
#: The whole areas the first questionnaire offered; an answer naming one is told which sub-points to use.
AREAS = {"annex-iii.1", "annex-iii.3", "annex-iii.4", "annex-iii.6", "annex-iii.7", "annex-iii.8"}
EXCEPTIONS = {
    "none": "none of these",
    "art-6.3.a": "it performs a narrow procedural task",
    "art-6.3.b": "it improves the result of a previously completed human activity",
    "art-6.3.c": "it detects decision-making patterns or deviations from prior decision-making patterns, and is not "
                 "meant to replace or influence the previously completed human assessment without proper human "
                 "review",
    "art-6.3.d": "it performs a preparatory task to an assessment relevant to an Annex III use",
}
PROVIDER_ASSESSMENT = {
    "yes": "yes: the provider documented that assessment (Art. 6(4)) and registered the system (Art. 49(2))",
    "no": "no",
    "unknown": "not known",
}
ROLES = {
    "provider": "provider: develops the system (or has it developed) and places it on the market or puts it into "
                "service under its own name (art-3.3)",
    "deployer": "deployer: uses the system under its authority (art-3.4)",
    "importer": "importer: places on the EU market a system bearing the name of a provider established outside "
                "the EU (art-3.6)",
    "distributor": "distributor: makes the system available on the EU market, neither provider nor importer "
                   "(art-3.7)",
    "representative": "authorised representative: in the EU, mandated in writing by a provider established "
                      "outside it to act on its behalf (art-3.5)",
}
ROLE_CHANGES = {
    "art-25.1.a": "you put your name or trademark on a high-risk system already placed on the market or put into "
                  "service",
    "art-25.1.b": "you made a substantial modification to a high-risk system already placed on the market or put "
                  "into service, and it remains high-risk",
    "art-25.1.c": "you changed the intended purpose of a system not classified as high-risk (including a "
                  "general-purpose AI system) so that it becomes high-risk",
}
TRANSPARENCY_EXCEPTIONS = {
    "crime-law": "the system is authorised by law to detect, prevent, investigate or prosecute criminal offences, "
                 "with safeguards, and (if it interacts with people) is not available to the public to report a "
                 "criminal offence (Art. 50(1) to (4))",
    "assistive-editing": "generated content: it only assists standard editing, or does not substantially alter "
                         "the input data or its semantics (Art. 50(2))",
    "editorial-control": "the only text published on matters of public interest has undergone human review or "
                         "editorial control, under a person's editorial responsibility (Art. 50(4))",
    "artistic-work": "the deep fakes are part of an evidently artistic, creative, satirical or fictional work "
                     "(Art. 50(4): the disclosure is limited, not lifted)",
}

#: Obligation id -> title. Ids are the article references.
OBLIGATIONS = {
    "art-4": "AI literacy of staff dealing with AI systems",
    "art-5": "the practice is prohibited: the system may not be placed on the market, put into service or used",
    "art-6.4": "document the assessment that the Annex III system is not high-risk",
    "art-9": "risk management system",
    "art-10": "data and data governance",
    "art-11": "technical documentation (Annex IV)",
    "art-12": "record-keeping (automatic logs)",
    "art-13": "transparency and information to deployers",
    "art-14": "human oversight",
    "art-15": "accuracy, robustness and cybersecurity",
    "art-16": "obligations of providers of high-risk AI systems",
    "art-17": "quality management system",
    "art-18": "documentation keeping (10 years)",
    "art-19": "automatically generated logs kept",
    "art-20": "corrective actions and duty of information",
    "art-22.1": "appoint an authorised representative in the Union",
    "art-22.3": "tasks of the authorised representative of a high-risk system's provider",
    "art-23": "obligations of importers",
    "art-24": "obligations of distributors",
    "art-26": "obligations of deployers of high-risk AI systems",
    "art-27": "fundamental rights impact assessment",
    "art-43": "conformity assessment",
    "art-47": "EU declaration of conformity (Annex V)",
    "art-48": "CE marking",
    "art-49.1": "registration of the provider and the system in the EU database",
    "art-49.2": "registration of a system the provider concluded is not high-risk (Art. 6(3))",
    "art-49.3": "registration of the use by a deployer that is a public authority",
    "art-49.5": "national registration of a critical infrastructure system (Annex III point 2)",
    "art-50.1": "inform people that they are interacting with an AI system",
    "art-50.2": "mark synthetic audio, image, video or text as artificially generated, machine-readably",
    "art-50.3": "inform people exposed to emotion recognition or biometric categorisation",
    "art-50.4": "disclose deep fakes and AI-generated text published on matters of public interest",
    "art-52": "notify the Commission within two weeks that the model meets the Art. 51(1)(a) condition",
    "art-53": "obligations of providers of general-purpose AI models",
    "art-54.1": "appoint an authorised representative in the Union (general-purpose AI model)",
    "art-54.3": "tasks of the authorised representative of a general-purpose AI model's provider",
    "art-55": "obligations of providers of general-purpose AI models with systemic risk",
    "art-72": "post-market monitoring",
    "art-73": "reporting of serious incidents",
    "art-86": "explain individual decisions on request (right to explanation)",
}
