"""DCAT-AP 3 with the Luxembourg profile: export, import and SHACL validation.

- Export: a `dcat:Catalog` with its datasets, one distribution each (the access URL is the
  catalogue's access-request page: the catalogue holds metadata only) and the catalogue's
  access-request `dcat:DataService`. Vocabulary values are EU authority URIs; the graph also
  states their types and schemes (e.g. a language as `dct:LinguisticSystem` in the language
  table), which the shapes' `sh:class` and vocabulary checks need.
- Validation: pyshacl against the official DCAT-AP 3.0.1 shapes (mandatory properties and
  ranges, the EU vocabularies, recommended properties as warnings) and DCAT-AP-LU's
  mandatory `dct:identifier`. The official files are pinned by SHA-256. Known defect: the
  DataService shape and ranges.ttl refer to property shapes that are never defined, which
  makes pyshacl fail; those references are dropped at load time and every report says how
  many were dropped.
- Import reads any DCAT-AP catalogue file (Turtle, JSON-LD, RDF/XML) back into entries.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import quote

from pydantic import ValidationError
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SH, SKOS, XSD

from laif.catalogue import vocab
from laif.catalogue.entry import Entry
from laif.errors import BadInput

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
DEFAULT_BASE = "http://localhost:8000/catalogue/"

#: The official shapes, unmodified, pinned: the defect workaround is known to be right for these.
PINNED = {
    "dcat-ap-SHACL.ttl": "990d3e42721de6a4be8cc338a7171559f195e62dea89c0b56531356b78cc026f",
    "ranges.ttl": "a6eed0fae8d0f5ca977fe2098ca12081ac60b0efe1ddce802d5c08e49505ebcc",
    "mdr-vocabularies.shape.ttl": "2362f83971766a15cc20b2b54420022dc10547dd2c483da02080847c61b4b45a",
    "shapes_recommended.ttl": "9afbf23f1f56d10d6839259684934137e20506a9aedce0249b619bbc593b9abd",
}
LU_SHAPES = "dcat-ap-lu.ttl"

#: The class each vocabulary's concepts must also have for the shapes' range checks.
CLASSES = {
    "language": DCTERMS.LinguisticSystem,
    "file-type": DCTERMS.MediaTypeOrExtent,
    "access-right": DCTERMS.RightsStatement,
    "licence": DCTERMS.LicenseDocument,
    "country": DCTERMS.Location,
}
ACCESS_CODES = vocab.ACCESS
LANG_CODES = vocab.LANGUAGES
FORMAT_CODES = vocab.FORMATS


@dataclass
class CatalogInfo:
    base: str = DEFAULT_BASE
    title: str = "laif datasets catalogue"
    description: str = ("Metadata of datasets that holders make available case by case; "
                        "the data stays with its holder and is requested through the catalogue.")
    publisher: str = "laif catalogue operator"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def dataset_uri(base: str, identifier: str) -> URIRef:
    return URIRef(f"{base}dataset/{quote(identifier, safe='')}")


def profile_summary(profile: dict[str, Any]) -> str:
    if "summary" in profile:
        return str(profile["summary"])
    if not profile.get("columns"):
        return "No sample profile."
    cols = ", ".join(f"{c['name']} ({c['type']})" for c in profile["columns"])
    personal = ", ".join(profile.get("personal_data", [])) or "none detected"
    return (f"Profile of a sample: {profile.get('rows', 0)} rows; columns: {cols}; "
            f"columns with personal data: {personal}.")


class _Builder:
    def __init__(self, info: CatalogInfo) -> None:
        self.info = info
        self.g = Graph(bind_namespaces="core")
        for prefix, ns in (("dcat", DCAT), ("dct", DCTERMS), ("foaf", FOAF), ("vcard", VCARD), ("skos", SKOS)):
            self.g.bind(prefix, ns)
        self._schemes: set[str] = set()

    def concept(self, scheme: str, value: str) -> URIRef:
        ref = URIRef(vocab.uri(scheme, value))
        g = self.g
        if scheme in CLASSES:
            g.add((ref, RDF.type, CLASSES[scheme]))
        if str(ref).startswith(vocab.AUTHORITY):
            labels = vocab.SCHEMES[scheme][1]
            g.add((ref, RDF.type, SKOS.Concept))
            g.add((ref, SKOS.prefLabel, Literal(labels.get(vocab.code(scheme, str(ref)), vocab.code(scheme, str(ref))),
                                                lang="en")))
            g.add((ref, SKOS.inScheme, self.scheme(scheme)))
        return ref

    def scheme(self, scheme: str) -> URIRef:
        """An EU authority table as a typed `skos:ConceptScheme` with its title (once per graph)."""
        scheme_ref = URIRef(vocab.AUTHORITY + scheme)
        if scheme not in self._schemes:
            self._schemes.add(scheme)
            self.g.add((scheme_ref, RDF.type, SKOS.ConceptScheme))
            self.g.add((scheme_ref, DCTERMS.title, Literal(vocab.SCHEMES[scheme][0], lang="en")))
        return scheme_ref

    def agent(self, name: str) -> URIRef:
        ref = URIRef(f"{self.info.base}publisher/{_slug(name)}")
        self.g.add((ref, RDF.type, FOAF.Agent))
        self.g.add((ref, FOAF.name, Literal(name)))
        return ref


def to_graph(datasets: list[tuple[Entry, datetime, datetime]], info: CatalogInfo | None = None) -> Graph:
    """The DCAT-AP graph of a catalogue holding `datasets` (entry, issued, modified)."""
    info = info or CatalogInfo()
    b = _Builder(info)
    g = b.g
    catalog = URIRef(info.base)
    service = URIRef(f"{info.base}service/access-requests")
    g.add((catalog, RDF.type, DCAT.Catalog))
    g.add((catalog, DCTERMS.title, Literal(info.title, lang="en")))
    g.add((catalog, DCTERMS.description, Literal(info.description, lang="en")))
    g.add((catalog, DCTERMS.publisher, b.agent(info.publisher)))
    g.add((catalog, DCAT.service, service))
    g.add((service, RDF.type, DCAT.DataService))
    g.add((service, DCTERMS.title, Literal("Access requests", lang="en")))
    endpoint = URIRef(f"{info.base}api/access-requests")
    g.add((service, DCAT.endpointURL, endpoint))
    g.add((endpoint, RDF.type, RDFS.Resource))  # ranges.ttl asks for the class
    # Typed here, not only when a dataset's theme names it: an empty catalogue must conform too.
    g.add((catalog, DCAT.themeTaxonomy, b.scheme("data-theme")))
    g.add((catalog, DCTERMS.language, b.concept("language", "ENG")))
    g.add((catalog, DCTERMS.spatial, b.concept("country", "LUX")))
    g.add((catalog, DCTERMS.license, b.concept("licence", "CC0")))  # the metadata itself is free to reuse
    if datasets:
        latest = max(modified for _, _, modified in datasets)
        g.add((catalog, DCTERMS.modified, Literal(latest.replace(microsecond=0).isoformat(), datatype=XSD.dateTime)))
    for entry, issued, modified in datasets:
        ds = dataset_uri(info.base, entry.identifier)
        g.add((catalog, DCAT.dataset, ds))
        g.add((service, DCAT.servesDataset, ds))
        g.add((ds, RDF.type, DCAT.Dataset))
        g.add((ds, DCTERMS.identifier, Literal(entry.identifier)))
        g.add((ds, DCTERMS.title, Literal(entry.title, lang="en")))
        g.add((ds, DCTERMS.description, Literal(entry.description, lang="en")))
        g.add((ds, DCTERMS.publisher, b.agent(entry.publisher)))
        g.add((ds, DCTERMS.issued, Literal(issued.replace(microsecond=0).isoformat(), datatype=XSD.dateTime)))
        g.add((ds, DCTERMS.modified, Literal(modified.replace(microsecond=0).isoformat(), datatype=XSD.dateTime)))
        contact = URIRef(f"{ds}/contact")
        g.add((ds, DCAT.contactPoint, contact))
        g.add((contact, RDF.type, VCARD.Kind))
        g.add((contact, VCARD.fn, Literal(entry.contact.name)))
        g.add((contact, VCARD.hasEmail, URIRef(f"mailto:{entry.contact.email}")))
        for theme in entry.themes:
            g.add((ds, DCAT.theme, b.concept("data-theme", theme)))
        for keyword in entry.keywords:
            g.add((ds, DCAT.keyword, Literal(keyword, lang="en")))
        for lang in entry.languages:
            g.add((ds, DCTERMS.language, b.concept("language", LANG_CODES.get(lang, lang))))
        for place in entry.spatial:
            g.add((ds, DCTERMS.spatial, b.concept("country", place)))
        g.add((ds, DCTERMS.accessRights, b.concept("access-right", ACCESS_CODES[entry.access_rights])))
        if entry.temporal and (entry.temporal.start or entry.temporal.end):
            period = URIRef(f"{ds}/period")
            g.add((ds, DCTERMS.temporal, period))
            g.add((period, RDF.type, DCTERMS.PeriodOfTime))
            if entry.temporal.start:
                g.add((period, DCAT.startDate, Literal(entry.temporal.start.isoformat(), datatype=XSD.date)))
            if entry.temporal.end:
                g.add((period, DCAT.endDate, Literal(entry.temporal.end.isoformat(), datatype=XSD.date)))
        dist = URIRef(f"{ds}/distribution")
        g.add((ds, DCAT.distribution, dist))
        g.add((dist, RDF.type, DCAT.Distribution))
        g.add((dist, DCAT.accessURL, URIRef(f"{ds}/access")))
        g.add((dist, DCAT.accessService, service))
        g.add((dist, DCTERMS.license, b.concept("licence", entry.licence)))
        g.add((dist, DCTERMS.description, Literal(profile_summary(entry.profile), lang="en")))
        for fmt in entry.formats:
            g.add((dist, DCTERMS.format, b.concept("file-type", FORMAT_CODES.get(fmt, fmt))))
    return g


def serialise(graph: Graph, fmt: str) -> str:
    if fmt == "turtle":
        return graph.serialize(format="turtle")
    context = {"dcat": str(DCAT), "dct": str(DCTERMS), "foaf": str(FOAF), "vcard": str(VCARD),
               "skos": str(SKOS), "xsd": str(XSD)}
    return graph.serialize(format="json-ld", context=context, indent=2)


# --- validation ------------------------------------------------------------------------------------


@dataclass
class Shapes:
    graph: Graph
    dropped: int
    notes: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def shapes() -> Shapes:
    """The official shapes and DCAT-AP-LU's, with the undefined property references dropped."""
    folder = resources.files("laif.catalogue") / "shapes"
    g = Graph()
    notes = []
    for name, pinned in PINNED.items():
        data = (folder / name).read_bytes()
        if hashlib.sha256(data).hexdigest() != pinned:
            notes.append(f"{name} differs from the pinned DCAT-AP 3.0.1 copy; the defect workaround was made for it")
        g.parse(data=data, format="turtle")
    g.parse(data=(folder / LU_SHAPES).read_bytes(), format="turtle")
    undefined = [(s, o) for s, o in g.subject_objects(SH.property)
                 if isinstance(o, URIRef) and (o, None, None) not in g]
    for s, o in undefined:
        g.remove((s, SH.property, o))
    notes.append(f"workaround for the known DCAT-AP 3.0.1 defect: {len(undefined)} references to undefined "
                 "property shapes dropped (DataService shape and ranges.ttl)")
    return Shapes(g, len(undefined), notes)


