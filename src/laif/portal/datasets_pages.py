"""The datasets pages of the portal (and their JSON API under /api/v1): browse and search the
catalogue with facets, a dataset's page that also answers DCAT-AP (Turtle, JSON-LD) by content
negotiation on the dataset's URI, publishing from an uploaded sample (data holders), access
requests and the holder's inbox.

Domain logic lives in `laif.services.datasets`; these routes only read forms, call the service
through `DatasetsScope`, and render. The catalogue keeps its own tables (`catalogue_*`, made by
`laif.catalogue.store` as for `laif catalogue`) in the portal's database, so `laif catalogue
search --db <the portal's URL>` sees what the portal published and the other way round.

Who is who in the catalogue: a portal organisation is `portal-org:<id>`. A dataset published in
the portal is held by the publishing organisation (its publisher is the organisation's name, never
a form field), and an access request is made by the requesting organisation; any data holder of
the holding organisation decides it, any member of the requesting one may answer a question.
"""

from __future__ import annotations

import re
import secrets
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

import yaml
from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from laif.catalogue import vocab
from laif.catalogue.entry import Entry
from laif.catalogue.profile import FORMATS as SAMPLE_FORMATS
from laif.errors import BadInput
from laif.portal.api import ApiCaller
from laif.portal.i18n import gettext as _
from laif.portal.render import optional_caller, page_caller, portal_of, render, session_of
from laif.portal.scope import Caller, Forbidden, NotFound, Refused, Scoped, safe_filename
from laif.portal.settings import PortalSettings
from laif.portal.tables import Membership, Notification, Organisation, Role
from laif.services import datasets

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["datasets"])
CallerDep = Annotated[Caller, Depends(page_caller)]
MaybeCaller = Annotated[Caller | None, Depends(optional_caller)]

#: How a portal organisation is named in the catalogue (holder of datasets, requester of access).
ORG_PREFIX = "portal-org:"
#: The facets shown beside the results, in this order.
FACETS = ("theme", "access", "publisher", "language")
#: DCAT-AP serialisations by media type.
MEDIA = {"text/turtle": "turtle", "application/ld+json": "json-ld"}
CONTENT_TYPES = {"turtle": "text/turtle; charset=utf-8", "json-ld": "application/ld+json"}
#: Paths under /datasets/ that are pages, so never a dataset's identifier.
RESERVED = frozenset({"publish", "drafts", "inbox", "requests"})
_DRAFT_ID = re.compile(r"^[0-9a-f]{16}$")
MAX_PURPOSE = 5000


def org_key(organisation_id: int) -> str:
    return f"{ORG_PREFIX}{organisation_id}"


def _org_id(key: str) -> int | None:
    rest = key.removeprefix(ORG_PREFIX)
    return int(rest) if key.startswith(ORG_PREFIX) and rest.isdigit() else None


def settings_of(request: Request) -> PortalSettings:
    settings: PortalSettings = portal_of(request).settings
    return settings


def dcat_base(settings: PortalSettings) -> str:
    """The base URI of the datasets' DCAT-AP identifiers: the operator's, else the catalogue's default."""
    return settings.dcat_base or datasets.DEFAULT_BASE


def negotiate(accept: str | None) -> str | None:
    """"turtle" or "json-ld" when the Accept header prefers one of them to HTML, else None (a page)."""
    best, best_q = None, 0.0
    for position, part in enumerate((accept or "").split(",")[:30]):
        media, _sep, params = part.strip().partition(";")
        media = media.strip().lower()
        q = 1.0
        for param in params.split(";"):
            key, _eq, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        fmt = MEDIA.get(media) if media not in ("text/html", "application/xhtml+xml", "*/*") else "html"
        if fmt is not None and q > best_q:
            best, best_q = fmt, q
        del position
    return None if best in (None, "html") else best


@dataclass
class DraftView:
    id: str
    filename: str
    fields: dict[str, Any]
    profile: dict[str, Any]


