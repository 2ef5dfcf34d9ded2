"""The factual and multilingual suites: questions with reference answers on
Luxembourg, the European Union and general knowledge, in four languages.

- `factual`: accuracy (correct among all answers: "I don't know" is not correct)
  and the hallucination rate (confident wrong answers among all answers), each
  with a Wilson 95% interval, per topic and language.
- `multilingual`: the same items in every language, with accuracy per language,
  the gap of each language to English, cross-lingual consistency (the same
  outcome for an item in every language) and language fidelity (the answer is
  in the language of the question, by py3langid).

The items live in `suites/data/factual/items.yaml`.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import cached_property
from importlib.resources import files
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from laif._yaml import load_file
from laif.core.oracles import NumberOracle, ReferenceOracle, Verdict, judge
from laif.core.parsing import is_hedged
from laif.core.stats import percent
from laif.core.strict import Frozen
from laif.core.suite import (
    Case,
    CaseRecord,
    Metric,
    PromptSpec,
    check_languages,
    description,
    figures_by,
    sample_limit,
)
from laif.errors import BadInput

LANGUAGES = ["en", "fr", "de", "lb"]
TOPICS = {"luxembourg": "Luxembourg", "eu": "European Union", "general": "General knowledge"}


class NumberAnswer(Frozen):
    value: float
    tolerance: float = Field(default=0.0, ge=0)


class Item(Frozen):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    topic: str
    answers: list[str] | None = Field(default=None, min_length=1)
    number: NumberAnswer | None = None
    choices: list[str] | None = Field(default=None, min_length=3, max_length=5)
    en: str = Field(min_length=3)
    fr: str = Field(min_length=3)
    de: str = Field(min_length=3)
    lb: str = Field(min_length=3)

    @model_validator(mode="after")
    def _one_answer(self) -> Item:
        if (self.answers is None) == (self.number is None):
            raise ValueError("give exactly one of 'answers' (accepted aliases) or 'number' (value and tolerance)")
        if self.topic not in TOPICS:
            raise ValueError(f"unknown topic {self.topic!r}; choose from {', '.join(TOPICS)}")
        if self.choices is not None:
            if len(set(self.choices)) != len(self.choices):
                raise ValueError("choices: the options must differ")
            verdicts = [judge(self.oracle, [choice]).verdict for choice in self.choices]
            if verdicts[0] != Verdict.PASS or Verdict.PASS in verdicts[1:]:
                raise ValueError("choices: the first option must be the only correct one")
        return self

    @property
    def oracle(self) -> ReferenceOracle | NumberOracle:
        if self.number is not None:
            return NumberOracle(kind="number", value=self.number.value, tolerance=self.number.tolerance)
        return ReferenceOracle(kind="reference", answers=list(self.answers or []))

    @property
    def oracle_answers(self) -> list[str]:
        """The accepted answers as text; for a number, every whole number within the tolerance."""
        if self.number is None:
            return list(self.answers or [])
        low, high = self.number.value - self.number.tolerance, self.number.value + self.number.tolerance
        return [str(n) for n in range(math.ceil(low), math.floor(high) + 1)] or [f"{self.number.value:g}"]

    def question(self, lang: str) -> str:
        return str(getattr(self, lang))


class ItemFile(Frozen):
    version: str
    system: dict[str, str]
    items: list[Item] = Field(min_length=1)

    @model_validator(mode="after")
    def _checks(self) -> ItemFile:
        missing = [lang for lang in LANGUAGES if not self.system.get(lang)]
        if missing:
            raise ValueError(f"system: missing text for language(s) {', '.join(missing)}")
        ids = [i.id for i in self.items]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate item id(s): {', '.join(dupes)}")
        return self


def factual_figures(records: Iterable[CaseRecord]) -> dict[str, Any]:
    """Counts, accuracy and hallucination rate (each with a 95% interval) of `records`."""
    records = list(records)
    counts = {"correct": 0, "wrong": 0, "abstained": 0, "refused": 0, "unparseable": 0, "errored": 0}
    names = {"pass": "correct", "fail": "wrong", "abstained": "abstained", "refused": "refused",
             "unparseable": "unparseable", "error": "errored"}
    for record in records:
        counts[names[record.verdict]] += 1
    hallucinated = sum(
        1 for r in records if r.verdict == "fail" and not any(text and is_hedged(text) for text in r.responses)
    )
    answers = len(records) - counts["errored"]
    return counts | {
        "hallucinated": hallucinated,
        "answers": answers,
        "accuracy": percent(counts["correct"], answers),
        "hallucination_rate": percent(hallucinated, answers),
    }


def _per(figure: str) -> dict[str, str]:
    return {"language": f"metrics.by_language.*.{figure}", "topic": f"metrics.by_topic.*.{figure}"}


def _count(figure: str, title: str) -> Metric:
    return Metric(f"metrics.overall.{figure}", title, direction=None, unit="count", interval=False, by=_per(figure),
                  format_spec="d", leaderboard=False)


FACTUAL_METRICS = [
    _count("answers", "Answers"), _count("correct", "Correct"), _count("wrong", "Wrong"),
    _count("hallucinated", "of which confident"), _count("abstained", "Abstained"), _count("refused", "Refused"),
    _count("unparseable", "Unparseable"),
    Metric("metrics.overall.accuracy", "Accuracy", by=_per("accuracy"), fairness=True,
           description="correct answers among all answers."),
    Metric("metrics.overall.hallucination_rate", "Hallucination rate", direction="lower", by=_per("hallucination_rate"),
           description='confident wrong answers (wrong, with no hedge such as "I think" or "vläicht") among all '
                       "answers."),
]
MULTILINGUAL_METRICS = [
    *FACTUAL_METRICS,
    Metric("", "Gap to English", unit="points", interval=False, by={"language": "metrics.gap_to_english.*"},
           format_spec="+.0f", leaderboard=False, fairness=True,
           description="accuracy in the language minus accuracy in English."),
    Metric("", "Language fidelity", by={"language": "metrics.language_fidelity.*"}, fairness=True,
           description="answers that py3langid, restricted to English, French, German and Luxembourgish, "
                       "identifies as the question's language."),
    Metric("metrics.consistency.same_outcome", "Same outcome in every language",
           description="items with the same outcome in every language asked."),
    Metric("metrics.consistency.correct_everywhere", "Correct in every language",
           description="items answered correctly in every language asked."),
]


class FactualSuite:
    """`laif assess --suite factual`."""

    title = "Factual accuracy and hallucination"
    declared_metrics = FACTUAL_METRICS

    name = "factual"
    categories = list(TOPICS.values())
    languages = LANGUAGES
    #: Accuracy counts every answered test: abstaining, refusing or rambling is not correct.
    score_over = ["pass", "fail", "abstained", "refused", "unparseable"]

    def __init__(self, library: Path | None = None) -> None:
        self.library = library or Path(str(files("laif.suites") / "data" / "factual" / "items.yaml"))

    @cached_property
    def _file(self) -> ItemFile:
        return load_file(ItemFile, self.library, "the factual item file")

    @property
    def version(self) -> str:
        return self._file.version

    def library_hash(self) -> str:
        return hashlib.sha256(self.library.read_bytes()).hexdigest()

    def items(self, limit: int | None, seed: int, where: Callable[[Item], bool] | None = None) -> list[Item]:
        """All items (that pass `where`), or at most `limit` per topic sampled with `seed`
        (the same in every language)."""
        chosen: list[Item] = []
        for topic in TOPICS:
            pool = [i for i in self._file.items if i.topic == topic and (where is None or where(i))]
            chosen.extend(sample_limit(pool, limit, f"{seed}:{self.name}:{topic}"))
        return chosen

    def prompt(self, item: Item, lang: str, question: str | None = None) -> PromptSpec:
        """The item's question (or a rewording of it) after the answer instructions."""
        return PromptSpec(messages=(("system", self._file.system[lang]), ("user", question or item.question(lang))))

    def _case(self, item: Item, lang: str) -> Case:
        return Case(
            case_id=f"{self.name}/{item.id}/{lang}",
            suite=self.name,
            category=TOPICS[item.topic],
            language=lang,
            template_id=item.id,
            oracle=item.oracle,
            prompts=(self.prompt(item, lang),),
            provenance=f"laif factual items {self._file.version}, written for laif; topic {item.topic}",
        )

    def cases(self, languages: list[str], limit: int | None = None, seed: int = 0) -> list[Case]:
        check_languages(languages, LANGUAGES)
        return [self._case(item, lang) for item in self.items(limit, seed) for lang in languages]

    def describe(self) -> dict[str, Any]:
        per: dict[str, dict[str, dict[str, int]]] = {}
        for topic, label in TOPICS.items():
            n = sum(1 for i in self._file.items if i.topic == topic)
            per[label] = {lang: {"templates": n, "prompts": n, "cases": n} for lang in LANGUAGES}
        return description(self, per)

    def metrics(self, records: list[CaseRecord]) -> dict[str, Any]:
        return {
            "kind": "factual",
            "overall": factual_figures(records),
            "by_language": figures_by(records, lambda r: r.case.language, LANGUAGES, factual_figures),
            "by_topic": figures_by(records, lambda r: r.case.category, self.categories, factual_figures),
        }


