"""The run store's schema, made and moved forward by Alembic, with a version table of its own
(`laif_store_version`), apart from the portal's in the same database.

`upgrade(engine)` is what opening a `Store` does:
- a database at the newest revision: nothing to do (one query, alembic not even loaded);
- a new database: every revision runs, from the first, which makes today's tables;
- a database whose run tables were made before migrations (by `create_all`): when its tables are
  those of the first revision, it is stamped at that revision and moved forward from there;
  otherwise it is refused (BadInput) with the differences named, and nothing is changed.
"""

from __future__ import annotations

import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DatabaseError

from laif.errors import BadInput

VERSION_TABLE = "laif_store_version"
SCRIPTS = Path(__file__).with_name("alembic")
#: The revision that makes the tables as `create_all` made them before migrations.
FIRST = "0001"
#: The tables and columns the first revision makes, as `create_all` made them before migrations
#: (tests/test_store_migrations.py checks them against the revision).
FIRST_TABLES = {
    "runs": {"id", "schema_version", "spec_hash", "status", "created_at", "finished_at", "suite", "suite_version",
             "library_hash", "languages", "limit", "seed", "model_spec", "model_name", "model_key", "model_identity",
             "params", "laif_version", "environment", "total_prompts", "summary", "note"},
    "exchanges": {"id", "run_id", "category", "language", "template_id", "prompt_id", "cache_key", "groups", "messages",
                  "prompt_sha256", "response", "error", "source", "attempts", "latency_s", "answered_at"},
    "verdicts": {"id", "run_id", "category", "language", "template_id", "case_id", "oracle", "options", "prompt_ids",
                 "verdict", "parsed", "reason", "provenance"},
    "judge_readings": {"id", "run_id", "case_id", "judge_model_key", "verdict", "parsed", "reason", "replies", "agrees"},
    "response_cache": {"key", "model_key", "response", "created_at"},
}
#: A constant for PostgreSQL's advisory lock, so two processes opening one database migrate in turn.
_LOCK = 0x6C616966  # "laif"
#: Alembic's context is one per process: threads opening stores migrate in turn.
_THREADS = threading.Lock()
#: How long a process waits for another that is making the tables of a new database.
WAIT_S = 30


def only_these_tables(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Other stores' tables share the database: a table the run store's models do not declare is
    never compared, made or dropped here."""
    return not (type_ == "table" and reflected and compare_to is None)


def _config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    return config


@lru_cache(maxsize=1)
def head() -> str | None:
    """The newest revision the package ships."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def current(connection: Connection) -> str | None:
    """The revision the database is at; None when it has no version table (or an empty one)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    return connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()  # noqa: S608 - a constant


def differences(connection: Connection) -> list[str]:
    """How the database's run tables differ from the first revision's (made before migrations)."""
    found = inspect(connection)
    names = set(found.get_table_names())
    out = []
    for table, columns in FIRST_TABLES.items():
        if table not in names:
            out.append(f"no table {table}")
            continue
        have = {c["name"] for c in found.get_columns(table)}
        if columns - have:
            out.append(f"{table} lacks the column(s) {', '.join(sorted(columns - have))}")
        if have - columns:
            out.append(f"{table} has column(s) laif does not make: {', '.join(sorted(have - columns))}")
    return out


def upgrade(engine: Engine) -> None:
    """Bring the run store's tables to the newest revision (see the module's text)."""
    with engine.connect() as connection:
        if current(connection) == head():
            return
    try:
        with _THREADS:
            _upgrade(engine)
    except DatabaseError:
        # Another process made or moved the tables at the same time (SQLite has no lock for that,
        # and the database file must not be opened beside SQLite to lock it: closing that would
        # drop SQLite's own locks): once it is done the database is at the newest revision, else
        # the error stands.
        deadline = time.monotonic() + WAIT_S
        while True:
            with engine.connect() as connection:
                if current(connection) == head():
                    return
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _upgrade(engine: Engine) -> None:
    from alembic import command

    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
        now = current(connection)
        if now == head():
            return
        config = _config()
        config.attributes["connection"] = connection
        present = set(inspect(connection).get_table_names()) & set(FIRST_TABLES)
        if now is None and present:
            found = differences(connection)
            if found:
                shown = "; ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
                raise BadInput(f"--db: the run store's tables ({', '.join(sorted(present))}) are not those this laif "
                               f"makes: {shown}",
                               hint="use another database, or move the runs with the laif version that made them")
            command.stamp(config, FIRST)
        command.upgrade(config, "head")
