"""The catalogue's store: entries, full-text search with filters, and access requests.

SQLite by default (the same database file as the sandbox's runs), PostgreSQL by URL.
Search is the database's own full-text index: FTS5 with BM25 ranking in SQLite, a GIN
index over weighted `tsvector`s with `ts_rank` in PostgreSQL. Text is folded the same way
on both sides (accents dropped, case folded), so "Lëtzebuerg" finds "letzebuerg".
Every step of an access request is an event with who and when; nothing of the data itself
ever passes through here.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, delete, select, text, update
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from laif.catalogue import vocab
from laif.catalogue.entry import Entry
from laif.errors import BadInput
from laif.ipms.pseudonyms import canonical_text
from laif.store.db import default_url, open_engine


def _now() -> datetime:
    return datetime.now(UTC)


def fold(value: str) -> str:
    return canonical_text(value)


class CatalogueBase(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON}


class DatasetRow(CatalogueBase):
    __tablename__ = "catalogue_datasets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    identifier: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(Text)
    publisher: Mapped[str] = mapped_column(String(300))
    access_rights: Mapped[str] = mapped_column(String(16))
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    holder: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(500), default="published")
    issued: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    modified: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    fts_title: Mapped[str] = mapped_column(Text, default="")
    fts_keywords: Mapped[str] = mapped_column(Text, default="")
    fts_body: Mapped[str] = mapped_column(Text, default="")


class TermRow(CatalogueBase):
    """One filterable value of a dataset: kind (theme, format, language, publisher, access) and value."""

    __tablename__ = "catalogue_terms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("catalogue_datasets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(300))


class GenerationRow(CatalogueBase):
    """One row: a number that every change of the datasets raises (in `put`'s transaction), so that
    what is counted over all of them (the facets) is counted again only after a change, made by
    this process or any other."""

    __tablename__ = "catalogue_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)


#: Facet counts kept per catalogue, per question: at most this many questions.
FACETS_KEPT = 256


class RequestRow(CatalogueBase):
    __tablename__ = "catalogue_access_requests"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("catalogue_datasets.id", ondelete="CASCADE"), index=True)
    requester: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class EventRow(CatalogueBase):
    __tablename__ = "catalogue_access_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("catalogue_access_requests.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    who: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text, default="")


_PG_VECTOR = ("setweight(to_tsvector('simple', fts_title), 'A') || setweight(to_tsvector('simple', fts_keywords), 'B')"
              " || setweight(to_tsvector('simple', fts_body), 'C')")
FILTERS = ("theme", "publisher", "access", "format", "language")

#: status -> {action: (who may act, next status)}
TRANSITIONS = {
    "pending": {"approve": ("holder", "approved"), "reject": ("holder", "rejected"), "ask": ("holder", "more-info")},
    "more-info": {"reply": ("requester", "pending")},
}


@dataclass
class Hit:
    identifier: str
    title: str
    publisher: str
    access_rights: str
    themes: list[str]
    score: float


class Catalogue:
    def __init__(self, url: str | None = None) -> None:
        self.url = url or default_url()
        self.engine = open_engine(self.url, CatalogueBase)
        self.dialect = self.engine.dialect.name
        with self.engine.begin() as conn:
            if self.dialect == "sqlite":
                conn.execute(text(
                    "CREATE VIRTUAL TABLE IF NOT EXISTS catalogue_fts USING fts5("
                    "fts_title, fts_keywords, fts_body, tokenize='unicode61 remove_diacritics 2')"))
            elif self.dialect == "postgresql":
                # A stored, generated tsvector: ranking reads it instead of re-parsing the text of
                # every match (p95 at 10,000 datasets: 66 ms without it, 21 ms with it; bench_catalogue.py).
                conn.execute(text(f"ALTER TABLE catalogue_datasets ADD COLUMN IF NOT EXISTS fts tsvector "
                                  f"GENERATED ALWAYS AS ({_PG_VECTOR}) STORED"))
                conn.execute(text("CREATE INDEX IF NOT EXISTS catalogue_fts_gin ON catalogue_datasets USING GIN (fts)"))
            conn.execute(text("CREATE INDEX IF NOT EXISTS catalogue_terms_kv ON catalogue_terms (kind, value, dataset_id)"))
            conn.execute(text("INSERT INTO catalogue_generation (id, generation) VALUES (1, 0) ON CONFLICT DO NOTHING"))
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._facets: dict[Any, tuple[int, dict[str, list[tuple[str, str, int]]]]] = {}
        self._facets_lock = threading.Lock()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    # --- entries ------------------------------------------------------------------------------------

    def _terms(self, entry: Entry) -> list[tuple[str, str]]:
        terms = [("theme", t) for t in entry.themes] + [("format", f) for f in entry.formats]
        terms += [("language", lang) for lang in entry.languages]
        terms += [("publisher", entry.publisher), ("access", entry.access_rights)]
        return [(kind, fold(value)) for kind, value in terms]

    def put(self, entry: Entry, holder: str, source: str = "published", replace: bool = False,
            issued: datetime | None = None, modified: datetime | None = None) -> bool:
        """Store `entry`; True if new. An existing identifier is refused unless `replace`.
        Harvested entries keep their source's `issued` and `modified` dates."""
        theme_labels = [vocab.codes("data-theme").get(t, t) for t in entry.themes]
        fts = {
            "fts_title": fold(entry.title),
            "fts_keywords": fold(" ".join(entry.keywords + theme_labels)),
            "fts_body": fold(f"{entry.description} {entry.publisher}"),
        }
        with self.session() as s:
            row = s.scalar(select(DatasetRow).where(DatasetRow.identifier == entry.identifier))
            new = row is None
            if row is None:
                row = DatasetRow(identifier=entry.identifier, holder=holder)
                s.add(row)
            elif not replace:
                raise BadInput(f"identifier {entry.identifier!r} is already in the catalogue "
                               f"(published by {row.holder}); choose another or use --replace")
            elif row.source == "published" and (source != "published" or row.holder != holder):
                # Neither another holder nor a harvest may overwrite what a holder published here.
                raise BadInput(f"{entry.identifier!r} was published here by {row.holder}; only they can replace it")
            row.title, row.publisher, row.access_rights = entry.title, entry.publisher, entry.access_rights
            row.record, row.source, row.modified = entry.model_dump(mode="json"), source, modified or _now()
            if new and issued:
                row.issued = issued
            for k, v in fts.items():
                setattr(row, k, v)
            s.flush()
            s.execute(delete(TermRow).where(TermRow.dataset_id == row.id))
            s.add_all(TermRow(dataset_id=row.id, kind=k, value=v) for k, v in self._terms(entry))
            s.execute(update(GenerationRow).where(GenerationRow.id == 1)
                      .values(generation=GenerationRow.generation + 1))
            if self.dialect == "sqlite":
                s.execute(text("DELETE FROM catalogue_fts WHERE rowid = :id"), {"id": row.id})
                s.execute(text("INSERT INTO catalogue_fts (rowid, fts_title, fts_keywords, fts_body) "
                               "VALUES (:id, :fts_title, :fts_keywords, :fts_body)"), {"id": row.id, **fts})
        return new

    def get(self, identifier: str) -> DatasetRow:
        with self.session() as s:
            row = s.scalar(select(DatasetRow).where(DatasetRow.identifier == identifier))
        if row is None:
            raise BadInput(f"no dataset {identifier!r} in the catalogue", hint="laif catalogue search lists them")
        return row

    def entries(self) -> list[DatasetRow]:
        with self.session() as s:
            return list(s.scalars(select(DatasetRow).order_by(DatasetRow.identifier)))

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM catalogue_datasets")).scalar_one())

    # --- search -------------------------------------------------------------------------------------

    def _matching(self, query: str, filters: dict[str, str | None]) -> tuple[str, list[str], dict[str, Any], str, str]:
        """FROM, WHERE terms, parameters, score and order of the datasets matching `query` and `filters`."""
        unknown = set(filters) - set(FILTERS)
        if unknown:
            raise BadInput(f"unknown filter {', '.join(sorted(unknown))}; use {', '.join(FILTERS)}")
        tokens = re.findall(r"\w+", fold(query))
        params: dict[str, Any] = {}
        where, order, score = [], "d.modified DESC", "0.0"
        source = "catalogue_datasets d"
        if tokens:
            if self.dialect == "sqlite":
                source += " JOIN catalogue_fts f ON f.rowid = d.id"
                where.append("catalogue_fts MATCH :q")
                params["q"] = " ".join(f'"{t}"*' for t in tokens)
                score, order = "-bm25(catalogue_fts, 10.0, 5.0, 1.0)", "bm25(catalogue_fts, 10.0, 5.0, 1.0)"
            else:
                where.append("d.fts @@ to_tsquery('simple', :q)")
                params["q"] = " & ".join(f"{t}:*" for t in tokens)
                score = "ts_rank(d.fts, to_tsquery('simple', :q))"
                order = f"{score} DESC"
        for i, (kind, value) in enumerate((k, v) for k, v in filters.items() if v):
            where.append(f"d.id IN (SELECT dataset_id FROM catalogue_terms WHERE kind = :k{i} AND value = :v{i})")
            params[f"k{i}"], params[f"v{i}"] = kind, fold(value)
        return source, where, params, score, order

    def search(self, query: str = "", limit: int = 20, **filters: str | None) -> list[Hit]:
        """Datasets matching every word of `query` (as a prefix) and every filter, best first."""
        source, where, params, score, order = self._matching(query, filters)
        params["limit"] = limit
        sql = (f"SELECT d.identifier, d.title, d.publisher, d.access_rights, d.record, {score} AS score "
               f"FROM {source}" + (" WHERE " + " AND ".join(where) if where else "")
               + f" ORDER BY {order}, d.identifier LIMIT :limit")
        with self.engine.connect() as conn:
            rows = conn.execute(text(sql), params).all()
        hits = []
        for identifier, title, publisher, access, record, rank in rows:
            themes = (record if isinstance(record, dict) else json.loads(record)).get("themes", [])
            hits.append(Hit(identifier, title, publisher, access, themes, float(rank)))
        return hits

    def facets(self, query: str = "", kinds: tuple[str, ...] = FILTERS, **filters: str | None
               ) -> dict[str, list[tuple[str, str, int]]]:
        """For each kind of filter, its values among the datasets matching `query` and `filters`:
        (value as filtered, value as written, number of datasets), most datasets first. Counting
        reads every dataset's terms (20 ms at 10,000 datasets): an answer is kept until the
        catalogue's generation moves."""
        key = (query, kinds, tuple(sorted(filters.items())))
        with self.engine.connect() as conn:
            generation = conn.execute(text("SELECT generation FROM catalogue_generation WHERE id = 1")).scalar()
        kept = self._facets.get(key)
        if kept is not None and generation is not None and kept[0] == generation:
            return {kind: list(values) for kind, values in kept[1].items()}
        out = self._count_facets(query, kinds, filters)
        if generation is not None:  # read before counting: a change made meanwhile only counts again
            with self._facets_lock:
                if len(self._facets) >= FACETS_KEPT:
                    self._facets.pop(next(iter(self._facets)))
                self._facets[key] = (generation, out)
        return {kind: list(values) for kind, values in out.items()}

    def _count_facets(self, query: str, kinds: tuple[str, ...], filters: dict[str, str | None]
                      ) -> dict[str, list[tuple[str, str, int]]]:
        source, where, params, _, _ = self._matching(query, filters)
        names = ", ".join(f":kind{i}" for i in range(len(kinds)))
        params.update({f"kind{i}": kind for i, kind in enumerate(kinds)})
        sql = f"SELECT t.kind, t.value, count(*) FROM catalogue_terms t WHERE t.kind IN ({names})"
        if where:  # without a query or filter every dataset counts: no IN over all of them (6x slower)
            sql += f" AND t.dataset_id IN (SELECT d.id FROM {source} WHERE {' AND '.join(where)})"
        with self.engine.connect() as conn:
            rows = conn.execute(text(sql + " GROUP BY t.kind, t.value"), params).all()
            # Terms are folded; a publisher is shown as its datasets write it.
            written = {fold(p): p for p in conn.execute(text("SELECT DISTINCT publisher FROM catalogue_datasets")
                                                        ).scalars()} if "publisher" in kinds else {}
        out: dict[str, list[tuple[str, str, int]]] = {kind: [] for kind in kinds}
        for kind, value, count in rows:
            out[kind].append((value, written.get(value, value) if kind == "publisher" else value, int(count)))
        for values in out.values():
            values.sort(key=lambda v: (-v[2], v[0]))
        return out

    # --- access requests ----------------------------------------------------------------------------

    def request_access(self, identifier: str, who: str, purpose: str) -> str:
        dataset = self.get(identifier)
        if dataset.source != "published":
            raise BadInput(f"{identifier} was harvested ({dataset.source.removeprefix('harvest:')}); "
                           "request access at its own catalogue")
        if dataset.access_rights == "public":
            raise BadInput(f"{identifier} is public: no request is needed", hint="its distribution says where to get it")
        if len(purpose.strip()) < 10:
            raise BadInput("--purpose: say what the data is for, in a sentence (at least 10 characters)")
        request_id = "req-" + secrets.token_hex(4)
        with self.session() as s:
            s.add(RequestRow(id=request_id, dataset_id=dataset.id, requester=who, purpose=purpose.strip(),
                             status="pending"))
            s.flush()
            s.add(EventRow(request_id=request_id, who=who, action="requested", message=purpose.strip()))
        return request_id

    def act(self, request_id: str, who: str, action: str, message: str = "") -> str:
        """Apply `action` by `who` to a request; returns the new status."""
        with self.session() as s:
            req = s.get(RequestRow, request_id)
            if req is None:
                raise BadInput(f"no access request {request_id!r}", hint="laif catalogue requests lists them")
            dataset = s.get(DatasetRow, req.dataset_id)
            assert dataset is not None
            allowed = TRANSITIONS.get(req.status, {})
            if action not in allowed:
                can = ", ".join(allowed) or "nothing: the request is closed"
                raise BadInput(f"{request_id} is {req.status}; what can be done now: {can}")
            role, status = allowed[action]
            expected = dataset.holder if role == "holder" else req.requester
            if who != expected:
                raise BadInput(f"only the {role} ({expected}) can {action} {request_id}; you are {who}")
            if action in {"reject", "ask", "reply"} and len(message.strip()) < 3:
                raise BadInput(f"--message: say why (a {action} without a message cannot be answered)")
            req.status = status
            s.add(EventRow(request_id=request_id, who=who, action=action, message=message.strip()))
        return status

    def requests(self, identifier: str | None = None, who: str | None = None) -> list[dict[str, Any]]:
        """Requests with their history; `who` limits them to a requester's or a holder's."""
        with self.session() as s:
            stmt = select(RequestRow, DatasetRow).join(DatasetRow, DatasetRow.id == RequestRow.dataset_id)
            if identifier:
                stmt = stmt.where(DatasetRow.identifier == identifier)
            out = []
            for req, dataset in s.execute(stmt.order_by(RequestRow.created_at)).all():
                if who and who not in {req.requester, dataset.holder}:
                    continue
                events = s.scalars(select(EventRow).where(EventRow.request_id == req.id).order_by(EventRow.id))
                out.append({
                    "id": req.id, "dataset": dataset.identifier, "requester": req.requester,
                    "holder": dataset.holder, "purpose": req.purpose, "status": req.status,
                    "history": [{"at": e.at.isoformat(), "who": e.who, "action": e.action, "message": e.message}
                                for e in events],
                })
        return out
