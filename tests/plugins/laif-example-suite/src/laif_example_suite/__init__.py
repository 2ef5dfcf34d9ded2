"""A laif suite plugin: a few sums asked in four languages, each judged by a number oracle.

Everything a suite needs comes from `laif.core.suite` and `laif.core.oracles`;
laif finds the suite through the `laif.suites` entry point in pyproject.toml.
"""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

from laif.core.oracles import NumberOracle
from laif.core.suite import Case, CaseRecord, PromptSpec
from laif.errors import BadInput

SUMS = [(7, 5), (12, 9), (23, 19), (40, 2), (15, 15), (8, 13)]
ASK = {
    "en": "What is {a} plus {b}? Answer with the number only.",
    "fr": "Combien font {a} plus {b} ? Réponds seulement par le nombre.",
    "de": "Was ist {a} plus {b}? Antworte nur mit der Zahl.",
    "lb": "Wat ass {a} plus {b}? Äntwer just mat der Zuel.",
}


class ArithmeticSuite:
    name = "example-arithmetic"
    version = "0.1.0"
    categories = ["Addition"]
    languages = list(ASK)

    def library_hash(self) -> str:
        return hashlib.sha256(json.dumps([SUMS, ASK], ensure_ascii=False).encode()).hexdigest()

    def cases(self, languages: list[str], limit: int | None = None, seed: int = 0) -> list[Case]:
        unknown = [lang for lang in languages if lang not in ASK]
        if unknown:
            raise BadInput(f"--languages: the example suite has no {', '.join(unknown)}")
        sums = SUMS if limit is None else random.Random(seed).sample(SUMS, min(limit, len(SUMS)))
        return [
            Case(
                case_id=f"{self.name}/{a}+{b}/{lang}",
                suite=self.name,
                category="Addition",
                language=lang,
                template_id=f"{a}+{b}",
                oracle=NumberOracle(kind="number", value=a + b, tolerance=0),
                prompts=(PromptSpec(messages=(("user", ASK[lang].format(a=a, b=b)),)),),
                provenance="laif example plugin",
            )
            for a, b in sums
            for lang in languages
        ]

    def describe(self) -> dict[str, Any]:
        counts = {lang: {"templates": len(SUMS), "prompts": len(SUMS), "cases": len(SUMS)} for lang in ASK}
        return {"name": self.name, "version": self.version, "library_hash": self.library_hash(),
                "categories": self.categories, "languages": self.languages, "counts": {"Addition": counts}}

    def metrics(self, records: list[CaseRecord]) -> dict[str, Any]:
        """Optional: suite-specific figures, stored with the run."""
        exact = sum(1 for r in records if r.verdict == "pass")
        return {"kind": "example-arithmetic", "exact_sums": exact, "asked": len(records)}
