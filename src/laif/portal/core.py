"""The portal's state: its database (migrated on start), sign-in by password, invitation, token or
OpenID Connect identity, and the first admin."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from laif.portal import migrate
from laif.portal.scope import Caller, Refused, audit, caller_for
from laif.portal.security import (
    THROTTLE_WINDOW,
    clear_failures,
    forget_old_failures,
    hash_password,
    password_problem,
    record_failure,
    throttled,
    token_hash,
    verify_password,
)
from laif.portal.settings import FACTORY_ORGANISATION, PortalSettings, RoleMapping
from laif.portal.tables import (
    AccessToken,
    Account,
    Invitation,
    Membership,
    Organisation,
    Role,
    WebSession,
    aware,
    now,
)
from laif.store.db import open_engine

#: The sign-in name of the first admin `laif serve` makes.
FIRST_ADMIN = "admin"


class _NoTables(DeclarativeBase):
    """open_engine creates the tables of a base; the portal's come from its migrations instead."""


class Throttled(Exception):
    """Too many failed sign-ins for this account name or address."""


@dataclass(frozen=True)
class SignIn:
    account_id: int
    must_change_password: bool


class Portal:
    """One portal on one database; `session()` is one transaction."""

    def __init__(self, settings: PortalSettings) -> None:
        self.settings = settings
        self.engine = open_engine(settings.db_url, _NoTables)
        migrate.upgrade(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        with self.session() as s:
            self._factory_organisation(s)
            # Expired sessions and failures older than the throttle's window are of no use.
            s.execute(delete(WebSession).where(WebSession.expires_at <= now()))
            forget_old_failures(s, now() - THROTTLE_WINDOW)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as s, s.begin():
            yield s

    def close(self) -> None:
        self.engine.dispose()

    @staticmethod
    def _factory_organisation(s: Session) -> Organisation:
        org = s.scalars(select(Organisation).where(Organisation.name == FACTORY_ORGANISATION)).first()
        if org is None:
            org = Organisation(name=FACTORY_ORGANISATION, kind="factory")
            s.add(org)
            s.flush()
        return org

    # --- the first admin ----------------------------------------------------------------
    def first_admin_password(self) -> str | None:
        """When no platform admin exists: make the account `admin` with a one-time password (to be
        changed at first sign-in) and return that password. When `admin` is the only platform admin
        and has not yet chosen its own password (the printed one was lost with the terminal, say),
        a new one-time password replaces the old. Else None. The caller prints it; it is stored
        only as a hash and written nowhere else."""
        with self.session() as s:
            admins = list(s.scalars(select(Account).join(Membership, Membership.account_id == Account.id)
                                    .where(Membership.role == Role.platform_admin.value)))
            if admins:
                if len(admins) > 1 or admins[0].email != FIRST_ADMIN or not admins[0].must_change_password:
                    return None
                password = secrets.token_urlsafe(12)
                admins[0].password_hash = hash_password(password)
                audit(s, None, "account.one_time_password", f"account:{admins[0].id}", actor="laif serve")
                return password
            password = secrets.token_urlsafe(12)
            account = s.scalars(select(Account).where(Account.email == FIRST_ADMIN)).first()
            if account is None:
                account = Account(email=FIRST_ADMIN, name="Administrator")
                s.add(account)
            account.password_hash = hash_password(password)
            account.must_change_password = True
            account.active = True
            s.flush()
            s.add(Membership(account_id=account.id, organisation_id=self._factory_organisation(s).id,
                             role=Role.platform_admin.value))
            audit(s, None, "admin.bootstrap", f"account:{account.id}", actor="laif serve")
            return password

    # --- sign-in -------------------------------------------------------------------------
    def sign_in(self, email: str, password: str, address: str | None) -> SignIn | None:
        """The account whose password this is, None for a wrong pair; Throttled after too many failures."""
        email = email.strip().lower()
        with self.session() as s:
            if throttled(s, email, address):
                raise Throttled()
            account = s.scalars(select(Account).where(Account.email == email)).first()
            ok = verify_password(account.password_hash if account else None, password)
            if not ok or account is None or not account.active:
                record_failure(s, email, address)
                audit(s, None, "signin.fail", f"login:{email[:100]}", actor=email[:320], address=address)
                return None
            clear_failures(s, email)
            audit(s, None, "signin", f"account:{account.id}", actor=account.email, address=address)
            return SignIn(account.id, account.must_change_password)

    def change_password(self, caller: Caller, current: str, new: str) -> None:
        problem = password_problem(new)
        if problem:
            raise Refused(problem)
        with self.session() as s:
            account = s.get(Account, caller.account_id)
            if account is None or not verify_password(account.password_hash, current):
                raise Refused("the current password is not right")
            if current == new:
                raise Refused("choose a password different from the current one")
            account.password_hash = hash_password(new)
            account.must_change_password = False
            audit(s, caller, "password.change", f"account:{account.id}")

    def invitation(self, token: str) -> tuple[Invitation, str] | None:
        """An open invitation and its organisation's name, or None (unknown, used or expired)."""
        with self.session() as s:
            row = s.execute(select(Invitation, Organisation.name).join(
                Organisation, Organisation.id == Invitation.organisation_id).where(
                Invitation.token_hash == token_hash(token))).first()
            if row is None or row[0].accepted_at is not None or aware(row[0].expires_at) <= now():
                return None
            return row[0], row[1]

    def accept_invitation(self, token: str, name: str, password: str, address: str | None) -> int:
        """Make the invited account (or add the membership to an existing one, whose password must
        then be given) and return its id; Refused says why not."""
        found = self.invitation(token)
        if found is None:
            raise Refused("this invitation link is unknown, used or expired; ask for a new one")
        invitation = found[0]
        with self.session() as s:
            account = s.scalars(select(Account).where(Account.email == invitation.email)).first()
            if account is None:
                problem = password_problem(password)
                if problem:
                    raise Refused(problem)
                if not name.strip():
                    raise Refused("give your name")
                account = Account(email=invitation.email, name=name.strip()[:200], password_hash=hash_password(password))
                s.add(account)
                s.flush()
            elif not verify_password(account.password_hash, password):
                raise Refused("an account with this e-mail exists: give its password to accept")
            row = s.get(Invitation, invitation.id)
            assert row is not None
            if row.accepted_at is not None:
                raise Refused("this invitation was used already")
            row.accepted_at = now()
            exists = s.scalars(select(Membership).where(
                Membership.account_id == account.id, Membership.organisation_id == row.organisation_id,
                Membership.role == row.role)).first()
            if exists is None:
                s.add(Membership(account_id=account.id, organisation_id=row.organisation_id, role=row.role))
            audit(s, None, "invitation.accept", f"invitation:{row.id}", {"account": account.id, "role": row.role},
                  actor=account.email, address=address, organisation_id=row.organisation_id)
            return account.id

    def caller(self, account_id: int, organisation_id: int | None, address: str | None) -> Caller | None:
        with self.session() as s:
            return caller_for(s, account_id, organisation_id, address)

    def token_caller(self, token: str, address: str | None) -> Caller | None:
        """The caller a personal access token stands for, in the organisation it was made in."""
        with self.session() as s:
            row = s.scalars(select(AccessToken).where(AccessToken.token_hash == token_hash(token))).first()
            if row is None or row.revoked_at is not None:
                return None
            caller = caller_for(s, row.account_id, row.organisation_id, address)
            if caller is None or caller.organisation_id != row.organisation_id:
                return None
            row.last_used_at = now()
            return caller

    # --- OpenID Connect ---------------------------------------------------------------
    def oidc_account(self, issuer: str, claims: dict[str, Any], mapping: RoleMapping, address: str | None) -> int:
        """The account of an identity the provider vouched for, its memberships set from the mapping.
        Refused when no rule of the mapping matches the user's claim."""
        rules = mapping.memberships(claims)
        subject = f"{issuer}|{claims.get('sub')}"
        if not claims.get("sub"):
            raise Refused("the identity provider gave no subject")
        if not rules:
            raise Refused(f"your identity provider's '{mapping.claim}' claim names no group this portal knows; "
                          "ask the factory to add your group to the mapping")
        email = str(claims.get("email") or subject).lower()[:320]
        with self.session() as s:
            account = s.scalars(select(Account).where(Account.oidc_subject == subject)).first()
            if account is None:
                same_email = s.scalars(select(Account).where(Account.email == email)).first()
                if same_email is not None and claims.get("email_verified") is True and same_email.oidc_subject is None:
                    account = same_email
                elif same_email is not None:
                    raise Refused("an account with this e-mail exists and the provider did not verify the address")
                else:
                    account = Account(email=email, name=str(claims.get("name") or email)[:200])
                    s.add(account)
                account.oidc_subject = subject
                s.flush()
                audit(s, None, "account.oidc_link", f"account:{account.id}", {"issuer": issuer},
                      actor=account.email, address=address)
            wanted: set[tuple[int, str]] = set()
            for rule in rules:
                org = s.scalars(select(Organisation).where(Organisation.name == rule.organisation)).first()
                if org is None:
                    org = Organisation(name=rule.organisation, kind=rule.kind)
                    s.add(org)
                    s.flush()
                    audit(s, None, "organisation.create", f"organisation:{org.id}", {"by": "oidc mapping"},
                          actor=account.email, address=address)
                wanted.add((org.id, rule.role.value))
            have = {(m.organisation_id, m.role): m for m in
                    s.scalars(select(Membership).where(Membership.account_id == account.id))}
            for key in wanted - set(have):
                s.add(Membership(account_id=account.id, organisation_id=key[0], role=key[1]))
            for key in set(have) - wanted:
                s.delete(have[key])
            if wanted != set(have):
                audit(s, None, "membership.sync", f"account:{account.id}",
                      {"memberships": sorted([list(k) for k in wanted])}, actor=account.email, address=address)
            audit(s, None, "signin.oidc", f"account:{account.id}", actor=account.email, address=address)
            return account.id