class DatasetsScope(Scoped):
    """The caller's reach in the catalogue: publishing as their organisation (data holders), requests
    their organisation made or received; every change audited, the other side notified."""

    def __init__(self, s: Session, caller: Caller, settings: PortalSettings) -> None:
        super().__init__(s, caller)
        self.settings = settings
        self.db = settings.db_url
        self.me = org_key(caller.organisation_id)

    # --- publishing ----------------------------------------------------------------------
    def require_holder(self) -> None:
        self.require(Role.data_holder)

    def _drafts(self) -> Path:
        return self.settings.files() / "orgs" / str(self.caller.organisation_id) / "datasets" / "drafts"

    def make_draft(self, filename: str, content: bytes) -> str:
        """Profile an uploaded sample into a draft entry of the organisation; the sample itself is
        not kept (the catalogue holds metadata only)."""
        self.require_holder()
        name = safe_filename(filename)
        if Path(name).suffix.lower() not in SAMPLE_FORMATS:
            raise Refused(_("the sample must be a CSV, Parquet or JSON file (.csv, .parquet, .json, .jsonl)"))
        if not content:
            raise Refused(_("the sample file is empty"))
        draft_id = secrets.token_hex(8)
        folder = self._drafts() / draft_id
        folder.mkdir(parents=True)
        sample = folder / name
        sample.write_bytes(content)
        try:
            drafted = datasets.draft(sample, folder / "entry.yaml")
        except BadInput as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise Refused(str(exc).replace(str(folder) + "/", "")) from None
        finally:
            sample.unlink(missing_ok=True)
        (folder / "sample.txt").write_text(name)
        self._audit("dataset.draft", f"draft:{draft_id}", sample=name, rows=drafted.profile["rows"],
                    columns=len(drafted.profile["columns"]))
        return draft_id

    def draft(self, draft_id: str) -> DraftView:
        self.require_holder()
        folder = self._drafts() / draft_id
        if not _DRAFT_ID.match(draft_id) or not (folder / "entry.yaml").is_file():
            raise NotFound(f"no draft {draft_id}")
        fields = yaml.safe_load((folder / "entry.yaml").read_text()) or {}
        name = (folder / "sample.txt").read_text() if (folder / "sample.txt").is_file() else ""
        return DraftView(draft_id, name, fields, fields.get("profile") or {})

    def publish(self, fields: dict[str, Any], draft_id: str | None = None) -> datasets.Published:
        """Publish an entry as the caller's organisation, with the profile of the draft when given."""
        self.require_holder()
        draft = self.draft(draft_id) if draft_id else None
        identifier = str(fields.get("identifier") or "").strip()
        if identifier.lower() in RESERVED:
            raise Refused(_("the identifier {name} is reserved; choose another").format(name=identifier))
        data = {**fields, "publisher": self.caller.organisation_name,
                "profile": draft.profile if draft else fields.get("profile") or {}}
        try:
            entry = Entry.model_validate(data)
        except ValidationError as exc:
            raise Refused("; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                                    for e in exc.errors()[:8])) from None
        try:
            datasets.show(entry.identifier, self.db)
        except BadInput:
            pass
        else:
            raise Refused(_("the identifier {name} is taken in the catalogue; choose another").format(
                name=entry.identifier))
        try:
            published = datasets.publish(entry, self.me, base=dcat_base(self.settings), db=self.db)
        except datasets.InvalidEntry as exc:
            problems = "; ".join(f"{v['path']}: {v['message']}" for v in exc.report["violations"][:8])
            raise Refused(_("the entry is not valid DCAT-AP, nothing was published: {problems}").format(
                problems=problems)) from None
        except BadInput as exc:
            raise Refused(str(exc)) from None
        if draft is not None:
            shutil.rmtree(self._drafts() / draft.id, ignore_errors=True)
        self._audit("dataset.publish", f"dataset:{published.identifier}", access=published.access_rights,
                    title=entry.title)
        return published

    # --- access requests ----------------------------------------------------------------
    def names(self, keys: set[str]) -> dict[str, str]:
        """Display names of catalogue parties: a portal organisation's name, any other party as written."""
        ids = {i for i in (_org_id(k) for k in keys) if i is not None}
        found = dict(self.s.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))).all()) \
            if ids else {}
        return {k: found.get(_org_id(k) or -1, k) if _org_id(k) is not None else k for k in keys}

    def named(self, text: str) -> str:
        """`text` with each `portal-org:<id>` replaced by the organisation's name."""
        keys = set(re.findall(rf"{ORG_PREFIX}\d+", text))
        names = self.names(keys)
        return re.sub(rf"{ORG_PREFIX}\d+", lambda m: names[m.group(0)], text)

    def request_access(self, identifier: str, purpose: str) -> str:
        dataset = _show(identifier, self.db)
        if dataset["holder"] == self.me:
            raise Refused(_("your organisation holds this dataset; there is nothing to request"))
        if len(purpose) > MAX_PURPOSE:
            raise Refused(_("a purpose has at most {n} characters").format(n=MAX_PURPOSE))
        try:
            access_id = datasets.request_access(identifier, self.me, purpose, db=self.db)
        except BadInput as exc:
            raise Refused(str(exc)) from None
        title = dataset["record"]["title"]
        self._notify_org(dataset["holder"], f"{self.caller.organisation_name} asks for access to {title}")
        self._audit("dataset.request", f"access:{access_id}", dataset=identifier)
        return access_id

    def access_requests(self) -> list[dict[str, Any]]:
        """The requests the organisation made or received, newest first."""
        return list(reversed(datasets.requests(who=self.me, db=self.db)))

    def access(self, access_id: str) -> dict[str, Any]:
        for found in datasets.requests(who=self.me, db=self.db):
            if found["id"] == access_id:
                return found
        raise NotFound(f"no access request {access_id}")

    def act(self, access_id: str, action: str, message: str = "") -> str:
        found = self.access(access_id)
        if action not in datasets.ACTIONS:
            raise Refused(_("unknown action {action}").format(action=action))
        if found["holder"] == self.me and action != "reply":
            self.require_holder()
        if len(message) > MAX_PURPOSE:
            raise Refused(_("a message has at most {n} characters").format(n=MAX_PURPOSE))
        try:
            status = datasets.act(access_id, self.me, action, message, db=self.db)
        except BadInput as exc:
            raise Refused(self.named(str(exc))) from None
        other = found["requester"] if found["holder"] == self.me else found["holder"]
        title = _title(found["dataset"], self.db)
        self._notify_org(other, f"Access request for {title}: {status} by {self.caller.organisation_name}")
        self._audit("dataset.access", f"access:{access_id}", step=action, status=status)
        return status

    def _notify_org(self, key: str, text: str) -> None:
        organisation_id = _org_id(key)
        if organisation_id is None:
            return
        accounts = self.s.scalars(select(Membership.account_id).where(Membership.organisation_id == organisation_id))
        for account_id in sorted(set(accounts) - {self.caller.account_id}):
            self.s.add(Notification(account_id=account_id, request_id=None, text=text[:500]))


