"""`laif readiness`: the AI readiness assessment (questions, assess from a file or in the terminal,
history of an organisation)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
import yaml
from rich.table import Table

from laif._files import write_atomic
from laif.cli._common import err, out
from laif.errors import Interrupted
from laif.services import readiness as service

readiness_app = typer.Typer(help="AI readiness assessment: scores per dimension, findings, use cases and a routed roadmap.",
                            no_args_is_help=True)

LANG = typer.Option("en", "--lang", help="Language of questions and report: en or fr.")
DB = typer.Option(None, "--db", help="Database URL (default: LAIF_DB_URL, else SQLite under LAIF_HOME).")


def _pick(prompt: str, count: int, multi: bool, has_none: bool) -> list[int]:
    """Numbers typed by the user, asked again until they are valid (1..count; 0 for none)."""
    while True:
        raw = typer.prompt(prompt)
        try:
            picks = [int(p) for p in raw.replace(" ", "").split(",") if p]
        except ValueError:
            picks = []
        low = 0 if multi and has_none else 1
        if picks and all(low <= p <= count for p in picks) and (multi or len(picks) == 1) \
                and not (0 in picks and len(picks) > 1):
            return picks
        err.print(f"  type {'numbers separated by commas' if multi else 'one number'} between {low} and {count}")


def _ask(lang: str) -> dict[str, Any]:
    """The questionnaire in the terminal; returns answers in the answers-file form."""
    given: dict[str, Any] = {}
    for q in service.questions(lang):
        out.print(f"\n[bold]{q['text']}[/bold]  [dim]{q['id']}[/dim]")
        out.print(f"[dim]{q['help']}[/dim]")
        options = [o for o in q["options"] if not (q["kind"] == "multi" and o["key"] == "none")]
        for i, o in enumerate(options, 1):
            out.print(f"  {i}. {o['text']}")
        multi = q["kind"] == "multi"
        has_none = multi and any(o["key"] == "none" for o in q["options"])
        picks = _pick("numbers, comma-separated (0: none)" if has_none else "number", len(options), multi, has_none)
        keys = [options[p - 1]["key"] for p in picks if p]
        given[q["id"]] = (keys or ["none"]) if multi else keys[0]
    return given


def _print(result: dict[str, Any], written: dict[str, Path]) -> None:
    s = result["scores"]
    table = Table(title=f"{result['organisation']} · {result['label']} · {s['overall']:.1f}% {s['band_text']}")
    table.add_column("Dimension", style="bold")
    table.add_column("Score", justify="right")
    table.add_column("Band")
    change = result["progress"].get("change")
    if change:
        table.add_column(f"vs {result['progress']['previous']['label']}", justify="right")
    for d in s["dimensions"]:
        cells = [d["title"], f"{d['score']:.1f}%", d["band_text"]]
        table.add_row(*cells, *([f"{change[d['id']]:+.1f}"] if change else []))
    out.print(table)
    for f in result["findings"]:
        out.print(f"[bold]{f['severity']}[/bold] {f['title']}: " + "; ".join(
            f"{e['question']} = {e['answer_text']}" if "question" in e else f"{e['title']} {e['score']:.1f}%"
            for e in f["rests_on"]))
    out.print("[bold]Use cases[/bold]: " + "; ".join(f"{u['title']} ({u['feasibility']:.0f}%)" for u in result["use_cases"]))
    for stage in result["roadmap"]:
        if stage["services"]:
            out.print(f"[bold]{stage['title']}[/bold]: " + "; ".join(s["id"] for s in stage["services"]))
    p = result["peers"]
    if p["kind"] == "percentiles":
        out.print(f"Peers: percentile {p['overall_percentile']:.0f} among {p['organisations']} organisations")
    else:
        out.print(f"Peers: {p['organisations']} assessed here (percentiles from {p['needed']}); Eurostat {p['year']}: "
                  f"{p['rate']:.1f}% of {p['size_class']} enterprises used AI ({p['source']})")
    for kind, path in written.items():
        err.print(f"{kind}: {path}")


@readiness_app.command("questions")
def questions_command(as_json: bool = typer.Option(False, "--json"), lang: str = LANG) -> None:
    """The questions with their stable ids, dimensions, options and points."""
    listed = service.questions(lang)
    if as_json:
        typer.echo(json.dumps(listed, indent=2, ensure_ascii=False))
        return
    for q in listed:
        out.print(f"[bold]{q['id']}[/bold] ({q['dimension']}, {q['kind']}): {q['text']}")
        for o in q["options"]:
            out.print(f"    {o['key']}: {o['text']}" + (f"  [dim]{o['score']} pt[/dim]" if o["score"] is not None else ""))


@readiness_app.command("assess")
def assess_command(
    answers_file: Path | None = typer.Option(None, "--answers", help="Answers file (YAML: question id -> option)."),
    organisation: str | None = typer.Option(None, "--org", help="Organisation name (else `organisation:` in the file)."),
    out_dir: Path = typer.Option(Path("laif-out/readiness"), "--out", help="Folder for report.html, report.pdf, result.json."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    save: Path | None = typer.Option(None, "--save", help="Write the answers given in the terminal to this file."),
    pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="Also write the PDF report."),
    keep: bool = typer.Option(True, "--keep/--no-keep", help="Keep the assessment in the database (progress, peers)."),
    lang: str = LANG,
    db: str | None = DB,
) -> None:
    """Assess an organisation's AI readiness from an answers file, or ask the questions here."""
    if answers_file is not None:
        answers = service.load_answers(answers_file)
    else:
        if not sys.stdin.isatty():
            raise typer.BadParameter("give --answers FILE, or run in a terminal to answer the questions here",
                                     param_hint="--answers")
        if not organisation:
            organisation = typer.prompt("Organisation")
        try:
            given = _ask(lang)
        except typer.Abort:  # end of input or Ctrl-C at a prompt: nothing was kept, say so plainly
            raise Interrupted("interrupted: no assessment was made or kept; run the command again to start over") from None
        answers = service.check_answers(given, "(terminal)")
        if save is not None:
            write_atomic(save, yaml.safe_dump({"organisation": organisation, **given}, sort_keys=False, allow_unicode=True))
            err.print(f"answers saved to {save}")
    result = service.assess(answers, organisation, db_url=db, lang=lang, keep=keep)
    written = service.write_report(result, out_dir, pdf=pdf)
    if as_json:
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    _print(result, written)


@readiness_app.command("history")
def history_command(organisation: str = typer.Option(..., "--org", help="Organisation name."),
                    as_json: bool = typer.Option(False, "--json"), db: str | None = DB) -> None:
    """An organisation's assessments over time (T0, T1, ...) with the score of each dimension."""
    rows = service.history(organisation, db)
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        err.print(f"no assessment of {organisation!r} yet")
        return
    dims = list(rows[0]["dimensions"])
    table = Table(title=f"{organisation}: readiness over time")
    for col in ("When", "Taken", "Overall", "Band", *dims):
        table.add_column(col, justify="right" if col not in ("When", "Taken", "Band") else "left")
    for r in rows:
        table.add_row(r["label"], r["taken_at"][:16], f"{r['overall']:.1f}%", r["band"],
                      *[f"{r['dimensions'].get(d, 0):.0f}" for d in dims])
    out.print(table)
