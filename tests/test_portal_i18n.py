"""The portal in English and French: the language follows the `laif_lang` cookie, else the
browser's Accept-Language; the switch in the header sets the cookie (with the CSRF token); every
message of the catalogue is translated, and the catalogue holds every text of the templates."""

from __future__ import annotations

import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from laif.portal import i18n

from .portal_kit import Seeded, Visitor, make_portal, seed_people

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "src" / "laif" / "portal" / "templates"


@pytest.fixture()
def seeded(tmp_path: Path) -> Seeded:
    portal, app = make_portal(f"sqlite:///{tmp_path / 'portal.db'}")
    return Seeded(portal, app, seed_people(portal))


def text_of(html: str) -> str:
    """What a reader sees: the page without its tags, entities decoded, spaces collapsed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", body)))


def lang_of(html: str) -> str:
    found = re.search(r'<html lang="([^"]+)"', html)
    assert found, html[:200]
    return found.group(1)


# --- choosing the language ---------------------------------------------------------------------
def test_english_is_the_default(seeded: Seeded) -> None:
    page = Visitor(seeded.app).get("/")
    assert lang_of(page.text) == "en"
    assert "From the idea to a system in production" in text_of(page.text)


def test_the_cookie_makes_the_catalogue_and_the_sign_in_page_french(seeded: Seeded) -> None:
    visitor = Visitor(seeded.app)
    visitor.client.cookies.set(i18n.COOKIE, "fr")
    catalogue = visitor.get("/").text
    assert lang_of(catalogue) == "fr"
    seen = text_of(catalogue)
    assert "De l'idée à un système en production" in seen
    assert "Construire et tester" in seen  # a stage of the service catalogue
    assert "Votre conseiller d'affaires" in seen and "par Luxinnovation" in seen  # a service, its partner as is
    assert "From the idea" not in seen
    login = text_of(visitor.get("/login").text)
    assert "Se connecter" in login and "Mot de passe" in login and "E-mail (ou nom du compte)" in login
    assert "Password" not in login


def test_accept_language_chooses_french_without_a_cookie(seeded: Seeded) -> None:
    visitor = Visitor(seeded.app)
    page = visitor.get("/login", headers={"accept-language": "fr-LU,fr;q=0.9,en;q=0.5"})
    assert lang_of(page.text) == "fr" and "Mot de passe" in text_of(page.text)
    page = visitor.get("/login", headers={"accept-language": "de-DE,de;q=0.9"})
    assert lang_of(page.text) == "en" and "Password" in text_of(page.text)


def test_the_cookie_wins_over_accept_language(seeded: Seeded) -> None:
    visitor = Visitor(seeded.app)
    visitor.client.cookies.set(i18n.COOKIE, "en")
    page = visitor.get("/login", headers={"accept-language": "fr"})
    assert lang_of(page.text) == "en"


@pytest.mark.parametrize(("cookie", "header", "expected"), [
    (None, None, "en"),
    (None, "", "en"),
    (None, "fr", "fr"),
    (None, "fr-CA", "fr"),
    (None, "en;q=0.4, fr;q=0.8", "fr"),
    (None, "fr;q=0, en", "en"),
    (None, "de, fr;q=0.5", "fr"),
    (None, "en, fr", "en"),
    (None, "fr;q=nonsense, en;q=0.1", "en"),
    (None, ";;;,,,", "en"),
    ("fr", "en", "fr"),
    ("xx", "fr", "fr"),
    ("<script>", None, "en"),
])
def test_choose(cookie: str | None, header: str | None, expected: str) -> None:
    assert i18n.choose(cookie, header) == expected


def test_a_malformed_cookie_header_falls_back_to_accept_language(seeded: Seeded) -> None:
    page = Visitor(seeded.app).client.get("/login", headers={"cookie": 'laif_lang="fr; =;;"x', "accept-language": "fr"})
    assert page.status_code == 200 and lang_of(page.text) == "fr"


# --- the switch --------------------------------------------------------------------------------
def test_the_switch_sets_the_cookie_and_goes_back_to_the_page(seeded: Seeded) -> None:
    visitor = seeded.visitor("owner@acme.lu")
    page = visitor.get("/requests?status=new").text
    assert 'action="/language"' in page and 'value="fr"' in page and "Français" in page
    assert 'name="next" value="/requests?status=new"' in page
    response = visitor.post("/language", {"lang": "fr", "next": "/requests?status=new"})
    assert response.status_code == 303 and response.headers["location"] == "/requests?status=new"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("laif_lang=fr;") and "SameSite=lax" in cookie and "Path=/" in cookie
    page = visitor.get("/requests")
    assert lang_of(page.text) == "fr"
    assert "Demandes de Acme" in text_of(page.text) and "Mes demandes" in text_of(page.text)
    assert "English" in page.text  # the way back
    visitor.post("/language", {"lang": "en", "next": "/"})
    assert lang_of(visitor.get("/").text) == "en"
    # After a form was sent the address may be the form's target, which no browser can open.
    response = visitor.post("/language", {"lang": "fr", "next": "/members/invitations"})
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_the_switch_needs_the_csrf_token(seeded: Seeded) -> None:
    visitor = Visitor(seeded.app)
    visitor.get("/")
    response = visitor.post("/language", {"lang": "fr"}, csrf=False)
    assert response.status_code == 403 and "laif_lang" not in response.headers.get("set-cookie", "")
    assert lang_of(visitor.get("/").text) == "en"


def test_the_switch_refuses_an_unknown_language_and_a_foreign_next(seeded: Seeded) -> None:
    visitor = Visitor(seeded.app)
    visitor.get("/")
    response = visitor.post("/language", {"lang": "xx", "next": "/"})
    assert response.status_code == 400 and "unknown language" in text_of(response.text).lower()
    assert "laif_lang" not in response.headers.get("set-cookie", "")
    for foreign in ("https://elsewhere.example/", "//elsewhere.example/", "/\\elsewhere.example"):
        response = visitor.post("/language", {"lang": "fr", "next": foreign})
        assert response.status_code == 303 and response.headers["location"] == "/", foreign


# --- messages from Python ----------------------------------------------------------------------
def test_flash_messages_and_errors_are_french(seeded: Seeded) -> None:
    owner = seeded.visitor("owner@acme.lu")
    owner.client.cookies.set(i18n.COOKIE, "fr")
    owner.get("/")
    response = owner.post("/requests", {"service_id": "sandbox"})
    assert response.status_code == 303
    page = text_of(owner.get(response.headers["location"]).text)
    assert "Votre demande est dans la file des conseillers." in page
    assert "nouvelle" in page  # the state's label
    missing = owner.get("/services/teleportation")
    assert missing.status_code == 404 and "Introuvable" in text_of(missing.text)
    assert "pas de service 'teleportation' dans le catalogue" in text_of(missing.text).lower()
    nowhere = owner.get("/no/such/page")
    assert nowhere.status_code == 404 and "il n'y a pas de telle page" in text_of(nowhere.text).lower()
    wrong = Visitor(seeded.app)
    wrong.client.cookies.set(i18n.COOKIE, "fr")
    wrong.get("/login")
    refused = wrong.post("/login", {"email": "owner@acme.lu", "password": "not it", "next": "/"})
    assert refused.status_code == 401 and "E-mail ou mot de passe incorrect." in text_of(refused.text)


def test_an_advisor_move_is_announced_in_french(seeded: Seeded) -> None:
    owner = seeded.visitor("owner@acme.lu")
    owner.get("/")
    location = owner.post("/requests", {"service_id": "sandbox"}).headers["location"]
    advisor = seeded.visitor("advisor@factory.lu")
    advisor.client.cookies.set(i18n.COOKIE, "fr")
    advisor.get(location)
    moved = advisor.post(f"{location}/status", {"status": "in_discussion"})
    assert moved.status_code == 303
    page = text_of(advisor.get(location).text)
    assert "La demande est maintenant : en discussion." in page
    assert "Refuser" in page and "Accepter" in page
    again = advisor.post(f"{location}/status", {"status": "new"})
    assert again.status_code == 400 and "ne peut pas passer à « nouvelle »" in text_of(again.text)


def test_user_text_passed_to_gettext_in_a_template_is_escaped(seeded: Seeded) -> None:
    env = seeded.app.state.templates
    rendered = env.from_string('{{ _(title) }}|{{ _("Sign in") }}').render(title='<script>alert(1)</script>"')
    assert rendered == "&lt;script&gt;alert(1)&lt;/script&gt;&#34;|Sign in"
    i18n.use("fr")
    try:
        assert env.from_string('{{ _("Sign in") }}').render() == "Se connecter"
    finally:
        i18n.use("en")


def test_plural_forms_follow_the_language() -> None:
    i18n.use("fr")
    try:
        assert i18n.ngettext("%(num)s byte", "%(num)s bytes", 1) == "%(num)s octet"
        assert i18n.ngettext("%(num)s byte", "%(num)s bytes", 0) == "%(num)s octet"  # French: 0 is singular
        assert i18n.ngettext("%(num)s byte", "%(num)s bytes", 2) == "%(num)s octets"
        assert i18n.ngettext("not in the catalogue", "not in the catalogues", 2) == "not in the catalogues"
    finally:
        i18n.use("en")
    assert i18n.ngettext("%(num)s byte", "%(num)s bytes", 0) == "%(num)s bytes"


# --- the catalogue -----------------------------------------------------------------------------
def _catalogue(path: Path) -> list[tuple[str, object]]:
    with path.open("rb") as f:
        return [(m.id if isinstance(m.id, str) else m.id[0], m.string) for m in read_po(f) if m.id]


def test_the_catalogue_is_up_to_date_and_every_message_is_translated() -> None:
    """Fails on a template or page text missing from locale/messages.pot, or a message French
    lacks: run `python scripts/extract_messages.py`, then translate the new entries."""
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "extract_messages.py"), "--check"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_translations_keep_their_placeholders() -> None:
    placeholder = re.compile(r"%\(\w+\)[sd]|%%|\{\w+(?:![rs])?\}")
    bad = []
    po = i18n.po_path("fr")
    for msgid, msgstr in _catalogue(po):
        strings = msgstr if isinstance(msgstr, tuple | list) else (msgstr,)
        for text in strings:
            if text and sorted(placeholder.findall(msgid)) != sorted(placeholder.findall(str(text))):
                bad.append((msgid, text))
            if text and re.findall(r"</?\w+", msgid) != re.findall(r"</?\w+", str(text)):
                bad.append((msgid, text))
    assert bad == []


def test_the_extraction_finds_the_texts_of_every_template() -> None:
    pot = i18n.LOCALE_DIR / "messages.pot"
    with pot.open("rb") as f:
        locations = {loc[0] for m in read_po(f) if m.id for loc in m.locations}
    assert len(_catalogue(pot)) > 250
    for template in sorted(TEMPLATES.glob("*.html")):
        visible = re.sub(r"\{[{%#].*?[}%#]\}", "", template.read_text(), flags=re.S)
        visible = re.sub(r"<[^>]+>", " ", visible)
        if re.search(r"[A-Za-z]{3,}", unescape(visible)):
            assert f"src/laif/portal/templates/{template.name}" in locations, template.name


TEXT_BETWEEN_TAGS = re.compile(r">([^<>{}]*[A-Za-z]{2,}[^<>{}]*)<")
TEXT_ATTRIBUTES = re.compile(r'\b(?:aria-label|placeholder|title|alt)="([^"{}]*[A-Za-z]{2,}[^"{}]*)"')


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_templates_have_no_text_outside_gettext(template: str) -> None:
    """Best effort: words between two tags, or in a label attribute, that are not inside
    `{{ ... }}` or a `{% trans %}` block."""
    source = (TEMPLATES / template).read_text()
    source = re.sub(r"\{%-? *trans\b.*?endtrans *-?%\}", "", source, flags=re.S)
    source = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", "{}", source, flags=re.S)
    source = re.sub(r"<(script|style|code)\b.*?</\1>", "", source, flags=re.S)
    allowed = {"API", "laif", "SHA-256", "Turtle", "JSON-LD", "CSV", "JSON", "YAML", "DCAT-AP"}
    found = [t.strip() for t in TEXT_BETWEEN_TAGS.findall(source) + TEXT_ATTRIBUTES.findall(source)
             if t.strip() not in allowed]
    assert found == [], f"{template}: wrap in _() or {{% trans %}}: {found}"
