"""`laif secrets`: endpoint credentials, encrypted at rest, shown masked, rotated on demand."""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from laif.cli._common import err, out
from laif.errors import BadInput
from laif.secrets import SecretStore

secrets_app = typer.Typer(help="Endpoint credentials: set, list (masked), delete, rotate the key.",
                          no_args_is_help=True)
DB = typer.Option(None, "--db", help="Database URL (default: SQLite under $LAIF_HOME or ~/.laif).")


@secrets_app.command("set")
def set_secret(name: str = typer.Argument(..., help="A name for the credential, e.g. mistral-api."),
               db: str | None = DB) -> None:
    """Store a credential. The value is read from a hidden prompt, or from stdin when piped; never
    from the command line, where shells and process lists would keep it."""
    if sys.stdin.isatty():
        value = typer.prompt(f"value of {name}", hide_input=True, confirmation_prompt=True)
    else:
        value = sys.stdin.read().strip()
    if not value:
        raise BadInput(f"secret {name}: no value given (type it at the prompt or pipe it on stdin)")
    SecretStore(db).set(name, value)
    out.print(f"stored {name} (encrypted)")


@secrets_app.command("list")
def list_secrets(db: str | None = DB) -> None:
    """Names with masked values."""
    rows = SecretStore(db).names()
    table = Table(title=f"{len(rows)} secret(s)")
    for col in ("Name", "Value", "Stored", "Re-encrypted"):
        table.add_column(col)
    for name, masked, created, rotated in rows:
        table.add_row(name, masked, created.isoformat(timespec="seconds"),
                      rotated.isoformat(timespec="seconds") if rotated else "–")
    out.print(table)


@secrets_app.command("delete")
def delete_secret(name: str = typer.Argument(...), db: str | None = DB) -> None:
    """Remove a credential."""
    SecretStore(db).delete(name)
    out.print(f"deleted {name}")


@secrets_app.command("rotate")
def rotate(db: str | None = DB) -> None:
    """Make a new key, re-encrypt every credential with it, then drop the old key."""
    count = SecretStore(db).rotate()
    err.print(f"re-encrypted {count} secret(s) with a new key; the old key is gone")
