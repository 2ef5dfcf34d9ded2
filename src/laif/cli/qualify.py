"""`laif qualify`: AI Act qualification by questionnaire (interactive, or from an answers file)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import typer
import yaml

from laif._files import write_atomic
from laif.cli._common import err, out
from laif.errors import BadInput
from laif.services import aiact

qualify_app = typer.Typer(help="AI Act qualification: risk class, role and obligations, with the articles.",
                          invoke_without_command=True)


def _ask() -> dict[str, Any]:
    """The questionnaire in the terminal, skipping questions that do not apply."""
    answers: dict[str, Any] = {}
    for q in aiact.questions():
        qid, kind, default, options = q["id"], q["kind"], q["default"], q["options"]
        if not aiact.applies(qid, answers):
            continue
        out.print(f"\n[bold]{q['text']}[/bold]  [dim]({', '.join(q['cites'])})[/dim]")
        if q["help"]:
            out.print(f"[dim]{q['help']}[/dim]")
        if kind == "yesno":
            answers[qid] = "yes" if typer.confirm("", default=default == "yes") else "no"
        elif kind == "number":
            answers[qid] = typer.prompt("number, or unknown", default="unknown")
        elif kind == "date":
            answers[qid] = typer.prompt("YYYY-MM-DD, or not yet", default=default or "not yet")
        else:
            keys = list(options)
            for i, key in enumerate(keys, 1):
                out.print(f"  {i}. {options[key]}")
            if kind == "choice":
                pick = typer.prompt("number", type=int, default=keys.index(default) + 1 if default else None)
                if not 1 <= pick <= len(keys):
                    raise BadInput(f"{qid}: choose between 1 and {len(keys)}")
                answers[qid] = keys[pick - 1]
            else:
                raw = typer.prompt("numbers separated by commas, or 0 for none", default="0")
                picks = [int(p) for p in raw.replace(" ", "").split(",") if p]
                if any(p < 0 or p > len(keys) for p in picks):
                    raise BadInput(f"{qid}: choose between 1 and {len(keys)}, or 0")
                answers[qid] = [keys[p - 1] for p in picks if p] or ["none"]
    return answers


def evaluation_date(value: str | None) -> date | None:
    """The --date option: an ISO date, or None for today."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date as YYYY-MM-DD", param_hint="--date") from None


DATE_HELP = "Evaluation date (YYYY-MM-DD): what applies at that date, and what comes next. Default: today."


@qualify_app.callback()
def qualify_command(
    ctx: typer.Context,
    answers_file: Path | None = typer.Option(None, "--answers", help="Answers file (YAML: question id -> answer)."),
    save: Path | None = typer.Option(None, "--save", help="Write the answers given interactively to this file."),
    as_json: bool = typer.Option(False, "--json"),
    on: str | None = typer.Option(None, "--date", help=DATE_HELP),
) -> None:
    """Qualify a system under the AI Act; without --answers, ask the questions here."""
    if ctx.invoked_subcommand is not None:
        return
    if answers_file is not None:
        answers = aiact.load_answers(answers_file)
    else:
        given = _ask()
        answers = aiact.check_answers(given, "(terminal)")
        if save is not None:
            write_atomic(save, yaml.safe_dump(given, sort_keys=False))
            err.print(f"answers saved to {save}")
    when = evaluation_date(on)
    result = aiact.qualify(answers, when)
    if as_json:
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    scope = result["scope"]
    out.print(f"\n[bold]Risk class: {result['risk_class']}[/bold]   roles: {', '.join(result['roles'])}"
              + ("   general-purpose AI model" + (" with systemic risk" if result["systemic_risk"] else "")
                 if result["general_purpose_model"] else "")
              + f"   at {result['evaluation_date']}")
    out.print(f"Scope: {'in scope' if scope['in_scope'] else 'out of scope'}: {scope['because']} "
              f"[dim]({', '.join(scope['cites'])})[/dim]")
    for r in (r for r in result["rationale"] if r["conclusion"] != "in scope"):  # said on the line above
        out.print(f"- {r['conclusion']}: {r['because']}  [dim]({', '.join(r['cites'])})[/dim]")
    out.print("[bold]Obligations[/bold]")
    for o in result["obligations"]:
        status = "applies" if o["applies_at_date"] else "from"
        out.print(f"  {o['id']:10} {status} {o['applies_from']}  {o['title']} [dim]({o['date_cite']})[/dim]")
    for question in result["open_questions"]:
        err.print(f"[yellow]open: {question}[/yellow]")
    if result["assumed"]:
        err.print(f"[dim]assumed (not in the answers): {', '.join(result['assumed'])}[/dim]")
    err.print(f"[dim]{result['disclaimer']}[/dim]")


@qualify_app.command("questions")
def questions(as_json: bool = typer.Option(False, "--json")) -> None:
    """The questions with their stable ids, options and the articles they rest on."""
    listed = aiact.questions()
    if as_json:
        typer.echo(json.dumps(listed, indent=2, ensure_ascii=False))
        return
    for q in listed:
        default = f" [dim](default: {q['default']})[/dim]" if q["default"] is not None else ""
        out.print(f"[bold]{q['id']}[/bold] ({q['kind']}): {q['text']}{default}")
        for key, text in q["options"].items():
            out.print(f"    {key}: {text}")
