"""`laif ipms`: pseudonymisation at the source, personal-data detection, anonymity checks."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from laif.cli._common import comma_list, err, out
from laif.errors import EXIT_GATE, BadInput
from laif.services import pseudonymise as service
from laif.services.pseudonymise import DEFAULT_KEY_ENV, HARDENING

ipms_app = typer.Typer(help="Pseudonyms per project domain, identity matching, personal-data detection, "
                            "anonymity checks.",
                       no_args_is_help=True)


@ipms_app.command("pseudonymise")
def pseudonymise(
    source: Path = typer.Argument(..., help="CSV file (UTF-8; ',' or ';')."),
    columns: str = typer.Option(..., "--columns", "-c", help="Columns to replace: name,birth_date:date,matricule:id"),
    domain: str = typer.Option(..., "--domain", "-d", help="Project domain: pseudonyms link within it, never across."),
    output: Path = typer.Option(..., "--out", "-o", help="Output CSV; a manifest OUT.ipms.json is written beside it."),
    key_env: str = typer.Option(DEFAULT_KEY_ENV, "--key-env", help="Variable holding the master secret."),
    like: Path | None = typer.Option(None, "--like", help="Manifest of an earlier output: refuse another key or domain."),
) -> None:
    """Replace identifying columns by keyed pseudonyms (HMAC-SHA256, key derived per domain with HKDF)."""
    done = service.pseudonymise_file(source, output, columns, domain, key_env=key_env, like=like)
    seconds = done.seconds
    rate = done.values / seconds if seconds > 0 else 0.0
    err.print(f"{done.rows} rows, {done.values} values pseudonymised in {seconds:.2f} s ({rate:,.0f}/s); "
              f"key check {done.key_check}")
    out.print(f"wrote {output} and {output.name}.ipms.json")


@ipms_app.command("detect")
def detect(
    source: Path | None = typer.Argument(None, help="CSV file to scan, column by column."),
    text: str | None = typer.Option(None, "--text", help="Scan this free text instead."),
    sample: int = typer.Option(10000, "--sample", min=1, help="Rows to read from the file."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Find personal data: checked LU national numbers, LU IBANs and VAT numbers, e-mails, phones, telling names."""
    if (source is None) == (text is None):
        raise BadInput("give a CSV file or --text, not both and not neither")
    if text is not None:
        found = service.detect_text(text)
        if as_json:
            typer.echo(json.dumps(found, ensure_ascii=False, indent=2))
        else:
            for f in found:
                out.print(f"{f['kind']:20} {f['value']}  [dim]at {f['start']}[/dim]", markup=True)
            err.print(f"{len(found)} finding(s)")
        return
    assert source is not None
    found_in = service.detect_file(source, sample)
    if as_json:
        typer.echo(json.dumps(found_in, indent=2))
        return
    report = found_in["columns"]
    table = Table(title=f"Personal data in {source.name} ({found_in['rows_read']} rows read)")
    for col in ("Column", "Personal", "Detected", "Shares"):
        table.add_column(col)
    for c in report:
        shares = ", ".join(f"{k} {v:.0%}" for k, v in c["shares"].items())
        table.add_row(c["column"], "[red]yes[/red]" if c["personal"] else "no", ", ".join(c["detected"]), shares)
    out.print(table)


