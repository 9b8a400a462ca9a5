"""The npa-migrations conformance suite against a real SQL Server.

Runs when ``NPA_TEST_MSSQL_URL`` names a SQL Server database (docs/providers/sqlserver.md
shows how to start one in a container); skipped otherwise. Every table the suite creates
starts with ``npat_``; only those are dropped.
"""

from mssql_support import needs_server
from npa_migrations.testing.suite import *  # noqa: F401,F403

pytestmark = needs_server