def _short(node: Any) -> str:
    text = str(node)
    for prefix, ns in (("dcat:", DCAT), ("dct:", DCTERMS), ("foaf:", FOAF), ("vcard:", VCARD), ("skos:", SKOS)):
        if text.startswith(str(ns)):
            return prefix + text[len(str(ns)):]
    return text


def validate(graph: Graph) -> dict[str, Any]:
    """Validate `graph`: conforms (no violation), violations and warnings, and the workaround notes."""
    from pyshacl import validate as shacl_validate  # imported here: it takes a second to import

    loaded = shapes()
    _, results, _ = shacl_validate(graph, shacl_graph=loaded.graph, inference="none", allow_warnings=True,
                                   allow_infos=True)
    violations: list[dict[str, str]] = []
    warnings: list[dict[str, str]] = []
    # Only the report's own results: nested ones (sh:detail) explain a result, with the
    # severity of the inner shape, not of the constraint that was checked.
    report = results.value(predicate=RDF.type, object=SH.ValidationReport)
    for result in results.objects(report, SH.result):
        item = {
            "focus": str(results.value(result, SH.focusNode)),
            "path": _short(results.value(result, SH.resultPath) or ""),
            "message": str(results.value(result, SH.resultMessage) or ""),
        }
        value = results.value(result, SH.value)
        if value is not None:
            item["value"] = str(value)
        severity = results.value(result, SH.resultSeverity)
        (violations if severity == SH.Violation else warnings).append(item)
    key = lambda i: (i["focus"], i["path"], i["message"])  # noqa: E731
    return {"conforms": not violations, "violations": sorted(violations, key=key),
            "warnings": sorted(warnings, key=key), "notes": loaded.notes}


