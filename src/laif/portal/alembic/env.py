"""Alembic's environment for the portal's tables; `laif.portal.migrate.upgrade` runs it on a
connection it passes in, so no alembic.ini is needed."""

from __future__ import annotations

from alembic import context

from laif.portal.schema import metadata
from laif.portal.tables import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
