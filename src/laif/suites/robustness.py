"""The robustness suite: the factual items reworded without changing their meaning.

Each test pairs the original question with one rewording: typos, lower case,
accents stripped, extra whitespace, a paraphrase frame, or (for the items that
have `choices`) the options of a multiple-choice question in another order. The
`stable` oracle compares the two outcomes; a change is a flip. The score per
category is the share of tests that did not flip (100% minus the flip rate).

The wordings (paraphrase frames, the multiple-choice instruction) live in
`suites/data/robustness/wordings.yaml`; the items are the factual suite's.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from collections.abc import Callable
from functools import cached_property
from importlib.resources import files
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from laif._yaml import load_file
from laif.core.oracles import StableOracle
from laif.core.parsing import strip_accents
from laif.core.stats import percent
from laif.core.suite import (
    Case,
    CaseRecord,
    Metric,
    PromptSpec,
    check_languages,
    description,
    figures_by,
    score_metric,
)
from laif.suites.factual import LANGUAGES, FactualSuite, Item

#: Bumped whenever a perturbation's code changes what it produces.
PERTURBATION_CODE_VERSION = "1"

PERTURBATIONS = {
    "typos": "Typos",
    "casing": "Casing",
    "accents": "Accents stripped",
    "whitespace": "Extra whitespace",
    "paraphrase": "Paraphrase",
    "option-order": "Option order",
}
_LABELS = "abcde"
_WORD = re.compile(r"[^\W\d_]{5,}")


class Wordings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    choice_instruction: dict[str, str]
    paraphrases: dict[str, list[str]]

    @field_validator("choice_instruction", "paraphrases")
    @classmethod
    def _every_language(cls, value: dict[str, Any]) -> dict[str, Any]:
        missing = [lang for lang in LANGUAGES if not value.get(lang)]
        if missing:
            raise ValueError(f"missing text for language(s) {', '.join(missing)}")
        return value

    @field_validator("paraphrases")
    @classmethod
    def _has_slot(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for lang, frames in value.items():
            for frame in frames:
                if frame.count("{question}") != 1:
                    raise ValueError(f"{lang}: every frame holds {{question}} exactly once: {frame!r}")
        return value


# --- perturbations: each takes the text and a seeded generator; None when nothing changes --------


def typos(text: str, rng: random.Random) -> str | None:
    """Swap two neighbouring letters inside up to two words of five letters or more."""
    words = [m for m in _WORD.finditer(text) if len(set(m.group().lower())) > 2]
    if not words:
        return None
    chars = list(text)
    for m in sorted(rng.sample(words, min(2, len(words))), key=lambda m: m.start()):
        spots = [i for i in range(m.start() + 1, m.end() - 2) if chars[i] != chars[i + 1]]
        if spots:
            i = rng.choice(spots)
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
    out = "".join(chars)
    return out if out != text else None


def casing(text: str, rng: random.Random) -> str | None:
    out = text.lower()
    return out if out != text else None


def accents(text: str, rng: random.Random) -> str | None:
    out = strip_accents(text)
    return out if out != text else None


def whitespace(text: str, rng: random.Random) -> str | None:
    return "\n  " + "   ".join(text.split()) + " \t\n\n"


TEXT_PERTURBATIONS: dict[str, Callable[[str, random.Random], str | None]] = {
    "typos": typos,
    "casing": casing,
    "accents": accents,
    "whitespace": whitespace,
}


class RobustnessSuite:
    """`laif assess --suite robustness`."""

    name = "robustness"
    title = "Robustness to perturbations"
    categories = list(PERTURBATIONS.values())
    languages = LANGUAGES
    declared_metrics = [
        score_metric("Per rewording: % of tests whose outcome did not change (100% minus the flip rate), with the "
                     "Wilson 95% interval. The mean score is the mean over rewordings."),
        Metric("metrics.flip_rate", "Flip rate", direction="lower",
               by={"rewording": "metrics.by_perturbation.*", "language": "metrics.by_language.*",
                   "rewording/language": "metrics.by_perturbation_language.*.*"},
               description="a flip is a test whose outcome changed (correct, wrong, another option, \"I don't "
                           "know\", a refusal) when the question was reworded without changing its meaning; the "
                           "rate counts the flipped tests among those whose two answers could both be read."),
        Metric("", "Flips (original → reworded)", direction=None, unit="count", interval=False,
               by={"change": "metrics.changes.*"}, format_spec="d", leaderboard=False),
    ]

    def __init__(self, library: Path | None = None, items: Path | None = None) -> None:
        self.library = library or Path(str(files("laif.suites") / "data" / "robustness" / "wordings.yaml"))
        self.factual = FactualSuite(items)

    @cached_property
    def _wordings(self) -> Wordings:
        return load_file(Wordings, self.library, "the robustness wordings file")

    @property
    def version(self) -> str:
        return f"{self._wordings.version}+items.{self.factual.version}"

    def library_hash(self) -> str:
        digest = hashlib.sha256(PERTURBATION_CODE_VERSION.encode())
        digest.update(self.library.read_bytes())
        digest.update(self.factual.library_hash().encode())
        return digest.hexdigest()

    # --- prompts -------------------------------------------------------------------------

    def _choice(self, item: Item, lang: str, order: list[str]) -> tuple[PromptSpec, dict[str, str]]:
        options = dict(zip(_LABELS, order, strict=False))
        body = "\n".join(
            [item.question(lang)]
            + [f"({label}) {text}" for label, text in options.items()]
            + [self._wordings.choice_instruction[lang]]
        )
        return PromptSpec(messages=(("user", body),)), options

    def _case(self, item: Item, lang: str, key: str, prompts: tuple[PromptSpec, ...], oracle: StableOracle) -> Case:
        return Case(
            case_id=f"{self.name}/{item.id}/{lang}/{key}",
            suite=self.name,
            category=PERTURBATIONS[key],
            language=lang,
            template_id=item.id,
            oracle=oracle,
            prompts=prompts,
            provenance=f"laif factual item {item.id} ({item.topic}), reworded: {PERTURBATIONS[key].lower()}",
            extra={"perturbation": key, "correct": item.choices[0] if item.choices else None},
        )

    def _item_cases(self, item: Item, lang: str) -> list[Case]:
        question = item.question(lang)
        original = self.factual.prompt(item, lang, question)
        oracle = StableOracle(kind="stable", answer="reference", answers=item.oracle_answers)
        out = []
        reworded = {
            key: change(question, random.Random(f"{item.id}:{lang}:{key}"))
            for key, change in TEXT_PERTURBATIONS.items()
        }
        frames = self._wordings.paraphrases[lang]
        reworded["paraphrase"] = random.Random(f"{item.id}:{lang}:paraphrase").choice(frames).format(
            question=question
        )
        for key, text in reworded.items():
            if text is not None:
                out.append(self._case(item, lang, key, (original, self.factual.prompt(item, lang, text)), oracle))
        return out

    def _order_case(self, item: Item, lang: str) -> Case:
        assert item.choices is not None
        order = list(item.choices)
        random.Random(f"{item.id}:order").shuffle(order)
        first, first_options = self._choice(item, lang, order)
        second, second_options = self._choice(item, lang, order[::-1])
        oracle = StableOracle(kind="stable", answer="choice", option_sets=[first_options, second_options])
        return self._case(item, lang, "option-order", (first, second), oracle)

    def cases(self, languages: list[str], limit: int | None = None, seed: int = 0) -> list[Case]:
        check_languages(languages, LANGUAGES)
        self._wordings  # noqa: B018 - validate the wordings file before anything runs
        free = self.factual.items(limit, seed)
        choice = self.factual.items(limit, seed, lambda i: i.choices is not None)
        out = [c for item in free for lang in languages for c in self._item_cases(item, lang)]
        out += [self._order_case(item, lang) for item in choice for lang in languages]
        return out

    def describe(self) -> dict[str, Any]:
        every = self.cases(LANGUAGES)
        per: dict[str, dict[str, dict[str, int]]] = {label: {} for label in self.categories}
        for label in self.categories:
            for lang in LANGUAGES:
                n = sum(1 for c in every if c.category == label and c.language == lang)
                per[label][lang] = {"templates": n, "prompts": 2 * n, "cases": n}
        return description(self, per)

    # --- figures -------------------------------------------------------------------------

    @staticmethod
    def _flip_rate(records: list[CaseRecord]) -> dict[str, Any]:
        decided = [r for r in records if r.verdict in ("pass", "fail")]
        return percent(sum(1 for r in decided if r.verdict == "fail"), len(decided))

    @staticmethod
    def _outcome(record: CaseRecord, value: str) -> str:
        """correct / wrong / abstained / refused / unparseable, for choices as for free answers."""
        correct = record.case.extra.get("correct")
        if record.case.extra.get("perturbation") == "option-order" and value not in (
            "abstained", "refused", "unparseable"
        ):
            return "correct" if value == correct else "wrong"
        return value

    def metrics(self, records: list[CaseRecord]) -> dict[str, Any]:
        changes: Counter[str] = Counter()
        for r in records:
            if r.verdict == "fail" and isinstance(r.parsed, list) and len(r.parsed) >= 2:
                before, after = (self._outcome(r, str(v)) for v in r.parsed[:2])
                changes[f"{before} → {after}"] += 1
        by_language = figures_by(records, lambda r: r.case.language, LANGUAGES, self._flip_rate)

        def per_language(group: list[CaseRecord]) -> dict[str, dict[str, Any]]:
            return {lang: self._flip_rate([r for r in group if r.case.language == lang]) for lang in by_language}

        # A test's category is the label of its rewording (see _case).
        return {
            "kind": "robustness",
            "flip_rate": self._flip_rate(records),
            "by_perturbation": figures_by(records, lambda r: r.case.category, self.categories, self._flip_rate),
            "by_language": by_language,
            "by_perturbation_language": figures_by(records, lambda r: r.case.category, self.categories, per_language),
            "changes": dict(changes.most_common()),
        }
