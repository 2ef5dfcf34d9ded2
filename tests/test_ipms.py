"""IPMS: keyed pseudonyms, canonical forms, the streamed file path and its errors,
personal-data detection with checked Luxembourg identifiers, and the anonymity check."""

from __future__ import annotations

import hmac
import json
import os
import random
from pathlib import Path

import pytest

from laif.errors import BadInput
from laif.ipms import files
from laif.ipms.anonymity import anonymity, shortfalls
from laif.ipms.detect import (
    find_in_text,
    is_lu_iban,
    is_lu_national_number,
    is_lu_vat,
    luhn_digit,
    scan_column,
    verhoeff_digit,
)
from laif.ipms.pseudonyms import Pseudonymiser, canonical_date, canonical_id, canonical_text, domain_key
from tests.conftest import run_laif

SECRET = "a test master secret of more than sixteen bytes"


def national_number(head: str) -> str:
    return head + str(luhn_digit(head)) + str(verhoeff_digit(head))


# --- pseudonyms ---------------------------------------------------------------------------------


def test_pseudonymiser_is_hmac_sha256_under_the_domain_key() -> None:
    key = domain_key(SECRET.encode(), "study-1")
    p = Pseudonymiser(key)
    for value in (b"", b"1980030712321", "Lëtzebuerg".encode(), b"x" * 200):
        assert p.digest(value) == hmac.digest(key, value, "sha256")
        assert p(value) == hmac.digest(key, value, "sha256").hex()[:32]


def test_domains_are_unlinkable_and_secrets_matter() -> None:
    one = Pseudonymiser(domain_key(SECRET.encode(), "study-1"))
    two = Pseudonymiser(domain_key(SECRET.encode(), "study-2"))
    other = Pseudonymiser(domain_key(b"another master secret, also long", "study-1"))
    assert one(b"1980030712321") == Pseudonymiser(domain_key(SECRET.encode(), "study-1"))(b"1980030712321")
    assert len({one(b"1980030712321"), two(b"1980030712321"), other(b"1980030712321")}) == 3
    assert len({one.key_check, two.key_check, other.key_check}) == 3
    with pytest.raises(BadInput, match="--domain"):
        domain_key(SECRET.encode(), "no spaces please")


@pytest.mark.parametrize(
    ("a", "b"),
    [("  Anna   WÉBER ", "anna weber"), ("Müller", "MULLER"), ("Lëtzebuerg", "letzebuerg")],
)
def test_canonical_text(a: str, b: str) -> None:
    assert canonical_text(a) == canonical_text(b)


def test_canonical_id_and_date() -> None:
    assert canonical_id("1980 0307-123 21") == canonical_id("1980030712321") == "1980030712321"
    assert canonical_id("lu 15027442") == "LU15027442"
    assert {canonical_date(d) for d in ("07.03.1980", "7/3/1980", "1980-03-07", "19800307", "1980/03/07")} == {
        "1980-03-07"
    }
    with pytest.raises(ValueError, match="not a real date"):
        canonical_date("31.02.1980")
    with pytest.raises(ValueError, match="known form"):
        canonical_date("March 7th")


# --- the file path ------------------------------------------------------------------------------


def _register(path: Path, people: list[tuple[str, str, str]], sep: str = ",") -> None:
    lines = [sep.join(["name", "birth_date", "matricule", "city"])]
    lines += [sep.join([n, d, m, "Esch"]) for n, d, m in people]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _pseudonymise(src: Path, out: Path, domain: str = "study-1", secret: str = SECRET, *extra: str):  # type: ignore[no-untyped-def]
    return run_laif("ipms", "pseudonymise", str(src), "--columns", "name,birth_date:date,matricule:id",
                    "--domain", domain, "--out", str(out), *extra, env={"LAIF_IPMS_SECRET": secret})


def test_two_holders_get_the_same_pseudonyms_for_the_same_people(tmp_path: Path) -> None:
    m1, m2 = national_number("19800307123"), national_number("19751224045")
    _register(tmp_path / "a.csv", [("Anna Weber", "07.03.1980", m1), ("Luc Schmit", "24.12.1975", m2)])
    _register(tmp_path / "b.csv", [("  anna WEBER", "1980-03-07", f"{m1[:4]} {m1[4:8]} {m1[8:]}")], sep=";")
    ra, rb = _pseudonymise(tmp_path / "a.csv", tmp_path / "out/a.csv"), _pseudonymise(tmp_path / "b.csv", tmp_path / "out/b.csv")
    assert ra.returncode == 0 and rb.returncode == 0, ra.stderr + rb.stderr
    a = (tmp_path / "out/a.csv").read_text().splitlines()
    b = (tmp_path / "out/b.csv").read_text().splitlines()
    assert b[0] == "name;birth_date;matricule;city"  # the holder's separator is kept
    assert a[1].split(",")[:3] == b[1].split(";")[:3]
    assert a[1].split(",")[3] == "Esch"
    assert SECRET not in ra.stdout + ra.stderr and "Anna" not in (tmp_path / "out/a.csv").read_text()
    manifest = json.loads((tmp_path / "out/a.csv.ipms.json").read_text())
    assert manifest["rows"] == 2 and manifest["values"] == 6 and manifest["domain"] == "study-1"
    assert SECRET not in json.dumps(manifest)
    # another domain: nothing links
    _pseudonymise(tmp_path / "b.csv", tmp_path / "out/b2.csv", "study-2")
    assert (tmp_path / "out/b2.csv").read_text().splitlines()[1].split(";")[0] != b[1].split(";")[0]


