"""The one query layer of the portal: every read and write a page or the API makes goes through a
`Scoped` view, which sees the caller's organisation only (the factory's staff also see the
requests addressed to the factory) and writes an audit entry with each change.

An object outside the caller's reach is reported as missing (`NotFound`), never as someone
else's, so ids of other organisations reveal nothing.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session, defer

from laif.portal.catalogue import service_catalogue
from laif.portal.i18n import gettext as _
from laif.portal.security import new_token, token_hash
from laif.portal.tables import (
    FACTORY_ROLES,
    AccessToken,
    Account,
    AuditEntry,
    Invitation,
    Membership,
    Notification,
    Organisation,
    RequestAttachment,
    RequestMessage,
    RequestStatus,
    Role,
    ServiceRequest,
    now,
)


def safe_filename(name: str) -> str:
    """The last part of a file name as sent, without folders, control characters or a leading dot,
    so it can name a download and never a path: `../../etc/passwd` becomes `passwd`."""
    base = re.split(r"[\\/]", name)[-1]
    base = re.sub(r"[\x00-\x1f\x7f\"]", "", base).strip().lstrip(".")
    return base[:200] or "file"


class NotFound(Exception):
    """No such object within the caller's reach."""


class Forbidden(Exception):
    """The caller's role does not allow this."""


class Refused(Exception):
    """A change that is not possible as asked (the message says why)."""


#: The moves a request can make in the advisors' queue.
TRANSITIONS: dict[RequestStatus, tuple[RequestStatus, ...]] = {
    RequestStatus.new: (RequestStatus.in_discussion, RequestStatus.accepted, RequestStatus.declined),
    RequestStatus.in_discussion: (RequestStatus.accepted, RequestStatus.declined),
    RequestStatus.accepted: (RequestStatus.delivered, RequestStatus.declined),
    RequestStatus.delivered: (),
    RequestStatus.declined: (),
}

#: Roles an SME owner may hand out in their own organisation.
OWNER_GRANTS = (Role.sme_member, Role.sme_owner)
MAX_MESSAGE = 5000


@dataclass(frozen=True)
class Caller:
    """Who is asking, in which organisation and with which role, from which address."""

    account_id: int
    email: str
    name: str
    organisation_id: int
    organisation_name: str
    role: Role
    address: str | None = None
    #: (organisation id, organisation name, role) of every membership, for switching.
    memberships: tuple[tuple[int, str, Role], ...] = field(default=())
    #: Signed in with a one-time password: nothing but choosing a new one is allowed.
    must_change_password: bool = False

    @property
    def factory_staff(self) -> bool:
        return self.role in FACTORY_ROLES

    @property
    def admin(self) -> bool:
        return self.role is Role.platform_admin


def audit(s: Session, caller: Caller | None, action: str, target: str, detail: dict[str, Any] | None = None,
          *, actor: str | None = None, address: str | None = None, organisation_id: int | None = None) -> None:
    """Record one change in the audit log, in the transaction that makes it."""
    s.add(AuditEntry(
        account_id=caller.account_id if caller else None,
        actor=caller.email if caller else (actor or "anonymous"),
        organisation_id=caller.organisation_id if caller and organisation_id is None else organisation_id,
        action=action, target=target, detail=detail or {},
        address=caller.address if caller else address,
    ))


def caller_for(s: Session, account_id: int, organisation_id: int | None, address: str | None) -> Caller | None:
    """The caller an active account is in `organisation_id` (its first membership when that is
    None or no longer one of its memberships); None when the account has no membership left."""
    account = s.get(Account, account_id)
    if account is None or not account.active:
        return None
    rows = s.execute(
        select(Membership.organisation_id, Organisation.name, Membership.role)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Membership.account_id == account_id)
        .order_by(Membership.id)
    ).all()
    if not rows:
        return None
    memberships = tuple((org_id, name, Role(role)) for org_id, name, role in rows)
    # With two roles in one organisation, the one with more reach (listed later in Role) counts.
    order = list(Role)
    chosen = [m for m in memberships if m[0] == organisation_id] or [m for m in memberships if m[0] == memberships[0][0]]
    org_id, org_name, role = max(chosen, key=lambda m: order.index(m[2]))
    return Caller(account.id, account.email, account.name, org_id, org_name, role, address, memberships,
                  account.must_change_password)