class MultilingualSuite(FactualSuite):
    """`laif assess --suite multilingual`: the factual items asked in every language."""

    name = "multilingual"
    title = "Multilingual quality"
    declared_metrics = MULTILINGUAL_METRICS

    def cases(self, languages: list[str], limit: int | None = None, seed: int = 0) -> list[Case]:
        if len(languages) < 2:
            raise BadInput("--languages: the multilingual suite compares languages; give at least two, e.g. en,lb")
        return super().cases(languages, limit, seed)

    def metrics(self, records: list[CaseRecord]) -> dict[str, Any]:
        from laif.core.langid import CANDIDATES, LIBRARY, detect

        base = super().metrics(records)
        accuracy = {lang: fig["accuracy"]["value"] for lang, fig in base["by_language"].items()}
        english = accuracy.get("en")
        gaps = {lang: (None if v is None or english is None else v - english) for lang, v in accuracy.items()
                if lang != "en"}

        per_item: dict[str, dict[str, str]] = defaultdict(dict)
        for r in records:
            if r.verdict != "error":
                per_item[r.case.template_id][r.case.language] = r.verdict
        compared = [v for v in per_item.values() if len(v) >= 2]
        same = sum(1 for v in compared if len(set(v.values())) == 1)
        all_correct = sum(1 for v in compared if set(v.values()) == {"pass"})

        fidelity: dict[str, dict[str, Any]] = {}
        for lang in base["by_language"]:
            detected: dict[str, int] = defaultdict(int)
            n = 0
            for r in records:
                if r.case.language != lang:
                    continue
                for text in r.responses:
                    if text:
                        detected[detect(text)[0]] += 1
                        n += 1
            fidelity[lang] = percent(detected.get(lang, 0), n) | {"answers": n, "detected": dict(detected)}
        return base | {
            "kind": "multilingual",
            "gap_to_english": gaps,
            "consistency": {
                "items": len(compared),
                "same_outcome": percent(same, len(compared)),
                "correct_everywhere": percent(all_correct, len(compared)),
            },
            "language_fidelity": fidelity,
            "language_id": {"library": LIBRARY, "candidates": list(CANDIDATES)},
        }