# --- import ----------------------------------------------------------------------------------------


@dataclass
class Imported:
    entries: list[tuple[Entry, datetime | None, datetime | None]]
    skipped: list[str]


def _text(g: Graph, node: Any, prop: URIRef) -> str | None:
    values = list(g.objects(node, prop))
    for v in values:
        if isinstance(v, Literal) and v.language in (None, "en"):
            return str(v)
    return str(values[0]) if values else None


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        try:
            d = date.fromisoformat(value)
        except ValueError:
            return None
        return datetime(d.year, d.month, d.day)


def from_graph(g: Graph) -> Imported:
    """Entries for every `dcat:Dataset` in `g`; datasets that laif cannot hold are listed with the reason."""
    reverse_lang = {v: k for k, v in LANG_CODES.items()}
    reverse_fmt = {v: k for k, v in FORMAT_CODES.items()}
    reverse_access = {v: k for k, v in ACCESS_CODES.items()}
    entries, skipped = [], []
    for ds in sorted(g.subjects(RDF.type, DCAT.Dataset), key=str):
        dist = g.value(ds, DCAT.distribution)
        publisher = g.value(ds, DCTERMS.publisher)
        contact = g.value(ds, DCAT.contactPoint)
        period = g.value(ds, DCTERMS.temporal)
        email = str(g.value(contact, VCARD.hasEmail) or "") if contact is not None else ""
        access = vocab.code("access-right", str(g.value(ds, DCTERMS.accessRights) or ""))
        fmt = vocab.code("file-type", str(g.value(dist, DCTERMS.format) or "")) if dist is not None else ""
        profile: dict[str, Any] = {}
        if fmt:
            profile["format"] = reverse_fmt.get(fmt, fmt)
        summary = _text(g, dist, DCTERMS.description) if dist is not None else None
        if summary:
            profile["summary"] = summary
        data = {
            "identifier": _text(g, ds, DCTERMS.identifier) or "",
            "title": _text(g, ds, DCTERMS.title) or "",
            "description": _text(g, ds, DCTERMS.description) or "",
            "publisher": (_text(g, publisher, FOAF.name) if publisher is not None else None) or "",
            "contact": {"name": (_text(g, contact, VCARD.fn) if contact is not None else None) or "",
                        "email": email.removeprefix("mailto:")},
            "licence": vocab.code("licence", str(g.value(dist, DCTERMS.license) or "")) if dist is not None else "",
            "access_rights": reverse_access.get(access, access),
            "themes": sorted(vocab.code("data-theme", str(t)) for t in g.objects(ds, DCAT.theme)),
            "keywords": sorted(str(k) for k in g.objects(ds, DCAT.keyword)),
            "languages": sorted(reverse_lang.get(c, c) for c in
                                (vocab.code("language", str(x)) for x in g.objects(ds, DCTERMS.language))),
            "spatial": sorted(vocab.code("country", str(s)) for s in g.objects(ds, DCTERMS.spatial)),
            "temporal": {"start": _text(g, period, DCAT.startDate), "end": _text(g, period, DCAT.endDate)}
            if period is not None else None,
            "profile": profile,
        }
        try:
            entry = Entry.model_validate(data)
        except ValidationError as exc:
            e = exc.errors()[0]
            where = ".".join(str(p) for p in e["loc"])
            skipped.append(f"{ds}: {where}: {e['msg']}")
            continue
        entries.append((entry, _when(_text(g, ds, DCTERMS.issued)), _when(_text(g, ds, DCTERMS.modified))))
    return Imported(entries, skipped)


def parse(data: bytes, name: str) -> Graph:
    """Parse a catalogue file; the format is guessed from the name (.ttl, .jsonld/.json, .rdf/.xml)."""
    suffix = name.rsplit(".", 1)[-1].lower()
    fmt = {"ttl": "turtle", "jsonld": "json-ld", "json": "json-ld", "rdf": "xml", "xml": "xml", "nt": "nt"}.get(suffix)
    if fmt is None:
        raise BadInput(f"{name}: unknown RDF format .{suffix}; use .ttl, .jsonld, .rdf or .nt")
    g = Graph()
    try:
        g.parse(data=data, format=fmt)
    except Exception as exc:  # rdflib's parsers raise many types, each with the line in its text
        raise BadInput(f"{name}: not valid {fmt} ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    return g