def _show(identifier: str, db: str) -> dict[str, Any]:
    try:
        return datasets.show(identifier, db)
    except BadInput:
        raise NotFound(f"no dataset {identifier!r} in the catalogue") from None


def _title(identifier: str, db: str) -> str:
    try:
        return str(datasets.show(identifier, db)["record"]["title"])
    except BadInput:
        return identifier


def _filters(theme: str, access: str, publisher: str, language: str) -> dict[str, str | None]:
    return {"theme": theme or None, "access": access or None, "publisher": publisher or None,
            "language": language or None}


def _dcat(identifier: str, fmt: str, settings: PortalSettings) -> Response:
    _show(identifier, settings.db_url)
    text = datasets.dataset_dcat(identifier, fmt, dcat_base(settings), settings.db_url)
    return Response(text, media_type=CONTENT_TYPES[fmt], headers={"vary": "Accept"})


def _form_fields(form: dict[str, Any]) -> dict[str, Any]:
    """An entry's fields from the publishing form (lists from checkboxes, keywords comma-separated)."""
    def listed(name: str) -> list[str]:
        value = form.get(name) or []
        return [str(v) for v in (value if isinstance(value, list) else [value]) if str(v).strip()]

    temporal = {"start": form.get("temporal_start") or None, "end": form.get("temporal_end") or None}
    return {
        "identifier": str(form.get("identifier") or "").strip(),
        "title": str(form.get("title") or "").strip(),
        "description": str(form.get("description") or "").strip(),
        "contact": {"name": str(form.get("contact_name") or "").strip(),
                    "email": str(form.get("contact_email") or "").strip()},
        "licence": str(form.get("licence") or ""),
        "access_rights": str(form.get("access_rights") or ""),
        "themes": listed("themes"),
        "keywords": [k.strip() for k in str(form.get("keywords") or "").split(",") if k.strip()],
        "languages": listed("languages") or ["en"],
        "spatial": listed("spatial") or ["LUX"],
        "temporal": temporal if temporal["start"] or temporal["end"] else None,
    }


