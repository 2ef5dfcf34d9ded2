"""`laif oracles accuracy`: how often the deterministic oracles give the verdict a
careful human reader gives, per oracle kind and language, on a labelled set.

The shipped set (`laif/data/labelled/responses.jsonl`) has a `dev` split, used
while the parsers were written, and a `holdout` split written afterwards and never
used to tune them; both are reported.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from laif.cli._common import err, out
from laif.cli.judge import JudgeLine, parse_line
from laif.core.oracles import Verdict, judge
from laif.errors import EXIT_GATE, BadInput

oracles_app = typer.Typer(help="Check the oracles against responses labelled by hand.", no_args_is_help=True)

LANGUAGES = ("en", "fr", "de", "lb")
TARGET_OVERALL = 97.0
TARGET_CELL = 90.0


class LabelledLine(JudgeLine):
    expected: Verdict
    note: str = ""
    split: str = "dev"


def shipped_set() -> Path:
    return Path(str(files("laif") / "data" / "labelled" / "responses.jsonl"))


def load_labelled(path: Path) -> list[LabelledLine]:
    try:
        raw_lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BadInput(f"{path}: cannot read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    lines: list[LabelledLine] = []
    for number, raw in enumerate(raw_lines, start=1):
        if not raw.strip():
            continue
        try:
            lines.append(parse_line(raw, LabelledLine))
        except ValueError as exc:
            raise BadInput(f"{path}:{number}: {exc}") from exc
    if not lines:
        raise BadInput(f"{path}: no labelled lines")
    return lines


@dataclass
class Tally:
    right: Counter[tuple[str, str]] = field(default_factory=Counter)
    total: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, kind: str, language: str, ok: bool) -> None:
        self.total[(kind, language)] += 1
        self.right[(kind, language)] += ok

    def pct(self, keys: list[tuple[str, str]] | None = None) -> float | None:
        keys = list(self.total) if keys is None else keys
        n = sum(self.total[k] for k in keys)
        return 100.0 * sum(self.right[k] for k in keys) / n if n else None

    def as_dict(self) -> dict[str, Any]:
        kinds = sorted({k for k, _ in self.total})
        langs = [lang for lang in LANGUAGES if any(lg == lang for _, lg in self.total)]
        langs += sorted({lg for _, lg in self.total} - set(langs))
        return {
            "overall": self.pct(),
            "right": sum(self.right.values()),
            "total": sum(self.total.values()),
            "cells": {
                kind: {
                    lang: {"right": self.right[(kind, lang)], "total": self.total[(kind, lang)],
                           "accuracy": self.pct([(kind, lang)])}
                    for lang in langs if self.total[(kind, lang)]
                }
                for kind in kinds
            },
            "by_kind": {kind: self.pct([k for k in self.total if k[0] == kind]) for kind in kinds},
            "by_language": {lang: self.pct([k for k in self.total if k[1] == lang]) for lang in langs},
        }


def measure(lines: list[LabelledLine]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Accuracy of the oracles on `lines`: overall, per split, per kind x language; and the misses."""
    tallies: dict[str, Tally] = {"all": Tally()}
    misses: list[dict[str, Any]] = []
    for line in lines:
        got = judge(line.oracle, line.answers(), line.options)
        ok = got.verdict == line.expected
        for name in ("all", line.split):
            tallies.setdefault(name, Tally()).add(line.oracle.kind, line.language or "?", ok)
        if not ok:
            misses.append({"id": line.id, "split": line.split, "kind": line.oracle.kind, "language": line.language,
                           "response": line.response if line.response is not None else line.responses,
                           "expected": line.expected.value, "got": got.verdict.value, "note": line.note})
    report = {name: tally.as_dict() for name, tally in tallies.items()}
    return report, misses


def below_target(summary: dict[str, Any]) -> list[str]:
    found: list[str] = []
    if summary["overall"] is not None and summary["overall"] < TARGET_OVERALL:
        found.append(f"overall {summary['overall']:.1f}% < {TARGET_OVERALL:g}%")
    for kind, cells in summary["cells"].items():
        for lang, cell in cells.items():
            if cell["accuracy"] is not None and cell["accuracy"] < TARGET_CELL:
                found.append(f"{kind}/{lang} {cell['accuracy']:.1f}% < {TARGET_CELL:g}%")
    return found


