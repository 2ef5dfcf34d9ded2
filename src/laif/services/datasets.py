"""The datasets catalogue as services: draft and publish an entry, search, DCAT-AP 3 export,
validation and harvest, and access requests decided by the holder.

    from laif.services import datasets
    datasets.publish(Path("mobility.yaml"), holder="alice", db=url)   # checked as DCAT-AP first
    hits = datasets.search("mobility", theme="TRAN", db=url)          # best match first
    request_id = datasets.request_access("mobility-2024", "bob", "a study of commuting", db=url)
    datasets.act(request_id, "alice", "approve", db=url)

Who acts is the caller's to establish (the command line takes --as or the login name; the portal
its signed-in user). Bad input raises `laif.errors.BadInput`; a catalogue that is not valid
DCAT-AP raises `InvalidCatalogue` (exit code 1) with the validation report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx

from laif._files import write_atomic
from laif.catalogue import dcat, vocab
from laif.catalogue.entry import Entry, load_entry, write_draft
from laif.catalogue.profile import profile as profile_sample
from laif.catalogue.store import FILTERS, TRANSITIONS, Catalogue, Hit
from laif.errors import EXIT_GATE, BadInput, LaifError
from laif.store.db import shared

__all__ = ["ACTIONS", "DEFAULT_BASE", "FILTERS", "DcatExport", "Draft", "Harvested", "Hit", "InvalidCatalogue",
           "InvalidEntry", "Published", "act", "dataset_dcat", "draft", "export", "export_dcat", "facets", "harvest",
           "publish", "request_access", "requests", "search", "show", "TRANSITIONS", "validate"]

#: Base URI of the catalogue's datasets when none is given.
DEFAULT_BASE = dcat.DEFAULT_BASE
#: What can be done to an access request: approve, reject, ask (the holder), reply (the requester).
ACTIONS = tuple(dict.fromkeys(action for steps in TRANSITIONS.values() for action in steps))
#: DCAT-AP serialisations by file suffix.
SUFFIXES = {".ttl": "turtle", ".jsonld": "json-ld", ".json": "json-ld"}


class InvalidEntry(BadInput):
    """An entry that is not valid DCAT-AP: nothing was published; `report` says why."""

    def __init__(self, message: str, report: dict[str, Any]) -> None:
        super().__init__(message)
        self.report = report


class InvalidCatalogue(LaifError):
    """The catalogue as a whole is not valid DCAT-AP: nothing was exported; `report` says why."""

    exit_code = EXIT_GATE

    def __init__(self, message: str, report: dict[str, Any]) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class Draft:
    #: The entry written, to complete and publish.
    path: Path
    #: The sample's profile: rows, columns, types, missing values, ranges, personal data.
    profile: dict[str, Any]


@dataclass(frozen=True)
class Published:
    identifier: str
    access_rights: str
    #: False when an entry of the same identifier was replaced.
    new: bool
    #: The DCAT-AP validation report (conforms; the recommendations left open are its warnings).
    report: dict[str, Any]


@dataclass(frozen=True)
class DcatExport:
    text: str
    #: The number of datasets in it.
    datasets: int
    report: dict[str, Any]


@dataclass(frozen=True)
class Harvested:
    source: str
    added: int
    updated: int
    #: Why each dataset that was not taken in was left out.
    skipped: list[str]
    #: The source's own validation: a source that is not valid is harvested as far as laif can hold it.
    report: dict[str, Any]


def _stamp(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def draft(sample: Path, out: Path | None = None, today: date | None = None) -> Draft:
    """Draft an entry from a sample (CSV, Parquet or JSON): schema, types, rows, missing values,
    ranges, personal data; the rest marked TODO. Never over an existing file."""
    target = out or sample.with_suffix(".yaml")
    if target.exists():
        raise BadInput(f"--out {target}: exists already; name another file or remove it")
    found = profile_sample(sample)
    write_draft(sample, target, found, today or date.today())
    return Draft(target, found)


def publish(entry: Entry | Path, holder: str, *, replace: bool = False, base: str = DEFAULT_BASE,
            db: str | None = None) -> Published:
    """Publish an entry (a completed draft file, or an `Entry` from a form) after checking it field by
    field and as DCAT-AP 3 with DCAT-AP-LU; `replace` replaces the holder's own entry of that identifier."""
    checked = load_entry(entry) if isinstance(entry, Path) else entry
    now = datetime.now(UTC)
    report = dcat.validate(dcat.to_graph([(checked, now, now)], dcat.CatalogInfo(base=base)))
    if not report["conforms"]:
        where = entry if isinstance(entry, Path) else checked.identifier
        raise InvalidEntry(f"{where}: the entry is not valid DCAT-AP; nothing published", report)
    new = shared(Catalogue, db).put(checked, holder, replace=replace)
    return Published(checked.identifier, checked.access_rights, new, report)


def search(query: str = "", *, limit: int = 20, theme: str | None = None, publisher: str | None = None,
           access: str | None = None, format: str | None = None, language: str | None = None,
           db: str | None = None) -> list[Hit]:
    """Full-text search (each word also as a prefix, accents folded) with filters, best match first;
    an empty query lists everything, newest first."""
    return shared(Catalogue, db).search(query, limit=limit, theme=theme, publisher=publisher, access=access,
                                format=format, language=language)


