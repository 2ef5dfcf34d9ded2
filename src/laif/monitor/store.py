"""Monitoring's tables: streams, window summaries, intake progress, kept calls, alert history and
incidents. They live in laif's database (`--db`, `LAIF_DB_URL`, else SQLite under `$LAIF_HOME`),
beside the sandbox's tables but declared here, on a base of their own.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from laif.errors import BadInput
from laif.store.db import TableStore


def _now() -> datetime:
    return datetime.now(UTC)


def as_utc(t: datetime) -> datetime:
    """A time read back from the store: SQLite keeps no zone, and every time was stored in UTC."""
    return t if t.tzinfo else t.replace(tzinfo=UTC)


class MonitorBase(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class StreamRow(MonitorBase):
    __tablename__ = "monitor_streams"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    seen: Mapped[int] = mapped_column(Integer, default=0)  # calls taken in, for windows by count
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class WindowRow(MonitorBase):
    __tablename__ = "monitor_windows"
    __table_args__ = (UniqueConstraint("stream", "index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    stream: Mapped[str] = mapped_column(String(64), index=True)
    index: Mapped[int] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class IntakeRow(MonitorBase):
    """How far a file was taken in: its first `bytes` (hash `prefix_sha256`), `lines` lines."""

    __tablename__ = "monitor_intake"
    __table_args__ = (UniqueConstraint("stream", "path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    stream: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(1000))
    lines: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(Integer)
    prefix_sha256: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class CallRow(MonitorBase):
    """One call, kept only when the spec says `keep: pseudonymised` or `keep: raw`."""

    __tablename__ = "monitor_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    stream: Mapped[str] = mapped_column(String(64), index=True)
    window: Mapped[int] = mapped_column(Integer)
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ids: Mapped[dict[str, Any]] = mapped_column(JSON)
    prompt: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)


class AlertRow(MonitorBase):
    """A rule entering a state (ok, warning, alert) at a window: the alert history."""

    __tablename__ = "monitor_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    stream: Mapped[str] = mapped_column(String(64), index=True)
    window: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(Text)
    noticed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class CanaryRow(MonitorBase):
    """One canary: a sandbox run's slice asked again of the system in production, and the comparison."""

    __tablename__ = "monitor_canaries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    stream: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    baseline_run: Mapped[str] = mapped_column(String(40))
    canary_run: Mapped[str] = mapped_column(String(40))
    canary_db: Mapped[str] = mapped_column(String(1000))
    model: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(8))
    rows: Mapped[list[Any]] = mapped_column(JSON)


class IncidentRow(MonitorBase):
    __tablename__ = "incidents"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    stream: Mapped[str | None] = mapped_column(String(64), nullable=True)
    title: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(32))
    widespread: Mapped[bool] = mapped_column(Boolean, default=False)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    aware_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    causal_link_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class IncidentVersionRow(MonitorBase):
    """Each change to an incident, kept: what was known, decided and reported, and when (Art. 20, 73(5))."""

    __tablename__ = "incident_versions"
    __table_args__ = (UniqueConstraint("incident", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)


class MonitorStore(TableStore):
    """Sessions on monitoring's tables, in the database laif's other commands use."""

    tables = MonitorBase

    def stream(self, name: str) -> StreamRow:
        with self.session() as s:
            row = s.get(StreamRow, name)
        if row is None:
            raise BadInput(f"no monitored stream {name!r}", hint="laif monitor ingest FILE --stream NAME takes one in")
        return row

    def streams(self) -> list[StreamRow]:
        with self.session() as s:
            return list(s.scalars(select(StreamRow).order_by(StreamRow.name)))

    def windows(self, stream: str) -> list[WindowRow]:
        with self.session() as s:
            return list(s.scalars(select(WindowRow).where(WindowRow.stream == stream).order_by(WindowRow.index)))

    def alerts(self, stream: str) -> list[AlertRow]:
        with self.session() as s:
            return list(s.scalars(select(AlertRow).where(AlertRow.stream == stream).order_by(AlertRow.window, AlertRow.id)))

    def canaries(self, stream: str) -> list[CanaryRow]:
        with self.session() as s:
            return list(s.scalars(select(CanaryRow).where(CanaryRow.stream == stream).order_by(CanaryRow.at)))
