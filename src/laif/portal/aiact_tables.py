"""The portal's tables for the aiact area (on `laif.portal.tables.PortalBase`; made by the
Alembic migration of that area, never by `create_all`).

An organisation's AI systems, each with the answers of its qualification questionnaire (the same
question ids as `laif qualify`) and the result, its answers to the manual controls with their
evidence files, and the evidence bundles built for it. A bundle's zip is kept on disk under
`files()/orgs/<organisation id>/aiact/bundles/<bundle id>.zip`; the table says whose it is.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from laif.portal.tables import PortalBase, _ts


class AiSystem(PortalBase):
    """An AI system of an organisation, with its qualification under the AI Act."""

    __tablename__ = "portal_ai_systems"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("portal_organisations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    #: The answers as given (question id -> answer, in the questionnaire's order): the answers file.
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: What `laif qualify --json` gives for those answers; None until qualified.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    risk_class: Mapped[str | None] = mapped_column(String(32), nullable=True)
    qualified_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("portal_accounts.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = _ts()
    updated_at: Mapped[datetime] = _ts()


class AiControlAnswer(PortalBase):
    """One manual control answered for a system: a score from 1 to 5, or done yes/no for a fact."""

    __tablename__ = "portal_ai_control_answers"
    __table_args__ = (UniqueConstraint("system_id", "control_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("portal_ai_systems.id", ondelete="CASCADE"), index=True)
    control_id: Mapped[str] = mapped_column(String(100))
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    done: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[str] = mapped_column(String(320), default="")
    updated_at: Mapped[datetime] = _ts()


class AiEvidenceFile(PortalBase):
    """An evidence file uploaded for a control of a system; served back only as a download."""

    __tablename__ = "portal_ai_evidence_files"
    __table_args__ = (UniqueConstraint("system_id", "control_id", "filename"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("portal_ai_systems.id", ondelete="CASCADE"), index=True)
    control_id: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("portal_accounts.id", ondelete="SET NULL"), nullable=True)
    at: Mapped[datetime] = _ts()


class AiBundle(PortalBase):
    """A signed evidence bundle built for a system (the zip is on disk, named by this row's id)."""

    __tablename__ = "portal_ai_bundles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("portal_organisations.id", ondelete="CASCADE"), index=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("portal_ai_systems.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    signer: Mapped[str] = mapped_column(String(64))
    files: Mapped[int] = mapped_column(Integer)
    run_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: The verdicts' summary (verdict -> number of requirements).
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("portal_accounts.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = _ts()
