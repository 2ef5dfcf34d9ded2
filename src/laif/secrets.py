"""Endpoint credentials, stored encrypted (Fernet, from `cryptography`), with key rotation.

- Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256) before they reach the
  database; the keys live apart from it: `LAIF_SECRETS_KEYS` (comma-separated, newest first)
  or the file `$LAIF_HOME/secrets.keys` (mode 0600, one key per line, newest first), made on
  first use. A stolen database alone reveals nothing.
- Rotation makes a new key, re-encrypts every value with it (MultiFernet.rotate) and only
  then drops the old keys.
- Values are never printed or logged: listings show a mask. They are decrypted only to hand
  them to the model adapter of a run, through one environment variable set for that run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import DateTime, String, Text, delete, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from laif._files import laif_home, write_atomic
from laif.errors import BadInput
from laif.store.db import default_url, open_engine

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
#: The variable a run's model adapter reads a stored credential from.
ENDPOINT_KEY_VAR = "LAIF_ENDPOINT_KEY"


def _now() -> datetime:
    return datetime.now(UTC)


class SecretsBase(DeclarativeBase):
    pass


class SecretRow(SecretsBase):
    __tablename__ = "secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


def mask(value: str) -> str:
    """What a listing shows: the last four characters of long values, nothing of short ones."""
    return "••••" + value[-4:] if len(value) >= 16 else "••••"


class SecretStore:
    def __init__(self, db: str | None = None) -> None:
        self.engine = open_engine(db or default_url(), SecretsBase)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.key_file = laif_home() / "secrets.keys"

    # --- keys --------------------------------------------------------------------------------------

    def _keys(self, create: bool) -> list[bytes]:
        env = os.environ.get("LAIF_SECRETS_KEYS")
        if env:
            return [k.strip().encode() for k in env.split(",") if k.strip()]
        if self.key_file.is_file():
            return [line.strip().encode() for line in self.key_file.read_text().splitlines() if line.strip()]
        if not create:
            raise BadInput(f"no secrets key: neither LAIF_SECRETS_KEYS nor {self.key_file} exists",
                           hint="laif secrets set NAME makes one")
        self._write_keys([Fernet.generate_key()])
        return self._keys(create=False)

    def _write_keys(self, keys: list[bytes]) -> None:
        if os.environ.get("LAIF_SECRETS_KEYS"):
            raise BadInput("the keys come from LAIF_SECRETS_KEYS: rotate them there (put the new key first)")
        self.key_file.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.key_file, "".join(k.decode() + "\n" for k in keys))
        self.key_file.chmod(0o600)

    def _fernet(self, create: bool = False) -> MultiFernet:
        try:
            return MultiFernet([Fernet(k) for k in self._keys(create)])
        except ValueError:
            raise BadInput("a secrets key is not a valid Fernet key (32 url-safe base64 bytes)") from None

    # --- values ------------------------------------------------------------------------------------

    def set(self, name: str, value: str) -> None:
        if not _NAME.match(name):
            raise BadInput(f"secret name {name!r}: use 1-64 letters, digits, '.', '_' or '-'")
        if not value:
            raise BadInput(f"secret {name}: the value is empty")
        token = self._fernet(create=True).encrypt(value.encode("utf-8")).decode("ascii")
        with self._sessions() as s, s.begin():
            row = s.get(SecretRow, name)
            if row is None:
                s.add(SecretRow(name=name, token=token))
            else:
                row.token, row.rotated_at = token, _now()

    def get(self, name: str) -> str:
        with self._sessions() as s:
            row = s.get(SecretRow, name)
        if row is None:
            raise BadInput(f"no secret {name!r}", hint="laif secrets list shows the names; laif secrets set adds one")
        try:
            return self._fernet().decrypt(row.token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise BadInput(f"secret {name}: cannot be decrypted with the keys at hand (another key?)") from None

    def names(self) -> list[tuple[str, str, datetime, datetime | None]]:
        """(name, masked value, created, rotated) of every secret."""
        with self._sessions() as s:
            rows = list(s.scalars(select(SecretRow).order_by(SecretRow.name)))
        return [(r.name, mask(self.get(r.name)), r.created_at, r.rotated_at) for r in rows]

    def delete(self, name: str) -> None:
        with self._sessions() as s, s.begin():
            if s.execute(delete(SecretRow).where(SecretRow.name == name)).rowcount == 0:  # type: ignore[attr-defined]
                raise BadInput(f"no secret {name!r}")

    def rotate(self) -> int:
        """A new key; every value re-encrypted with it; then the old keys dropped. Returns the count."""
        old = self._keys(create=True)
        new = Fernet.generate_key()
        both = MultiFernet([Fernet(new), *(Fernet(k) for k in old)])
        with self._sessions() as s, s.begin():
            rows = list(s.scalars(select(SecretRow)))
            for row in rows:
                try:
                    row.token = both.rotate(row.token.encode("ascii")).decode("ascii")
                except InvalidToken:
                    raise BadInput(f"secret {row.name} cannot be decrypted with the current keys; "
                                   "nothing was rotated") from None
                row.rotated_at = _now()
            self._write_keys([new, *old])  # until the re-encrypted values are committed, old keys stay
        self._write_keys([new])
        return len(rows)


@contextmanager
def credential(name: str | None, db: str | None = None) -> Iterator[str | None]:
    """While the block runs, the named secret is in ENDPOINT_KEY_VAR (whose name is yielded)."""
    if name is None:
        yield None
        return
    value = SecretStore(db).get(name)
    previous = os.environ.get(ENDPOINT_KEY_VAR)
    os.environ[ENDPOINT_KEY_VAR] = value
    try:
        yield ENDPOINT_KEY_VAR
    finally:
        if previous is None:
            os.environ.pop(ENDPOINT_KEY_VAR, None)
        else:
            os.environ[ENDPOINT_KEY_VAR] = previous
