"""Run records, answers, verdicts and the response cache, in SQLite or PostgreSQL.

The default database is a SQLite file under `$LAIF_HOME` (default `~/.laif`);
give `--db postgresql+psycopg://...` or set `LAIF_DB_URL` to use a server.
Every answer is committed the moment it arrives, so a killed run loses nothing
that was answered.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from laif._files import laif_home
from laif.errors import BadInput

#: Version of the run-record layout; readers check it (see docs/run-record.md).
RECORD_SCHEMA_VERSION = 1


def _now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class RunRow(Base):
    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    schema_version: Mapped[int] = mapped_column(Integer, default=RECORD_SCHEMA_VERSION)
    spec_hash: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))  # running | incomplete | complete
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    suite: Mapped[str] = mapped_column(String(64))
    suite_version: Mapped[str] = mapped_column(String(64))
    library_hash: Mapped[str] = mapped_column(String(64))
    languages: Mapped[list[Any]] = mapped_column(JSON)
    limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    seed: Mapped[int] = mapped_column(Integer)
    model_spec: Mapped[str] = mapped_column(String(500))
    model_name: Mapped[str] = mapped_column(String(500))
    model_key: Mapped[str] = mapped_column(String(500))
    model_identity: Mapped[dict[str, Any]] = mapped_column(JSON)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    laif_version: Mapped[str] = mapped_column(String(32))
    environment: Mapped[dict[str, Any]] = mapped_column(JSON)
    total_prompts: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class _PerCase:
    """Columns shared by answers and verdicts: which run, and where in the suite."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), index=True)
    category: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    template_id: Mapped[str] = mapped_column(String(128))


