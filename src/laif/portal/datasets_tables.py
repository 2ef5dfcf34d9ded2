"""The portal's tables for the datasets area (on `laif.portal.tables.PortalBase`; made by the
Alembic migration of that area, never by `create_all`)."""

from __future__ import annotations
