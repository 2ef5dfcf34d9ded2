"""Makes the portal's message catalogue template and brings each language's `.po` file up to it.

The texts come from three places: the templates (`_()` and `{% trans %}`), the portal's Python
modules (`_()`/`gettext()`/`ngettext()` from laif.portal.i18n) and data the pages show (the
service catalogue's stages and services, role and request-state labels).

Run:  python scripts/extract_messages.py          write locale/messages.pot, update each .po
      python scripts/extract_messages.py --check  exit 1 when the .pot is out of date or a
                                                  language lacks a translation (the tests run it)

New messages arrive in each .po untranslated; translate them there (the portal reads the .po
files as they are: nothing to compile)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PORTAL = ROOT / "src" / "laif" / "portal"
sys.path.insert(0, str(ROOT / "src"))

from laif.portal import i18n  # noqa: E402
from laif.portal.catalogue import SERVICES_FILE, service_catalogue  # noqa: E402
from laif.portal.tables import ROLE_LABELS, RequestStatus  # noqa: E402

POT = i18n.LOCALE_DIR / f"{i18n.DOMAIN}.pot"
#: Same options as the portal's Jinja environment (laif.portal.i18n.install).
METHODS = [("templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"templates/**.html": {"trimmed": "true", "newstyle_gettext": "true"}}
HEADER = ("# The laif portal's interface text: {language}. Made by scripts/extract_messages.py;\n"
          "# translations written by the laif project (Apache-2.0).")
#: A fixed date, so that an unchanged catalogue makes no diff.
DATE = datetime(2026, 1, 1, tzinfo=UTC)


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def template() -> Catalog:
    """Every message the portal shows, with where it comes from."""
    pot = Catalog(project="laif", version="1", copyright_holder="laif", creation_date=DATE,
                  revision_date=DATE, fuzzy=False, charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
            PORTAL, METHODS, OPTIONS, comment_tags=("TRANSLATORS:",), strip_comment_tags=True):
        if filename.startswith("alembic"):
            continue
        pot.add(message, None, [(f"src/laif/portal/{filename}", lineno)], auto_comments=comments, context=context)
    services = service_catalogue()
    data = _rel(SERVICES_FILE)
    for stage in services.stages:
        pot.add(stage.title, locations=[(data, 0)], auto_comments=["a stage of the service catalogue"])
        pot.add(stage.summary, locations=[(data, 0)])
    for service in services.services:
        pot.add(service.title, locations=[(data, 0)], auto_comments=["a service's name"])
        pot.add(service.summary, locations=[(data, 0)])
    tables = _rel(PORTAL / "tables.py")
    for label in ROLE_LABELS.values():
        pot.add(label, locations=[(tables, 0)], auto_comments=["a role"])
    for status in RequestStatus:
        pot.add(status.label, locations=[(tables, 0)], auto_comments=["the state of a service request"])
    return pot


def _text(catalog: Catalog) -> bytes:
    out = BytesIO()
    write_po(out, catalog, width=100, sort_output=False, include_previous=False, ignore_obsolete=True)
    return out.getvalue()


def _ids(catalog: Catalog) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=locale, domain=i18n.DOMAIN)


def missing(lang: str, pot: Catalog) -> list[str]:
    """The messages of `pot` that `lang`'s .po leaves untranslated (or marks fuzzy)."""
    po = _read(i18n.po_path(lang), lang)
    found = {(m.id if isinstance(m.id, str) else m.id[0]): m for m in po if m.id}
    out = []
    for msgid in sorted(_ids(pot)):
        entry = found.get(msgid)
        strings = entry.string if entry and isinstance(entry.string, tuple | list) else [entry.string if entry else ""]
        if entry is None or entry.fuzzy or not all(strings):
            out.append(msgid)
    return out


def check() -> int:
    pot = template()
    problems = []
    if not POT.exists():
        problems.append(f"{_rel(POT)} is missing")
    else:
        stale = _ids(pot) ^ _ids(_read(POT))
        for msgid in sorted(stale):
            problems.append(f"{_rel(POT)} is out of date: {msgid!r} {'added' if msgid in _ids(pot) else 'removed'}")
    for lang in i18n.LANGUAGES[1:]:
        for msgid in missing(lang, pot):
            problems.append(f"{_rel(i18n.po_path(lang))}: no translation of {msgid!r}")
    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} problem(s): run python scripts/extract_messages.py, then translate", file=sys.stderr)
        return 1
    print(f"{len(_ids(pot))} messages, translated in {', '.join(i18n.LANGUAGES[1:])}")
    return 0


def write() -> int:
    pot = template()
    pot.header_comment = HEADER.format(language="the template")
    pot.last_translator = pot.language_team = "laif"
    pot.msgid_bugs_address = ""
    POT.parent.mkdir(parents=True, exist_ok=True)
    POT.write_bytes(_text(pot))
    for lang in i18n.LANGUAGES[1:]:
        path = i18n.po_path(lang)
        if path.exists():
            po = _read(path, lang)
        else:
            po = Catalog(locale=lang, domain=i18n.DOMAIN, project="laif", version="1", creation_date=DATE, fuzzy=False)
        po.update(pot, no_fuzzy_matching=True, update_creation_date=False)
        po.revision_date = DATE
        po.header_comment = HEADER.format(language=lang)
        po.last_translator = po.language_team = "laif"
        po.msgid_bugs_address = ""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_text(po))
        todo = missing(lang, pot)
        print(f"{_rel(path)}: {len(_ids(pot))} messages, {len(todo)} to translate")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check; write nothing")
    args = parser.parse_args(argv)
    return check() if args.check else write()


if __name__ == "__main__":
    sys.exit(main())
