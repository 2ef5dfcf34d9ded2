"""The interface's language: every text a page shows goes through `gettext` (`_` in templates,
`{% trans %}` blocks), looked up in the catalogue of the request's language. English is the
source language; the language of a request is set by `use(lang)` for its duration.

The catalogues are gettext `.po` files under `locale/<lang>/LC_MESSAGES/messages.po`, read once
when first needed (no compiled `.mo` files: nothing to build after a clone). Their template,
`locale/messages.pot`, is made by `scripts/extract_messages.py` from the templates, the Python
modules and the service catalogue. A language is chosen per request by `LanguageMiddleware`:
the `laif_lang` cookie (set by the switch in the page header, `POST /language`), else the
browser's Accept-Language, else English."""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from functools import cache
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

#: Languages the interface ships, English first (the source language).
LANGUAGES = ("en", "fr")
#: Each language's name in itself, for the language switch.
NAMES = {"en": "English", "fr": "Français"}
#: The cookie that keeps a visitor's choice.
COOKIE = "laif_lang"
LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "messages"

_current: ContextVar[str] = ContextVar("laif_portal_lang", default="en")


def use(lang: str) -> None:
    """Make `lang` the language of the running request (or task)."""
    _current.set(lang if lang in LANGUAGES else "en")


def current() -> str:
    return _current.get()


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


class Catalogue:
    """One language's translations: msgid -> text, and msgid -> plural forms."""

    def __init__(self, texts: dict[str, str], plurals: dict[str, tuple[str, ...]], plural: Callable[[int], int]) -> None:
        self.texts, self.plurals, self.plural = texts, plurals, plural


@cache
def catalogue(lang: str) -> Catalogue:
    """`lang`'s `.po` file, read once; fuzzy and untranslated entries are left out, so their
    English shows."""
    if lang == LANGUAGES[0]:
        return Catalogue({}, {}, lambda n: int(n != 1))
    from babel.messages.pofile import read_po

    with po_path(lang).open("rb") as f:
        po = read_po(f, locale=lang, domain=DOMAIN)
    texts: dict[str, str] = {}
    plurals: dict[str, tuple[str, ...]] = {}
    for message in po:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, tuple | list):
            forms = tuple(str(s) for s in message.string or ())
            if all(forms):
                plurals[str(message.id[0])] = forms
        elif message.string:
            texts[str(message.id)] = str(message.string)
    return Catalogue(texts, plurals, _gettext.c2py(po.plural_expr))


def gettext(message: str) -> str:
    lang = current()
    if lang == LANGUAGES[0]:
        return message
    return catalogue(lang).texts.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    lang = current()
    if lang != LANGUAGES[0]:
        found = catalogue(lang)
        forms = found.plurals.get(singular)
        if forms:
            return forms[min(found.plural(n), len(forms) - 1)]
    return singular if n == 1 else plural


@cache
def known() -> frozenset[str]:
    """Every msgid of the catalogue template (`locale/messages.pot`)."""
    from babel.messages.pofile import read_po

    with (LOCALE_DIR / f"{DOMAIN}.pot").open("rb") as f:
        return frozenset(m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id)


def _template_gettext(message: str) -> str:
    # Jinja marks what gettext returns as safe HTML. That is right for our own texts that hold
    # markup (`<strong>` in a {% trans %} block), not for plain texts (`Build & test`) nor for
    # anything passed to `_()` by mistake, such as a user's text. So markup passes only in a text
    # of the catalogue; everything else has & < > and the double quote escaped (an apostrophe
    # shows as it is).
    text = gettext(message)
    return text if "<" in text and message in known() else _escape(text)


def _template_ngettext(singular: str, plural: str, n: int) -> str:
    text = ngettext(singular, plural, n)
    return text if "<" in text and singular in known() else _escape(text)


def _escape(text: str) -> markupsafe.Markup:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")
    return markupsafe.Markup(escaped)  # noqa: S704 - escaped on the line above


def install(env: jinja2.Environment) -> None:
    """Give the templates `_`, `gettext`, `ngettext`, `{% trans %}` (whitespace trimmed, as
    extracted), `current_language()` and `LANGUAGES`/`LANGUAGE_NAMES` for the switch."""
    env.add_extension("jinja2.ext.i18n")
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(_template_gettext, _template_ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["current_language"] = current
    env.globals["LANGUAGES"] = LANGUAGES
    env.globals["LANGUAGE_NAMES"] = NAMES


def choose(cookie: str | None, accept_language: str | None) -> str:
    """The language of a request: the cookie's when it names a shipped one, else the best of
    Accept-Language (by q-value, then order; `fr-LU` counts as `fr`), else English."""
    if cookie in LANGUAGES:
        return cookie
    best, best_q = LANGUAGES[0], 0.0
    for part in (accept_language or "").split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.strip().lower().split("-")[0]
        # Earlier entries win ties: compare against a strictly greater q only.
        if primary in LANGUAGES and q > best_q and q > 0:
            best, best_q = primary, q
    return best


Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]


class LanguageMiddleware:
    """Sets the language of each HTTP request (`use`) from its cookie and Accept-Language."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Any]],
                       send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookie = accept = None
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                jar: SimpleCookie = SimpleCookie()
                try:
                    jar.load(value.decode("latin-1"))
                except CookieError:
                    continue
                if COOKIE in jar:
                    cookie = jar[COOKIE].value
            elif name == b"accept-language":
                accept = value.decode("latin-1")
        token = _current.set(choose(cookie, accept))
        try:
            await self.app(scope, receive, send)
        finally:
            _current.reset(token)