def facets(query: str = "", *, theme: str | None = None, publisher: str | None = None, access: str | None = None,
           format: str | None = None, language: str | None = None,
           db: str | None = None) -> dict[str, list[tuple[str, str, int]]]:
    """What `search` would find, counted by theme, access, publisher and language: for each, a list of
    (value to filter by, label, number of datasets), most datasets first."""
    found = shared(Catalogue, db).facets(query, kinds=("theme", "access", "publisher", "language"), theme=theme,
                                 publisher=publisher, access=access, format=format, language=language)
    return {kind: [(value, _label(kind, label), n) for value, label, n in values] for kind, values in found.items()}


def _label(kind: str, value: str) -> str:
    """A facet value as a reader knows it: a theme's or language's English name, else as stored."""
    if kind == "theme":
        return vocab.codes("data-theme").get(value.upper(), value)
    if kind == "language":
        return vocab.codes("language").get(vocab.LANGUAGES.get(value, ""), value)
    return value


def show(identifier: str, db: str | None = None) -> dict[str, Any]:
    """An entry as stored: the metadata and the profile of its sample, who holds it, where it came from."""
    row = shared(Catalogue, db).get(identifier)
    return {"identifier": row.identifier, "holder": row.holder, "source": row.source,
            "issued": row.issued.isoformat(), "modified": row.modified.isoformat(), "record": row.record}


def export_dcat(fmt: str = "turtle", base: str = DEFAULT_BASE, db: str | None = None) -> DcatExport:
    """The whole catalogue as DCAT-AP 3 ("turtle" or "json-ld"), validated with SHACL first."""
    catalogue = shared(Catalogue, db)
    rows = [(Entry.model_validate(r.record), _stamp(r.issued), _stamp(r.modified)) for r in catalogue.entries()]
    graph = dcat.to_graph(rows, dcat.CatalogInfo(base=base))
    report = dcat.validate(graph)
    if not report["conforms"]:
        raise InvalidCatalogue("the catalogue is not valid DCAT-AP; nothing exported", report)
    return DcatExport(dcat.serialise(graph, fmt), catalogue.count(), report)


def dataset_dcat(identifier: str, fmt: str = "turtle", base: str = DEFAULT_BASE, db: str | None = None) -> str:
    """One dataset as DCAT-AP 3 ("turtle" or "json-ld"), in its catalogue, as `export_dcat` writes it:
    what a dataset's URI (`<base>dataset/<identifier>`) answers. Checked when it was published."""
    row = shared(Catalogue, db).get(identifier)
    entry = (Entry.model_validate(row.record), _stamp(row.issued), _stamp(row.modified))
    return dcat.serialise(dcat.to_graph([entry], dcat.CatalogInfo(base=base)), fmt)


def export(out: Path, base: str = DEFAULT_BASE, db: str | None = None) -> DcatExport:
    """`export_dcat` written to `out`: Turtle for .ttl, JSON-LD for .jsonld (or .json)."""
    fmt = SUFFIXES.get(out.suffix.lower())
    if fmt is None:
        raise BadInput(f"--out {out}: use a .ttl or .jsonld file name")
    exported = export_dcat(fmt, base, db)
    write_atomic(out, exported.text)
    return exported


def validate(source: Path) -> dict[str, Any]:
    """Validate a DCAT-AP file (.ttl, .jsonld, .rdf, .nt) against DCAT-AP 3.0.1 and DCAT-AP-LU:
    conforms, violations, warnings (recommendations) and notes."""
    if not source.is_file():
        raise BadInput(f"{source}: no such file")
    return dcat.validate(dcat.parse(source.read_bytes(), source.name))


def _fetch(source: str) -> tuple[bytes, str]:
    if source.startswith(("http://", "https://")):
        try:
            response = httpx.get(source, timeout=60, follow_redirects=True)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise BadInput(f"{source}: cannot fetch ({exc})") from None
        return response.content, source.split("?")[0]
    path = Path(source)
    if not path.is_file():
        raise BadInput(f"{source}: no such file")
    return path.read_bytes(), path.name


def harvest(source: str, db: str | None = None) -> Harvested:
    """Harvest another DCAT-AP catalogue (a file, or its http(s) URL): new datasets are added, known
    ones updated; an identifier a holder published here is never overwritten."""
    data, name = _fetch(source)
    graph = dcat.parse(data, name)
    report = dcat.validate(graph)
    imported = dcat.from_graph(graph)
    catalogue = shared(Catalogue, db)
    added = updated = 0
    skipped = list(imported.skipped)
    for entry, issued, modified in imported.entries:
        try:
            new = catalogue.put(entry, holder=f"harvest:{source}", source=f"harvest:{source}", replace=True,
                                issued=issued, modified=modified)
        except BadInput as exc:
            skipped.append(exc.message)
            continue
        if new:
            added += 1
        else:
            updated += 1
    return Harvested(source, added, updated, skipped, report)


def request_access(identifier: str, who: str, purpose: str, db: str | None = None) -> str:
    """Ask the holder for access to a restricted or non-public dataset; returns the request's id."""
    return shared(Catalogue, db).request_access(identifier, who, purpose)


def act(request_id: str, who: str, action: str, message: str = "", db: str | None = None) -> str:
    """`who` approves, rejects or asks about a request (the holder), or replies (the requester);
    returns the request's new status. Only the side whose turn it is may act."""
    if action not in ACTIONS:
        raise BadInput(f"unknown action {action!r}; use {', '.join(ACTIONS)}")
    return shared(Catalogue, db).act(request_id, who, action, message)


def requests(dataset: str | None = None, who: str | None = None, db: str | None = None) -> list[dict[str, Any]]:
    """Access requests with every step (who did what, when); `dataset` and `who` (a requester or
    holder) narrow them."""
    return shared(Catalogue, db).requests(dataset, who)
