"""Secrets of the portal: argon2 password hashes, random tokens kept as SHA-256 only, the signed
session cookie, and the sign-in throttle."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from laif.portal.tables import LoginFailure, now

_hasher = PasswordHasher()
#: A hash of a password nobody has, checked when the account does not exist, so a wrong account
#: name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

MIN_PASSWORD_LENGTH = 12
#: Failed sign-ins allowed per account name, and per address, in THROTTLE_WINDOW.
THROTTLE_LIMIT = 5
THROTTLE_WINDOW = timedelta(minutes=15)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when `password` matches `stored` (an argon2 hash); a missing hash still costs a check."""
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    return None


def new_token(prefix: str = "") -> str:
    """A random token of 256 bits, URL-safe, with an optional readable prefix."""
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored of a token: its SHA-256, so a copy of the database gives no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class CookieSigner:
    """Signs the session id put in the cookie, so a forged or altered cookie is refused unread."""

    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeSerializer(secret, salt="laif-portal-session")

    def dumps(self, session_id: str) -> str:
        return str(self._serializer.dumps(session_id))

    def loads(self, cookie: str) -> str | None:
        try:
            value = self._serializer.loads(cookie)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None


def throttled(s: Session, email: str, address: str | None) -> bool:
    """True when this account name or this address failed too often in the window."""
    since = now() - THROTTLE_WINDOW
    conditions = [LoginFailure.email == email.lower()]
    if address:
        conditions.append(LoginFailure.address == address)
    for condition in conditions:
        count = s.scalar(select(func.count()).select_from(LoginFailure).where(condition, LoginFailure.at >= since))
        if (count or 0) >= THROTTLE_LIMIT:
            return True
    return False


def record_failure(s: Session, email: str, address: str | None) -> None:
    s.add(LoginFailure(email=email.lower(), address=address))


def clear_failures(s: Session, email: str) -> None:
    """A successful sign-in forgets the account's failures (not the address's)."""
    s.execute(delete(LoginFailure).where(LoginFailure.email == email.lower()))


def forget_old_failures(s: Session, before: datetime) -> None:
    s.execute(delete(LoginFailure).where(LoginFailure.at < before))