class Scoped:
    """The caller's view of the portal's tables, inside one session (one transaction)."""

    def __init__(self, s: Session, caller: Caller) -> None:
        self.s = s
        self.caller = caller

    # --- roles -----------------------------------------------------------------
    def require(self, *roles: Role) -> None:
        if self.caller.role not in roles:
            raise Forbidden(_("this needs the role {roles}").format(roles=f" {_('or')} ".join(_(r.label) for r in roles)))

    def _audit(self, action: str, target: str, **detail: Any) -> None:
        audit(self.s, self.caller, action, target, detail)

    # --- service requests --------------------------------------------------------
    def _visible(self) -> ColumnElement[bool]:
        """The requests the caller may see: the own organisation's, or every one for factory staff."""
        if self.caller.factory_staff:
            return true()
        return ServiceRequest.organisation_id == self.caller.organisation_id

    def requests(self, status: RequestStatus | None = None) -> list[tuple[ServiceRequest, str]]:
        """Visible requests, newest first, each with its organisation's name."""
        stmt = select(ServiceRequest, Organisation.name).join(
            Organisation, Organisation.id == ServiceRequest.organisation_id).where(self._visible())
        if status is not None:
            stmt = stmt.where(ServiceRequest.status == status.value)
        rows = self.s.execute(stmt.order_by(ServiceRequest.updated_at.desc(), ServiceRequest.id.desc())).all()
        return [(row[0], row[1]) for row in rows]

    def request(self, request_id: int) -> ServiceRequest:
        found = self.s.scalars(select(ServiceRequest).where(ServiceRequest.id == request_id, self._visible())).first()
        if found is None:
            raise NotFound(_("no request {id}").format(id=request_id))
        return found

    def messages(self, request: ServiceRequest) -> list[tuple[RequestMessage, str]]:
        rows = self.s.execute(
            select(RequestMessage, Account.name).outerjoin(Account, Account.id == RequestMessage.account_id)
            .where(RequestMessage.request_id == self.request(request.id).id).order_by(RequestMessage.id)
        ).all()
        return [(m, name or "(removed account)") for m, name in rows]

    def open_request(self, service_id: str, message: str) -> ServiceRequest:
        """Ask for a service of the catalogue; the advisors are notified."""
        service = service_catalogue().get(service_id)
        if service is None:
            raise NotFound(_("no service {service!r} in the catalogue").format(service=service_id))
        if self.caller.factory_staff:
            raise Refused(_("factory staff answer requests; sign in as a member of the organisation that asks"))
        request = ServiceRequest(organisation_id=self.caller.organisation_id, service_id=service.id,
                                 created_by=self.caller.account_id)
        self.s.add(request)
        self.s.flush()
        if message.strip():
            self._add_message(request, message)
        self._notify(self._advisors(None), request,
                     f"New request from {self.caller.organisation_name}: {service.title}")
        self._audit("request.open", f"request:{request.id}", service=service.id)
        return request

    def post_message(self, request_id: int, body: str, attachment: tuple[str, bytes] | None = None) -> RequestMessage:
        """Write on a request, optionally with one file (`(filename, content)`); the other side is notified."""
        request = self.request(request_id)
        if not body.strip() and attachment is None:
            raise Refused(_("a message cannot be empty"))
        message = self._add_message(request, body or "")
        if attachment is not None:
            self._attach(request, message, *attachment)
        request.updated_at = now()
        title = self._title(request)
        if self.caller.factory_staff:
            self._notify(self._members(request.organisation_id), request, f"New message on your request: {title}")
        else:
            self._notify(self._advisors(request), request,
                         f"New message from {self.caller.organisation_name}: {title}")
        self._audit("request.message", f"request:{request.id}", message=message.id)
        return message

    def move(self, request_id: int, status: RequestStatus) -> ServiceRequest:
        """Move a request along the queue (factory staff only)."""
        self.require(*FACTORY_ROLES)
        request = self.request(request_id)
        current = RequestStatus(request.status)
        if status not in TRANSITIONS[current]:
            raise Refused(_("a request that is {current} cannot become {new}").format(
                current=_(current.label), new=_(status.label)))
        request.status = status.value
        request.updated_at = now()
        if request.advisor_id is None:
            request.advisor_id = self.caller.account_id
        self._notify(self._members(request.organisation_id), request,
                     f"Your request for {self._title(request)} is now {status.label}")
        self._audit("request.status", f"request:{request.id}", before=current.value, after=status.value)
        return request

    def _attach(self, request: ServiceRequest, message: RequestMessage, filename: str, content: bytes) -> None:
        name = safe_filename(filename)
        if not content:
            raise Refused(_("the file {name!r} is empty").format(name=name))
        row = RequestAttachment(request_id=request.id, message_id=message.id, filename=name, size=len(content),
                                sha256=hashlib.sha256(content).hexdigest(), data=content)
        self.s.add(row)
        self.s.flush()
        self._audit("request.attach", f"request:{request.id}", attachment=row.id, filename=name, size=len(content),
                    sha256=row.sha256)

    def attachments(self, request_id: int) -> dict[int, list[RequestAttachment]]:
        """The files of a visible request, by the message they came with (their bytes not loaded)."""
        request = self.request(request_id)
        rows = self.s.scalars(select(RequestAttachment).options(defer(RequestAttachment.data))
                              .where(RequestAttachment.request_id == request.id).order_by(RequestAttachment.id))
        out: dict[int, list[RequestAttachment]] = {}
        for row in rows:
            out.setdefault(row.message_id, []).append(row)
        return out

    def attachment(self, request_id: int, attachment_id: int) -> RequestAttachment:
        request = self.request(request_id)
        row = self.s.scalars(select(RequestAttachment).where(
            RequestAttachment.id == attachment_id, RequestAttachment.request_id == request.id)).first()
        if row is None:
            raise NotFound(_("no file {file} on request {id}").format(file=attachment_id, id=request_id))
        return row

    def _add_message(self, request: ServiceRequest, body: str) -> RequestMessage:
        if len(body) > MAX_MESSAGE:
            raise Refused(_("a message has at most {count} characters").format(count=MAX_MESSAGE))
        message = RequestMessage(request_id=request.id, account_id=self.caller.account_id, body=body.strip())
        self.s.add(message)
        self.s.flush()
        return message

    @staticmethod
    def _title(request: ServiceRequest) -> str:
        service = service_catalogue().get(request.service_id)
        return service.title if service else request.service_id

    def _advisors(self, request: ServiceRequest | None) -> list[int]:
        if request is not None and request.advisor_id is not None:
            return [request.advisor_id]
        return list(self.s.scalars(select(Membership.account_id).where(Membership.role == Role.advisor.value)).all())

    def _members(self, organisation_id: int) -> list[int]:
        return list(self.s.scalars(select(Membership.account_id).where(Membership.organisation_id == organisation_id)))

    def _notify(self, accounts: list[int], request: ServiceRequest, text: str) -> None:
        for account_id in sorted(set(accounts) - {self.caller.account_id}):
            self.s.add(Notification(account_id=account_id, request_id=request.id, text=text[:500]))

    # --- notifications -------------------------------------------------------------
    def notifications(self, limit: int = 50) -> list[Notification]:
        return list(self.s.scalars(select(Notification).where(Notification.account_id == self.caller.account_id)
                                   .order_by(Notification.id.desc()).limit(limit)))

    def unread(self) -> int:
        return int(self.s.scalar(select(func.count()).select_from(Notification).where(
            Notification.account_id == self.caller.account_id, Notification.read_at.is_(None))) or 0)

    def mark_read(self) -> None:
        read = 0
        for note in self.s.scalars(select(Notification).where(
                Notification.account_id == self.caller.account_id, Notification.read_at.is_(None))):
            note.read_at = now()
            read += 1
        if read:
            self._audit("notifications.read", f"account:{self.caller.account_id}", count=read)

    # --- personal access tokens ------------------------------------------------------
    def tokens(self) -> list[AccessToken]:
        return list(self.s.scalars(select(AccessToken).where(AccessToken.account_id == self.caller.account_id)
                                   .order_by(AccessToken.id.desc())))

    def create_token(self, name: str) -> str:
        """A new token for the JSON API in the current organisation; returned once, kept hashed."""
        name = name.strip()[:100]
        if not name:
            raise Refused(_("give the token a name, such as the pipeline that will use it"))
        token = new_token("laif_pat_")
        row = AccessToken(account_id=self.caller.account_id, organisation_id=self.caller.organisation_id,
                          name=name, token_hash=token_hash(token), prefix=token[:13])
        self.s.add(row)
        self.s.flush()
        self._audit("token.create", f"token:{row.id}", name=name)
        return token

    def revoke_token(self, token_id: int) -> None:
        row = self.s.scalars(select(AccessToken).where(
            AccessToken.id == token_id, AccessToken.account_id == self.caller.account_id)).first()
        if row is None:
            raise NotFound(_("no token {id}").format(id=token_id))
        if row.revoked_at is None:
            row.revoked_at = now()
            self._audit("token.revoke", f"token:{row.id}")

    # --- organisations, members and invitations ----------------------------------------
    def organisations(self) -> list[Organisation]:
        stmt = select(Organisation).order_by(Organisation.name)
        if not self.caller.admin:
            stmt = stmt.where(Organisation.id == self.caller.organisation_id)
        return list(self.s.scalars(stmt))

    def create_organisation(self, name: str, kind: str) -> Organisation:
        self.require(Role.platform_admin)
        name = name.strip()
        if not name or len(name) > 200:
            raise Refused(_("an organisation needs a name of 1 to 200 characters"))
        if kind not in ("factory", "sme", "data_holder", "authority"):
            raise Refused(_("unknown kind of organisation {kind!r}").format(kind=kind))
        if self.s.scalars(select(Organisation).where(Organisation.name == name)).first() is not None:
            raise Refused(_("an organisation named {name!r} exists already").format(name=name))
        org = Organisation(name=name, kind=kind)
        self.s.add(org)
        self.s.flush()
        self._audit("organisation.create", f"organisation:{org.id}", name=name, kind=kind)
        return org

    def members(self) -> list[tuple[Account, Membership, str]]:
        """Accounts with their memberships: every organisation's for an admin, the own one's otherwise."""
        self.require(Role.platform_admin, Role.sme_owner)
        stmt = (select(Account, Membership, Organisation.name)
                .join(Membership, Membership.account_id == Account.id)
                .join(Organisation, Organisation.id == Membership.organisation_id)
                .order_by(Organisation.name, Account.email))
        if not self.caller.admin:
            stmt = stmt.where(Membership.organisation_id == self.caller.organisation_id)
        return [(a, m, n) for a, m, n in self.s.execute(stmt).all()]

    def invite(self, email: str, organisation_id: int, role: Role, valid_days: int = 7) -> str:
        """An invitation link's token (returned once, kept hashed): admins invite into any
        organisation with any role, SME owners into their own as member or owner."""
        self.require(Role.platform_admin, Role.sme_owner)
        email = email.strip().lower()
        if "@" not in email or len(email) > 320:
            raise Refused(_("give the e-mail address of the person invited"))
        if not self.caller.admin and (organisation_id != self.caller.organisation_id or role not in OWNER_GRANTS):
            raise Forbidden(_("an SME owner invites members and owners of their own organisation only"))
        if self.s.get(Organisation, organisation_id) is None:
            raise NotFound(_("no organisation {id}").format(id=organisation_id))
        token = new_token()
        row = Invitation(token_hash=token_hash(token), email=email, organisation_id=organisation_id, role=role.value,
                         invited_by=self.caller.account_id, expires_at=now() + timedelta(days=valid_days))
        self.s.add(row)
        self.s.flush()
        self._audit("invitation.create", f"invitation:{row.id}", email=email, organisation=organisation_id,
                    role=role.value)
        return token

    def invitations(self) -> list[tuple[Invitation, str]]:
        self.require(Role.platform_admin, Role.sme_owner)
        stmt = (select(Invitation, Organisation.name).join(Organisation, Organisation.id == Invitation.organisation_id)
                .where(Invitation.accepted_at.is_(None), Invitation.expires_at > now()).order_by(Invitation.id.desc()))
        if not self.caller.admin:
            stmt = stmt.where(Invitation.organisation_id == self.caller.organisation_id)
        return [(i, n) for i, n in self.s.execute(stmt).all()]

    # --- the audit log --------------------------------------------------------------
    def audit_log(self, limit: int | None = 200) -> list[AuditEntry]:
        self.require(Role.platform_admin)
        stmt = select(AuditEntry).order_by(AuditEntry.id.desc())
        if limit is not None:
            stmt = stmt.limit(limit)
        return list(self.s.scalars(stmt))
