"""The EU controlled vocabularies a catalogue entry uses, by short code.

Codes and labels are those of the Publications Office's authority tables
(http://publications.europa.eu/resource/authority/...). Only the concepts laif offers are
listed; a harvested entry may carry other concepts, kept as full URIs.
"""

from __future__ import annotations

AUTHORITY = "http://publications.europa.eu/resource/authority/"

#: scheme name -> (scheme title, {code: English label})
SCHEMES: dict[str, tuple[str, dict[str, str]]] = {
    "data-theme": ("Data theme", {
        "AGRI": "Agriculture, fisheries, forestry and food",
        "ECON": "Economy and finance",
        "EDUC": "Education, culture and sport",
        "ENER": "Energy",
        "ENVI": "Environment",
        "GOVE": "Government and public sector",
        "HEAL": "Health",
        "INTR": "International issues",
        "JUST": "Justice, legal system and public safety",
        "REGI": "Regions and cities",
        "SOCI": "Population and society",
        "TECH": "Science and technology",
        "TRAN": "Transport",
    }),
    "access-right": ("Access right", {
        "PUBLIC": "public",
        "RESTRICTED": "restricted",
        "NON_PUBLIC": "non-public",
    }),
    "language": ("Language", {
        "ENG": "English", "FRA": "French", "DEU": "German", "LTZ": "Luxembourgish",
        "POR": "Portuguese", "NLD": "Dutch", "ITA": "Italian",
    }),
    "file-type": ("File type", {"CSV": "CSV", "PARQUET": "Parquet", "JSON": "JSON"}),
    "licence": ("Licence", {
        "CC_BY_4_0": "Creative Commons Attribution 4.0 International",
        "CC_BYSA_4_0": "Creative Commons Attribution-ShareAlike 4.0 International",
        "CC0": "Creative Commons CC0 1.0 Universal",
    }),
    "country": ("Country", {
        "LUX": "Luxembourg", "BEL": "Belgium", "FRA": "France", "DEU": "Germany", "NLD": "Netherlands",
    }),
}

#: What holders type (`restricted`, `lb`, `csv`) -> the authority code.
ACCESS = {"public": "PUBLIC", "restricted": "RESTRICTED", "non-public": "NON_PUBLIC"}
LANGUAGES = {"en": "ENG", "fr": "FRA", "de": "DEU", "lb": "LTZ", "pt": "POR", "nl": "NLD", "it": "ITA"}
FORMATS = {"csv": "CSV", "parquet": "PARQUET", "json": "JSON"}


def uri(scheme: str, code: str) -> str:
    """The concept URI of `code`, or `code` itself when it already is a URI."""
    if code.startswith(("http://", "https://")):
        return code
    return f"{AUTHORITY}{scheme}/{code}"


def code(scheme: str, value: str) -> str:
    """The short code of a concept URI of `scheme`; other URIs are kept whole."""
    prefix = f"{AUTHORITY}{scheme}/"
    return value[len(prefix):] if value.startswith(prefix) else value


def codes(scheme: str) -> dict[str, str]:
    return SCHEMES[scheme][1]
