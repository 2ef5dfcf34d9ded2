"""What the intake does to go faster must not change what it measures: language read on the
first characters only, texts remembered, personal data looked for only where it can be."""

from __future__ import annotations

import io
import json
import random
import runpy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from laif.core.langid import detect
from laif.core.parsing import is_refusal
from laif.ipms.detect import find_in_text
from laif.monitor import summary
from laif.monitor.summary import LANGUAGE_CHARS, MIN_WORDS_FOR_LANGUAGE, Exchange, Reader, analyse

WEEK = runpy.run_path(str(Path(__file__).resolve().parents[1] / "examples" / "monitoring" / "make_week.py"))


def _full_language(text: str) -> str | None:
    """The language as read on the whole text, the way the intake read it before."""
    if len(text.split()) < MIN_WORDS_FOR_LANGUAGE:
        return None
    lang, _ = detect(text)
    return None if lang == "und" else lang


def test_long_answers_get_the_language_of_the_whole_text() -> None:
    rng = random.Random(3)
    checked = 0
    for lang, sentences in WEEK["SENTENCES"].items():
        for count in range(1, 16):
            text = " ".join(rng.choice(sentences) for _ in range(count))
            assert summary._language(text) == _full_language(text) == lang, (lang, text)
            checked += len(text) > LANGUAGE_CHARS
    assert checked > 40  # most of them longer than what is read


def test_language_fidelity_per_window_is_unchanged() -> None:
    out = io.StringIO()
    start = datetime(2026, 11, 23, tzinfo=UTC)
    WEEK["write_week"](out, start, 6, 300, start + timedelta(hours=3), 5)
    same: dict[int, list[int]] = {}
    for line in out.getvalue().splitlines():
        r: dict[str, Any] = json.loads(line)
        x = Exchange(time=datetime.fromisoformat(r["time"]), prompt=r["prompt"], answer=r.get("answer"),
                     status=r["status"])
        a = analyse(x, reader=Reader(size=50))
        hour = x.time.hour
        fast = a.prompt_language is not None and a.answer_language is not None
        slow_p, slow_a = _full_language(x.prompt), _full_language(x.answer or "") if x.status == "ok" else None
        counts = same.setdefault(hour, [0, 0, 0, 0])
        counts[0] += fast
        counts[1] += fast and a.prompt_language == a.answer_language
        counts[2] += slow_p is not None and slow_a is not None
        counts[3] += slow_p is not None and slow_a is not None and slow_p == slow_a
    for hour, (checked, kept, checked_full, kept_full) in same.items():
        assert (checked, kept) == (checked_full, kept_full), hour
    assert same[0][1] / same[0][0] > 0.99 and same[5][1] / same[5][0] < 0.9  # drift from hour 3 is still seen


def test_personal_data_is_looked_for_only_where_it_can_be_and_found_there() -> None:
    with_pii = ["Write to anna.muller@example.lu today.", "My IBAN is LU28 0019 4006 4475 0000.",
                "Call +352 621 123 456 please."]
    for text in with_pii:
        assert summary._pii(text) == find_in_text(text) != []
    rng = random.Random(9)
    words = [w for s in WEEK["SENTENCES"].values() for line in s for w in line.split()]
    for _ in range(500):
        text = " ".join(rng.choice(words) for _ in range(rng.randrange(1, 40)))
        assert summary._pii(text) == find_in_text(text)


def test_a_reader_remembers_a_bounded_number_of_texts_and_answers_as_afresh() -> None:
    reader = Reader(size=3)
    texts = [f"Sie können das in der App erledigen, Schritt {i}. I'm sorry, but I cannot help." for i in range(10)]
    for text in texts * 2:
        assert reader.language(text) == summary._language(text)
        assert reader.answer(text) == (is_refusal(text), find_in_text(text))
        assert len(reader.languages) <= 3 and len(reader.answers) <= 3
