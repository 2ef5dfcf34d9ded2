"""Identity matching: Bloom-filter encodings and their hardening, blocking, the one-to-one
solver, exact and fuzzy linkage of two synthetic registers end to end, and bad input."""

from __future__ import annotations

import csv
import json
import random
import re
from pathlib import Path

import pytest

from laif.ipms.linkage import BloomEncoder, candidate_pairs, dice, one_to_one
from laif.ipms.pseudonyms import domain_key
from laif.ipms.synthetic import corrupt, population, registers
from tests.conftest import run_laif

SECRET = "a test master secret of more than sixteen bytes"
ENV = {"LAIF_IPMS_SECRET": SECRET}


def encoder(hardening: str = "balance", secret: str = SECRET) -> BloomEncoder:
    return BloomEncoder(domain_key(secret.encode(), "study", "bloom"), hardening)


def test_same_person_same_filter_and_typos_stay_close() -> None:
    enc = encoder()
    a = enc.encode("Anna", "Weber", "1980-03-07")
    assert a == enc.encode("  ANNA ", "Wéber", "07.03.1980")  # canonical forms first
    typo = enc.encode("Ana", "Weber", "1980-03-07")
    other = enc.encode("Jean", "Schmit", "1955-11-30")
    assert dice(a, typo) > dice(a, other)
    assert dice(a, typo) >= 0.9 > dice(a, other)


def test_balanced_filters_have_half_their_bits_set_and_depend_on_the_key() -> None:
    enc = encoder()
    people = population(200, random.Random(3))
    filters = [enc.encode(p.first, p.last, p.birth.isoformat()) for p in people]
    assert {f.bit_count() for f in filters} == {enc.bits}  # no length signal, whatever the name
    assert all(f < 1 << enc.width for f in filters)
    other = encoder(secret="another secret of more than sixteen bytes")
    assert other.encode("Anna", "Weber", "1980-03-07") != enc.encode("Anna", "Weber", "1980-03-07")
    folded = encoder("xor-fold")
    assert folded.width == enc.bits // 2
    assert folded.encode("Anna", "Weber", "1980-03-07") < 1 << folded.width


def test_blocking_keeps_true_pairs_and_drops_most_others() -> None:
    rng = random.Random(5)
    enc = encoder()
    people = population(400, rng)
    a = [enc.encode(p.first, p.last, p.birth.isoformat()) for p in people]
    b = [enc.encode(q.first, q.last, q.birth.isoformat()) for q in (corrupt(p, rng, 0.3) for p in people)]
    pairs = candidate_pairs(a, b, enc.width, 24)
    kept = sum((i, i) in pairs for i in range(len(people)))
    assert kept >= 0.97 * len(people)
    assert len(pairs) < 0.1 * len(people) ** 2


def test_one_to_one_takes_the_best_pair_first_and_uses_each_record_once() -> None:
    chosen = one_to_one([(0.9, 0, 0), (0.95, 0, 1), (0.91, 1, 1), (0.89, 1, 0), (0.5, 2, 2)])
    assert chosen == [(0, 1), (1, 0), (2, 2)]


def _encode(tmp: Path, name: str, hardening: str = "balance", env: dict[str, str] = ENV) -> Path:
    out = tmp / f"enc_{name}.csv"
    r = run_laif("ipms", "encode", str(tmp / f"holder_{name}.csv"), "--id", "record_id",
                 "--names", "first_name,last_name", "--birth", "birth_date", "--domain", "study",
                 "--hardening", hardening, "--out", str(out), env=env)
    assert r.returncode == 0, r.stderr
    return out


def _measure(tmp: Path, pairs: Path) -> dict[str, dict[str, float]]:
    r = run_laif("ipms", "evaluate", str(pairs), "--truth", str(tmp / "truth.csv"), "--domain", "study", "--json",
                 env=ENV)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize(("hardening", "precision", "recall"), [("balance", 95, 93), ("xor-fold", 95, 90)])
