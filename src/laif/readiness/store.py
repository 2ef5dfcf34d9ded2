"""Readiness assessments kept per organisation over time (T0, T1, ...), in laif's database.

The tables are this package's own (`readiness_*`), created on the same database as the run
store: `--db URL`, else `LAIF_DB_URL`, else SQLite under `$LAIF_HOME` (laif.store.db.default_url).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from laif.store.db import TableStore


class ReadinessBase(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON}


class AssessmentRow(ReadinessBase):
    """One assessment of one organisation: its answers, scores and band, when it was taken."""

    __tablename__ = "readiness_assessments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: uuid.uuid4().hex)
    organisation: Mapped[str] = mapped_column(String(300), index=True)
    sector: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[str] = mapped_column(String(16), index=True)
    bank_version: Mapped[str] = mapped_column(String(32))
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: datetime.now(UTC))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    dimensions: Mapped[dict[str, Any]] = mapped_column(JSON)
    overall: Mapped[float] = mapped_column(Float)
    band: Mapped[str] = mapped_column(String(32))

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "organisation": self.organisation, "sector": self.sector, "size": self.size,
                "bank_version": self.bank_version, "taken_at": self.taken_at.isoformat(),
                "dimensions": dict(self.dimensions), "overall": self.overall, "band": self.band}


class ReadinessStore(TableStore):
    """Where assessments are written and read."""

    tables = ReadinessBase

    def add(self, row: AssessmentRow) -> AssessmentRow:
        with self.session() as s:
            s.add(row)
        return row

    def history(self, organisation: str) -> list[AssessmentRow]:
        """The organisation's assessments, oldest (T0) first."""
        with self.session() as s:
            stmt = (select(AssessmentRow).where(AssessmentRow.organisation == organisation)
                    .order_by(AssessmentRow.taken_at, AssessmentRow.id))
            return list(s.scalars(stmt))

    def cell(self, sector: str, size: str) -> list[AssessmentRow]:
        """The latest assessment of each organisation in a sector x size cell."""
        with self.session() as s:
            stmt = (select(AssessmentRow).where(AssessmentRow.sector == sector, AssessmentRow.size == size)
                    .order_by(AssessmentRow.taken_at, AssessmentRow.id))
            latest = {row.organisation: row for row in s.scalars(stmt)}
        return list(latest.values())
