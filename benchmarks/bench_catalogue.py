"""Catalogue search at 10,000 datasets, in SQLite and PostgreSQL, side by side with a scan.

10,000 made-up entries (titles, descriptions and keywords drawn from word lists, themes,
publishers, access rights, formats and languages varied), then 300 searches: one or two
words (as prefixes), words with a filter, and filters alone. For each database: p50 and p95
of `Catalogue.search` (ranked, limit 20), and a naive baseline on the same database, a
`LIKE '%word%'` scan over title and description that ranks all its matches (title hits
first), with the ratio of the two p95s.

Target: p95 under 50 ms at 10,000 datasets.

Run: .venv/bin/python benchmarks/bench_catalogue.py [DATASETS]
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from laif.catalogue import vocab
from laif.catalogue.entry import Entry
from laif.catalogue.store import Catalogue

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' throw-away PostgreSQL cluster
from tests.conftest import postgres_cluster  # noqa: E402

SUBJECTS = [
    "hospital stays", "air quality", "commuters", "school results", "energy use", "water quality",
    "housing prices", "road accidents", "tourism nights", "company births", "wages", "unemployment",
    "broadband coverage", "bus punctuality", "noise levels", "forest cover", "crop yields",
    "waste collection", "elections", "library loans", "cycling counts", "parking occupancy",
    "electricity prices", "population",
]
BY = ["commune", "canton", "age group", "sex", "month", "year", "sector", "nationality", "region", "hour"]
PLACES = ["Luxembourg", "Esch-sur-Alzette", "Differdange", "Dudelange", "Ettelbruck", "Diekirch",
          "Wiltz", "Echternach", "Remich", "Grevenmacher", "Mersch", "Clervaux"]
PUBLISHERS = [f"{kind} {place}" for kind in ("Observatory", "Agency", "City of", "Institute")
              for place in PLACES[:6]]
WORDS = [
    "survey", "register", "sensor", "counts", "daily", "monthly", "annual", "open", "linked",
    "anonymised", "aggregated", "quality", "mobility", "health", "climate", "economy", "education",
    "transport", "border", "frontaliers", "Pendler", "Spidol", "Gemeng", "commune", "réseau",
    "données", "statistiques",
]


def make_entries(n: int, rng: random.Random) -> list[Entry]:
    themes = list(vocab.codes("data-theme"))
    out = []
    for i in range(n):
        subject, by, place = rng.choice(SUBJECTS), rng.choice(BY), rng.choice(PLACES)
        out.append(Entry.model_validate({
            "identifier": f"ds-{i:05d}",
            "title": f"{subject.capitalize()} by {by} in {place}",
            "description": f"{subject.capitalize()} in {place}, by {by}. " + " ".join(rng.sample(WORDS, 8)) + ".",
            "publisher": rng.choice(PUBLISHERS),
            "contact": {"name": "Data desk", "email": "desk@example.lu"},
            "licence": rng.choice(list(vocab.codes("licence"))),
            "access_rights": rng.choice(["public", "restricted", "non-public"]),
            "themes": rng.sample(themes, rng.randint(1, 2)),
            "keywords": rng.sample(WORDS, 3),
            "languages": rng.sample(["en", "fr", "de", "lb"], rng.randint(1, 2)),
            "profile": {"format": rng.choice(["csv", "parquet", "json"])},
        }))
    return out


def queries(rng: random.Random, n: int) -> list[tuple[str, dict[str, str]]]:
    words = [w for s in SUBJECTS for w in s.split()] + [p.lower() for p in PLACES] + WORDS
    out: list[tuple[str, dict[str, str]]] = []
    for i in range(n):
        kind = i % 4
        if kind == 0:
            out.append((rng.choice(words), {}))
        elif kind == 1:
            out.append((f"{rng.choice(words)} {rng.choice(words)[:4]}", {}))
        elif kind == 2:
            out.append((rng.choice(words), {"theme": rng.choice(list(vocab.codes("data-theme")))}))
        else:
            out.append(("", {"access": rng.choice(["public", "restricted"]), "format": rng.choice(["csv", "json"])}))
    return out


def timed(fn, items):  # type: ignore[no-untyped-def]
    times = []
    for item in items:
        started = time.perf_counter()
        fn(*item)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * len(times)) - 1]


def bench(url: str, entries: list[Entry], qs: list[tuple[str, dict[str, str]]]) -> None:
    cat = Catalogue(url)
    started = time.perf_counter()
    for e in entries:
        cat.put(e, "bench")
    load_s = time.perf_counter() - started
    with cat.engine.connect() as conn:
        conn.execute(text("ANALYZE"))

    def indexed(q: str, filters: dict[str, str]) -> None:
        cat.search(q, limit=20, **filters)

    def scan(q: str, _filters: dict[str, str]) -> None:
        # Every match, ranked the simple way (title hits first): what a search without an index does.
        words = q.lower().split() or [""]
        where = " AND ".join(f"(fts_title LIKE :w{i} OR fts_body LIKE :w{i})" for i in range(len(words)))
        params = {f"w{i}": f"%{w}%" for i, w in enumerate(words)}
        with cat.engine.connect() as conn:
            rows = conn.execute(text(f"SELECT identifier, fts_title FROM catalogue_datasets WHERE {where}"),
                                params).all()
        sorted(rows, key=lambda r: -sum(w in r[1] for w in words))[:20]

    indexed(*qs[0])  # warm the caches alike
    scan(*qs[0])
    p50, p95 = timed(indexed, qs)
    s50, s95 = timed(scan, qs)
    hits = sum(bool(cat.search(q, limit=20, **f)) for q, f in qs)
    print(f"{cat.dialect}: {cat.count():,} datasets loaded in {load_s:.1f} s; {len(qs)} searches, {hits} with hits")
    print(f"  laif search (ranked, filters): p50 {p50:.2f} ms, p95 {p95:.2f} ms "
          f"({'meets' if p95 < 50 else 'MISSES'} the 50 ms target)")
    print(f"  LIKE scan baseline:            p50 {s50:.2f} ms, p95 {s95:.2f} ms; p95 ratio scan/search {s95 / p95:.1f}x")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    rng = random.Random(2026)
    entries = make_entries(n, rng)
    qs = queries(rng, 300)
    with tempfile.TemporaryDirectory() as tmp:
        bench(f"sqlite:///{Path(tmp) / 'catalogue.db'}", entries, qs)
        try:
            (Path(tmp) / "pg").mkdir()
            with postgres_cluster(Path(tmp) / "pg") as url:
                bench(url, entries, qs)
        except (RuntimeError, OSError) as exc:
            print(f"postgresql: not measured ({exc})")


if __name__ == "__main__":
    main()