def _choices() -> dict[str, Any]:
    return {"themes": vocab.codes("data-theme"), "licences": vocab.codes("licence"),
            "languages": {k: vocab.codes("language")[v] for k, v in vocab.LANGUAGES.items()},
            "countries": vocab.codes("country"), "access_rights": list(vocab.ACCESS)}


# --- browse and search ---------------------------------------------------------------------------
@router.get("/datasets", response_class=HTMLResponse)
def browse(request: Request, caller: MaybeCaller, q: str = "", theme: str = "", access: str = "",
           publisher: str = "", language: str = "") -> Response:
    fmt = negotiate(request.headers.get("accept"))
    if fmt is not None:
        return _export(request, fmt)
    db = settings_of(request).db_url
    filters = _filters(theme, access, publisher, language)
    try:
        hits = datasets.search(q, limit=100, db=db, **filters)
        counts = datasets.facets(q, db=db, **filters)
    except BadInput as exc:
        raise Refused(str(exc)) from None
    chosen = {k: v for k, v in {"q": q, **filters}.items() if v}

    def link(**change: str | None) -> str:
        params = {k: v for k, v in {**chosen, **change}.items() if v}
        return "/datasets" + ("?" + urlencode(params) if params else "")

    return render(request, "datasets_list.html", {
        "caller": caller, "hits": hits, "facets": counts, "facet_names": FACETS, "q": q, "chosen": chosen,
        "link": link, "theme_labels": vocab.codes("data-theme"),
        "holder": caller is not None and caller.role is Role.data_holder})


def _export(request: Request, fmt: str) -> Response:
    settings = settings_of(request)
    try:
        exported = datasets.export_dcat(fmt, dcat_base(settings), settings.db_url)
    except datasets.InvalidCatalogue as exc:
        problems = "; ".join(f"{v['focus']} {v['path']}: {v['message']}" for v in exc.report["violations"][:5])
        raise Refused(f"the catalogue is not valid DCAT-AP ({problems})") from None
    return Response(exported.text, media_type=CONTENT_TYPES[fmt], headers={"vary": "Accept"})


@router.get("/datasets.ttl")
def export_turtle(request: Request) -> Response:
    """The whole catalogue as DCAT-AP 3 in Turtle, validated first."""
    return _export(request, "turtle")


@router.get("/datasets.jsonld")
def export_jsonld(request: Request) -> Response:
    return _export(request, "json-ld")


# --- publishing (data holders) --------------------------------------------------------------------
@router.get("/datasets/publish", response_class=HTMLResponse)
def publish_page(request: Request, caller: CallerDep) -> Response:
    with portal_of(request).session() as s:
        DatasetsScope(s, caller, settings_of(request)).require_holder()
    return render(request, "datasets_publish.html", {"caller": caller, "formats": sorted(SAMPLE_FORMATS)})


@router.post("/datasets/drafts")
def upload_sample(request: Request, caller: CallerDep, sample: Annotated[UploadFile | None, File()] = None) -> Response:
    content = sample.file.read() if sample is not None and sample.filename else b""
    with portal_of(request).session() as s:
        scope = DatasetsScope(s, caller, settings_of(request))
        scope.require_holder()
        if sample is None or not sample.filename:
            raise Refused(_("choose a sample file to upload"))
        draft_id = scope.make_draft(sample.filename, content)
    return RedirectResponse(f"/datasets/drafts/{draft_id}", status_code=303)


def _draft_page(request: Request, caller: Caller, draft_id: str, values: dict[str, Any] | None = None,
                error: str | None = None, status: int = 200) -> Response:
    with portal_of(request).session() as s:
        draft = DatasetsScope(s, caller, settings_of(request)).draft(draft_id)
    fields = values or {
        "identifier": draft.fields.get("identifier", ""), "title": "", "description": "",
        "contact": {"name": caller.name, "email": caller.email}, "licence": "CC_BY_4_0",
        "access_rights": "restricted", "themes": [], "keywords": [], "languages": ["en"], "spatial": ["LUX"],
        "temporal": None}
    return render(request, "datasets_draft.html", {
        "caller": caller, "draft": draft, "fields": fields, "error": error, **_choices()}, status=status)


@router.get("/datasets/drafts/{draft_id}", response_class=HTMLResponse)
def draft_page(request: Request, caller: CallerDep, draft_id: str) -> Response:
    return _draft_page(request, caller, draft_id)


