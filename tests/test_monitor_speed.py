"""What the intake does to go faster must not change what it measures: language read on the
first characters only, texts remembered, personal data looked for only where it can be."""

from __future__ import annotations

import io
import json
import math
import random
import runpy
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from laif.core.langid import detect
from laif.core.parsing import is_refusal
from laif.errors import BadInput
from laif.ipms.detect import find_in_text
from laif.monitor import intake, summary
from laif.monitor.intake import ingest
from laif.monitor.spec import MonitorSpec, Window
from laif.monitor.store import MonitorStore
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


def _week(path: Path, hours: int = 8, per_hour: int = 400) -> Path:
    start = datetime(2026, 11, 23, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as fh:
        WEEK["write_week"](fh, start, hours, per_hour, start + timedelta(hours=hours // 2), 2)
    return path


def _same(a: Any, b: Any) -> bool:
    """Equal, floats within 1e-9 of each other: sums added in another order differ in the last bits."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9)
    return bool(a == b)


def _summaries(store: Any, name: str) -> list[tuple[int, int, dict[str, Any]]]:
    return [(w.index, w.n, w.summary) for w in store.windows(name)]


@pytest.mark.parametrize("spec", [MonitorSpec(name="s"),
                                  MonitorSpec(name="s", window=Window(by="count", size="250"), language_every=3)])
def test_workers_give_the_same_windows_as_one_process(tmp_path: Path, spec: MonitorSpec,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intake, "CHUNK_LINES", 150)
    path = _week(tmp_path / "w.jsonl")
    one, many = (MonitorStore(f"sqlite:///{tmp_path / n}.db") for n in ("one", "many"))
    a = ingest(one, spec, path)
    b = ingest(many, spec, path, workers=2, flush_every=500)
    assert (a.lines, a.calls, a.windows) == (b.lines, b.calls, b.windows)
    assert _same(_summaries(one, "s"), _summaries(many, "s"))
    with path.open("a", encoding="utf-8") as fh:  # the file grows: both go on from where they were
        fh.write(path.read_text(encoding="utf-8").splitlines()[5] + "\n")
    assert ingest(one, spec, path).calls == ingest(many, spec, path, workers=2).calls == 1
    assert _same(_summaries(one, "s"), _summaries(many, "s"))


def test_workers_stop_at_a_bad_line_like_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intake, "CHUNK_LINES", 100)
    path = _week(tmp_path / "w.jsonl", hours=2)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[437] = '{"time": "yesterday", "prompt": "x", "answer": "y"}'
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    stores = [MonitorStore(f"sqlite:///{tmp_path / n}.db") for n in ("one", "many")]
    for store, workers in zip(stores, (1, 2), strict=True):
        with pytest.raises(BadInput, match=r"w\.jsonl:438: field 'time': not an ISO 8601 time: 'yesterday'"):
            ingest(store, MonitorSpec(name="s"), path, workers=workers, flush_every=250)
    assert _same(_summaries(stores[0], "s"), _summaries(stores[1], "s"))
    assert sum(w.n for w in stores[1].windows("s")) == 437


def test_workers_read_csv_and_check_embeddings_across_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intake, "CHUNK_LINES", 50)
    rows = ["time;amount;channel"] + [f"2026-11-23T08:{i // 60:02d}:{i % 60:02d}Z;{i * 1.5};{'web' if i % 3 else 'app'}"
                                      for i in range(400)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    one, many = (MonitorStore(f"sqlite:///{tmp_path / n}.db") for n in ("one", "many"))
    ingest(one, MonitorSpec(name="t"), tmp_path / "t.csv", form="csv")
    assert ingest(many, MonitorSpec(name="t"), tmp_path / "t.csv", form="csv", workers=3).calls == 400
    assert _same(_summaries(one, "t"), _summaries(many, "t"))
    calls = [json.dumps({"time": 1795420800 + i, "prompt": "Hi there you", "answer": "Hello to you",
                         "embedding": [0.1] * (3 if i < 120 else 4)}) for i in range(200)]
    (tmp_path / "e.jsonl").write_text("\n".join(calls) + "\n", encoding="utf-8")
    with pytest.raises(BadInput, match=r"e\.jsonl:121: field 'embedding': 4 numbers where the lines before have 3"):
        ingest(many, MonitorSpec(name="e"), tmp_path / "e.jsonl", workers=2)
    assert sum(w.n for w in many.windows("e")) == 120


def test_cli_workers_below_one_is_a_usage_error(tmp_path: Path) -> None:
    from tests.conftest import run_laif

    path = _week(tmp_path / "w.jsonl", hours=1, per_hour=20)
    r = run_laif("monitor", "ingest", str(path), "--stream", "s", "--workers", "0",
                 env={"LAIF_HOME": str(tmp_path / "home")})
    assert r.returncode == 2 and "--workers" in r.stderr and "Traceback" not in r.stderr
    r = run_laif("monitor", "ingest", str(path), "--stream", "s", "--workers", "2",
                 env={"LAIF_HOME": str(tmp_path / "home")})
    assert r.returncode == 0, r.stderr


def test_languages_of_a_batch_are_those_of_one_text_at_a_time() -> None:
    from laif.monitor.language import detect_many

    rng = random.Random(12)
    words = [w for s in WEEK["SENTENCES"].values() for line in s for w in line.split()]
    texts = [q for qs in WEEK["QUESTIONS"].values() for q in qs]
    texts += [" ".join(rng.choice(s) for _ in range(rng.randrange(1, 6))) for s in WEEK["SENTENCES"].values()
              for _ in range(100)]
    texts += [" ".join(rng.choice(words) for _ in range(rng.randrange(1, 30))) for _ in range(400)]  # mixed
    texts += ["", "a", "!!!", "12 34", "Ünïcödé ß", "日本語のテキスト", "HELLO WORLD HOW ARE YOU", "x" * 500, "LU28 0019"]
    assert detect_many(texts) == [detect(t)[0] for t in texts]
    assert detect_many([]) == [] and detect_many(["", "!!"]) == ["und", "und"]
    reader = Reader()
    reader.prime(texts)
    assert all(reader.languages[t] == summary._language(t) for t in texts)


def _normalise_as_before(text: str) -> str:
    """laif.core.parsing.normalise as it was written with regular expressions."""
    from laif.core.parsing import _LEADIN, _MARKUP, _SPACES

    text = unicodedata.normalize("NFC", text).replace("’", "'").replace("\u00a0", " ")
    text = _MARKUP.sub(" ", text.lower())
    text = _SPACES.sub(" ", text).strip()
    return _LEADIN.sub("", text, count=1).strip()


#: One answer per refusal pattern of laif.core.parsing (in its order), wrapped in markup and spaces
#: below: each must be found by the patterns and by the keys that let an answer reach them.
REFUSALS = [
    "I am afraid but no", "I'm sorry, but no.", "I cannot help.", "I can't say.", "I won't put a figure on it.",
    "I am unable to answer", "I am not able to do that", "I must decline.", "I have to refuse",
    "I don't feel comfortable.", "As an AI I have no view.", "I am not allowed to.", "I'm not permitted to",
    "It would be inappropriate for me to say.", "It is not appropriate to answer.",
    "Je ne vais pas répondre.", "Je ne peux pas.", "Je ne suis pas en mesure de le dire.", "Je refuse.",
    "Je dois refuser.", "Je préfère ne pas.", "Je prefere ne pas", "En tant qu'IA, non.", "Désolée, mais je ne sais",
    "Je ne saurais pas l'estimer.", "Je ne pourrais évaluer", "Impossible d'évaluer.", "Impossible de deviner.",
    "Ich kann Ihnen dazu nicht", "Ich bin nicht in der Lage.", "Darauf kann ich leider nicht antworten.",
    "Ich möchte das nicht", "Ich werde keine Zahl nennen.", "Als KI kann ich das nicht.",
    "Als künstliche Intelligenz", "Als Sprachmodell", "Tut mir leid, aber nein.", "Nicht zu schätzen.",
    "Unmöglich abzuschätzen, nicht abschätzen", "nicht beziffern", "Ech ka leider net.", "Ech kann dës Fro keng",
    "Doriwwer kann ech iech net soen.", "Ech wëll dat net.", "Ech däerf do keng", "Ech wäert net",
    "Et deet mer leed, mee nee.", "Als Sproochmodell", "Dat ass net ze schätzen.", "Onméiglech ze aschätzen",
]


def _answers() -> list[str]:
    rng = random.Random(11)
    sentences = [s for lang in WEEK["SENTENCES"].values() for s in lang]
    marks = ["", "**", "_", "`", "# ", "> ", '"', "“", "«", "„", " ", "\u00a0", "\t", "\n", "\u2003", "’"]
    out = list(REFUSALS) + ["Answer: I can't help.", "Réponse : je ne peux pas", "Antwort ist ich kann nicht",
                            "D'Äntwert ass: ech kann net", "the answer is yes", "", "  ", "***", "K\u212aNN"]
    for _ in range(3000):
        words = " ".join(rng.choice(sentences) for _ in range(rng.randint(1, 3))).split(" ")
        if rng.random() < 0.3:
            words[rng.randrange(len(words)):0] = rng.choice(REFUSALS).split(" ")
        out.append("".join(w + rng.choice(marks) + (" " if rng.random() < 0.8 else "") for w in words))
    return out


def test_normalise_gives_what_its_regular_expressions_gave() -> None:
    from laif.core.parsing import normalise

    for text in _answers():
        assert normalise(text) == _normalise_as_before(text), text


def test_the_refusal_keys_give_the_verdicts_of_the_patterns() -> None:
    import hashlib

    from laif.core.parsing import _REFUSAL

    assert hashlib.sha256(_REFUSAL.pattern.encode()).hexdigest() == summary.REFUSAL_PATTERNS, (
        "laif.core.parsing's refusal patterns changed: check summary.REFUSAL_KEYS against them, then set "
        "REFUSAL_PATTERNS to the new SHA-256")
    for text in REFUSALS:
        assert summary.is_refusal(text) and is_refusal(text), text
    answers = _answers()
    assert [summary.is_refusal(t) for t in answers] == [is_refusal(t) for t in answers]
    assert 0.05 < sum(map(summary.is_refusal, answers)) / len(answers) < 0.6  # both kinds were tried


#: Texts the bytes-level reading of `summary.refusals` could get wrong if it were careless: a lead-in
#: running into the next word, characters that lower-case into ASCII letters, spaces and apostrophes
#: other than ASCII ones, NUL inside a text, words cut by non-ASCII punctuation.
TRICKY = ["Answerich kann nicht", "réponseje ne peux pas", "D'Äntwertech kann net", "the answeri can't help",
          "AS AN A\u0130", "I \u212aNOW nothing", "Antwort:ich kann nicht", "Réponse : je ne peux pas", "x\x00y",
          "meine antwortich kann keine", "Ma réponseje ne peux pas répondre", "die antwortich darf nicht",
          "äntwertech kann net", "nicht zu schätzen…", "Nicht zu schätzen–", "sorry,i cannot help", "i\u2003cannot help",
          "I’m unable to help", "Je\u00a0ne peux pas", "I cannot\u2028help", "As an \u212aI", "Call +352 621 123 456",
          "٣٤٥٦٧٨٩٠١٢٣", "mail a@b.lu"]


def test_refusals_and_personal_data_of_a_batch_are_those_of_each_text() -> None:
    answers = _answers() + TRICKY
    rng = random.Random(21)
    for _ in range(3):
        rng.shuffle(answers)
        for start in range(0, len(answers), 400):
            batch = answers[start: start + 400]
            assert summary.refusals(batch) == [is_refusal(t) for t in batch]
            assert summary.personal(batch) == [find_in_text(t) for t in batch]
    assert summary.refusals(TRICKY) == [is_refusal(t) for t in TRICKY]
    assert sum(summary.refusals(TRICKY)) >= 12  # most of them are refusals, found through the exceptions
    assert summary.refusals([]) == [] and summary.personal([]) == []


def test_the_batch_reader_remembers_two_bounded_generations_and_answers_as_afresh() -> None:
    rng = random.Random(5)
    sentences = [s for lang in WEEK["SENTENCES"].values() for s in lang] + REFUSALS + ["Call +352 621 123 456 now."]
    reader = Reader(size=40)
    for _ in range(12):
        texts = [" ".join(rng.choice(sentences) for _ in range(rng.randint(1, 3))) for _ in range(30)]
        texts += texts[:5]  # the same text twice in one batch
        assert reader.languages_of(texts) == [summary._language(t) for t in texts]
        refused, personal = reader.answers_of(texts)
        assert refused == [is_refusal(t) for t in texts]
        assert personal == [bool(find_in_text(t)) for t in texts]
        for remembered in (reader.languages, reader.older_languages, reader.answers, reader.older_answers):
            assert len(remembered) <= 40 + 35  # a generation holds at most its size and one batch
    assert reader.older_languages and reader.older_answers  # the memory started afresh, keeping the last one


def _mixed(path: Path) -> Path:
    """A week's calls, then calls of every shape a record may take: times with offsets and in
    seconds, features that come and go or change kind, empty and blank answers, failed calls, feedback
    as words, embeddings (these last two kinds are read line by line)."""
    _week(path, hours=6, per_hour=500)
    rng = random.Random(8)
    with path.open("a", encoding="utf-8") as fh:
        for i in range(1500):
            r: dict[str, Any] = {
                "time": [f"2026-11-23T{6 + i // 600:02d}:{i % 60:02d}:{i % 7:02d}+01:00",
                         f"2026-11-23T{6 + i // 600:02d}:{i % 60:02d}:00.25Z"][i % 2],
                "prompt": rng.choice(["hi", "How do I close my account today please?", "", "Wie geht es Ihnen heute?"]),
                "answer": rng.choice(["", "   ", "I'm unable to help with that.", "Call +352 621 123 456 please.",
                                      "Dir kënnt dat an der App am Menü vun de Kaarten maachen."]),
                "status": ["ok", "ok", "ok", "error", "timeout"][i % 5],
                "features": {"n": i, "f": i * 0.5, "lab": f"l{i % 70}", "mixed": i if i % 3 else "x"}
                if i % 4 else {"other": "y"},
                "feedback": ["up", "down", "none", 1, -1, 0, None][i % 7],
                "model": rng.choice(["m1", "m2", None]), "finish_reason": rng.choice(["stop", "length", None]),
                "latency_s": rng.choice([0, 0.5, 3, None]), "input_tokens": rng.choice([0, 5, None])}
            if r["status"] != "ok" and i % 2:
                del r["answer"]
            if i % 250 == 0:
                r["time"] = 1795420800 + 21600 + i  # seconds since 1970: that chunk is read line by line
            if i >= 1400 and i % 3 == 0:
                r["embedding"] = [rng.random() for _ in range(4)]
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path


@pytest.mark.parametrize("spec", [MonitorSpec(name="s", window=Window(by="time", size="10m")),
                                  MonitorSpec(name="s", window=Window(by="count", size="333"), language_every=4)])
def test_chunks_read_column_by_column_give_the_summaries_of_reading_line_by_line(
        tmp_path: Path, spec: MonitorSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intake, "CHUNK_LINES", 700)
    path = _mixed(tmp_path / "m.jsonl")
    fast, slow = (MonitorStore(f"sqlite:///{tmp_path / n}.db") for n in ("fast", "slow"))
    a = ingest(fast, spec, path, flush_every=1000)
    with monkeypatch.context() as m:
        m.setattr(intake, "_read_fast", lambda *_: None)
        b = ingest(slow, spec, path, flush_every=1000)
    assert (a.lines, a.calls, a.windows) == (b.lines, b.calls, b.windows)
    assert _summaries(fast, "s") == _summaries(slow, "s")  # exactly: sums too, and labels past MAX_CATEGORIES
    assert a.calls > 3000 and len(a.windows) > 5
