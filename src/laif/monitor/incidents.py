"""Serious incidents (AI Act Art. 3(49)) and their reporting deadlines (Art. 73).

Categories, from Art. 3(49), with the latest day the report is due after the provider (or
deployer) becomes aware of the incident:

| category | Art. 3(49) | due within | rule |
| --- | --- | --- | --- |
| `death` | (a) the death of a person | 10 days | Art. 73(4) |
| `health` | (a) serious harm to a person's health | 15 days | Art. 73(2) |
| `critical_infrastructure` | (b) serious and irreversible disruption of critical infrastructure | 2 days | Art. 73(3) |
| `fundamental_rights` | (c) infringement of Union law protecting fundamental rights | 15 days | Art. 73(2) |
| `property_environment` | (d) serious harm to property or the environment | 15 days | Art. 73(2) |

A widespread infringement (Art. 3(61)) is due within 2 days whatever its category (Art. 73(3)).
In every case the report is due immediately once a causal link (or its reasonable likelihood)
is established; the days above are the outer limit. An initial, incomplete report may come
first (Art. 73(5)); each report, root cause and corrective action (Art. 20) is a new version
of the incident, and earlier versions are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from laif.errors import BadInput
from laif.monitor.store import IncidentRow, IncidentVersionRow, MonitorStore, as_utc


@dataclass(frozen=True)
class Category:
    point: str
    what: str
    days: int
    rule: str


CATEGORIES = {
    "death": Category("Art. 3(49)(a)", "the death of a person", 10, "Art. 73(4)"),
    "health": Category("Art. 3(49)(a)", "serious harm to a person's health", 15, "Art. 73(2)"),
    "critical_infrastructure": Category("Art. 3(49)(b)", "a serious and irreversible disruption of the management "
                                        "or operation of critical infrastructure", 2, "Art. 73(3)"),
    "fundamental_rights": Category("Art. 3(49)(c)", "an infringement of obligations under Union law intended to "
                                   "protect fundamental rights", 15, "Art. 73(2)"),
    "property_environment": Category("Art. 3(49)(d)", "serious harm to property or the environment", 15, "Art. 73(2)"),
}
WIDESPREAD_DAYS, WIDESPREAD_RULE = 2, "Art. 73(3)"
STATUSES = ("open", "reported", "closed")
REPORT_KINDS = ("initial", "complete")


def deadline(category: str, widespread: bool, aware_at: datetime) -> dict[str, Any]:
    """When the Art. 73 report is due at the latest, and under which rule."""
    cat = CATEGORIES[category]
    if widespread and cat.days > WIDESPREAD_DAYS:
        days, rule, why = WIDESPREAD_DAYS, WIDESPREAD_RULE, "a widespread infringement (Art. 3(61))"
    else:
        days, rule, why = cat.days, cat.rule, cat.what
    return {"due": aware_at + timedelta(days=days), "days": days, "rule": rule, "why": why}


def _check_times(occurred: datetime, aware: datetime, causal: datetime | None) -> None:
    for label, t in (("--occurred", occurred), ("--aware", aware), ("--causal-link", causal)):
        if t is not None and t.tzinfo is None:
            raise BadInput(f"{label} {t.isoformat()}: give a time zone, e.g. 2026-11-27T14:00:00+01:00")
    if aware < occurred:
        raise BadInput(f"--aware {aware.isoformat()}: before the occurrence ({occurred.isoformat()})")
    if causal is not None and causal < occurred:
        raise BadInput(f"--causal-link {causal.isoformat()}: before the occurrence ({occurred.isoformat()})")


def open_incident(store: MonitorStore, *, title: str, category: str, occurred: datetime, aware: datetime,
                  causal_link: datetime | None = None, widespread: bool = False, stream: str | None = None,
                  description: str = "") -> IncidentRow:
    if category not in CATEGORIES:
        raise BadInput(f"--category {category!r}: one of {', '.join(CATEGORIES)}")
    if not title.strip():
        raise BadInput("--title: say in a few words what happened")
    _check_times(occurred, aware, causal_link)
    # SQLite keeps no time zone: every time is stored in UTC and read back as such (_aware).
    occurred, aware = occurred.astimezone(UTC), aware.astimezone(UTC)
    causal_link = causal_link.astimezone(UTC) if causal_link else None
    if stream is not None:
        store.stream(stream)
    with store.session() as s:
        number = (s.scalar(select(func.count()).select_from(IncidentRow)) or 0) + 1
        row = IncidentRow(id=f"INC-{number:04d}", stream=stream, title=title.strip(), category=category,
                          widespread=widespread, occurred_at=occurred, aware_at=aware, causal_link_at=causal_link,
                          status="open")
        s.add(row)
        s.add(IncidentVersionRow(incident=row.id, version=1, fields={
            "event": "opened", "description": description, "category": category, "widespread": widespread,
            "occurred_at": occurred.isoformat(), "aware_at": aware.isoformat(),
            "causal_link_at": causal_link.isoformat() if causal_link else None}))
    return row


def require(store: MonitorStore, incident_id: str) -> IncidentRow:
    with store.session() as s:
        row = s.get(IncidentRow, incident_id.upper())
    if row is None:
        raise BadInput(f"no incident {incident_id!r}", hint="laif incidents list shows them")
    return row


def update_incident(store: MonitorStore, incident_id: str, *, causal_link: datetime | None = None,
                    root_cause: str | None = None, actions: list[str] | None = None, report: str | None = None,
                    status: str | None = None, note: str | None = None) -> int:
    """Record a change as a new version; returns its number."""
    row = require(store, incident_id)
    if report is not None and report not in REPORT_KINDS:
        raise BadInput(f"--report {report!r}: one of {', '.join(REPORT_KINDS)}")
    if status is not None and status not in STATUSES:
        raise BadInput(f"--status {status!r}: one of {', '.join(STATUSES)}")
    if causal_link is not None:
        _check_times(as_utc(row.occurred_at), as_utc(row.aware_at), causal_link)
        causal_link = causal_link.astimezone(UTC)
    fields: dict[str, Any] = {"event": "updated"}
    if causal_link is not None:
        fields["causal_link_at"] = causal_link.isoformat()
    if root_cause:
        fields["root_cause"] = root_cause
    if actions:
        fields["corrective_actions"] = actions
    if report:
        fields["report"] = report
        status = status or ("reported" if row.status == "open" else None)
    if status:
        fields["status"] = status
    if note:
        fields["note"] = note
    if len(fields) == 1:
        raise BadInput("nothing to record: give --causal-link, --root-cause, --action, --report, --status or --note")
    with store.session() as s:
        live = s.get(IncidentRow, row.id)
        assert live is not None
        version = (s.scalar(select(func.max(IncidentVersionRow.version)).where(IncidentVersionRow.incident == row.id))
                   or 0) + 1
        s.add(IncidentVersionRow(incident=row.id, version=version, fields=fields))
        if causal_link is not None:
            live.causal_link_at = causal_link
        if status:
            live.status = status
    return version


def describe(store: MonitorStore, incident_id: str, now: datetime | None = None) -> dict[str, Any]:
    """The incident as it stands: its deadline, every version, root cause and actions so far."""
    row = require(store, incident_id)
    with store.session() as s:
        versions = list(s.scalars(select(IncidentVersionRow).where(IncidentVersionRow.incident == row.id)
                                  .order_by(IncidentVersionRow.version)))
    aware = as_utc(row.aware_at)
    due = deadline(row.category, row.widespread, aware)
    now = now or datetime.now(UTC)
    reports = [{"version": v.version, "kind": v.fields["report"], "at": as_utc(v.at).isoformat()}
               for v in versions if v.fields.get("report")]
    root = [v.fields["root_cause"] for v in versions if v.fields.get("root_cause")]
    cat = CATEGORIES[row.category]
    return {
        "id": row.id, "stream": row.stream, "title": row.title, "status": row.status,
        "category": row.category, "category_text": f"{cat.point}: {cat.what}", "widespread": row.widespread,
        "occurred_at": as_utc(row.occurred_at).isoformat(), "aware_at": aware.isoformat(),
        "causal_link_at": as_utc(row.causal_link_at).isoformat() if row.causal_link_at else None,
        "deadline": {"due": due["due"].isoformat(), "days": due["days"], "rule": due["rule"], "why": due["why"],
                     "hours_left": round((due["due"] - now).total_seconds() / 3600, 1),
                     "met": (datetime.fromisoformat(reports[0]["at"]) <= due["due"]) if reports else None},
        "reports": reports,
        "root_cause": root[-1] if root else None,
        "corrective_actions": [a for v in versions for a in v.fields.get("corrective_actions", [])],
        "versions": [{"version": v.version, "at": as_utc(v.at).isoformat(), **v.fields} for v in versions],
    }


def incidents(store: MonitorStore) -> list[dict[str, Any]]:
    with store.session() as s:
        ids = list(s.scalars(select(IncidentRow.id).order_by(IncidentRow.id)))
    return [describe(store, i) for i in ids]
