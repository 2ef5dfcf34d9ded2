"""Alembic's environment for the run store's tables (runs, answers, verdicts, the judge's readings,
the response cache); `laif.store.migrate.upgrade` runs it on a connection it passes in, so no
alembic.ini is needed. Its own version table keeps it apart from the portal's migrations in the
same database."""

from __future__ import annotations

from alembic import context

from laif.store.db import Base
from laif.store.migrate import VERSION_TABLE, only_these_tables

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=VERSION_TABLE,
    include_object=only_these_tables,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
