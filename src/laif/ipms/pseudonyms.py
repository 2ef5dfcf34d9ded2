"""Keyed pseudonyms: the same person gets the same pseudonym within a project domain and
unlinkable ones across domains.

- The holder's master secret never leaves the holder: it is read from an environment
  variable the holder names, is never printed, logged or written, and only the derived
  domain key reaches the pseudonymiser.
- Domain key: HKDF-SHA256 (cryptography) of the master secret, with a fixed salt and the
  domain name as `info`.
- Pseudonym: HMAC-SHA256 of the canonical identifier under the domain key, the first 16
  bytes in hex (128 bits). The HMAC is RFC 2104 computed with the standard library's
  SHA-256, its inner and outer states keyed once and copied per identifier; a test checks it
  against `hmac.digest` byte for byte.
- A key check value (an HMAC of a fixed label) goes into each output's manifest, so files
  made with another key or domain are recognised without revealing either.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from datetime import date

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from laif.errors import BadInput

SCHEME = "laif-ipms-1"
_SALT = b"laif-ipms-1 domain key"
_CHECK_LABEL = b"laif-ipms-1 key check"
MIN_SECRET_BYTES = 16
_DOMAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def master_secret(env_name: str) -> bytes:
    """The master secret from the variable `env_name`: bytes only, never shown anywhere."""
    value = os.environ.get(env_name)
    if not value:
        raise BadInput(
            f"--key-env {env_name}: the variable is not set; it must hold the master secret",
            hint=f"e.g. export {env_name}=\"$(python -c 'import secrets; print(secrets.token_hex(32))')\"",
        )
    raw = value.encode("utf-8")
    if len(raw) < MIN_SECRET_BYTES:
        raise BadInput(f"--key-env {env_name}: the master secret is too short (at least {MIN_SECRET_BYTES} bytes)")
    return raw


def domain_key(secret: bytes, domain: str, purpose: str = "domain") -> bytes:
    """The 32-byte key of one project domain, derived with HKDF-SHA256.

    `purpose` separates keys of one domain used for different things: pseudonyms use
    "domain", the Bloom-filter encodings of identity matching use "bloom"; knowing one
    key tells nothing about the other.
    """
    if not _DOMAIN.match(domain):
        raise BadInput(f"--domain {domain!r}: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=f"{purpose}:{domain}".encode()).derive(secret)


class Pseudonymiser:
    """HMAC-SHA256 under one domain key, keyed once; `__call__` maps canonical bytes to a pseudonym."""

    def __init__(self, key: bytes) -> None:
        self._key = key  # for the C file path (files.py), which keys its own states
        block = key.ljust(64, b"\0") if len(key) <= 64 else hashlib.sha256(key).digest().ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
        self.key_check = self.digest(_CHECK_LABEL).hex()[:16]

    def digest(self, data: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(data)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def __call__(self, data: bytes) -> str:
        # `digest` written out again: a method call per identifier costs about a tenth of
        # the file path's time (benchmarks/bench_ipms.py).
        inner = self._inner.copy()
        inner.update(data)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()[:32]


# --- canonical forms -----------------------------------------------------------------------

_DATE_FORMATS = [
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"),  # 1980-03-07
    re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$"),  # 19800307
    re.compile(r"^(?P<d>\d{1,2})[./-](?P<m>\d{1,2})[./-](?P<y>\d{4})$"),  # 07.03.1980, 7/3/1980 (day first)
    re.compile(r"^(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})$"),  # 1980/03/07
]


def canonical_text(value: str) -> str:
    """Names and free identifiers: accents dropped, case folded, whitespace collapsed."""
    if value.isascii():
        return " ".join(value.lower().split())
    decomposed = unicodedata.normalize("NFKD", value)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())


def canonical_id(value: str) -> str:
    """Numbers and codes: letters and digits only, upper case ("1980 0307 123-45" -> "1980030712345")."""
    if value.isascii():
        return (value if value.isalnum() else value.translate(_ASCII_NOT_ALNUM)).upper()
    return "".join(ch for ch in canonical_text(value) if ch.isalnum()).upper()


_ASCII_NOT_ALNUM = {c: None for c in range(128) if not chr(c).isalnum()}


def canonical_date(value: str) -> str:
    """Dates in the usual European forms, day before month, as ISO 8601."""
    text = value.strip()
    for pattern in _DATE_FORMATS:
        m = pattern.match(text)
        if m:
            try:
                return date(int(m["y"]), int(m["m"]), int(m["d"])).isoformat()
            except ValueError as exc:
                raise ValueError(f"not a real date: {text!r} ({exc})") from None
    raise ValueError(f"not a date in a known form (YYYY-MM-DD, DD.MM.YYYY, DD/MM/YYYY, YYYYMMDD): {text!r}")


CANONICAL = {"text": canonical_text, "id": canonical_id, "date": canonical_date}