@router.post("/datasets/drafts/{draft_id}")
def publish_draft(request: Request, caller: CallerDep, draft_id: str,
                  identifier: Annotated[str, Form()] = "", title: Annotated[str, Form()] = "",
                  description: Annotated[str, Form()] = "", contact_name: Annotated[str, Form()] = "",
                  contact_email: Annotated[str, Form()] = "", licence: Annotated[str, Form()] = "",
                  access_rights: Annotated[str, Form()] = "", keywords: Annotated[str, Form()] = "",
                  themes: Annotated[list[str] | None, Form()] = None,
                  languages: Annotated[list[str] | None, Form()] = None,
                  spatial: Annotated[list[str] | None, Form()] = None,
                  temporal_start: Annotated[str, Form()] = "", temporal_end: Annotated[str, Form()] = "") -> Response:
    fields = _form_fields({
        "identifier": identifier, "title": title, "description": description, "contact_name": contact_name,
        "contact_email": contact_email, "licence": licence, "access_rights": access_rights, "keywords": keywords,
        "themes": themes or [], "languages": languages or [], "spatial": spatial or [],
        "temporal_start": temporal_start, "temporal_end": temporal_end})
    with portal_of(request).session() as s:
        DatasetsScope(s, caller, settings_of(request)).draft(draft_id)  # 403/404 before anything else
    try:
        with portal_of(request).session() as s:
            published = DatasetsScope(s, caller, settings_of(request)).publish(fields, draft_id)
    except Refused as exc:
        return _draft_page(request, caller, draft_id, fields, str(exc), status=400)
    session_of(request).flash(_("Published {name} in the catalogue.").format(name=published.identifier))
    return RedirectResponse(f"/datasets/{published.identifier}", status_code=303)


# --- access requests and the inbox ------------------------------------------------------------------
@router.get("/datasets/inbox", response_class=HTMLResponse)
def inbox(request: Request, caller: CallerDep) -> Response:
    with portal_of(request).session() as s:
        scope = DatasetsScope(s, caller, settings_of(request))
        rows = scope.access_requests()
        names = scope.names({r["requester"] for r in rows} | {r["holder"] for r in rows})
        me = scope.me
    titles = {r["dataset"]: _title(r["dataset"], settings_of(request).db_url) for r in rows}
    return render(request, "datasets_inbox.html", {
        "caller": caller, "received": [r for r in rows if r["holder"] == me],
        "sent": [r for r in rows if r["requester"] == me], "names": names, "titles": titles,
        "decides": caller.role is Role.data_holder})


@router.get("/datasets/requests/{access_id}", response_class=HTMLResponse)
def access_page(request: Request, caller: CallerDep, access_id: str) -> Response:
    with portal_of(request).session() as s:
        scope = DatasetsScope(s, caller, settings_of(request))
        found = scope.access(access_id)
        names = scope.names({found["requester"], found["holder"]} | {e["who"] for e in found["history"]})
        me = scope.me
    side = "holder" if found["holder"] == me else "requester"
    can = [a for a, (who, _next) in datasets.TRANSITIONS.get(found["status"], {}).items() if who == side]
    if side == "holder" and caller.role is not Role.data_holder:
        can = []
    return render(request, "datasets_request.html", {
        "caller": caller, "row": found, "names": names, "side": side, "actions": can,
        "title": _title(found["dataset"], settings_of(request).db_url)})


@router.post("/datasets/requests/{access_id}")
def act_on_request(request: Request, caller: CallerDep, access_id: str, action: Annotated[str, Form()] = "",
                   message: Annotated[str, Form()] = "") -> Response:
    with portal_of(request).session() as s:
        status = DatasetsScope(s, caller, settings_of(request)).act(access_id, action, message)
    session_of(request).flash(_("The request is now {status}.").format(status=status))
    return RedirectResponse(f"/datasets/requests/{access_id}", status_code=303)