class ExchangeRow(_PerCase, Base):
    """One prompt sent (or answered from the cache) and what came back."""

    __tablename__ = "exchanges"
    __table_args__ = (UniqueConstraint("run_id", "prompt_id"),)

    prompt_id: Mapped[str] = mapped_column(String(40))
    cache_key: Mapped[str] = mapped_column(String(64))
    groups: Mapped[list[Any]] = mapped_column(JSON)
    messages: Mapped[list[Any]] = mapped_column(JSON)
    prompt_sha256: Mapped[str] = mapped_column(String(64))
    response: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    source: Mapped[str] = mapped_column(String(8))  # model | cache
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    latency_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class VerdictRow(_PerCase, Base):
    __tablename__ = "verdicts"
    __table_args__ = (UniqueConstraint("run_id", "case_id"),)

    case_id: Mapped[str] = mapped_column(String(300))
    oracle: Mapped[dict[str, Any]] = mapped_column(JSON)
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    prompt_ids: Mapped[list[Any]] = mapped_column(JSON)
    verdict: Mapped[str] = mapped_column(String(16))
    parsed: Mapped[Any] = mapped_column(JSON, nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    provenance: Mapped[str] = mapped_column(Text)


class JudgeRow(Base):
    """The optional judge model's reading of one case, beside the oracle's verdict."""

    __tablename__ = "judge_readings"
    __table_args__ = (UniqueConstraint("run_id", "case_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), index=True)
    case_id: Mapped[str] = mapped_column(String(300))
    judge_model_key: Mapped[str] = mapped_column(String(500))
    verdict: Mapped[str] = mapped_column(String(16))
    parsed: Mapped[Any] = mapped_column(JSON, nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    replies: Mapped[list[Any]] = mapped_column(JSON)
    agrees: Mapped[bool] = mapped_column(Boolean)


class CacheRow(Base):
    """Content-addressed answers: model identity + parameters + messages -> text.
    Errors are never cached."""

    __tablename__ = "response_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_key: Mapped[str] = mapped_column(String(500))
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


def _cache_put(s: Session, key: str, model_key: str, response: str) -> None:
    """Add one cache entry in session `s` unless the key is there already."""
    if s.get(CacheRow, key) is None:
        s.add(CacheRow(key=key, model_key=model_key, response=response))


def default_url() -> str:
    if os.environ.get("LAIF_DB_URL"):
        return os.environ["LAIF_DB_URL"]
    return f"sqlite:///{laif_home() / 'laif.db'}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL keeps committed answers safe when the process is killed, and is fast.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def open_engine(url: str, base: type[DeclarativeBase], make: Callable[[Engine], None] | None = None) -> Engine:
    """An engine on `url` (SQLite's folder made, its pragmas set) with `base`'s tables created, or
    made by `make` (a store with migrations)."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(url, future=True)
    except (ArgumentError, ImportError) as exc:
        raise BadInput(f"--db: cannot use database URL ({exc})") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        if make is None:
            base.metadata.create_all(engine)
        else:
            make(engine)
    except OperationalError as exc:
        raise BadInput(f"--db: cannot open the database ({exc.orig})") from exc
    return engine


class TableStore:
    """Sessions on one group of tables (`tables`, a DeclarativeBase) in laif's database: the URL
    given, else `LAIF_DB_URL`, else SQLite under `$LAIF_HOME`. Each service's store is one."""

    tables: ClassVar[type[DeclarativeBase]]

    def __init__(self, url: str | None = None) -> None:
        self.url = url or default_url()
        self.engine: Engine = open_engine(self.url, self.tables, self._make_tables())
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def _make_tables(self) -> Callable[[Engine], None] | None:
        """What makes the tables on a database: None for `create_all`."""
        return None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self._sessions() as session, session.begin():
            yield session


_Shared = TypeVar("_Shared")
_SHARED: dict[tuple[type[Any], str], Any] = {}
_SHARED_LOCK = threading.Lock()


def shared(cls: type[_Shared], url: str | None = None) -> _Shared:
    """The one `cls` store (made as `cls(url)`, holding its engine in `.engine`) of this process on
    `url`, made on first use:
    for a server, where a store made per request would open an engine and a connection pool per
    request (PostgreSQL then refuses clients). A SQLite file deleted since is opened afresh."""
    url = url or default_url()
    key = (cls, url)
    with _SHARED_LOCK:
        found = _SHARED.get(key)
        if found is not None and url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).expanduser().exists():
            found.engine.dispose()
            found = None
        if found is None:
            found = _SHARED[key] = cls(url)  # type: ignore[call-arg]
    assert isinstance(found, cls)
    return found


class Store(TableStore):
    """The one place runs are read and written."""

    tables = Base

    def _make_tables(self) -> Callable[[Engine], None] | None:
        """Alembic's revisions (laif.store.migrate), not `create_all`."""
        from laif.store import migrate

        return migrate.upgrade

    # --- runs ---------------------------------------------------------------
    def resumable_run(self, spec_hash: str) -> RunRow | None:
        with self.session() as s:
            stmt = (
                select(RunRow)
                .where(RunRow.spec_hash == spec_hash, RunRow.status != "complete")
                .order_by(RunRow.created_at.desc())
            )
            return s.scalars(stmt).first()

    def add_run(self, run: RunRow) -> RunRow:
        with self.session() as s:
            s.add(run)
        return run

    def update_run(self, run_id: str, **fields: Any) -> None:
        with self.session() as s:
            row = s.get(RunRow, run_id)
            if row is None:
                raise KeyError(run_id)
            for key, value in fields.items():
                setattr(row, key, value)

    def get_run(self, run_id: str) -> RunRow | None:
        with self.session() as s:
            row = s.get(RunRow, run_id)
            if row is None:
                matches = s.scalars(select(RunRow).where(RunRow.id.startswith(run_id))).all()
                row = matches[0] if len(matches) == 1 else None
            return row

    def require_run(self, run_id: str) -> RunRow:
        """The run with this id (or unique prefix of one); BadInput naming it when there is none."""
        row = self.get_run(run_id)
        if row is None:
            raise BadInput(f"no run {run_id!r}", hint="laif leaderboard --json lists the runs")
        return row

    def runs(self, suite: str | None = None, status: str | None = "complete") -> list[RunRow]:
        with self.session() as s:
            stmt = select(RunRow).order_by(RunRow.created_at)
            if suite:
                stmt = stmt.where(RunRow.suite == suite)
            if status:
                stmt = stmt.where(RunRow.status == status)
            return list(s.scalars(stmt).all())

    # --- answers ------------------------------------------------------------
    def answered_prompt_ids(self, run_id: str) -> set[str]:
        with self.session() as s:
            stmt = select(ExchangeRow.prompt_id).where(
                ExchangeRow.run_id == run_id, ExchangeRow.response.is_not(None)
            )
            return set(s.scalars(stmt).all())

    def cached(self, keys: Iterable[str]) -> dict[str, str]:
        keys = list(keys)
        out: dict[str, str] = {}
        with self.session() as s:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                for row in s.scalars(select(CacheRow).where(CacheRow.key.in_(chunk))):
                    out[row.key] = row.response
        return out

    def record_exchange(self, exchange: ExchangeRow, *, cache_model_key: str | None = None) -> None:
        """Store one answer (and, for a fresh model answer, its cache entry) in one commit."""
        with self.session() as s:
            old = s.scalars(
                select(ExchangeRow).where(
                    ExchangeRow.run_id == exchange.run_id, ExchangeRow.prompt_id == exchange.prompt_id
                )
            ).first()
            if old is not None:
                exchange.attempts += old.attempts
                s.delete(old)
                s.flush()
            s.add(exchange)
            if cache_model_key and exchange.response is not None:
                _cache_put(s, exchange.cache_key, cache_model_key, exchange.response)

    def exchanges(self, run_id: str) -> list[ExchangeRow]:
        with self.session() as s:
            return list(s.scalars(select(ExchangeRow).where(ExchangeRow.run_id == run_id).order_by(ExchangeRow.id)))

    def remember(self, key: str, model_key: str, response: str) -> None:
        """Put one answer in the cache (no-op when the key is there already)."""
        with self.session() as s:
            _cache_put(s, key, model_key, response)

    # --- verdicts and the judge model's readings ------------------------------
    def _replace(self, table: type[VerdictRow] | type[JudgeRow], run_id: str, rows: list[Any]) -> None:
        with self.session() as s:
            for old in s.scalars(select(table).where(table.run_id == run_id)):
                s.delete(old)
            s.flush()
            s.add_all(rows)

    def _of_run(self, table: type[VerdictRow] | type[JudgeRow], run_id: str) -> list[Any]:
        with self.session() as s:
            return list(s.scalars(select(table).where(table.run_id == run_id).order_by(table.id)))

    def replace_verdicts(self, run_id: str, rows: list[VerdictRow]) -> None:
        self._replace(VerdictRow, run_id, rows)

    def verdicts(self, run_id: str) -> list[VerdictRow]:
        return self._of_run(VerdictRow, run_id)

    def replace_judgements(self, run_id: str, rows: list[JudgeRow]) -> None:
        self._replace(JudgeRow, run_id, rows)

    def judgements(self, run_id: str) -> list[JudgeRow]:
        return self._of_run(JudgeRow, run_id)
