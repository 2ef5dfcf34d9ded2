"""The portal's tables for the readiness area (on `laif.portal.tables.PortalBase`; made by the
Alembic migration of that area, never by `create_all`).

One row per assessment an organisation takes in the portal: its answers, when and by whom, and
the whole result `laif.services.readiness.assess` gave (scores, findings, use cases, roadmap,
peers, progress), so a result reads back as it was and the history shows progress.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from laif.portal.tables import PortalBase, now


class ReadinessAssessment(PortalBase):
    """One readiness assessment of one organisation (T0, T1, ... in the order taken)."""

    __tablename__ = "portal_readiness_assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("portal_organisations.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("portal_accounts.id", ondelete="SET NULL"), nullable=True)
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    #: The id the readiness service gave the assessment in its own store.
    result_id: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    bank_version: Mapped[str] = mapped_column(String(32))
    overall: Mapped[float] = mapped_column(Float)
    band: Mapped[str] = mapped_column(String(32))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
