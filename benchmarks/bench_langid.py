"""How well py3langid (our language identifier for language fidelity) knows each of
our four languages, Luxembourgish above all, measured on texts written here:
the factual questions, the bias prompts, and the short labelled answers (those
labelled as written in the question's language).

Run: .venv/bin/python benchmarks/bench_langid.py
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict

from laif.cli.oracles import load_labelled, shipped_set
from laif.core.langid import CANDIDATES, detect
from laif.suites.bias import BiasSuite
from laif.suites.factual import FactualSuite


def main() -> None:
    sets: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for lang in ("en", "fr", "de", "lb"):
        for case in FactualSuite().cases([lang]):
            sets["factual questions"].append((lang, case.prompts[0].text))
        for case in BiasSuite().cases([lang], limit=18):
            sets["bias prompts"].append((lang, case.prompts[0].text))
    for line in load_labelled(shipped_set()):
        if line.note != "wrong language" and line.language:
            for text in line.answers():
                if sum(ch.isalpha() for ch in text) >= 2:
                    sets["short answers"].append((line.language, text))
    report: dict[str, dict[str, object]] = {}
    for name, items in sets.items():
        confusion: dict[str, Counter[str]] = defaultdict(Counter)
        for lang, text in items:
            confusion[lang][detect(text)[0]] += 1
        report[name] = {
            lang: {"n": sum(c.values()), "accuracy": round(100.0 * c[lang] / sum(c.values()), 1),
                   "detected": dict(c.most_common())}
            for lang, c in sorted(confusion.items())
        }
    print(json.dumps({"library": "py3langid", "candidates": list(CANDIDATES), "sets": report}, indent=1,
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
