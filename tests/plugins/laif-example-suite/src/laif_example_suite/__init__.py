"""A laif suite plugin: a few sums asked in four languages, each judged by a number oracle.

Everything a suite needs comes from `laif.core.suite`, `laif.core.oracles` and
`laif.core.stats`; laif finds the suite through the `laif.suites` entry point in
pyproject.toml. The suite declares its own metric, the share of exact sums, so the
run report and the leaderboard show it, and a spec gate or an obligation can name it
at `metrics.exact_share`.
"""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

from laif.core.oracles import NumberOracle
from laif.core.stats import percent
from laif.core.suite import Case, CaseRecord, Metric, PromptSpec, figures_by
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
    declared_metrics = [
        Metric("metrics.exact_share", "Exact sums", direction="higher", unit="percent",
               by={"language": "metrics.by_language.*"},
               description="sums answered with exactly the right number, among all sums asked."),
    ]

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
        """Optional: suite-specific figures, stored in the run summary under `metrics`."""

        def share(group: list[CaseRecord]) -> dict[str, Any]:
            return percent(sum(1 for r in group if r.verdict == "pass"), len(group))

        exact = sum(1 for r in records if r.verdict == "pass")
        return {"kind": "example-arithmetic", "exact_sums": exact, "asked": len(records),
                "exact_share": share(records),
                "by_language": figures_by(records, lambda r: r.case.language, self.languages, share)}
