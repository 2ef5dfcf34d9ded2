"""The portal's tables for the jobs area (on `laif.portal.tables.PortalBase`; made by the
Alembic migration of that area, never by `create_all`): the systems under test an organisation
registers, and the durable job queue that `laif worker` processes take their work from."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from laif.portal.tables import PortalBase, now


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


#: A job in one of these states is over: nothing changes it any more.
FINISHED = frozenset({JobStatus.done, JobStatus.failed, JobStatus.cancelled})


class SystemUnderTest(PortalBase):
    """A model endpoint an organisation tests (OpenAI-compatible). Its API key, when it has one,
    is a secret of `laif.secrets` (encrypted with Fernet) named in `secret_name`; the key itself
    is never in this table and never shown back. The secret lives in the organisation's own store
    (`jobs.run_db`), so nothing another organisation submits can name it."""

    __tablename__ = "portal_systems"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("portal_organisations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    base_url: Mapped[str] = mapped_column(String(500))
    model: Mapped[str] = mapped_column(String(200))
    #: The name of the key in laif's secret store (portal.org<ORG>.system<ID>), None without a key.
    secret_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("portal_accounts.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)

    @property
    def has_key(self) -> bool:
        return self.secret_name is not None

    def model_string(self) -> str:
        """What `laif assess --model` would be given for this system."""
        return f"openai:{self.base_url}#{self.model}"


class Job(PortalBase):
    """One assessment in the queue: from options (`kind` "options") or an uploaded sandbox spec
    ("spec"). A worker claims it atomically, keeps `heartbeat_at` fresh while it runs, and writes
    its progress, run ids and verdict here; its files are under `jobs.job_dir`."""

    __tablename__ = "portal_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("portal_organisations.id", ondelete="CASCADE"), index=True)
    system_id: Mapped[int | None] = mapped_column(ForeignKey("portal_systems.id", ondelete="SET NULL"), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.queued.value, index=True)
    stage: Mapped[str] = mapped_column(String(64), default="")
    done: Mapped[int | None] = mapped_column(Integer, nullable=True)
    total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")
    run_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    verdict: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("portal_accounts.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: The worker that holds the job (host:pid:name), and when it last said it still does.
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: How many times a worker claimed it (more than one: resumed after a worker was lost).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED
