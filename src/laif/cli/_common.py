"""What every command shares: the consoles, atomic file writing, the leaderboard table."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from laif._files import write_atomic
from laif.errors import BadInput

__all__ = ["comma_list", "err", "leaderboard_table", "out", "write_atomic"]

#: Tables and results go to stdout; progress and messages to stderr, so JSON output stays clean.
out = Console(highlight=False)
if not out.is_terminal and out.width < 140:
    # Piped or in CI: a leaderboard row of eight columns needs more than 80 characters.
    out = Console(highlight=False, width=140)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def comma_list(value: str, option: str, example: str) -> list[str]:
    """The non-empty, stripped parts of a comma-separated option; at least one, or exit 2."""
    parts = [part.strip() for part in value.split(",") if part.strip()]
    if not parts:
        raise BadInput(f"{option}: {example}")
    return parts


def _cell(score: float | None, low: float | None = None, high: float | None = None) -> str:
    if score is None:
        return "–"
    colour = "red" if score < 50 else "yellow" if score < 80 else "green"
    ci = f" [dim]({low:.0f}–{high:.0f})[/dim]" if low is not None and high is not None else ""
    return f"[{colour}]{score:.0f}%[/{colour}]{ci}"


def leaderboard_table(rows: list[dict[str, Any]], categories: list[str], title: str) -> Table:
    table = Table(title=title, show_lines=False)
    table.add_column("Model", style="bold")
    for cat in categories:
        table.add_column(cat, justify="right")
    table.add_column("Mean score", justify="right", style="bold")
    for row in rows:
        intervals = row.get("intervals", {})
        table.add_row(
            row["model"],
            *[_cell(row["categories"].get(c), *(intervals.get(c) or [None, None])) for c in categories],
            _cell(row["mean"]),
        )
    return table
