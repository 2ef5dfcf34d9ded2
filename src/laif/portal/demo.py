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
import shutil
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from laif.errors import BadInput
from laif.portal.core import Portal
from laif.portal.jobs import ANSWER_MODES, Job, JobStatus, job_dir, run_db
from laif.portal.scope import Caller, audit, caller_for
from laif.portal.security import hash_password
from laif.portal.settings import PortalSettings
from laif.portal.tables import Account, Membership, Organisation, Role, now
from laif.store.db import ExchangeRow, JudgeRow, RunRow, Store, VerdictRow

DEMO_ORGANISATION = "Demo SME"
DEMO_OWNER = "owner@demo-sme.lu"
DEMO_HOLDER_ORGANISATION = "Demo Data Holder"
DEMO_HOLDER = "holder@demo-data.lu"
#: The demo SME's AI system, qualified with these answers (the question ids of `laif qualify`): a
#: chatbot the SME provides, which talks with people and writes text: limited risk, Art. 50(1), (2).
DEMO_SYSTEM = "Customer-service chatbot (demo)"
DEMO_ANSWERS: dict[str, Any] = {
    "scope.union": "market", "ai_system.infers": "yes", "ai_system.autonomy": "yes", "role": "provider",
    "provider.outside_union": "no", "prohibited": ["none"], "annex_i.safety_component": "no",
    "annex_iii.uses": ["none"], "transparency.interacts": "yes", "transparency.generates": "yes",
    "transparency.emotion_or_categorisation": "no", "transparency.deep_fake": "no", "gpai.model": "no",
}
#: The demo data holder's two datasets: a sample shipped in laif.portal's data (made up for the
#: demo), profiled and published through the datasets pages' scope, with these fields.
DEMO_DATASETS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("demo-bus-punctuality.csv", {
        "identifier": "demo-bus-punctuality", "title": "Bus punctuality by line and month (demo)",
        "description": "Trips and the share of them on time, per bus line and month of 2025. Made up for the "
                       "portal's demo: no real operator's figures.",
        "contact": {"name": "Demo Data Holder", "email": "data@demo-data.lu"}, "licence": "CC_BY_4_0",
        "access_rights": "public", "themes": ["TRAN"], "keywords": ["mobility", "bus", "punctuality", "demo"],
        "languages": ["en"], "spatial": ["LUX"]}),
    ("demo-energy-load.csv", {
        "identifier": "demo-energy-load", "title": "Electricity load of two plants, every two hours (demo)",
        "description": "The load in kW and the outside temperature of two plants over three days of March "
                       "2025, every two hours. Made up for the portal's demo; access on request.",
        "contact": {"name": "Demo Data Holder", "email": "data@demo-data.lu"}, "licence": "CC_BY_4_0",
        "access_rights": "restricted", "themes": ["ENER"], "keywords": ["energy", "load", "industry", "demo"],
        "languages": ["en"], "spatial": ["LUX"]}),
)
#: Who the audit log names for what the seeding does.
ACTOR = "laif serve --demo"
#: The demo job's params name where its runs came from.
SOURCE = "make run"


