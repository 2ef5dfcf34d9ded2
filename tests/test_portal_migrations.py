"""The portal's schema comes from its Alembic migrations, on SQLite and on a real PostgreSQL, and
matches the tables the code describes."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from laif.portal import migrate
from laif.portal.core import Portal
from laif.portal.schema import metadata
from laif.portal.settings import PortalSettings
from laif.portal.tables import VERSION_TABLE
from laif.store import Store

from .portal_kit import SECRET, Seeded, make_portal, seed_people


def _differences(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE, "compare_type": True})
            diff = compare_metadata(context, metadata)
        # Tables of laif's other stores share the database; only the portal's are compared
        # (their indexes show up as "remove_index" once those stores have made them).
        ours = set(metadata.tables)
        return [d for d in diff if not (isinstance(d, tuple) and (
            d[0] == "remove_table" or (d[0] == "remove_index" and d[1].table.name not in ours)))]
    finally:
        engine.dispose()


def _check(url: str) -> None:
    portal = Portal(PortalSettings(url, SECRET))
    try:
        assert migrate.current(portal.engine) == migrate.head()
        assert _differences(url) == []
        migrate.upgrade(portal.engine)  # starting again changes nothing
        assert migrate.current(portal.engine) == migrate.head()
    finally:
        portal.close()


def test_sqlite_is_migrated_to_the_tables_the_code_describes(tmp_path: Path) -> None:
    _check(f"sqlite:///{tmp_path / 'portal.db'}")


def test_postgresql_is_migrated_to_the_tables_the_code_describes(pg_url: str) -> None:
    _check(pg_url)


def test_the_portal_shares_a_database_with_the_run_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'laif.db'}"
    Store(url)
    portal, _ = make_portal(url)
    tables = set(inspect(portal.engine).get_table_names())
    assert {"runs", "exchanges", "portal_accounts", "portal_audit_log", VERSION_TABLE} <= tables


def test_a_request_round_trip_works_on_postgresql(pg_url: str) -> None:
    portal, app = make_portal(pg_url)
    seeded = Seeded(portal, app, seed_people(portal))
    try:
        owner = seeded.visitor("owner@acme.lu")
        created = owner.post("/requests", {"service_id": "ipms", "message": "Link two registries"})
        assert created.status_code == 303
        path = created.headers["location"]
        advisor = seeded.visitor("advisor@factory.lu")
        advisor.get(path)
        assert advisor.post(f"{path}/status", {"status": "accepted"}).status_code == 303
        assert "accepted" in owner.get(path).text
        beta = seeded.visitor("owner@beta.lu")
        assert beta.get(path).status_code == 404
    finally:
        with portal.engine.begin() as connection:
            metadata.drop_all(connection)
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {VERSION_TABLE}")
        portal.close()


@pytest.fixture(autouse=True)
def _no_env_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAIF_DB_URL", raising=False)


def test_a_database_of_the_first_revision_is_moved_forward_with_its_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    engine = create_engine(url)
    migrate.upgrade(engine, "0001")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO portal_organisations (name, kind, created_at) VALUES ('Old Co', 'sme', '2026-01-01 00:00:00')")
    engine.dispose()
    portal, _ = make_portal(url)
    assert migrate.current(portal.engine) == migrate.head() != "0001"
    with portal.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT kind FROM portal_organisations WHERE name = 'Old Co'").scalar() == "sme"
