"""The run store's schema comes from its own Alembic revisions (version table laif_store_version):
a new database gets the tables the code describes, one made by create_all before migrations is
stamped and kept, one with other tables is refused with the differences named."""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from laif.errors import BadInput
from laif.store import Store, db, migrate
from laif.store.db import Base, RunRow

from .conftest import run_laif


def _differences(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={
                "version_table": migrate.VERSION_TABLE, "compare_type": True,
                "include_object": migrate.only_these_tables})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def _revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return migrate.current(connection)
    finally:
        engine.dispose()


def _run(run_id: str) -> RunRow:
    return RunRow(id=run_id, spec_hash="h" * 64, status="complete", suite="factual", suite_version="1",
                  library_hash="l" * 64, languages=["en"], seed=0, model_spec="m", model_name="m", model_key="m",
                  model_identity={}, params={}, laif_version="0", environment={})


def _check(url: str) -> None:
    store = Store(url)
    assert _revision(url) == migrate.head()
    assert _differences(url) == []
    store.add_run(_run("r1"))
    Store(url)  # opening again changes nothing
    assert [r.id for r in Store(url).runs()] == ["r1"]


def test_a_new_sqlite_database_gets_the_tables_the_code_describes(tmp_path: Path) -> None:
    _check(f"sqlite:///{tmp_path / 'laif.db'}")


def test_a_new_postgresql_database_gets_the_tables_the_code_describes(pg_url: str) -> None:
    # A database of its own: the session's database holds the runs of other tests' stores.
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    name = f"laif_store_new_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    url = pg_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        _check(url)
    finally:
        for store in [v for k, v in list(db._SHARED.items()) if k[1] == url]:
            store.engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def test_the_first_revision_makes_what_create_all_made(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'first.db'}")
    with engine.begin() as connection:
        config = migrate._config()
        config.attributes["connection"] = connection
        command.upgrade(config, migrate.FIRST)
    found = inspect(engine)
    made = {t: {c["name"] for c in found.get_columns(t)} for t in found.get_table_names() if t != migrate.VERSION_TABLE}
    assert made == migrate.FIRST_TABLES
    old = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    Base.metadata.create_all(old)  # how every database was made before migrations
    assert {t: {c["name"] for c in inspect(old).get_columns(t)} for t in inspect(old).get_table_names()} == made


def test_a_database_made_before_migrations_is_stamped_and_keeps_its_runs(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'laif.db'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE monitor_streams (name VARCHAR(64) PRIMARY KEY)"))  # another store's
    engine.dispose()
    from sqlalchemy.orm import Session

    with Session(create_engine(url)) as s, s.begin():
        s.add(_run("kept"))
    store = Store(url)
    assert _revision(url) == migrate.head()
    assert [r.id for r in store.runs()] == ["kept"]
    assert "monitor_streams" in inspect(store.engine).get_table_names()  # never dropped


def test_other_tables_under_the_run_store_names_are_refused_and_left_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'laif.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE runs (id VARCHAR(40) PRIMARY KEY, status VARCHAR(16), extra TEXT)"))
    engine.dispose()
    with pytest.raises(BadInput) as refused:
        Store(url)
    message = str(refused.value)
    assert "runs lacks the column(s) created_at, " in message and "spec_hash" in message
    assert "runs has column(s) laif does not make: extra" in message
    assert "no table exchanges" in message
    assert _revision(url) is None
    assert set(inspect(create_engine(url)).get_table_names()) == {"runs"}  # nothing made or changed
    result = run_laif("leaderboard", "--db", url)
    assert result.returncode == 2 and "runs lacks the column(s)" in result.stderr
    assert "Traceback" not in result.stderr


def test_stores_opened_at_once_on_a_new_database_all_open(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'laif.db'}"
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            Store(url)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _revision(url) == migrate.head()


def test_processes_opening_a_new_database_at_once_all_open(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'laif.db'}"
    code = f"from laif.store import Store; Store({url!r}); print('open')"
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in outs]
    assert _revision(url) == migrate.head()