@dataclass
class DemoSeed:
    """What the demo holds after `seed`: its organisations, the runs of its sandbox, and the
    one-time passwords of the accounts made by this call (empty on a second call)."""

    organisation_id: int
    holder_organisation_id: int
    owner_account_id: int
    holder_account_id: int
    runs: list[str] = field(default_factory=list)
    job_id: int | None = None
    system_id: int | None = None
    risk_class: str | None = None
    datasets: list[str] = field(default_factory=list)
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
    when it is missing, or while it has not yet chosen its own (a new one-time password replaces
    the printed one, which may have been lost). An account with its own password keeps it."""
    account = s.scalars(select(Account).where(Account.email == email)).first()
    if account is None:
        password = secrets.token_urlsafe(12)
        account = Account(email=email, name=name, password_hash=hash_password(password), must_change_password=True)
        s.add(account)
        s.flush()
        passwords[email] = password
        audit(s, None, "account.create", f"account:{account.id}", {"email": email}, actor=ACTOR,
              organisation_id=org.id)
    elif account.must_change_password:
        password = secrets.token_urlsafe(12)
        account.password_hash = hash_password(password)
        passwords[email] = password
        audit(s, None, "account.one_time_password", f"account:{account.id}", actor=ACTOR, organisation_id=org.id)
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

def reports_of(out: Path | None) -> dict[str, Path]:
    """The folders of `out` that hold a run's results.json (`laif assess --out`: the folder itself,
    or one sub-folder per suite or answer mode), by run id."""
    found: dict[str, Path] = {}
    if out is None or not out.is_dir():
        return found
    for path in sorted([out / "results.json", *out.glob("*/results.json")]):
        if not path.is_file():
            continue
        try:
            run_id = json.loads(path.read_text(encoding="utf-8")).get("run_id")
        except (OSError, ValueError, AttributeError):
            continue  # not a results file of laif's: nothing of it to show
        if isinstance(run_id, str) and run_id not in found:
            found[run_id] = path.parent
    return found


def runs_of(out: Path | None) -> list[str] | None:
    """The run ids of the results.json files in `out`; None when there is none, meaning every
    stored run."""
    return list(reports_of(out)) or None


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


def demo_job(portal: Portal, demo: DemoSeed, reports: dict[str, Path]) -> int | None:
    """The SME's runs of `make run` as one finished job of its sandbox, with their reports copied
    into the job's folder (one sub-folder per answer mode, as a job writes them), so that the
    sandbox lists it, shows its runs and opens its report. None when there is no run."""
    if not demo.runs:
        return None
    settings = portal.settings
    with portal.session() as s:
        job = next((j for j in s.scalars(select(Job).where(Job.organisation_id == demo.organisation_id))
                    if (j.params or {}).get("source") == SOURCE and sorted(j.run_ids or []) == sorted(demo.runs)), None)
        if job is None:
            store = Store(run_db(settings, demo.organisation_id))
            try:
                runs = [run for run in (store.get_run(run_id) for run_id in demo.runs) if run is not None]
            finally:
                store.engine.dispose()
            modes = [folder.name for run_id, folder in reports.items() if run_id in demo.runs
                     and folder.name in ANSWER_MODES] or ["free"]
            total = sum(run.total_prompts for run in runs)
            job = Job(organisation_id=demo.organisation_id, system_id=None, kind="options",
                      params={"suites": sorted({run.suite for run in runs}),
                              "languages": list(dict.fromkeys(lang for run in runs for lang in run.languages)),
                              "limit": runs[0].limit if runs else None, "answer_modes": modes, "source": SOURCE},
                      status=JobStatus.done.value, stage="done", done=total, total=total,
                      message="the runs of `make run`, imported by laif serve --demo", run_ids=list(demo.runs),
                      created_by=demo.owner_account_id, created_at=min((r.created_at for r in runs), default=now()),
                      started_at=min((r.created_at for r in runs), default=now()),
                      finished_at=max((r.finished_at or r.created_at for r in runs), default=now()))
            s.add(job)
            s.flush()
            audit(s, None, "job.import", f"job:{job.id}", {"runs": list(demo.runs)}, actor=ACTOR,
                  organisation_id=demo.organisation_id)
        folder = job_dir(settings, job)
        several = len([r for r in demo.runs if r in reports]) > 1
        for run_id in demo.runs:
            source = reports.get(run_id)
            if source is None:
                continue
            target = folder / source.name if several else folder
            target.mkdir(parents=True, exist_ok=True)
            for path in source.iterdir():
                if path.is_file() and not path.is_symlink() and not (target / path.name).exists():
                    shutil.copyfile(path, target / path.name)
        return job.id


# --- the qualification ----------------------------------------------------------------------

def qualification(portal: Portal, demo: DemoSeed) -> tuple[int, str]:
    """The demo system of the SME, made and qualified through the AI Act pages' scope when
    missing: its id and risk class."""
    from laif.portal.aiact_scope import AiActScope

    with portal.session() as s:
        scope = AiActScope(s, caller(portal, s, demo.owner_account_id, demo.organisation_id))
        found = [row for row in scope.systems() if row.name == DEMO_SYSTEM]
        system = found[0] if found else scope.create_system(DEMO_SYSTEM)
        if system.result is None:
            system = scope.qualify(system.id, dict(DEMO_ANSWERS))
        return system.id, str(system.risk_class)


# --- the catalogue -----------------------------------------------------------------------------

def catalogue(portal: Portal, demo: DemoSeed) -> list[str]:
    """The demo data holder's datasets, each drafted from its sample and published through the
    datasets pages' scope when the catalogue does not hold it yet: their identifiers."""
    from laif.portal.datasets_pages import DatasetsScope
    from laif.services import datasets

    held: list[str] = []
    for sample, fields in DEMO_DATASETS:
        identifier = str(fields["identifier"])
        try:
            datasets.show(identifier, portal.settings.db_url)
        except BadInput:  # not published yet
            content = resources.files("laif.portal").joinpath(f"data/{sample}").read_bytes()
            with portal.session() as s:
                scope = DatasetsScope(s, caller(portal, s, demo.holder_account_id, demo.holder_organisation_id),
                                      portal.settings)
                scope.publish(fields, scope.make_draft(sample, content))
        held.append(identifier)
    return held


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
        reports = reports_of(out)
        demo.runs, demo.imported = import_runs(run_store_url, run_db(settings, demo.organisation_id),
                                               list(reports) or None)
        demo.job_id = demo_job(portal, demo, reports)
        demo.system_id, demo.risk_class = qualification(portal, demo)
        demo.datasets = catalogue(portal, demo)
        return demo
    finally:
        if own:
            portal.close()


def announce(settings: PortalSettings, portal: Portal, run_store_url: str, address: str,
             out: Path | None = Path("laif-out")) -> list[str]:
    """Seed the demo and say what it holds and how to sign in: the lines `laif serve --demo`
    prints. A password appears for an account that has not chosen its own yet."""
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
