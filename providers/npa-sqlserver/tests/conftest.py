"""Test configuration of npa-sqlserver.

Without a server every test here runs: golden SQL, sqlglot checks, the CLI, and the lock,
history and connection code against a fake DB-API connection. With a server -- set
``NPA_TEST_MSSQL_URL`` (see docs/providers/sqlserver.md) -- the conformance suite and
the real-server tests run too; without it they are skipped, saying so.

The conformance suite's pytest plugin is registered from ``pytest_configure`` rather than
with ``pytest_plugins``, which pytest refuses in a conftest that is not loaded at start-up
(e.g. when the whole tree runs with ``pytest providers``).
"""

from __future__ import annotations

import sys

import pytest

from mssql_support import server_url

PLUGIN = "npa_migrations.testing.plugin"


def pytest_configure(config: pytest.Config) -> None:
    manager = config.pluginmanager
    if manager.has_plugin(PLUGIN):  # another conftest loaded it already
        return
    module = sys.modules.get(PLUGIN)
    if module is not None:  # imported (by another conftest) but not registered yet
        manager.register(module, PLUGIN)
    else:
        manager.import_plugin(PLUGIN)


@pytest.fixture(scope="session")
def npa_default_url():
    """The conformance suite's database: ``$NPA_TEST_MSSQL_URL``."""
    return server_url()
