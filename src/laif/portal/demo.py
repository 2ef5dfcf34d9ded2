"""The demo that `make run` ends in (`laif serve --demo`): an SME, "Demo SME", whose owner finds the
runs `make run` just stored in the sandbox, a qualification of a demo system in the AI Act pages,
and two datasets a data holder, "Demo Data Holder", has published in the catalogue.

`seed` is idempotent: a second call finds what the first made and makes nothing twice. Each
account it makes gets a one-time password, returned once for the caller to print and stored only
as a hash; it must be changed at the first sign-in, as the first admin's is.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from laif.portal.core import Portal
from laif.portal.scope import Caller, audit, caller_for
from laif.portal.security import hash_password
from laif.portal.settings import PortalSettings
from laif.portal.tables import Account, Membership, Organisation, Role
from laif.store.db import ExchangeRow, JudgeRow, RunRow, Store, VerdictRow

DEMO_ORGANISATION = "Demo SME"
DEMO_OWNER = "owner@demo-sme.lu"
DEMO_HOLDER_ORGANISATION = "Demo Data Holder"
DEMO_HOLDER = "holder@demo-data.lu"
#: Who the audit log names for what the seeding does.
ACTOR = "laif serve --demo"


@dataclass
class DemoSeed:
    """What the demo holds after `seed`: its organisations, the runs of its sandbox, and the
    one-time passwords of the accounts made by this call (empty on a second call)."""

    organisation_id: int
    holder_organisation_id: int
    owner_account_id: int
    holder_account_id: int
    runs: list[str] = field(default_factory=list)
    imported: list[str] = field(default_factory=list)
    passwords: dict[str, str] = field(default_factory=dict, repr=False)


def _organisation(s: Session, name: str, kind: str) -> Organisation:
    org = s.scalars(select(Organisation).where(Organisation.name == name)).first()
    if org is None:
        org = Organisation(name=name, kind=kind)
        s.add(org)
        s.flush()
        audit(s, None, "organisation.create", f"organisation:{org.id}", {"name": name, "kind": kind},
              actor=ACTOR, organisation_id=org.id)
    return org


def _account(s: Session, email: str, name: str, org: Organisation, role: Role,
             passwords: dict[str, str]) -> Account:
    """The account `email` with `role` in `org`; made with a one-time password (put in `passwords`)
    when it is missing. An existing account keeps its password."""
    account = s.scalars(select(Account).where(Account.email == email)).first()
    if account is None:
        password = secrets.token_urlsafe(12)
        account = Account(email=email, name=name, password_hash=hash_password(password), must_change_password=True)
        s.add(account)
        s.flush()
        passwords[email] = password
        audit(s, None, "account.create", f"account:{account.id}", {"email": email}, actor=ACTOR,
              organisation_id=org.id)
    held = s.scalars(select(Membership).where(Membership.account_id == account.id,
                                              Membership.organisation_id == org.id,
                                              Membership.role == role.value)).first()
    if held is None:
        s.add(Membership(account_id=account.id, organisation_id=org.id, role=role.value))
        audit(s, None, "membership.create", f"account:{account.id}", {"role": role.value}, actor=ACTOR,
              organisation_id=org.id)
    return account


def caller(portal: Portal, s: Session, account_id: int, organisation_id: int) -> Caller:
    """The demo account as a caller of the portal's scoped query layer."""
    who = caller_for(s, account_id, organisation_id, None)
    assert who is not None, "a demo account has its membership"
    return who


# --- the runs of `make run` -----------------------------------------------------------------

def runs_of(out: Path | None) -> list[str] | None:
    """The run ids of the results.json files in `out` (`laif assess --out`: one file, or one per
    suite or answer mode in sub-folders); None when there is none, meaning every stored run."""
    if out is None or not out.is_dir():
        return None
    ids: list[str] = []
    for path in sorted([out / "results.json", *out.glob("*/results.json")]):
        if not path.is_file():
            continue
        try:
            run_id = json.loads(path.read_text(encoding="utf-8")).get("run_id")
        except (OSError, ValueError, AttributeError):
            continue  # not a results file of laif's: nothing of it to show
        if isinstance(run_id, str) and run_id not in ids:
            ids.append(run_id)
    return ids or None


