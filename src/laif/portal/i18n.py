"""The interface's language: every text a page shows goes through `gettext` (`_` in templates,
`{% trans %}` blocks), looked up in the catalogue of the request's language. English is the
source language; the language of a request is set by `use(lang)` for its duration."""

from __future__ import annotations

from contextvars import ContextVar

import jinja2

#: Languages the interface ships, English first (the source language).
LANGUAGES = ("en",)
_current: ContextVar[str] = ContextVar("laif_portal_lang", default="en")


def use(lang: str) -> None:
    """Make `lang` the language of the running request (or task)."""
    _current.set(lang if lang in LANGUAGES else "en")


def current() -> str:
    return _current.get()


def gettext(message: str) -> str:
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


def install(env: jinja2.Environment) -> None:
    """Give the templates `_`, `gettext`, `ngettext` and `{% trans %}`."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