def _table(title: str, summary: dict[str, Any]) -> Table:
    langs = list(summary["by_language"])
    table = Table(title=title)
    table.add_column("Oracle kind", style="bold")
    for lang in langs:
        table.add_column(lang, justify="right")
    table.add_column("All", justify="right", style="bold")

    def cell(right: int, total: int) -> str:
        pct = 100.0 * right / total
        colour = "green" if pct >= TARGET_CELL else "red"
        return f"[{colour}]{pct:.1f}%[/{colour}] [dim]{right}/{total}[/dim]"

    for kind, cells in summary["cells"].items():
        row = [cell(cells[lang]["right"], cells[lang]["total"]) if lang in cells else "–" for lang in langs]
        right = sum(c["right"] for c in cells.values())
        total = sum(c["total"] for c in cells.values())
        table.add_row(kind, *row, cell(right, total))
    return table


async def _judge_model_agreement(lines: list[LabelledLine], spec: str, api_key_env: str | None,
                                 db: str | None) -> dict[str, Any]:
    from laif.models import EndpointOptions, open_model
    from laif.runner.asking import RunSettings
    from laif.runner.judge_model import JudgeItem, JudgeModel, judge_reads
    from laif.store import Store

    store = Store(db)
    adapter = open_model(spec, EndpointOptions(api_key_env=api_key_env))
    try:
        model = JudgeModel(adapter, await adapter.identity())
        items = []
        for line in lines:
            if not judge_reads(line.oracle):
                continue
            got = judge(line.oracle, line.answers(), line.options)
            items.append(JudgeItem(line.id, line.oracle, ["(not shown)"] * len(line.answers()), line.answers(),
                                   line.options, got.verdict.value))
        outcomes, summary = await model.judge_items(items, store, RunSettings())
    finally:
        await adapter.aclose()
    labels = {line.id: line.expected.value for line in lines}
    right = sum(1 for o in outcomes if o.verdict == labels[o.key])
    return summary.as_dict() | {
        "accuracy_against_labels": 100.0 * right / len(outcomes) if outcomes else None,
        "not_read": len(lines) - len(items),
    }


@oracles_app.command("accuracy")
def accuracy(
    input_file: Path | None = typer.Option(None, "--input", "-i", help="Labelled JSONL (default: the shipped set)."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
    check: bool = typer.Option(False, "--check", help=f"Exit 1 when below {TARGET_OVERALL:g}% overall or "
                               f"{TARGET_CELL:g}% in any cell."),
    judge_model: str | None = typer.Option(None, "--judge-model", help="Also measure a judge model's agreement."),
    judge_api_key_env: str | None = typer.Option(None, "--judge-api-key-env"),
    db: str | None = typer.Option(None, "--db", help="Database for the judge model's cache."),
) -> None:
    """Accuracy of the oracles per kind and language on responses labelled by hand."""
    path = input_file or shipped_set()
    lines = load_labelled(path)
    report, misses = measure(lines)
    result: dict[str, Any] = {"input": str(path), "targets": {"overall": TARGET_OVERALL, "cell": TARGET_CELL},
                              "splits": report, "misses": misses, "below_target": below_target(report["all"])}
    if judge_model:
        result["judge_model"] = asyncio.run(_judge_model_agreement(lines, judge_model, judge_api_key_env, db))
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        for name in ["all", *sorted(k for k in report if k != "all")]:
            s = report[name]
            label = "all labelled responses" if name == "all" else f"split '{name}'"
            out.print(_table(f"Oracle accuracy, {label}: {s['overall']:.1f}% ({s['right']}/{s['total']})", s))
        if misses:
            out.print(f"\n{len(misses)} response(s) judged differently from the label:")
            for m in misses[:30]:
                out.print(f"  {m['id']} [{m['split']}] {m['kind']}/{m['language']}: expected {m['expected']}, "
                          f"got {m['got']} — {json.dumps(m['response'], ensure_ascii=False)}", markup=False)
        if result["below_target"]:
            out.print("[red]below target:[/red] " + "; ".join(result["below_target"]))
        else:
            out.print(f"[green]every cell at or above {TARGET_CELL:g}%, overall at or above {TARGET_OVERALL:g}%[/green]")
        if judge_model:
            j = result["judge_model"]
            out.print(f"judge model {j['model']}: agrees with the oracles on {j['agreed']}/{j['judged']} "
                      f"({j['agreement']:.1f}%), kappa {j['kappa']}; matches the labels on "
                      f"{j['accuracy_against_labels']:.1f}%")
    if check and result["below_target"]:
        err.print("below target: " + "; ".join(result["below_target"]))
        raise typer.Exit(EXIT_GATE)
