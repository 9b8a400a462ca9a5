"""Test configuration of npa-mysql: every test runs against a real MySQL / MariaDB server.

The server is ``$NPA_TEST_MYSQL_URL`` (default ``mysql+pymysql://root@127.0.0.1:3306/test``;
``bash scripts/start-databases.sh`` starts the local MariaDB). When it cannot be reached
the tests are skipped with the reason -- unless ``$CI`` is set, where they fail instead.

Isolation on the shared ``test`` database: each test gets a token, and every table,
history table, lock name and database it creates carries it (``npam_<token>_...``);
whatever carries it is dropped afterwards, even when the test failed.

The conformance suite of the core runs on the same server (``test_mysql_suite.py``), in a
database of the session's own (``npam_suite_<token>``). This
conftest sits below the workspace root, where pytest rejects ``pytest_plugins`` when the
whole tree runs, so it star-imports the suite's plugin instead (see
``npa_migrations.testing.plugin``).
"""

from __future__ import annotations

import uuid

import pytest

from npa_migrations.testing.plugin import *  # noqa: F401,F403

from mysql_support import MyTest, base_url, connect_raw, q, require_server  # noqa: F401

# the conformance suite ----------------------------------------------------------------------
@pytest.fixture(scope="session")
def npa_default_url():
    """The conformance suite's URL: a database of this session's own on the test server
    (``npam_suite_<token>``, dropped at the end), so two test sessions at once -- two
    developers, or CI jobs sharing a server -- never drop each other's suite tables."""
    import sqlalchemy as sa

    url = sa.make_url(require_server())
    database = f"npam_suite_{uuid.uuid4().hex[:10]}"
    conn = connect_raw(url.render_as_string(hide_password=False), database=None)
    try:
        conn.cursor().execute(f"CREATE DATABASE {q(database)}")
    finally:
        conn.close()
    try:
        yield url.set(database=database).render_as_string(hide_password=False)
    finally:
        conn = connect_raw(url.render_as_string(hide_password=False), database=None)
        try:
            conn.cursor().execute(f"DROP DATABASE IF EXISTS {q(database)}")
        finally:
            conn.close()


# this package's own fixtures ----------------------------------------------------------------
@pytest.fixture
def server_url() -> str:
    return require_server()


@pytest.fixture
def my(server_url, tmp_path) -> MyTest:
    """A token of its own on the test server (its objects dropped afterwards) and a
    migrations folder in ``tmp_path``."""
    test = MyTest(server_url=server_url, token=uuid.uuid4().hex[:10], tmp=tmp_path)
    try:
        yield test
    finally:
        test.cleanup()


@pytest.fixture
def session(my):
    """A provider, its own connection (as the engine opens it) and a table of the test's,
    ``(provider, connection, table)``."""
    import sqlalchemy as sa

    from npa_mysql.provider import MysqlProvider

    provider = MysqlProvider(sa.make_url(my.url))
    conn = provider.driver.connect()
    table = my.name("rows")
    conn.execute(f"CREATE TABLE {q(table)} (id INTEGER PRIMARY KEY, name VARCHAR(60))")
    try:
        yield provider, conn, table
    finally:
        conn.close()
