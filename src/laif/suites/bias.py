"""The social-bias suite: seven categories named as in the factory's leaderboard,
four languages, templates expanded over group lists.

The prompt library lives in `suites/data/bias/`: `_library.yaml` holds the
answer instructions per language; each category file holds its groups and
templates. Placeholders: `{people}` / `{person}` for templates over one group,
`{people_a}`, `{people_b}`, `{person_a}`, `{person_b}` for templates over pairs.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import re
from functools import cached_property
from importlib.resources import files
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator

from laif._yaml import load_file, load_yaml, validate
from laif.core.oracles import ExpectedOracle, NumberOracle, Oracle, ReferenceOracle, SameOracle
from laif.core.strict import Frozen
from laif.core.suite import Case, Metric, PromptSpec, check_languages, sample_limit
from laif.errors import BadInput

LANGUAGES = ["en", "fr", "de", "lb"]
CATEGORIES = ["LGBTIQ+", "Ageism", "Gender", "Political", "Racism", "Religious", "Xenophobia"]
PAIRS_PER_TEMPLATE = 3
_PLACEHOLDER = re.compile(r"\{(people|person)(?:_(a|b))?\}")

Localised = dict[str, str]


def _check_languages(value: Localised) -> Localised:
    missing = [lang for lang in LANGUAGES if not value.get(lang, "").strip()]
    if missing:
        raise ValueError(f"missing text for language(s) {', '.join(missing)}")
    extra = sorted(set(value) - set(LANGUAGES))
    if extra:
        raise ValueError(f"unknown language code(s) {', '.join(extra)}")
    return value


class LibraryHeader(Frozen):
    schema_version: int = Field(alias="schema")
    version: str
    instructions: dict[str, Localised]
    undetermined: Localised

    @field_validator("instructions")
    @classmethod
    def _all_types(cls, value: dict[str, Localised]) -> dict[str, Localised]:
        for kind in ("yesno", "choice", "number"):
            if kind not in value:
                raise ValueError(f"missing instructions for answer type {kind!r}")
            _check_languages(value[kind])
        return value

    @field_validator("undetermined")
    @classmethod
    def _langs(cls, value: Localised) -> Localised:
        return _check_languages(value)


class Group(Frozen):
    id: str
    people: Localised
    person: Localised

    @field_validator("people", "person")
    @classmethod
    def _langs(cls, value: Localised) -> Localised:
        return _check_languages(value)


class Template(Frozen):
    id: str
    oracle: Oracle
    probes: str = Field(min_length=10, description="provenance note: what the template probes and why")
    text: Localised
    options: dict[str, Localised | str] | None = None

    @field_validator("text")
    @classmethod
    def _langs(cls, value: Localised) -> Localised:
        return _check_languages(value)

    @model_validator(mode="after")
    def _consistent(self) -> Template:
        kinds = {frozenset(m.group(2) or "" for m in _PLACEHOLDER.finditer(t)) for t in self.text.values()}
        if len(kinds) != 1 or not next(iter(kinds)):
            raise ValueError("every language must use the same placeholders, and at least one")
        if self.options is not None:
            for label, option in self.options.items():
                if isinstance(option, str) and option != "undetermined" and not _PLACEHOLDER.search(option):
                    raise ValueError(
                        f"option {label}: give texts per language, a placeholder such as {{person_a}}, "
                        "or the word undetermined"
                    )
                if isinstance(option, dict):
                    _check_languages(option)
        if isinstance(self.oracle, ExpectedOracle) and self.oracle.answer_type == "choice":
            if not self.options or not set(self.oracle.answers) <= set(self.options):
                raise ValueError("a multiple-choice oracle needs options that include its answers")
        if not isinstance(self.oracle, ExpectedOracle | NumberOracle | ReferenceOracle | SameOracle):
            raise ValueError(f"oracle kind {self.oracle.kind!r} is not for bias templates")
        if self.is_pair and isinstance(self.oracle, SameOracle):
            raise ValueError("a 'same' oracle compares groups one at a time: use {people} or {person}")
        return self

    @property
    def is_pair(self) -> bool:
        return "_a}" in self.text["en"]

    @property
    def answer_type(self) -> str:
        if isinstance(self.oracle, NumberOracle):
            return "number"
        if isinstance(self.oracle, ExpectedOracle):
            return self.oracle.answer_type
        if isinstance(self.oracle, ReferenceOracle):
            return "reference"
        assert isinstance(self.oracle, SameOracle)  # the validator allows no other kind
        return "choice" if self.options else ("number" if self.oracle.answer == "number" else "yesno")


class CategoryFile(Frozen):
    category: str
    provenance: str
    groups: list[Group] = Field(min_length=2)
    templates: list[Template] = Field(min_length=1)

    @field_validator("category")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in CATEGORIES:
            raise ValueError(f"unknown category {value!r}; the leaderboard's are {', '.join(CATEGORIES)}")
        return value

    @model_validator(mode="after")
    def _unique(self) -> CategoryFile:
        ids = [t.id for t in self.templates]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate template id(s): {', '.join(dupes)}")
        return self


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


class BiasSuite:
    """`laif assess --suite bias`."""

    name = "bias"
    title = "Social-bias assessment"
    categories = CATEGORIES
    languages = LANGUAGES
    #: The score itself is the figure: per group and language, the answers that did not follow the stereotype.
    declared_metrics = [
        Metric("mean", "Mean score", interval=False, leaderboard=False, fairness=True,
               by={"group": "categories.*", "language": "mean_by_language.*", "language/group": "by_language.*.*"}),
    ]

    def __init__(self, library: Path | None = None) -> None:
        self.library = library or Path(str(files("laif.suites") / "data" / "bias"))

    @cached_property
    def _loaded(self) -> tuple[LibraryHeader, list[CategoryFile]]:
        header_path = self.library / "_library.yaml"
        header = load_file(LibraryHeader, header_path, "the bias library header")
        cats = []
        for path in sorted(self.library.glob("*.yaml")):
            if path.name.startswith("_"):
                continue
            cats.append(validate(CategoryFile, load_yaml(path), path))
        seen = [c.category for c in cats]
        missing = [c for c in CATEGORIES if c not in seen]
        if missing:
            raise BadInput(f"{self.library}: no file for categor(ies) {', '.join(missing)}")
        order = {name: i for i, name in enumerate(CATEGORIES)}
        return header, sorted(cats, key=lambda c: order[c.category])

    @property
    def version(self) -> str:
        return self._loaded[0].version

    def library_hash(self) -> str:
        digest = hashlib.sha256()
        for path in sorted(self.library.glob("*.yaml")):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()

    def _selected(self, cat: CategoryFile, limit: int | None, seed: int) -> list[Template]:
        return sample_limit(cat.templates, limit, f"{seed}:{cat.category}")

    @staticmethod
    def _fill(text: str, lang: str, fill: dict[str, Group]) -> str:
        """Put each group's form (`people`/`person`, slot `a`/`b` or none) into the placeholders."""
        return _PLACEHOLDER.sub(lambda m: str(getattr(fill[m.group(2) or ""], m.group(1))[lang]), text)

    def _render(self, template: Template, lang: str, fill: dict[str, Group]) -> PromptSpec:
        body = _capitalise(self._fill(template.text[lang], lang, fill))
        options = self._options(template, lang, fill)
        if options:
            body = "\n".join([body] + [f"({label}) {text}" for label, text in options.items()])
        body = f"{body}\n{self._loaded[0].instructions[template.answer_type][lang]}"
        return PromptSpec(messages=(("user", body),), groups=tuple(g.id for g in fill.values()))

    def _options(self, template: Template, lang: str, fill: dict[str, Group]) -> dict[str, str] | None:
        if not template.options:
            return None
        header = self._loaded[0]
        out = {}
        for label, option in template.options.items():
            if option == "undetermined":
                text = header.undetermined[lang]
            else:
                text = option if isinstance(option, str) else option[lang]
            out[label] = self._fill(text, lang, fill)
        return out

    def _expand(self, cat: CategoryFile, template: Template, lang: str, seed: int) -> list[Case]:
        provenance = f"{cat.provenance} Probes: {template.probes}"

        def case(suffix: str, fills: list[dict[str, Group]]) -> Case:
            return Case(
                case_id=f"bias/{template.id}/{lang}/{suffix}",
                suite=self.name,
                category=cat.category,
                language=lang,
                template_id=template.id,
                oracle=template.oracle,
                prompts=tuple(self._render(template, lang, f) for f in fills),
                options=self._options(template, lang, fills[0]),
                provenance=provenance,
            )

        if template.is_pair:
            pairs = list(itertools.permutations(cat.groups, 2))
            rng = random.Random(f"{seed}:{template.id}")
            pairs = rng.sample(pairs, min(PAIRS_PER_TEMPLATE, len(pairs)))
            return [case(f"{a.id}+{b.id}", [{"a": a, "b": b}]) for a, b in pairs]
        if isinstance(template.oracle, SameOracle) or (
            isinstance(template.oracle, NumberOracle) and template.oracle.value is None
        ):
            return [case("all-groups", [{"": g} for g in cat.groups])]
        return [case(g.id, [{"": g}]) for g in cat.groups]

    def cases(self, languages: list[str], limit: int | None = None, seed: int = 0) -> list[Case]:
        check_languages(languages, LANGUAGES)
        out: list[Case] = []
        for cat in self._loaded[1]:
            for template in self._selected(cat, limit, seed):
                for lang in languages:
                    out.extend(self._expand(cat, template, lang, seed))
        return out

    def describe(self) -> dict[str, Any]:
        header, cats = self._loaded
        per: dict[str, dict[str, dict[str, int]]] = {}
        for cat in cats:
            per[cat.category] = {}
            for lang in LANGUAGES:
                cases = [c for t in cat.templates for c in self._expand(cat, t, lang, 0)]
                per[cat.category][lang] = {
                    "templates": len(cat.templates),
                    "prompts": sum(len(c.prompts) for c in cases),
                    "cases": len(cases),
                }
        return {
            "name": self.name,
            "version": header.version,
            "library_hash": self.library_hash(),
            "categories": [c.category for c in cats],
            "languages": LANGUAGES,
            "counts": per,
        }
