"""Personal data in tables and free text, offline: Luxembourg identifiers whose check digits
are verified (national number, IBAN, VAT), e-mail addresses and phone numbers, plus hints
from column names in four languages.

- National number (matricule): 13 digits, YYYYMMDD, three serial digits, then a Luhn check
  digit and a Verhoeff check digit, each computed over the first eleven digits.
- LU IBAN: LU, two check digits, 16 characters; ISO 7064 mod 97-10.
- LU VAT (TVA): LU and eight digits; the first six modulo 89 equal the last two.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from stdnum import iban, luhn, verhoeff
from stdnum.lu import tva as lu_tva

# --- check digits (python-stdnum: no hand-written check-digit arithmetic) -------------------


def verhoeff_digit(payload: str) -> int:
    """The Verhoeff check digit to append to `payload` (digits)."""
    return int(verhoeff.calc_check_digit(payload))


def luhn_digit(payload: str) -> int:
    """The Luhn check digit to append to `payload` (digits)."""
    return int(luhn.calc_check_digit(payload))


def is_lu_national_number(value: str) -> bool:
    digits = re.sub(r"[\s.-]", "", value)
    if len(digits) != 13 or not digits.isdigit():
        return False
    try:
        date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return False
    head = digits[:11]
    return int(digits[11]) == luhn_digit(head) and int(digits[12]) == verhoeff_digit(head)


def is_lu_iban(value: str) -> bool:
    text = re.sub(r"\s", "", value).upper()
    return bool(re.fullmatch(r"LU\d{2}[0-9A-Z]{16}", text)) and iban.is_valid(text)


def is_lu_vat(value: str) -> bool:
    text = re.sub(r"[\s.-]", "", value).upper()
    return bool(re.fullmatch(r"(?:LU)?\d{8}", text)) and lu_tva.is_valid(text)


_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?:\+|00)\d{2,3}(?:[\s./-]?\d){6,12}")
_LOCAL_PHONE = re.compile(r"(?:\d[\s./-]?){6,9}\d")


def is_email(value: str) -> bool:
    return bool(_EMAIL.fullmatch(value.strip()))


def is_phone(value: str) -> bool:
    text = value.strip()
    if _PHONE.fullmatch(text):
        return True
    # Luxembourg numbers are dialled without a trunk prefix: six to nine digits, often grouped.
    return bool(_LOCAL_PHONE.fullmatch(text)) and " " in text and not is_lu_national_number(text)


CHECKS: dict[str, Callable[[str], bool]] = {
    "lu_national_number": is_lu_national_number,
    "lu_iban": is_lu_iban,
    "lu_vat": is_lu_vat,
    "email": is_email,
    "phone": is_phone,
}

#: Candidate spans in free text, each confirmed by its check above.
_SPANS: dict[str, re.Pattern[str]] = {
    "lu_national_number": re.compile(r"(?<!\d)\d{4}[\s.]?\d{2}[\s.]?\d{2}[\s.]?\d{3}[\s.]?\d{2}(?!\d)"),
    "lu_iban": re.compile(r"\bLU\d{2}(?:\s?[0-9A-Z]{4}){4}\b", re.IGNORECASE),
    "lu_vat": re.compile(r"\bLU\s?\d{8}\b", re.IGNORECASE),
    "email": _EMAIL,
    "phone": _PHONE,
}

#: Column names that hold personal data whatever their values look like (en, fr, de, lb).
_NAME_HINTS = {
    "name": r"^(?:full_?)?name$|surname|first_?name|last_?name|given_?name|family_?name|^nom$|prenom|prénom|"
            r"vorname|nachname|^numm$|virnumm|familljennumm",
    "birth_date": r"birth|dob|naissance|geburt|gebuert",
    "address": r"address|adresse|street|rue|strasse|straße|strooss",
    "email": r"e-?mail|courriel",
    "phone": r"phone|t[ée]l[ée]phone|telefon|^tel$|gsm|mobile|handy",
    "national_number": r"matricule|national_?(?:id|number)|ssn|sozialversicherung|cns",
}


def find_in_text(text: str) -> list[dict[str, Any]]:
    """Every checked identifier in `text`: kind, value and where it starts and ends."""
    found: list[dict[str, Any]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _SPANS.items():
        for m in pattern.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            if CHECKS[kind](m.group()):
                found.append({"kind": kind, "value": m.group(), "start": m.start(), "end": m.end()})
                taken.append((m.start(), m.end()))
    return sorted(found, key=lambda f: f["start"])


def scan_column(name: str, values: Iterable[str], threshold: float = 0.6) -> dict[str, Any]:
    """What one column holds: checked kinds with their share of non-empty values, and name hints."""
    counts: Counter[str] = Counter()
    in_text: Counter[str] = Counter()
    filled = 0
    for value in values:
        if not value.strip():
            continue
        filled += 1
        whole = [kind for kind, check in CHECKS.items() if check(value)]
        counts.update(whole)
        if not whole and len(value) > 20:
            in_text.update({f["kind"] for f in find_in_text(value)})
    shares = {kind: counts[kind] / filled for kind in counts} if filled else {}
    hints = [kind for kind, pattern in _NAME_HINTS.items() if re.search(pattern, name, re.IGNORECASE)]
    detected = sorted({k for k, share in shares.items() if share >= threshold} | set(hints))
    return {
        "column": name,
        "values": filled,
        "shares": {k: round(v, 4) for k, v in sorted(shares.items())},
        "in_free_text": dict(in_text),
        "name_hints": hints,
        "personal": bool(detected or in_text),
        "detected": detected + sorted(f"{k} (in text)" for k in in_text),
    }
