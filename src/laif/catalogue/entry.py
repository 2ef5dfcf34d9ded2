"""A catalogue entry: what the holder completes, checked field by field, and the draft file
`laif catalogue draft` writes for the holder to complete."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from laif._files import write_atomic
from laif._yaml import load_yaml, validate
from laif.catalogue import vocab
from laif.errors import BadInput

TODO = "TODO"
_IDENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,99}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _filled(value: str, field: str) -> str:
    text = value.strip()
    if not text or text.upper().startswith(TODO):
        raise ValueError(f"{field} is still to be completed")
    return text


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    email: str

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _filled(v, "the contact's name")

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        v = _filled(v, "the contact's e-mail")
        if not _EMAIL.match(v):
            raise ValueError(f"not an e-mail address: {v!r}")
        return v


class Temporal(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: date | None = None
    end: date | None = None

    @model_validator(mode="after")
    def _order(self) -> Temporal:
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        return self


def _one_of(values: list[str], allowed: dict[str, str], what: str, urls: bool = False) -> list[str]:
    out = []
    for v in values:
        v = str(v).strip()
        if v not in allowed and not (urls and v.startswith(("http://", "https://"))):
            raise ValueError(f"unknown {what} {v!r}; use {', '.join(allowed)}")
        out.append(v)
    return out


class Entry(BaseModel):
    """One dataset's metadata. Vocabulary fields hold short codes (or full URIs when harvested)."""

    model_config = ConfigDict(extra="forbid")
    identifier: str
    title: str = Field(min_length=3)
    description: str = Field(min_length=10)
    publisher: str
    contact: Contact
    licence: str
    access_rights: Literal["public", "restricted", "non-public"]
    themes: list[str] = Field(min_length=1)
    keywords: list[str] = []
    languages: list[str] = Field(default_factory=lambda: ["en"])
    spatial: list[str] = Field(default_factory=lambda: ["LUX"])
    temporal: Temporal | None = None
    profile: dict[str, Any] = Field(default_factory=dict)

    @field_validator("identifier")
    @classmethod
    def _identifier(cls, v: str) -> str:
        v = _filled(v, "the identifier")
        if not _IDENT.match(v):
            raise ValueError("use 3-100 letters, digits, '.', '_' or '-', starting with a letter or digit")
        return v

    @field_validator("title", "description", "publisher")
    @classmethod
    def _text(cls, v: str) -> str:
        return _filled(v, "this field")

    @field_validator("licence")
    @classmethod
    def _licence(cls, v: str) -> str:
        return _one_of([_filled(v, "the licence")], vocab.codes("licence"), "licence", urls=True)[0]

    @field_validator("themes", "languages", "spatial")
    @classmethod
    def _codes(cls, v: list[str], info: ValidationInfo) -> list[str]:
        allowed, what = {"themes": (vocab.codes("data-theme"), "theme"), "languages": (vocab.LANGUAGES, "language"),
                         "spatial": (vocab.codes("country"), "country")}[str(info.field_name)]
        return _one_of(v, allowed, what, urls=True)

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, v: list[str]) -> list[str]:
        return [str(k).strip() for k in v if str(k).strip()]

    @property
    def formats(self) -> list[str]:
        fmt = self.profile.get("format")
        return [str(fmt)] if fmt else []


def load_entry(path: Path) -> Entry:
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise BadInput(f"{path}: expected the fields of a catalogue entry (title, description, ...)")
    return validate(Entry, data, path)


def suggested_identifier(sample: Path) -> str:
    stem = re.sub(r"[^a-z0-9]+", "-", sample.stem.lower()).strip("-") or "dataset"
    return f"{stem[:60]}-{hashlib.sha256(sample.name.encode()).hexdigest()[:6]}"


def draft_text(sample: Path, profile: dict[str, Any], today: date) -> str:
    """The draft entry: the profile filled in, the rest marked TODO with the allowed codes beside it."""
    themes = " ".join(vocab.codes("data-theme"))
    licences = ", ".join(vocab.codes("licence"))
    personal = ", ".join(profile["personal_data"]) or "none found"
    head = f"""\
# Catalogue entry drafted by `laif catalogue draft` from {sample.name} on {today.isoformat()}.
# Complete every TODO, then publish it:  laif catalogue publish {sample.stem}.yaml
# The profile at the end was computed from the sample. The sample itself is not stored;
# columns with personal data ({personal}) get no value ranges.
identifier: {suggested_identifier(sample)}   # DCAT-AP-LU: mandatory and unique in the catalogue
title: "TODO: a title a user would search for"
description: "TODO: what the data is, how it was collected, what it is good for"
publisher: "TODO: the organisation that holds the data"
contact:
  name: "TODO: a person or a desk"
  email: "TODO: name@example.lu"
licence: CC_BY_4_0          # {licences}, or the URL of your own licence
access_rights: restricted   # public, restricted or non-public; restricted and non-public data is requested
themes: []                  # one or more of: {themes}
keywords: []                # e.g. [mobility, commuters]
languages: [en]             # {", ".join(vocab.LANGUAGES)}
spatial: [LUX]              # {", ".join(vocab.codes("country"))}
temporal:                   # the period the data covers
  start: null               # e.g. 2020-01-01
  end: null
"""
    body = yaml.safe_dump({"profile": profile}, sort_keys=False, allow_unicode=True, width=100)
    return head + body


def write_draft(sample: Path, out: Path, profile: dict[str, Any], today: date) -> None:
    write_atomic(out, draft_text(sample, profile, today))