def test_a_wrong_key_is_refused_against_an_earlier_manifest(tmp_path: Path) -> None:
    _register(tmp_path / "a.csv", [("Anna Weber", "07.03.1980", national_number("19800307123"))])
    assert _pseudonymise(tmp_path / "a.csv", tmp_path / "a.out.csv").returncode == 0
    result = _pseudonymise(tmp_path / "a.csv", tmp_path / "b.out.csv", "study-1", "a different master secret!!",
                           "--like", str(tmp_path / "a.out.csv.ipms.json"))
    assert result.returncode == 2 and "another master secret" in result.stderr
    assert not (tmp_path / "b.out.csv").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,city\nAnna,Esch\n", "no column(s) birth_date, matricule"),
        ("name,birth_date,matricule\nAnna,07.03.1980,1\nLuc,31.02.1975,2\n", ":3: column birth_date: not a real date"),
        ("name,birth_date,matricule\nAnna,07.03.1980\n", ":2: 2 fields where the header has 3"),
        ("", "empty file"),
    ],
)
def test_bad_files_exit_2_and_leave_no_output(tmp_path: Path, content: str, message: str) -> None:
    src = tmp_path / "in.csv"
    src.write_text(content, encoding="utf-8")
    result = _pseudonymise(src, tmp_path / "out.csv")
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == [src]  # no output, no manifest, no partial file


def test_wrong_encoding_and_missing_key(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_bytes("name,birth_date,matricule\nAnna,07.03.1980,1\nRené,01.01.1990,2\n".encode("latin-1"))
    result = _pseudonymise(src, tmp_path / "out.csv")
    assert result.returncode == 2 and "in.csv:3: not UTF-8" in result.stderr and "iconv" in result.stderr
    result = run_laif("ipms", "pseudonymise", str(src), "-c", "name", "-d", "x", "-o", str(tmp_path / "o.csv"),
                      env={"LAIF_IPMS_SECRET": ""})
    assert result.returncode == 2 and "LAIF_IPMS_SECRET" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_large_file_streams(tmp_path: Path) -> None:
    rng = random.Random(3)
    src = tmp_path / "big.csv"
    n = 60_000
    with src.open("w", encoding="utf-8") as fh:
        fh.write("matricule,value\n")
        for i in range(n):
            fh.write(f"{rng.randrange(10**12, 10**13)},{i}\n")
    result = run_laif("ipms", "pseudonymise", str(src), "-c", "matricule:id", "-d", "d", "-o", str(tmp_path / "o.csv"),
                      env={"LAIF_IPMS_SECRET": SECRET})
    assert result.returncode == 0, result.stderr
    lines = (tmp_path / "o.csv").read_text().splitlines()
    assert len(lines) == n + 1 and all(len(line.split(",")[0]) == 32 for line in lines[1:])
    assert [line.split(",")[1] for line in lines[1:4]] == ["0", "1", "2"]


# --- detection ------------------------------------------------------------------------------------


def _random_plain_file(rng: random.Random) -> tuple[str, dict[str, str]]:
    """A CSV the C kernel takes: ASCII, no quotes; blank lines, CRLF, tabs and empty values mixed in."""
    delimiter = rng.choice([",", ";"])
    width = rng.randint(1, 6)
    header = [f"c{i}" for i in range(width)]
    alphabet = "abcXYZ019 -./\t_@"
    lines = [delimiter.join(header)]
    for _ in range(rng.randint(0, 40)):
        if rng.random() < 0.05:
            lines.append("")
            continue
        values = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(width)]
        if width == 1 and not values[0]:
            values[0] = "x"  # a lone empty value would be a blank line
        lines.append(delimiter.join(values) + ("\r" if rng.random() < 0.2 else ""))
    text = "\n".join(lines) + ("\n" if rng.random() < 0.7 else "")
    chosen = rng.sample(header, rng.randint(1, width))
    return text, {c: rng.choice(["id", "text"]) for c in chosen}


@pytest.mark.skipif(files._fastpath is None, reason="the C kernel was not built")
def test_c_file_path_writes_the_same_bytes_as_the_python_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = Pseudonymiser(domain_key(SECRET.encode(), "study-1"))
    rng = random.Random(42)
    for case in range(150):
        if case % 3 == 0:
            monkeypatch.setattr(files, "BLOCK", rng.randint(1, 64))  # lines cut across blocks
        else:
            monkeypatch.setattr(files, "BLOCK", 1 << 22)
        text, columns = _random_plain_file(rng)
        source = tmp_path / "in.csv"
        source.write_text(text, encoding="utf-8", newline="")
        plain = files._pseudonymise_plain(source, tmp_path / "c.csv", columns, p)
        assert plain is not None, text  # the kernel took it
        python = files._pseudonymise_python(source, tmp_path / "py.csv", columns, p)
        assert plain == python
        assert (tmp_path / "c.csv").read_bytes() == (tmp_path / "py.csv").read_bytes(), text


