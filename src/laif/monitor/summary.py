"""One window's summary of LLM exchanges, and the signals read from it.

A summary holds counts, sketches of numbers and counts of labels, never a prompt or an answer;
summaries merge, so a window can be filled by several intakes, in any order.

The signals, per window:

| signal | what it is |
| --- | --- |
| `refusal_rate` | answers that decline (the sandbox's refusal patterns, four languages) among answers given |
| `empty_rate` | empty answers among calls that did not fail and whose text was captured |
| `truncated_rate` | answers cut at the token limit (`finish_reason` length) among answers given |
| `error_rate`, `timeout_rate` | failed and timed-out calls among all calls |
| `latency_p50_s`, `latency_p95_s` | latency quantiles (within 1 %) |
| `input_tokens_mean`, `output_tokens_mean` | tokens per call |
| `language_fidelity` | answers in the question's language, among those long enough to tell (3+ words) |
| `pii_rate` | answers holding checked personal data (IPMS detection) among answers given |
| `feedback_positive` | thumbs up among the calls users rated |
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from laif.core.langid import detect
from laif.core.parsing import _REFUSAL, normalise
from laif.ipms.detect import find_in_text
from laif.monitor.sketch import Categories, EmbeddingSample, Sketch

COUNTS = ("n", "ok", "read", "errors", "timeouts", "empty", "answered", "refusals", "truncated", "pii",
          "lang_checked", "lang_same", "rated", "feedback_up")
#: Numbers every exchange may carry; `features.NAME` are added from the records' own features.
NUMBERS = ("latency_s", "input_tokens", "output_tokens", "prompt_chars", "answer_chars")
LABELS = ("prompt_language", "answer_language", "model", "finish_reason")
#: Answers shorter than this are not read for language fidelity: py3langid is unreliable on them.
MIN_WORDS_FOR_LANGUAGE = 3
#: Language is read on the first this many characters of a text: py3langid's time grows with the
#: text, and the first sentences tell the language (tests/test_monitor_speed.py checks the
#: language-fidelity signal is unchanged on long answers). An answer that starts in the
#: question's language and switches later counts as faithful.
LANGUAGE_CHARS = 200
#: How many distinct texts a `Reader` remembers (about 300 bytes each, a few MB in all).
READER_CACHE = 10_000

#: signal -> (numerator count, denominator count) for the rates.
RATES = {
    "refusal_rate": ("refusals", "answered"),
    "empty_rate": ("empty", "read"),
    "truncated_rate": ("truncated", "answered"),
    "error_rate": ("errors", "n"),
    "timeout_rate": ("timeouts", "n"),
    "language_fidelity": ("lang_same", "lang_checked"),
    "pii_rate": ("pii", "answered"),
    "feedback_positive": ("feedback_up", "rated"),
}
SIGNALS = (*RATES, "latency_p50_s", "latency_p95_s", "input_tokens_mean", "output_tokens_mean")


@dataclass
class Exchange:
    """One call to the system in production, as intake validated it."""

    time: datetime
    prompt: str
    answer: str | None
    status: str = "ok"  # ok | error | timeout
    model: str | None = None
    latency_s: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    finish_reason: str | None = None
    feedback: int | None = None  # -1, 0 or 1
    ids: dict[str, str] = field(default_factory=dict)
    features: dict[str, float | str] = field(default_factory=dict)
    #: A vector standing for the call (an embedding of the prompt, say), compared by MMD.
    embedding: list[float] | None = None
    #: False when the source did not capture prompt and answer (OpenTelemetry spans by default):
    #: the text signals then leave this call out instead of counting it as empty.
    content: bool = True


def _head(text: str) -> str | None:
    """The first `LANGUAGE_CHARS` characters of `text` (cut at a space), None when too short to tell."""
    head = text if len(text) <= LANGUAGE_CHARS else text[: text.rfind(" ", 0, LANGUAGE_CHARS) + 1 or LANGUAGE_CHARS]
    return head if len(head.split(None, MIN_WORDS_FOR_LANGUAGE)) >= MIN_WORDS_FOR_LANGUAGE else None


def _language(text: str) -> str | None:
    """The language of `text` read on its first `LANGUAGE_CHARS` characters (cut at a space)."""
    head = _head(text)
    if head is None:
        return None
    lang, _ = detect(head)
    return None if lang == "und" else lang


#: Every pattern of the IPMS text detector needs a digit (numbers, IBAN, VAT, phone) or an '@'
#: (e-mail): a text with neither holds none, and most answers are read no further.
_MAY_HOLD_PII = re.compile(r"[\d@]")


def _pii(text: str) -> list[dict[str, Any]]:
    return find_in_text(text) if _MAY_HOLD_PII.search(text) else []


#: Every pattern of `laif.core.parsing._REFUSAL` (the one whose SHA-256 is `REFUSAL_PATTERNS`)
#: matches text holding one of these, in the normalised answer: its first words with what follows
#: them ("i " or "i'", "je ", "ich ", "ech ", "als ", "kann ich " holds "ich "), or a phrase it
#: cannot do without ("appropriate", "tut mir leid", "sch\u00e4tzen" and "schatzen" hold these). An
#: answer with none is no refusal, and the patterns are not run over it (most answers): the same
#: verdicts as `is_refusal`, several times as fast. tests/test_monitor_speed.py fails when the
#: patterns change, so that these and `REFUSAL_WORDS` are checked again.
REFUSAL_KEYS = ("i ", "i'", "je ", "ich ", "ech ", "als ", "as an ai", "appropriate", "en tant qu'", "impossible d",
                "tut mir leid", "ch\u00e4tzen", "chatzen", "beziffern", "deet mer leed")
REFUSAL_PATTERNS = "ccdcdf3157df70ed6ba9a180facfb4cb8fa2445ddc9bf027420f4c9239ce0de5"


def is_refusal(text: str) -> bool:
    """`laif.core.parsing.is_refusal`, the patterns run only over answers holding one of `REFUSAL_KEYS`."""
    norm = normalise(text)
    return any(key in norm for key in REFUSAL_KEYS) and _REFUSAL.search(norm) is not None


#: Each byte of a text's UTF-8 as `refusals` reads it: ASCII letters lowered, digits and NUL (between
#: texts) kept, every other byte a space, each byte of a non-ASCII character too ("schätzen" reads as
#: "sch" and "tzen"). A word the patterns need, bounded by non-word characters, then stands alone.
_WORDS = bytes(b + 32 if 65 <= b <= 90 else b if 97 <= b <= 122 or 48 <= b <= 57 or b == 0 else 32 for b in range(256))
#: A word, read as `_WORDS` reads it, that each pattern of `laif.core.parsing._REFUSAL` cannot match
#: without ("i" for every English one but "as an ai" and "appropriate", "je", "ich", "ech", the
#: words after "als", "tzen" of "schätzen"): a text holding none of them is no refusal. Checked
#: with REFUSAL_KEYS when the patterns change (REFUSAL_PATTERNS).
REFUSAL_WORDS = frozenset({b"i", b"ai", b"appropriate", b"inappropriate", b"je", b"tant", b"impossible", b"ich", b"ki",
                           b"intelligenz", b"sprachmodell", b"leid", b"tzen", b"schatzen", b"abschatzen", b"beziffern",
                           b"ech", b"deet", b"sproochmodell"})
#: A text that starts with one of normalise's lead-ins ("Answer:", "Réponse", "D'Äntwert") is read in
#: full: normalise removes the lead-in even when the next word follows it without a space.
_LEADIN_START = re.compile(rb" *(?:(?:the +)?answer|my +answer|r(?:e| +)ponse|ma +r(?:e| +)ponse|(?:die +)?antwort"
                           rb"|meine +antwort|(?: +|a)ntwert|d +(?: +|a)ntwert)")
#: The only characters whose lower case or NFC form holds an ASCII letter (İ and the Kelvin sign):
#: a batch with one is read text by text.
_INTO_ASCII = tuple(c.encode() for c in "\u0130\u212a")
#: Bytes `personal` drops: all but ASCII digits, '@', NUL and the first bytes of characters from
#: U+0640 on (where the other decimal digits are).
_NOT_PII_MARK = bytes(b for b in range(256) if not (48 <= b <= 57 or b == 64 or b == 0 or b >= 0xD9))


def refusals(texts: list[str]) -> list[bool]:
    """`is_refusal` of each text, the patterns run only over texts holding one of `REFUSAL_WORDS`
    (or starting with a lead-in), the words of all texts read at once, on their bytes."""
    joined = "\x00".join(texts)
    raw = joined.encode("utf-8", "surrogatepass")
    if joined.count("\x00") != len(texts) - 1 or any(c in raw for c in _INTO_ASCII):
        return [is_refusal(t) for t in texts]
    disjoint, lead = REFUSAL_WORDS.isdisjoint, _LEADIN_START.match
    return [(not disjoint(words.split()) or lead(words) is not None) and is_refusal(t)
            for words, t in zip(raw.translate(_WORDS).split(b"\x00"), texts, strict=True)]


def personal(texts: list[str]) -> list[list[dict[str, Any]]]:
    """`_pii` of each text, the detector run only over texts holding a digit or an '@' (all texts
    looked at at once, on their bytes)."""
    joined = "\x00".join(texts)
    if joined.count("\x00") != len(texts) - 1:
        return [_pii(t) for t in texts]
    marks = joined.encode("utf-8", "surrogatepass").translate(None, _NOT_PII_MARK).split(b"\x00")
    return [_pii(t) if mark else [] for mark, t in zip(marks, texts, strict=True)]


class Reader:
    """Reads texts, remembering the last `size` distinct ones: a system asked the same question
    (templates, FAQ) or giving the same answer (refusals, canned replies) is read once. Results
    are those of reading each text afresh; when full, the memory is emptied and starts again."""

    def __init__(self, size: int = READER_CACHE) -> None:
        self.size = size
        self.languages: dict[str, str | None] = {}
        self.answers: dict[str, tuple[bool, list[dict[str, Any]]]] = {}
        #: What the batch readers (`languages_of`, `answers_of`) remembered before they last started
        #: afresh: a text found there is not read again, and is remembered anew (frequent texts stay).
        self.older_languages: dict[str, str | None] = {}
        self.older_answers: dict[str, tuple[bool, list[dict[str, Any]]]] = {}

    def language(self, text: str) -> str | None:
        found = self.languages.get(text, _MISSING)
        if found is _MISSING:
            if len(self.languages) >= self.size:
                self.languages.clear()
            found = self.languages[text] = _language(text)
        return found  # type: ignore[return-value]

    def prime(self, texts: list[str]) -> None:
        """Read the languages of many texts at once (`language.detect_many`, the same answers as
        one at a time, several times as fast), so that `language` finds them remembered."""
        from laif.monitor.language import detect_many

        new = list(dict.fromkeys(t for t in texts if t not in self.languages))
        if not new:
            return
        if len(self.languages) + len(new) > self.size:
            self.languages.clear()
        heads = {t: _head(t) for t in new[: self.size]}
        asked = [t for t, h in heads.items() if h is not None]
        found = dict(zip(asked, detect_many([heads[t] or "" for t in asked]), strict=True))
        for t in heads:
            lang = found.get(t)
            self.languages[t] = None if lang is None or lang == "und" else lang

    def prime_calls(self, calls: list[Exchange]) -> None:
        """`prime` with the texts `analyse` will read the languages of."""
        self.prime([text for x in calls if x.content for text in (
            (x.prompt, (x.answer or "").strip()) if x.status == "ok" else (x.prompt,)) if text])

    def answer(self, text: str) -> tuple[bool, list[dict[str, Any]]]:
        """Whether the answer is a refusal, and the personal data in it."""
        found = self.answers.get(text)
        if found is None:
            if len(self.answers) >= self.size:
                self.answers.clear()
            found = self.answers[text] = (is_refusal(text), _pii(text))
        return found

    def _recall(self, kind: str, texts: list[str], read: Callable[[list[str]], list[Any]]) -> list[Any]:
        """What `read` gives for each text, from memory where remembered (`kind`: "languages" or
        "answers"), the others read at once. When the memory fills it starts afresh and keeps the
        old one beside it: a text found there is not read again and is remembered anew."""
        known: dict[str, Any] = getattr(self, kind)
        older: dict[str, Any] = getattr(self, f"older_{kind}")
        out: list[Any] = [known.get(t, _MISSING) for t in texts]
        missing = list(dict.fromkeys(t for t, got in zip(texts, out, strict=True) if got is _MISSING))
        if missing:
            found = {t: older[t] for t in missing if t in older}
            new = [t for t in missing if t not in found]
            found.update(zip(new, read(new), strict=True))
            out = [found[t] if got is _MISSING else got for t, got in zip(texts, out, strict=True)]
            if len(known) + len(found) > self.size:
                setattr(self, f"older_{kind}", known)
                known = {}
                setattr(self, kind, known)
            known.update(found)
        return out

    def languages_of(self, texts: list[str]) -> list[str | None]:
        """`language` of each text, those not remembered read at once (`language.detect_many`)."""

        def read(new: list[str]) -> list[str | None]:
            from laif.monitor.language import detect_many

            heads = [_head(t) for t in new]
            found = iter(detect_many([h for h in heads if h is not None]))
            langs = [next(found) if h is not None else None for h in heads]
            return [None if lang is None or lang == "und" else lang for lang in langs]

        return self._recall("languages", texts, read)

    def answers_of(self, texts: list[str]) -> tuple[list[bool], list[bool]]:
        """Whether each answer is a refusal, and whether it holds personal data (`answer`, without
        the findings), those not remembered read at once."""
        got = self._recall("answers", texts, lambda new: list(zip(refusals(new), personal(new), strict=True)))
        return [a[0] for a in got], [bool(a[1]) for a in got]


_MISSING = object()
_READER = Reader()


def prime(calls: list[Exchange]) -> None:
    """Read the languages of these calls' texts at once, before `analyse` reads each call."""
    _READER.prime_calls(calls)


