"""Synthetic registers for trying identity matching without real people.

Two holders' registers of one made-up population: holder B knows a share of holder A's
people (the overlap) plus people of its own, and B's copies carry typing errors (a letter
dropped, doubled, swapped with its neighbour or replaced; an accent lost; day and month of
the birth date swapped or one digit changed). A truth file lists which records are the same
person, so precision and recall can be measured. Names are common first and family names of
the Greater Region, chosen here; every combination is made up.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from laif._files import atomic_output
from laif.ipms.detect import luhn_digit, verhoeff_digit

FIRST = [
    "Anna", "Marie", "Sophie", "Laura", "Julie", "Emma", "Léa", "Claire", "Sarah", "Lisa",
    "Nathalie", "Sandrine", "Martine", "Monique", "Josée", "Carole", "Michèle", "Françoise",
    "Christiane", "Nicole", "Isabelle", "Sylvie", "Chantal", "Paula", "Jeanne", "Lucie", "Zoé",
    "Chloé", "Inès", "Lina", "Mia", "Ella", "Noémie", "Elena", "Ana", "Beatriz", "Joana", "Mariana",
    "Rita", "Sofia", "Jean", "Marc", "Paul", "Luc", "Pierre", "Michel", "Claude", "Romain",
    "Gilles", "Patrick", "Laurent", "Thierry", "Georges", "Fernand", "Marcel", "Nicolas", "Tom",
    "Ben", "Luca", "Noah", "Max", "Liam", "Léon", "Félix", "Hugo", "Mathis", "Gabriel", "Raphaël",
    "João", "Pedro", "Tiago", "Rui", "Miguel", "Diogo", "Carlos", "Ricardo", "Jos", "Pit", "Mett",
    "Fränz", "Jhemp", "Nico", "Yves", "Serge", "Guy",
]
LAST = [
    "Schmit", "Muller", "Weber", "Hoffmann", "Wagner", "Thill", "Schmitz", "Schroeder", "Reuter",
    "Klein", "Becker", "Kieffer", "Meyer", "Welter", "Schiltz", "Kremer", "Hansen", "Weis", "Faber",
    "Majerus", "Steffen", "Schumacher", "Hermes", "Jacoby", "Lentz", "Goergen", "Ries", "Theis",
    "Mangen", "Wolff", "Frisch", "Koch", "Braun", "Schneider", "Fischer", "Scholtes", "Zimmer",
    "Clement", "Dupont", "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit",
    "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David",
    "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Da Silva", "Dos Santos",
    "Ferreira", "Pereira", "Oliveira", "Costa", "Rodrigues", "Martins", "Jesus", "Sousa",
    "Fernandes", "Gonçalves", "Gomes", "Lopes", "Marques", "Alves", "Almeida", "Ribeiro", "Pinto",
    "Carvalho", "Teixeira", "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo",
    "Ricci", "Marino", "Greco", "Bruno", "Gallo", "Nkemelu", "Diallo", "Kovačević", "Nowak",
    "Kowalski", "Müller", "Schäfer", "Jäger", "Krüger", "Böhm", "Kärcher",
]
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    birth: date
    national: str


def _national(birth: date, rng: random.Random) -> str:
    head = f"{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return head + str(luhn_digit(head)) + str(verhoeff_digit(head))


def population(n: int, rng: random.Random) -> list[Person]:
    start = date(1935, 1, 1)
    people = []
    for _ in range(n):
        birth = start + timedelta(days=rng.randrange(75 * 365))
        first = rng.choice(FIRST)
        if rng.random() < 0.15:  # some people have two first names
            first += " " + rng.choice(FIRST)
        people.append(Person(first, rng.choice(LAST), birth, _national(birth, rng)))
    return people


def typo(word: str, rng: random.Random) -> str:
    """One typing error in `word`."""
    if len(word) < 3:
        return word + rng.choice(_LETTERS)
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(5)
    if kind == 0:
        return word[:i] + word[i + 1:]  # a letter dropped
    if kind == 1:
        return word[:i] + word[i] + word[i:]  # a letter doubled
    if kind == 2:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]  # neighbours swapped
    if kind == 3:
        return word[:i] + rng.choice(_LETTERS) + word[i + 1:]  # a letter replaced
    plain = word.translate(str.maketrans("éèëäöüçčÄÖÜ", "eeeaouccAOU"))
    return plain if plain != word else word[:i] + rng.choice(_LETTERS) + word[i + 1:]


def date_typo(birth: date, rng: random.Random) -> date:
    if birth.day <= 12 and birth.day != birth.month and rng.random() < 0.5:
        return birth.replace(day=birth.month, month=birth.day)  # day and month swapped
    for _ in range(10):
        text = list(f"{birth:%Y%m%d}")
        i = rng.choice([3, 5, 7])  # last digit of year, month or day
        text[i] = str(rng.randrange(10))
        try:
            changed = date(int("".join(text[:4])), int("".join(text[4:6])), int("".join(text[6:])))
        except ValueError:
            continue
        if changed != birth:
            return changed
    return birth + timedelta(days=1)


def corrupt(person: Person, rng: random.Random, rate: float) -> Person:
    """A holder's copy of `person`: each of first name, family name and birth date mistyped with chance `rate`."""
    first, last, birth = person.first, person.last, person.birth
    if rng.random() < rate:
        first = typo(first, rng)
    if rng.random() < rate:
        last = typo(last, rng)
    if rng.random() < rate:
        birth = date_typo(birth, rng)
    return Person(first, last, birth, person.national)


@dataclass
class Registers:
    a: Path
    b: Path
    truth: Path
    overlap: int


def _write(path: Path, prefix: str, people: list[Person], date_style: str) -> list[str]:
    ids = [f"{prefix}-{i:06d}" for i in range(1, len(people) + 1)]
    with atomic_output(path, newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["record_id", "first_name", "last_name", "birth_date", "national_number"])
        for rid, p in zip(ids, people, strict=True):
            born = p.birth.isoformat() if date_style == "iso" else f"{p.birth:%d.%m.%Y}"
            w.writerow([rid, p.first, p.last, born, p.national])
    return ids


def registers(out: Path, people: int, overlap: float, typos: float, seed: int) -> Registers:
    """Write holder_a.csv, holder_b.csv and truth.csv under `out`; B holds `overlap` of A's people."""
    rng = random.Random(seed)
    a_people = population(people, rng)
    shared = rng.sample(range(people), round(people * overlap))
    own = population(people - len(shared), rng)
    b_rows: list[tuple[int | None, Person]] = [(i, corrupt(a_people[i], rng, typos)) for i in shared]
    b_rows += [(None, p) for p in own]
    rng.shuffle(b_rows)
    out.mkdir(parents=True, exist_ok=True)
    a_ids = _write(out / "holder_a.csv", "A", a_people, "iso")
    b_ids = _write(out / "holder_b.csv", "B", [p for _, p in b_rows], "dotted")  # B writes dates day first
    with atomic_output(out / "truth.csv", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["record_id_a", "record_id_b"])
        for b_id, (a_index, _) in zip(b_ids, b_rows, strict=True):
            if a_index is not None:
                w.writerow([a_ids[a_index], b_id])
    return Registers(out / "holder_a.csv", out / "holder_b.csv", out / "truth.csv", len(shared))
