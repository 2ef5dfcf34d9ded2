"""The portal's tables: accounts, organisations and memberships, sessions, invitations, personal
access tokens, the audit log, and service requests with their messages and notifications.

The schema is made by the Alembic migrations in `laif/portal/alembic/versions`, never by
`create_all`; a test keeps these classes and the migrations in step.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, LargeBinary, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: The table Alembic keeps the portal's schema version in (the run store may get a chain of its own).
VERSION_TABLE = "laif_portal_version"


def now() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime) -> datetime:
    """SQLite gives back naive datetimes for timezone-aware columns; they were stored in UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


class Role(StrEnum):
    """What a member may do in an organisation."""

    sme_member = "sme_member"
    sme_owner = "sme_owner"
    advisor = "advisor"
    data_holder = "data_holder"
    sandbox_operator = "sandbox_operator"
    platform_admin = "platform_admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.sme_member: "SME member",
    Role.sme_owner: "SME owner",
    Role.advisor: "Factory advisor",
    Role.data_holder: "Data holder",
    Role.sandbox_operator: "Sandbox operator",
    Role.platform_admin: "Platform admin",
}

#: Roles of the factory's own staff: they see the requests of every organisation.
FACTORY_ROLES = frozenset({Role.advisor, Role.platform_admin})


class RequestStatus(StrEnum):
    new = "new"
    in_discussion = "in_discussion"
    accepted = "accepted"
    delivered = "delivered"
    declined = "declined"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class PortalBase(DeclarativeBase):
    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })
    type_annotation_map = {dict[str, Any]: JSON}


def _ts() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), default=now)


class Organisation(PortalBase):
    __tablename__ = "portal_organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # factory | sme | data_holder | authority
    created_at: Mapped[datetime] = _ts()


class Account(PortalBase):
    __tablename__ = "portal_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: argon2id hash; None for an account that signs in through OpenID Connect only.
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    #: "issuer|sub" of an OpenID Connect identity, when it has one.
    oidc_subject: Mapped[str | None] = mapped_column(String(500), nullable=True, unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = _ts()


class Membership(PortalBase):
    __tablename__ = "portal_memberships"
    __table_args__ = (UniqueConstraint("account_id", "organisation_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("portal_accounts.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("portal_organisations.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))


class WebSession(PortalBase):
    """A server-side session; the cookie carries only a signed random id whose hash is the key."""

    __tablename__ = "portal_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("portal_accounts.id", ondelete="CASCADE"), nullable=True)
    organisation_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = _ts()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Invitation(PortalBase):
    __tablename__ = "portal_invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(320))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("portal_organisations.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    invited_by: Mapped[int | None] = mapped_column(ForeignKey("portal_accounts.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = _ts()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AccessToken(PortalBase):
    """A personal access token for the JSON API; only its SHA-256 is kept."""

    __tablename__ = "portal_access_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("portal_accounts.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("portal_organisations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = _ts()
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LoginFailure(PortalBase):
    """A failed sign-in, for the throttle: by account name and by address."""

    __tablename__ = "portal_login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    address: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    at: Mapped[datetime] = _ts()


class AuditEntry(PortalBase):
    """One change: who, what, when, from which address."""

    __tablename__ = "portal_audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = _ts()
    account_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    actor: Mapped[str] = mapped_column(String(320))
    organisation_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ServiceRequest(PortalBase):
    """A request for one service of the catalogue, in the advisors' queue."""

    __tablename__ = "portal_service_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("portal_organisations.id", ondelete="CASCADE"), index=True)
    service_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default=RequestStatus.new.value)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("portal_accounts.id", ondelete="SET NULL"), nullable=True)
    advisor_id: Mapped[int | None] = mapped_column(ForeignKey("portal_accounts.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = _ts()
    updated_at: Mapped[datetime] = _ts()


class RequestMessage(PortalBase):
    __tablename__ = "portal_request_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("portal_service_requests.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("portal_accounts.id", ondelete="SET NULL"), nullable=True)
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = _ts()


class RequestAttachment(PortalBase):
    """A file sent with a message; kept in the database so the portal stays one process and one
    database, and served back only as a download (never rendered)."""

    __tablename__ = "portal_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("portal_service_requests.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("portal_request_messages.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    at: Mapped[datetime] = _ts()


class Notification(PortalBase):
    __tablename__ = "portal_notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("portal_accounts.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("portal_service_requests.id", ondelete="CASCADE"), nullable=True)
    text: Mapped[str] = mapped_column(String(500))
    at: Mapped[datetime] = _ts()
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