def test_two_holders_link_their_overlap_fuzzily(tmp_path: Path, hardening: str, precision: int, recall: int) -> None:
    r = run_laif("ipms", "synth", "--out", str(tmp_path), "--people", "1000", "--overlap", "0.4", "--typos", "0.3",
                 "--seed", "11")
    assert r.returncode == 0, r.stderr
    enc_a, enc_b = _encode(tmp_path, "a", hardening), _encode(tmp_path, "b", hardening)
    raw = (tmp_path / "holder_a.csv").read_text(encoding="utf-8")
    encoded = enc_a.read_text(encoding="ascii")
    assert "Weber" not in encoded and "A-000001" not in encoded and "A-000001" in raw  # nothing raw leaves
    pairs = tmp_path / "pairs.csv"
    r = run_laif("ipms", "link", str(enc_a), str(enc_b), "--out", str(pairs))
    assert r.returncode == 0, r.stderr
    rows = list(csv.reader(pairs.open(encoding="utf-8")))
    assert rows[0] == ["pseudonym_a", "pseudonym_b"]
    assert all(len(row) == 2 and all(re.fullmatch(r"[0-9a-f]{32}", v) for v in row) for row in rows[1:])  # no scores
    figures = _measure(tmp_path, pairs)
    assert figures["true_pairs"] == 400
    assert figures["precision"]["value"] >= precision
    assert figures["recall"]["value"] >= recall


def test_exact_matching_on_pseudonymised_national_numbers(tmp_path: Path) -> None:
    assert run_laif("ipms", "synth", "--out", str(tmp_path), "--people", "300", "--seed", "4").returncode == 0
    for name in ("a", "b"):
        r = run_laif("ipms", "pseudonymise", str(tmp_path / f"holder_{name}.csv"), "--columns",
                     "record_id:id,national_number:id,first_name,last_name,birth_date:date", "--domain", "study",
                     "--out", str(tmp_path / f"p_{name}.csv"), env=ENV)
        assert r.returncode == 0, r.stderr
    pairs = tmp_path / "exact.csv"
    r = run_laif("ipms", "link", str(tmp_path / "p_a.csv"), str(tmp_path / "p_b.csv"), "--on", "national_number",
                 "--id", "record_id", "--out", str(pairs))
    assert r.returncode == 0, r.stderr
    figures = _measure(tmp_path, pairs)
    assert figures["correct"] == figures["true_pairs"] == figures["pairs"] == 150


def test_linkage_refuses_another_key_a_changed_file_and_a_raw_column(tmp_path: Path) -> None:
    assert run_laif("ipms", "synth", "--out", str(tmp_path), "--people", "50").returncode == 0
    enc_a = _encode(tmp_path, "a")
    enc_b = _encode(tmp_path, "b", env={"LAIF_IPMS_SECRET": "another secret of more than sixteen bytes"})
    out = tmp_path / "pairs.csv"
    r = run_laif("ipms", "link", str(enc_a), str(enc_b), "--out", str(out))
    assert r.returncode == 2 and "another master secret" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()
    enc_b = _encode(tmp_path, "b")
    text = enc_b.read_text(encoding="ascii")
    enc_b.write_text(text.replace("A", "B", 1), encoding="ascii")
    r = run_laif("ipms", "link", str(enc_a), str(enc_b), "--out", str(out))
    assert r.returncode == 2 and "changed since it was written" in r.stderr
    r = run_laif("ipms", "pseudonymise", str(tmp_path / "holder_a.csv"), "--columns", "record_id:id",
                 "--domain", "study", "--out", str(tmp_path / "p_a.csv"), env=ENV)
    assert r.returncode == 0, r.stderr
    r = run_laif("ipms", "link", str(tmp_path / "p_a.csv"), str(tmp_path / "p_a.csv"), "--on", "national_number",
                 "--out", str(out))
    assert r.returncode == 2 and "national_number is not pseudonymised" in r.stderr
    assert not out.exists()


def test_encode_names_the_line_of_a_bad_birth_date_and_leaves_nothing(tmp_path: Path) -> None:
    registers(tmp_path, 20, 0.5, 0.0, 1)
    source = tmp_path / "holder_a.csv"
    lines = source.read_text(encoding="utf-8").splitlines()
    parts = lines[5].split(",")
    parts[3] = "1980-02-30"
    lines[5] = ",".join(parts)
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "enc.csv"
    r = run_laif("ipms", "encode", str(source), "--id", "record_id", "--names", "first_name,last_name",
                 "--birth", "birth_date", "--domain", "study", "--out", str(out), env=ENV)
    assert r.returncode == 2 and f"{source}:6: column birth_date" in r.stderr
    assert not out.exists() and not list(tmp_path.glob("*.partial"))
    r = run_laif("ipms", "encode", str(source), "--id", "record_id", "--names", "first_name",
                 "--birth", "birth_date", "--domain", "study", "--out", str(out), env=ENV)
    assert r.returncode == 2 and "--names" in r.stderr
