"""Test configuration of npa-oracle.

Most tests need no server: golden SQL files, SQL parsing (sqlglot plus a PL/SQL subset
parser), the CLI's ``--sql --offline`` script, and the lock / history / transaction code
paths against a fake python-oracledb connection.

The conformance suite of the core (``test_oracle_suite.py``) and the real-server tests
(``test_oracle_server.py``) run when ``$NPA_TEST_ORACLE_URL`` names an Oracle 19c+ database,
e.g. ``oracle+oracledb://npa:npa@127.0.0.1:1521/?service_name=FREEPDB1``; otherwise they
are skipped with that reason. docs/providers/oracle.md says how to start one in a
container.

This conftest sits below the workspace root, where pytest rejects ``pytest_plugins`` when
the whole tree runs, so it star-imports the suite's plugin instead.

On the shared test schema, only objects named with the suite prefix (``npat_``) are
dropped; schemas (Oracle users) with the prefix are dropped with ``CASCADE``.
"""

from __future__ import annotations

import os
import warnings

import pytest

from npa_migrations.testing.plugin import *  # noqa: F401,F403
from npa_migrations.testing.provision import SharedProvision, owned
from npa_migrations.testing.requirements import SuiteRequirements, closed

URL_ENV = "NPA_TEST_ORACLE_URL"
SKIP_REASON = (f"${URL_ENV} is not set: the Oracle conformance and server tests need an "
               "Oracle 19c+ database (see docs/providers/oracle.md, 'Running the server "
               "tests')")


# the conformance suite ----------------------------------------------------------------------
@pytest.fixture(scope="session")
def npa_default_url() -> str | None:
    return os.environ.get(URL_ENV)


@pytest.fixture(scope="session")
def npa_base_url(pytestconfig: pytest.Config, npa_default_url):
    """``--npa-url`` when it names an Oracle database, else ``$NPA_TEST_ORACLE_URL``."""
    from npa_migrations.engine.target import parse_url

    given = pytestconfig.getoption("npa_url", default=None)
    if given and parse_url(given).get_backend_name() == "oracle":
        return parse_url(given)
    if not npa_default_url:
        pytest.skip(SKIP_REASON)
    return parse_url(npa_default_url)


class OracleRequirements(SuiteRequirements):
    """Oracle's differences the capability flags do not capture."""

    @property
    def quotes_in_identifiers(self):
        """Quoted identifiers may contain double quotes, single quotes and semicolons."""
        return closed("Oracle forbids a double quote (and NUL) inside a quoted identifier; "
                      "npa-oracle refuses such names before anything runs")

    @property
    def reflects_quoted_constraint_names(self):
        """Reflection returns constraint names that contain a double quote exactly."""
        return closed("Oracle forbids a double quote inside a quoted identifier")


@pytest.fixture(scope="session")
def npa_requirements_class():
    return OracleRequirements


class OracleProvision(SharedProvision):
    """The shared test schema: suite tables are dropped with ``CASCADE CONSTRAINTS
    PURGE`` (no foreign-key ordering, nothing left in the recycle bin), suite schemas
    (users) with ``DROP USER ... CASCADE``, and recycle-bin copies of suite tables that
    migrations dropped are purged."""

    def prepare(self, engine) -> None:
        drop_owned_oracle(engine)
        self._before = set(_unowned(engine))

    def cleanup(self, engine) -> None:
        drop_owned_oracle(engine)
        created = set(_unowned(engine)) - getattr(self, "_before", set())
        if created:
            warnings.warn(f"A conformance test left table(s) without the suite prefix: "
                          f"{', '.join(sorted(created))}.", stacklevel=1)


def _unowned(engine) -> list[str]:
    import sqlalchemy as sa

    return [t for t in sa.inspect(engine).get_table_names() if not owned(t)]


def drop_owned_oracle(engine) -> None:
    import sqlalchemy as sa

    inspector = sa.inspect(engine)
    preparer = engine.dialect.identifier_preparer
    current = inspector.default_schema_name
    with engine.connect() as conn:
        for table in inspector.get_table_names():
            if owned(table):
                conn.exec_driver_sql(f"DROP TABLE {preparer.quote(table)} CASCADE CONSTRAINTS "
                                     "PURGE")
        for schema in inspector.get_schema_names():
            if owned(schema) and schema != current:
                conn.exec_driver_sql(f"DROP USER {preparer.quote_schema(schema)} CASCADE")
        rows = conn.exec_driver_sql(
            "SELECT object_name, original_name FROM user_recyclebin WHERE type = 'TABLE'")
        for object_name, original in rows.fetchall():
            if owned(original):
                conn.exec_driver_sql(f'PURGE TABLE "{object_name}"')


@pytest.fixture(scope="session")
def npa_provision(npa_base_url, npa_provider):
    return OracleProvision(npa_base_url, npa_provider)
