"""Which language an answer is written in, for language fidelity.

We use py3langid (a maintained fork of langid.py): its model ships inside the
wheel, so nothing is downloaded, and unlike lingua it knows Luxembourgish. We
restrict it to the suite's languages plus the ones Luxembourgish is most often
confused with (Dutch, and German already in the set). How well it knows
Luxembourgish is measured on our own texts: see `benchmarks/bench_langid.py`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

CANDIDATES = ("en", "fr", "de", "lb", "nl")
LIBRARY = "py3langid"


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)
    ident.set_languages(list(CANDIDATES))
    return ident


def detect(text: str) -> tuple[str, float]:
    """(language code, probability) of `text`; ("und", 0.0) when there is nothing to read."""
    if not any(ch.isalpha() for ch in text):
        return "und", 0.0
    lang, prob = _identifier().classify(text)
    return str(lang), float(prob)
