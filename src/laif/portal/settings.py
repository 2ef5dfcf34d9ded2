"""What `laif serve` is configured with: the database, the session secret, limits, and optionally an
OpenID Connect provider with the mapping from its group claims to organisations and roles.

A mapping file (YAML or JSON), for example::

    claim: groups            # the claim that lists the user's groups
    rules:
      - value: acme-staff    # a group of the identity provider
        organisation: Acme   # made on first sign-in when missing
        kind: sme            # factory | sme | data_holder | authority
        role: sme_member
      - value: factory-advisors
        organisation: Luxembourg AI Factory
        kind: factory
        role: advisor
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from laif._files import laif_home, write_atomic
from laif._yaml import load_file
from laif.portal.tables import Role

#: The organisation of the factory's own staff (advisors, admins), made on first start.
FACTORY_ORGANISATION = "Luxembourg AI Factory"


class MappingRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: str
    organisation: str
    kind: Literal["factory", "sme", "data_holder", "authority"] = "sme"
    role: Role


class RoleMapping(BaseModel):
    """How an identity provider's claim values become memberships."""

    model_config = ConfigDict(extra="forbid")

    claim: str = "groups"
    rules: list[MappingRule]

    def memberships(self, claims: dict[str, object]) -> list[MappingRule]:
        """The rules whose value the user's claim carries (a list of strings or one string)."""
        raw = claims.get(self.claim)
        values = {raw} if isinstance(raw, str) else {str(v) for v in raw} if isinstance(raw, list) else set()
        return [rule for rule in self.rules if rule.value in values]

    @classmethod
    def load(cls, path: Path) -> RoleMapping:
        """Read a mapping file; a missing file or a bad field is BadInput naming file, line and field."""
        return load_file(cls, path, "the OpenID Connect role mapping")


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    mapping: RoleMapping
    label: str = "Sign in with your organisation"


@dataclass(frozen=True)
class PortalSettings:
    db_url: str
    secret_key: str = field(repr=False)
    #: Send the session cookie over HTTPS only (set when the portal is served behind TLS).
    cookie_secure: bool = False
    session_hours: int = 12
    max_upload_bytes: int = 10 * 1024 * 1024
    oidc: OidcSettings | None = None
    #: Where the portal keeps files: run stores and reports, uploads, bundles (default
    #: `$LAIF_HOME/portal`). Each organisation's files are under `orgs/<id>/`.
    data_dir: Path | None = None
    #: The base URI of the datasets' DCAT-AP identifiers (a dataset's URI is `<base>dataset/<id>`).
    dcat_base: str | None = None
    #: Start one job worker in the portal's process (`laif serve --workers 0` turns it off).
    workers: int = 1
    #: A monitoring spec: the portal then receives OTLP/HTTP GenAI spans into its stream at `/otlp/v1/traces`.
    monitor_spec: Path | None = None

    def files(self) -> Path:
        """The portal's file folder, made on first use."""
        path = self.data_dir or laif_home() / "portal"
        path.mkdir(parents=True, exist_ok=True)
        return path


def session_secret() -> str:
    """The key that signs session cookies: `LAIF_PORTAL_SECRET`, else `$LAIF_HOME/portal.secret`
    (mode 0600), made on first use so that sessions survive a restart."""
    if os.environ.get("LAIF_PORTAL_SECRET"):
        return os.environ["LAIF_PORTAL_SECRET"]
    path = laif_home() / "portal.secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, secrets.token_urlsafe(48) + "\n")
        path.chmod(0o600)
    return path.read_text().strip()