@ipms_app.command("check")
def check(
    source: Path = typer.Argument(..., help="CSV file to release."),
    quasi: str = typer.Option(..., "--quasi", "-q", help="Quasi-identifier columns, e.g. age,postcode,sex"),
    sensitive: str = typer.Option("", "--sensitive", "-s", help="Sensitive columns for l-diversity."),
    k: int | None = typer.Option(None, "--k", min=1, help="Smallest group allowed."),
    l_min: int | None = typer.Option(None, "--l", min=1, help="Fewest distinct sensitive values per group."),
    max_unique: float | None = typer.Option(None, "--max-unique", min=0.0, max=1.0,
                                            help="Largest share of unique records, e.g. 0.01"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """k-anonymity, distinct l-diversity and unique records; exit 1 when a threshold is missed."""
    quasi_ids = comma_list(quasi, "--quasi", "name at least one column")
    sensitive_ids = comma_list(sensitive, "--sensitive", "") if sensitive.strip() else []
    result = service.check_anonymity(source, quasi_ids, sensitive_ids, k=k, l_min=l_min, max_unique=max_unique)
    missed = result["missed"]
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        out.print(f"{result['records']} records in {result['groups']} groups over {', '.join(result['quasi_identifiers'])}")
        out.print(f"k-anonymity: {result['k']}   unique records: {result['unique_share']:.2%}   "
                  + "   ".join(f"l-diversity of {c}: {v}" for c, v in result["l_diversity"].items()))
    if missed:
        err.print("[red]not ready for release:[/red] " + "; ".join(missed))
        raise typer.Exit(EXIT_GATE)
    err.print("[green]every threshold given is met[/green]")


@ipms_app.command("encode")
def encode(
    source: Path = typer.Argument(..., help="The holder's register (CSV, UTF-8; ',' or ';')."),
    id_column: str = typer.Option(..., "--id", help="Column of the record id; only its pseudonym leaves."),
    names: str = typer.Option(..., "--names", help="First-name and family-name columns, e.g. first_name,last_name"),
    birth: str = typer.Option(..., "--birth", help="Birth-date column (ISO or day-first forms)."),
    domain: str = typer.Option(..., "--domain", "-d", help="Project domain shared by the holders that link."),
    output: Path = typer.Option(..., "--out", "-o", help="Encoded CSV (pseudonym, Bloom filter) and its manifest."),
    hardening: str = typer.Option("balance", "--hardening", help=f"One of {', '.join(HARDENING)}."),
    key_env: str = typer.Option(DEFAULT_KEY_ENV, "--key-env", help="Variable holding the master secret."),
) -> None:
    """Encode a register at the source for fuzzy matching: hardened Bloom filters of names and birth dates."""
    done = service.encode_file(source, output, id_column, comma_list(names, "--names", "first_name,last_name"), birth,
                               domain, hardening=hardening, key_env=key_env)
    manifest = done.manifest
    err.print(f"{manifest['rows']} records encoded ({hardening}, {manifest['width']} bits) in "
              f"{done.seconds:.2f} s; key check {done.key_check}")
    out.print(f"wrote {output} and {output.name}.ipms.json")


@ipms_app.command("link")
def link(
    a: Path = typer.Argument(..., help="Holder A's file: an encoding, or a pseudonymised CSV with --on."),
    b: Path = typer.Argument(..., help="Holder B's file, made with the same domain and secret."),
    output: Path = typer.Option(..., "--out", "-o", help="CSV of pairs of pseudonyms (pseudonym_a, pseudonym_b)."),
    on: str | None = typer.Option(None, "--on", help="Exact matching on this pseudonymised column."),
    id_column: str | None = typer.Option(None, "--id", help="With --on: the pseudonymised column to report."),
    threshold: float | None = typer.Option(None, "--threshold", min=0.0, max=1.0,
                                           help="Dice threshold for fuzzy matching (default per hardening)."),
) -> None:
    """Find the people two holders share: pairs of pseudonyms out, never names, dates or scores."""
    done = service.link_files(a, b, output, on=on, id_column=id_column, threshold=threshold)
    result, seconds = done.linkage, done.seconds
    rate = result.comparisons / seconds if seconds > 0 else 0.0
    err.print(f"{result.records_a} x {result.records_b} records, {result.comparisons:,} comparisons "
              f"in {seconds:.2f} s ({rate:,.0f}/s)")
    out.print(f"{len(result.pairs)} pairs; wrote {output} and {output.name}.ipms.json")


@ipms_app.command("synth")
def synth(
    output: Path = typer.Option(..., "--out", "-o", help="Folder for holder_a.csv, holder_b.csv and truth.csv."),
    people: int = typer.Option(1000, "--people", min=1, help="People in holder A's register."),
    overlap: float = typer.Option(0.5, "--overlap", min=0.0, max=1.0, help="Share of A's people B also holds."),
    typos: float = typer.Option(0.3, "--typos", min=0.0, max=1.0, help="Chance of a typing error per field in B."),
    seed: int = typer.Option(1, "--seed"),
) -> None:
    """Write two made-up registers that share people, with typing errors, and the truth to measure linkage."""
    made = service.synthesise(output, people, overlap, typos, seed)
    out.print(f"wrote {made.a}, {made.b} and {made.truth} ({made.overlap} people in both)")


@ipms_app.command("evaluate")
def evaluate_command(
    pairs: Path = typer.Argument(..., help="Pairs written by `laif ipms link`."),
    truth: Path = typer.Option(..., "--truth", help="CSV of true pairs of record ids (A, B), e.g. from synth."),
    domain: str = typer.Option(..., "--domain", "-d"),
    key_env: str = typer.Option(DEFAULT_KEY_ENV, "--key-env", help="Variable holding the master secret."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Precision and recall of a linkage against known true pairs, with 95% intervals."""
    result = service.evaluate_linkage(pairs, truth, domain, key_env=key_env)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    for name in ("precision", "recall"):
        f = result[name]
        if f["value"] is None:
            out.print(f"{name}: no pairs to measure")
        else:
            out.print(f"{name}: {f['value']:.1f}% ({f['k']}/{f['n']}; 95% interval {f['low']:.1f}-{f['high']:.1f}%)")