# --- one dataset ---------------------------------------------------------------------------------------
@router.get("/datasets/{identifier}", response_class=HTMLResponse)
def dataset_page(request: Request, caller: MaybeCaller, identifier: str, format: str = "") -> Response:  # noqa: A002
    settings = settings_of(request)
    fmt = {"turtle": "turtle", "ttl": "turtle", "json-ld": "json-ld", "jsonld": "json-ld"}.get(format) \
        or negotiate(request.headers.get("accept"))
    if fmt is not None:
        return _dcat(identifier, fmt, settings)
    found = _show(identifier, settings.db_url)
    holder_name = found["holder"]
    mine: list[dict[str, Any]] = []
    if caller is not None:
        with portal_of(request).session() as s:
            scope = DatasetsScope(s, caller, settings)
            holder_name = scope.names({found["holder"]})[found["holder"]]
            mine = [r for r in datasets.requests(identifier, scope.me, db=settings.db_url)]
            own = found["holder"] == scope.me
    else:
        own = False
        if _org_id(found["holder"]) is not None:
            with portal_of(request).session() as s:
                org = s.get(Organisation, _org_id(found["holder"]))
                holder_name = org.name if org else holder_name
    uri = f"{dcat_base(settings)}dataset/{identifier}"
    return render(request, "datasets_show.html", {
        "caller": caller, "d": found, "r": found["record"], "holder_name": holder_name, "uri": uri,
        "own": own, "mine": mine, "theme_labels": vocab.codes("data-theme"),
        "licences": vocab.codes("licence"), "language_names": _choices()["languages"]})


@router.post("/datasets/{identifier}/requests")
def request_access(request: Request, caller: CallerDep, identifier: str,
                   purpose: Annotated[str, Form()] = "") -> Response:
    with portal_of(request).session() as s:
        access_id = DatasetsScope(s, caller, settings_of(request)).request_access(identifier, purpose)
    session_of(request).flash(_("Your request is with the holder. You will be notified here when they answer."))
    return RedirectResponse(f"/datasets/requests/{access_id}", status_code=303)


@router.get("/{prefix:path}dataset/{identifier}")
def dataset_uri(request: Request, prefix: str, identifier: str) -> Response:
    """A dataset's URI under the configured base (`<base>dataset/<id>`) resolves here: DCAT-AP for an
    Accept of Turtle or JSON-LD, else the dataset's page."""
    settings = settings_of(request)
    if "/" + prefix != (urlsplit(dcat_base(settings)).path or "/"):
        raise NotFound("there is no such page")
    fmt = negotiate(request.headers.get("accept"))
    if fmt is not None:
        return _dcat(identifier, fmt, settings)
    _show(identifier, settings.db_url)
    return RedirectResponse(f"/datasets/{identifier}", status_code=303, headers={"vary": "Accept"})


# --- the JSON API -------------------------------------------------------------------------------------
class HitOut(BaseModel):
    identifier: str
    title: str
    publisher: str
    access_rights: str
    themes: list[str]


class FacetOut(BaseModel):
    value: str
    label: str
    count: int


class SearchOut(BaseModel):
    datasets: list[HitOut]
    facets: dict[str, list[FacetOut]]


class ContactIn(BaseModel):
    name: str
    email: str


class TemporalIn(BaseModel):
    start: date | None = None
    end: date | None = None


class EntryIn(BaseModel):
    """A catalogue entry; the publisher is the token's organisation. `draft` takes the profile of a
    sample uploaded to POST /api/v1/datasets/drafts."""

    identifier: str
    title: str
    description: str
    contact: ContactIn
    licence: str = "CC_BY_4_0"
    access_rights: str = "restricted"
    themes: list[str]
    keywords: list[str] = []
    languages: list[str] = ["en"]
    spatial: list[str] = ["LUX"]
    temporal: TemporalIn | None = None
    draft: str | None = None


class DraftOut(BaseModel):
    draft: str
    identifier: str
    profile: dict[str, Any]


class PublishedOut(BaseModel):
    identifier: str
    access_rights: str
    uri: str


class PurposeIn(BaseModel):
    purpose: str = Field(min_length=1, max_length=MAX_PURPOSE)


class ActIn(BaseModel):
    action: str = Field(description="approve, reject or ask (the holder); reply (the requester)")
    message: str = Field("", max_length=MAX_PURPOSE)


class EventOut(BaseModel):
    at: str
    who: str
    action: str
    message: str


class AccessOut(BaseModel):
    id: str
    dataset: str
    requester: str
    holder: str
    purpose: str
    status: str
    history: list[EventOut]


def _access_out(row: dict[str, Any], names: dict[str, str]) -> AccessOut:
    return AccessOut(id=row["id"], dataset=row["dataset"], requester=names.get(row["requester"], row["requester"]),
                     holder=names.get(row["holder"], row["holder"]), purpose=row["purpose"], status=row["status"],
                     history=[EventOut(**{**e, "who": names.get(e["who"], e["who"])}) for e in row["history"]])


