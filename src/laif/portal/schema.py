"""Every table of the portal, in one metadata: importing this module imports each area's table
module, so Alembic's environment and the schema test see all of them."""

from __future__ import annotations

import laif.portal.aiact_tables
import laif.portal.datasets_tables
import laif.portal.jobs_tables
import laif.portal.readiness_tables
import laif.portal.tables
from laif.portal.tables import PortalBase

metadata = PortalBase.metadata
AREAS = (laif.portal.tables, laif.portal.jobs_tables, laif.portal.aiact_tables, laif.portal.datasets_tables,
         laif.portal.readiness_tables)