def prime_texts(texts: list[str]) -> None:
    _READER.prime(texts)


@dataclass
class Analysis:
    """What one answer shows: read once, used by the summary and by a kept record."""

    refusal: bool = False
    empty: bool = False
    pii: list[dict[str, Any]] = field(default_factory=list)
    prompt_language: str | None = None
    answer_language: str | None = None


def analyse(x: Exchange, languages: bool = True, reader: Reader = _READER) -> Analysis:
    """Refusal, emptiness and personal data of the answer; with `languages`, the languages too."""
    if not x.content:
        return Analysis()
    a = Analysis(prompt_language=reader.language(x.prompt) if languages else None)
    if x.status != "ok":
        return a
    text = (x.answer or "").strip()
    a.empty = not text
    if text:
        a.refusal, a.pii = reader.answer(text)
        a.answer_language = reader.language(text) if languages else None
    return a


@dataclass
class WindowSummary:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    numbers: dict[str, Sketch] = field(default_factory=dict)
    labels: dict[str, Categories] = field(default_factory=dict)
    embeddings: EmbeddingSample | None = None
    first: datetime | None = None
    last: datetime | None = None

    def _number(self, name: str, value: float | None) -> None:
        if value is not None:
            sketch = self.numbers.get(name)
            if sketch is None:
                sketch = self.numbers[name] = Sketch()
            sketch.add(float(value))

    def _label(self, name: str, value: str | None) -> None:
        if value is not None:
            self.labels.setdefault(name, Categories()).add(value)

    def add(self, x: Exchange, a: Analysis) -> None:
        c = self.counts
        c["n"] += 1
        self.first = x.time if self.first is None or x.time < self.first else self.first
        self.last = x.time if self.last is None or x.time > self.last else self.last
        if x.status == "error":
            c["errors"] += 1
        elif x.status == "timeout":
            c["timeouts"] += 1
        else:
            c["ok"] += 1
            c["read"] += x.content
            c["empty"] += a.empty
            if x.content and not a.empty:
                c["answered"] += 1
                c["refusals"] += a.refusal
                c["pii"] += bool(a.pii)
                c["truncated"] += x.finish_reason == "length"
        if a.prompt_language and a.answer_language:
            c["lang_checked"] += 1
            c["lang_same"] += a.prompt_language == a.answer_language
        if x.feedback:
            c["rated"] += 1
            c["feedback_up"] += x.feedback > 0
        self._number("latency_s", x.latency_s)
        self._number("input_tokens", x.input_tokens)
        self._number("output_tokens", x.output_tokens)
        if x.content:
            self._number("prompt_chars", len(x.prompt))
        if x.content and x.answer is not None:
            self._number("answer_chars", len(x.answer))
        self._label("prompt_language", a.prompt_language)
        self._label("answer_language", a.answer_language)
        self._label("model", x.model)
        self._label("finish_reason", x.finish_reason)
        for name, value in x.features.items():
            if isinstance(value, str):
                self._label(f"features.{name}", value)
            else:
                self._number(f"features.{name}", value)
        if x.embedding is not None:
            if self.embeddings is None:
                self.embeddings = EmbeddingSample()
            self.embeddings.add(x.embedding)

    def add_many(self, calls: list[tuple[Exchange, Analysis]]) -> None:
        """`add` of each call in turn, the numbers of all of them binned at once (`Sketch.add_many`):
        the same counts, bins, labels, extremes and embeddings; sums may differ in their last bits."""
        if not calls:
            return
        c = self.counts
        numbers: dict[str, list[float]] = {name: [] for name in NUMBERS}
        labels: dict[str, list[str]] = {name: [] for name in LABELS}
        latency, inputs, outputs = numbers["latency_s"], numbers["input_tokens"], numbers["output_tokens"]
        prompt_chars, answer_chars = numbers["prompt_chars"], numbers["answer_chars"]
        prompt_lang, answer_lang = labels["prompt_language"], labels["answer_language"]
        models, reasons = labels["model"], labels["finish_reason"]
        errors = timeouts = read = empty = answered = refusals = pii = truncated = checked = same = rated = up = 0
        first, last = self.first, self.last
        for x, a in calls:
            when = x.time
            if first is None or when < first:
                first = when
            if last is None or when > last:
                last = when
            status = x.status
            if status == "error":
                errors += 1
            elif status == "timeout":
                timeouts += 1
            else:
                read += x.content
                empty += a.empty
                if x.content and not a.empty:
                    answered += 1
                    refusals += a.refusal
                    pii += bool(a.pii)
                    truncated += x.finish_reason == "length"
            if a.prompt_language and a.answer_language:
                checked += 1
                same += a.prompt_language == a.answer_language
            if x.feedback:
                rated += 1
                up += x.feedback > 0
            if x.latency_s is not None:
                latency.append(x.latency_s)
            if x.input_tokens is not None:
                inputs.append(x.input_tokens)
            if x.output_tokens is not None:
                outputs.append(x.output_tokens)
            if x.content:
                prompt_chars.append(len(x.prompt))
                if x.answer is not None:
                    answer_chars.append(len(x.answer))
            if a.prompt_language is not None:
                prompt_lang.append(a.prompt_language)
            if a.answer_language is not None:
                answer_lang.append(a.answer_language)
            if x.model is not None:
                models.append(x.model)
            if x.finish_reason is not None:
                reasons.append(x.finish_reason)
            for name, value in x.features.items():
                if isinstance(value, str):
                    labels.setdefault(f"features.{name}", []).append(value)
                else:
                    numbers.setdefault(f"features.{name}", []).append(value)
            if x.embedding is not None:
                if self.embeddings is None:
                    self.embeddings = EmbeddingSample()
                self.embeddings.add(x.embedding)
        n = len(calls)
        for key, value in (("n", n), ("ok", n - errors - timeouts), ("errors", errors), ("timeouts", timeouts),
                           ("read", read), ("empty", empty), ("answered", answered), ("refusals", refusals),
                           ("pii", pii), ("truncated", truncated), ("lang_checked", checked), ("lang_same", same),
                           ("rated", rated), ("feedback_up", up)):
            c[key] += value
        self.first, self.last = first, last
        self.add_values(numbers, labels)

    def add_counted(self, counts: dict[str, int], first: datetime, last: datetime, numbers: dict[str, Any],
                    labels: dict[str, list[str]]) -> None:
        """Calls already counted (the JSONL intake reads a chunk column by column): their counts, their
        earliest and latest time, their numbers per name (in the order of the calls, binned at once as
        `add_many` does) and their labels per name (in the order of the calls)."""
        c = self.counts
        for key, value in counts.items():
            c[key] += value
        if self.first is None or first < self.first:
            self.first = first
        if self.last is None or last > self.last:
            self.last = last
        self.add_values(numbers, labels)

    def add_values(self, numbers: dict[str, Any], labels: dict[str, list[str]]) -> None:
        """Numbers per name (a list or numpy array, binned at once as `Sketch.add_many`) into their
        sketches, and labels per name (in the order of the calls) into their counts, each label in
        the order it first came, as `add` one by one."""
        for name, values in numbers.items():
            if len(values):
                sketch = self.numbers.get(name)
                if sketch is None:
                    sketch = self.numbers[name] = Sketch()
                sketch.add_many(values)
        for name, found in labels.items():
            if found:
                cats = self.labels.setdefault(name, Categories())
                for label, count in Counter(found).items():
                    cats.add(label, count)

    def merge(self, other: WindowSummary) -> WindowSummary:
        for key, value in other.counts.items():
            self.counts[key] = self.counts.get(key, 0) + value
        for name, sketch in other.numbers.items():
            self.numbers.setdefault(name, Sketch()).merge(sketch)
        for name, cats in other.labels.items():
            self.labels.setdefault(name, Categories()).merge(cats)
        if other.embeddings is not None:
            self.embeddings = (self.embeddings or EmbeddingSample(size=other.embeddings.size)).merge(other.embeddings)
        if other.first is not None and (self.first is None or other.first < self.first):
            self.first = other.first
        if other.last is not None and (self.last is None or other.last > self.last):
            self.last = other.last
        return self

    def signals(self) -> dict[str, dict[str, Any]]:
        """Each signal's value (None when nothing was measured) and how many calls it rests on."""
        c = self.counts
        out: dict[str, dict[str, Any]] = {}
        for name, (num, den) in RATES.items():
            out[name] = {"value": c[num] / c[den] if c[den] else None, "n": c[den]}
        latency = self.numbers.get("latency_s")
        for q, name in ((0.5, "latency_p50_s"), (0.95, "latency_p95_s")):
            out[name] = {"value": latency.quantile(q) if latency else None, "n": latency.n if latency else 0}
        for name in ("input_tokens", "output_tokens"):
            sketch = self.numbers.get(name)
            out[f"{name}_mean"] = {"value": sketch.mean if sketch else None, "n": sketch.n if sketch else 0}
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "counts": self.counts,
            "numbers": {k: v.to_json() for k, v in sorted(self.numbers.items())},
            "labels": {k: v.to_json() for k, v in sorted(self.labels.items())},
            **({"embeddings": self.embeddings.to_json()} if self.embeddings is not None else {}),
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WindowSummary:
        return cls(
            counts={**dict.fromkeys(COUNTS, 0), **{k: int(v) for k, v in data["counts"].items()}},
            numbers={k: Sketch.from_json(v) for k, v in data["numbers"].items()},
            labels={k: Categories.from_json(v) for k, v in data["labels"].items()},
            embeddings=EmbeddingSample.from_json(data["embeddings"]) if data.get("embeddings") else None,
            first=datetime.fromisoformat(data["first"]) if data.get("first") else None,
            last=datetime.fromisoformat(data["last"]) if data.get("last") else None,
        )