@api.get("/datasets")
def api_search(request: Request, caller: ApiCaller, q: str = "", theme: str = "", access: str = "",
               publisher: str = "", language: str = "", limit: int = 20) -> SearchOut:
    """Search the catalogue (each word also as a prefix), with the facet counts of the result."""
    db = settings_of(request).db_url
    filters = _filters(theme, access, publisher, language)
    try:
        hits = datasets.search(q, limit=max(1, min(limit, 500)), db=db, **filters)
        counts = datasets.facets(q, db=db, **filters)
    except BadInput as exc:
        raise Refused(str(exc)) from None
    return SearchOut(
        datasets=[HitOut(identifier=h.identifier, title=h.title, publisher=h.publisher,
                         access_rights=h.access_rights, themes=h.themes) for h in hits],
        facets={k: [FacetOut(value=v, label=label, count=n) for v, label, n in values] for k, values in counts.items()})


@api.post("/datasets/drafts", status_code=201)
def api_draft(request: Request, caller: ApiCaller, sample: Annotated[UploadFile, File()]) -> DraftOut:
    """Profile a sample (CSV, Parquet, JSON) into a draft; data holders only. The sample is not kept."""
    content = sample.file.read()
    with portal_of(request).session() as s:
        scope = DatasetsScope(s, caller, settings_of(request))
        draft = scope.draft(scope.make_draft(sample.filename or "sample", content))
    return DraftOut(draft=draft.id, identifier=str(draft.fields.get("identifier", "")), profile=draft.profile)


@api.post("/datasets", status_code=201)
def api_publish(request: Request, caller: ApiCaller, body: EntryIn) -> PublishedOut:
    """Publish an entry as the token's organisation (data holders)."""
    fields = body.model_dump(mode="json", exclude={"draft"})
    with portal_of(request).session() as s:
        published = DatasetsScope(s, caller, settings_of(request)).publish(fields, body.draft)
    uri = f"{dcat_base(settings_of(request))}dataset/{published.identifier}"
    return PublishedOut(identifier=published.identifier, access_rights=published.access_rights, uri=uri)


@api.get("/datasets/requests")
def api_requests(request: Request, caller: ApiCaller) -> list[AccessOut]:
    """Access requests the organisation made or received, newest first."""
    with portal_of(request).session() as s:
        scope = DatasetsScope(s, caller, settings_of(request))
        rows = scope.access_requests()
        names = scope.names({r["requester"] for r in rows} | {r["holder"] for r in rows}
                            | {e["who"] for r in rows for e in r["history"]})
    return [_access_out(r, names) for r in rows]


def _api_access(request: Request, caller: Caller, access_id: str) -> AccessOut:
    with portal_of(request).session() as s:
        scope = DatasetsScope(s, caller, settings_of(request))
        row = scope.access(access_id)
        names = scope.names({row["requester"], row["holder"]} | {e["who"] for e in row["history"]})
    return _access_out(row, names)


@api.get("/datasets/requests/{access_id}")
def api_access(request: Request, caller: ApiCaller, access_id: str) -> AccessOut:
    return _api_access(request, caller, access_id)


@api.post("/datasets/requests/{access_id}")
def api_act(request: Request, caller: ApiCaller, access_id: str, body: ActIn) -> AccessOut:
    """Approve, reject or ask about a request (the holder's data holders), or reply (the requester)."""
    with portal_of(request).session() as s:
        DatasetsScope(s, caller, settings_of(request)).act(access_id, body.action, body.message)
    return _api_access(request, caller, access_id)


@api.get("/datasets/{identifier}")
def api_dataset(request: Request, caller: ApiCaller, identifier: str) -> dict[str, Any]:
    """A dataset as stored (metadata and the profile of its sample) and its URI."""
    settings = settings_of(request)
    found = _show(identifier, settings.db_url)
    with portal_of(request).session() as s:
        holder = DatasetsScope(s, caller, settings).names({found["holder"]})[found["holder"]]
    return {**found, "holder": holder, "uri": f"{dcat_base(settings)}dataset/{identifier}"}


@api.post("/datasets/{identifier}/requests", status_code=201)
def api_request_access(request: Request, caller: ApiCaller, identifier: str, body: PurposeIn) -> AccessOut:
    """Ask the holder for access, saying what the data is for."""
    with portal_of(request).session() as s:
        access_id = DatasetsScope(s, caller, settings_of(request)).request_access(identifier, body.purpose)
    return _api_access(request, caller, access_id)


__all__ = ["DatasetsScope", "Forbidden", "api", "router"]