def _copy(row: Any) -> Any:
    """A detached copy of an ORM row with its column values; an autoincrement id is left to the
    target store."""
    mapper = inspect(type(row))
    values = {attr.key: getattr(row, attr.key) for attr in mapper.column_attrs}
    if type(row) in (ExchangeRow, VerdictRow, JudgeRow):
        values.pop("id", None)
    return type(row)(**values)


def import_runs(source_url: str, target_url: str, run_ids: list[str] | None) -> tuple[list[str], list[str]]:
    """Copy complete runs (record, answers, verdicts, judge readings) from one run store to another,
    skipping those already there. Returns (the runs the target now holds of those asked, those
    copied by this call). A run id that the source does not hold is skipped."""
    source, target = Store(source_url), Store(target_url)
    try:
        wanted = run_ids if run_ids is not None else [run.id for run in source.runs()]
        held: list[str] = []
        copied: list[str] = []
        for run_id in wanted:
            with target.session() as t:
                if t.get(RunRow, run_id) is not None:
                    held.append(run_id)
                    continue
            run = source.get_run(run_id)
            if run is None or run.id != run_id or run.status != "complete":
                continue
            rows = [_copy(run)]
            rows += [_copy(r) for r in source.exchanges(run_id)]
            rows += [_copy(r) for r in source.verdicts(run_id)]
            rows += [_copy(r) for r in source.judgements(run_id)]
            with target.session() as t:
                t.add(rows[0])
                t.flush()
                t.add_all(rows[1:])
            held.append(run_id)
            copied.append(run_id)
        return held, copied
    finally:
        source.engine.dispose()
        target.engine.dispose()


def run_db(settings: PortalSettings, organisation_id: int) -> str:
    """The organisation's own run store, where its sandbox jobs store their runs (the same URL as
    laif.portal.jobs.run_db)."""
    path = settings.files() / "orgs" / str(organisation_id) / "runs.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


# --- the whole demo -------------------------------------------------------------------------

def seed(settings: PortalSettings, run_store_url: str, *, out: Path | None = Path("laif-out"),
         portal: Portal | None = None) -> DemoSeed:
    """Make (or find) the demo: its SME and owner, the runs of `run_store_url` that `out`'s
    results.json files name (every complete run of the store when `out` has none) in the SME's
    own run store, a qualification of a demo system, and two datasets of a demo data holder."""
    own = portal is None
    portal = portal or Portal(settings)
    try:
        passwords: dict[str, str] = {}
        with portal.session() as s:
            sme = _organisation(s, DEMO_ORGANISATION, "sme")
            holder_org = _organisation(s, DEMO_HOLDER_ORGANISATION, "data_holder")
            owner = _account(s, DEMO_OWNER, "Demo Owner", sme, Role.sme_owner, passwords)
            holder = _account(s, DEMO_HOLDER, "Demo Holder", holder_org, Role.data_holder, passwords)
            demo = DemoSeed(sme.id, holder_org.id, owner.id, holder.id, passwords=passwords)
        demo.runs, demo.imported = import_runs(run_store_url, run_db(settings, demo.organisation_id), runs_of(out))
        return demo
    finally:
        if own:
            portal.close()


def announce(settings: PortalSettings, portal: Portal, run_store_url: str, address: str,
             out: Path | None = Path("laif-out")) -> list[str]:
    """Seed the demo and say what it holds and how to sign in: the lines `laif serve --demo`
    prints. A password appears only on the call that made its account."""
    demo = seed(settings, run_store_url, out=out, portal=portal)
    lines = [f"demo: '{DEMO_ORGANISATION}' has {len(demo.runs)} run(s) of `make run` in its sandbox"
             + (f" ({len(demo.imported)} imported now)" if demo.imported else "")]
    for email, who in ((DEMO_OWNER, "demo SME owner"), (DEMO_HOLDER, "demo data holder")):
        if email in demo.passwords:
            lines.append(f"{who}: sign in at {address}login as '{email}' with the one-time password "
                         f"{demo.passwords[email]}")
    if demo.passwords:
        lines.append("(each is asked to choose their own password at the first sign-in)")
    return lines