@pytest.mark.skipif(files._fastpath is None, reason="the C kernel was not built")
@pytest.mark.parametrize("body", ['1,"Weber, Anna"\n', "1,Müller\n", "1,a,b\n", "1,a\x0bb\n", "1\n"])
def test_c_file_path_leaves_other_files_to_python(tmp_path: Path, body: str) -> None:
    source = tmp_path / "in.csv"
    source.write_text("id,name\n2,Tom\n" + body, encoding="utf-8")
    p = Pseudonymiser(domain_key(SECRET.encode(), "study-1"))
    assert files._pseudonymise_plain(source, tmp_path / "out.csv", {"id": "id", "name": "text"}, p) is None
    assert list(tmp_path.iterdir()) == [source]  # nothing left behind


def test_the_c_kernel_is_built_where_make_installs() -> None:
    # `make` installs gcc and libssl-dev first; a missing kernel would silently cost 10x in speed.
    if os.environ.get("CI"):
        assert files._fastpath is not None


def test_luxembourg_identifiers_are_checked() -> None:
    good = national_number("19800307123")
    assert is_lu_national_number(good)
    for i in (11, 12):  # either check digit wrong
        bad = good[:i] + str((int(good[i]) + 1) % 10) + good[i + 1:]
        assert not is_lu_national_number(bad)
    assert not is_lu_national_number(national_number("19801307123"))  # month 13
    assert is_lu_iban("LU28 0019 4006 4475 0000") and not is_lu_iban("LU28 0019 4006 4475 0001")
    assert is_lu_vat("LU 15027442") and not is_lu_vat("LU15027443")
    assert (luhn_digit("7992739871"), verhoeff_digit("236")) == (3, 3)  # textbook vectors


def test_detection_in_text_and_columns() -> None:
    m = national_number("19800307123")
    text = f"Anna (anna.weber@example.lu, +352 621 123 456) has matricule {m} and IBAN LU28 0019 4006 4475 0000."
    kinds = [f["kind"] for f in find_in_text(text)]
    assert kinds == ["email", "phone", "lu_national_number", "lu_iban"]
    assert find_in_text("Order 1234567890123 of 12 items") == []  # 13 digits without valid checks
    col = scan_column("matricule", [m, national_number("19751224045"), ""])
    assert col["shares"]["lu_national_number"] == 1.0 and col["personal"]
    assert scan_column("Vorname", ["Anna", "Luc"])["name_hints"] == ["name"]
    assert not scan_column("city", ["Esch", "Diekirch"])["personal"]
    notes = scan_column("notes", [f"Called back on +352 621 123 456 about card {i}" for i in range(3)])
    assert notes["in_free_text"] == {"phone": 3}


def test_detect_command(tmp_path: Path) -> None:
    _register(tmp_path / "a.csv", [("Anna Weber", "07.03.1980", national_number("19800307123"))])
    result = run_laif("ipms", "detect", str(tmp_path / "a.csv"), "--json")
    assert result.returncode == 0, result.stderr
    cols = {c["column"]: c for c in json.loads(result.stdout)["columns"]}
    assert cols["matricule"]["personal"] and cols["name"]["personal"] and not cols["city"]["personal"]


# --- anonymity --------------------------------------------------------------------------------------


def test_anonymity_figures_and_gate(tmp_path: Path) -> None:
    src = tmp_path / "release.csv"
    rows = ["age,postcode,diagnosis"]
    rows += ["30-39,L-4001,flu"] * 3 + ["30-39,L-4001,asthma"] * 2  # a group of 5, 2 diagnoses
    rows += ["40-49,L-9001,flu"] * 2  # a group of 2, 1 diagnosis
    rows += ["50-59,L-1001,flu"]  # unique
    src.write_text("\n".join(rows) + "\n", encoding="utf-8")
    got = anonymity(src, ["age", "postcode"], ["diagnosis"])
    assert (got["records"], got["groups"], got["k"]) == (8, 3, 1)
    assert got["unique_share"] == 1 / 8 and got["l_diversity"] == {"diagnosis": 1}
    assert shortfalls(got, 1, 1, 0.2) == []
    assert len(shortfalls(got, 2, 2, 0.1)) == 3
    ok = run_laif("ipms", "check", str(src), "-q", "age", "-s", "diagnosis", "--k", "1", "--json")
    assert ok.returncode == 0 and json.loads(ok.stdout)["k"] == 1
    gate = run_laif("ipms", "check", str(src), "-q", "age,postcode", "--k", "2")
    assert gate.returncode == 1 and "k-anonymity is 1, below 2" in gate.stderr
    bad = run_laif("ipms", "check", str(src), "-q", "zip")
    assert bad.returncode == 2 and "no column(s) zip" in bad.stderr
