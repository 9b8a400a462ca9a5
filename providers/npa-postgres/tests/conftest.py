"""Test configuration of npa-postgres: every test runs against a real PostgreSQL server.

The server is ``$NPA_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``;
``bash scripts/start-databases.sh`` starts the local one). When it cannot be reached the
tests are skipped with the reason -- unless ``$CI`` is set, where they fail instead.

Isolation: each test gets a schema of its own (``npa_pg_<random>``), put first on the
``search_path`` of every connection through the URL (``?options=-csearch_path=...``), so
the history table, the test's tables and enum types all land there; the schema (and any
extra schema or database a test registers) is dropped afterwards. Each test also uses a
lock name of its own, so its advisory lock key never collides with another run.

The conformance suite of the core (``npa_migrations.testing``) runs on the same server
(see ``test_postgres_suite.py``); its tables carry the suite prefix and are cleaned up by it.
"""

from __future__ import annotations

import os
import textwrap
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# the suite's pytest plugin; star-imported, as pytest refuses ``pytest_plugins`` this deep
from npa_migrations.testing.plugin import *  # noqa: E402,F401,F403

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
URL_ENV = "NPA_TEST_POSTGRES_URL"
#: tables the engine keeps for itself (history, event log), left out of ``PgTest.tables()``
ENGINE_TABLE_PREFIX = "npa_migrations_"


def base_url() -> str:
    return os.environ.get(URL_ENV) or DEFAULT_URL


def _connect(url: str) -> None:
    """Connect to the server at ``url`` and close again (raises when unreachable)."""
    import psycopg
    import sqlalchemy as sa

    parsed = sa.make_url(url)
    psycopg.connect(
        host=parsed.host or None, port=parsed.port or None, user=parsed.username or None,
        password=parsed.password or None, dbname=parsed.database or None, connect_timeout=3,
        autocommit=True).close()


def require_server() -> str:
    """The server URL; skips (or, with ``$CI`` set, fails) when it is unreachable."""
    from npa_migrations.testing.servers import require_server as require

    return require(base_url(), "PostgreSQL", _connect, env=URL_ENV)


# the conformance suite ----------------------------------------------------------------------
@pytest.fixture(scope="session")
def npa_default_url():
    """The conformance suite's URL: the test server (see module docstring)."""
    return require_server()


# this package's own fixtures ----------------------------------------------------------------
@dataclass
class PgTest:
    """One test's world: a schema on the server, a migrations folder, a lock name."""

    server_url: str
    schema: str
    tmp: Path
    lock_name: str
    extra_schemas: list[str] = field(default_factory=list)
    databases: list[str] = field(default_factory=list)
    _engine: Any = None

    @property
    def url(self) -> str:
        """The server URL with this test's schema first on the search_path."""
        import sqlalchemy as sa

        url = sa.make_url(self.server_url)
        query = dict(url.query)
        query["options"] = f"-csearch_path={self.schema},public"
        return url.set(query=query).render_as_string(hide_password=False)

    @property
    def folder(self) -> Path:
        folder = self.tmp / "migrations"
        folder.mkdir(exist_ok=True)
        return folder

    @property
    def engine(self):
        """SQLAlchemy engine (psycopg 3) on the test schema, for reflection and data."""
        import sqlalchemy as sa

        if self._engine is None:
            url = sa.make_url(self.url).set(drivername="postgresql+psycopg")
            self._engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        return self._engine

    def connect(self, **kwargs):
        """A raw psycopg connection (autocommit) on the test schema."""
        import psycopg
        import sqlalchemy as sa

        url = sa.make_url(self.url)
        kwargs.setdefault("autocommit", True)
        return psycopg.connect(
            host=url.host, port=url.port, user=url.username, password=url.password,
            dbname=url.database, options=url.query["options"], **kwargs)

    def query(self, sql: str, params: Any = None) -> list[tuple]:
        with self.connect() as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def inspector(self):
        import sqlalchemy as sa

        return sa.inspect(self.engine)

    def tables(self, schema: str | None = None, *, engine_tables: bool = False) -> set[str]:
        """Table names in the test schema; the engine's own ``npa_migrations_*`` tables
        (history, event log) only when ``engine_tables``."""
        names = set(self.inspector().get_table_names(schema=schema or self.schema))
        if engine_tables:
            return names
        return {n for n in names if not n.startswith(ENGINE_TABLE_PREFIX)}

    def sql(self, name: str, text: str, *, no_transaction: bool = False) -> Path:
        """Write ``migrations/<name>.sql`` (``name`` = ``<14 digits>_<snake_name>``)."""
        body = textwrap.dedent(text).strip() + "\n"
        if no_transaction:
            body = "-- npa:no-transaction\n" + body
        path = self.folder / f"{name}.sql"
        path.write_text(body, encoding="utf-8")
        return path

    def python(self, name: str, text: str) -> Path:
        """Write ``migrations/<name>.py`` (imports ``sa`` and ``Migration`` for you)."""
        body = ("import sqlalchemy as sa\nfrom npa_migrations import Migration\n\n\n"
                + textwrap.dedent(text).strip() + "\n")
        path = self.folder / f"{name}.py"
        path.write_text(body, encoding="utf-8")
        return path

    def options(self, **options: Any):
        from npa_migrations import MigrationExecutorOptions

        options.setdefault("lock_table", self.lock_name)
        options.setdefault("lock_timeout_seconds", 20)
        return MigrationExecutorOptions(**options)

    def executor(self, url: str | None = None, **options: Any):
        from npa_migrations import MigrationExecutor

        return MigrationExecutor(url or self.url, str(self.folder), options=self.options(**options))

    def history(self) -> list[tuple[str, bool]]:
        if "npa_migrations_history" not in self.tables(engine_tables=True):
            return []
        return self.query("SELECT migration_id, success FROM npa_migrations_history "
                          "ORDER BY migration_id")

    def config_file(self, **settings: Any) -> Path:
        """An ``npa.toml`` with this test's lock name (for CLI subprocesses)."""
        settings.setdefault("lock_table", self.lock_name)
        lines = [f"{key} = {value!r}" if not isinstance(value, str) else f'{key} = "{value}"'
                 for key, value in settings.items()]
        path = self.tmp / "npa.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def cleanup(self) -> None:
        import psycopg
        import sqlalchemy as sa

        if self._engine is not None:
            self._engine.dispose()
        url = sa.make_url(self.server_url)
        with psycopg.connect(host=url.host, port=url.port, user=url.username,
                             password=url.password, dbname=url.database,
                             autocommit=True) as conn:
            conn.execute("SET lock_timeout = '30s'")  # never hang the suite on a leftover
            for schema in [self.schema, *self.extra_schemas]:
                conn.execute(f'DROP SCHEMA IF EXISTS "{_q(schema)}" CASCADE')
            for database in self.databases:
                conn.execute(f'DROP DATABASE IF EXISTS "{_q(database)}" WITH (FORCE)')


def _q(name: str) -> str:
    return name.replace('"', '""')


@pytest.fixture
def server_url() -> str:
    return require_server()


@pytest.fixture
def pg(server_url, tmp_path) -> PgTest:
    """A schema of its own on the test server (dropped afterwards), a migrations folder
    in ``tmp_path`` and a unique advisory lock name."""
    token = uuid.uuid4().hex[:10]
    test = PgTest(server_url=server_url, schema=f"npa_pg_{token}", tmp=tmp_path,
                  lock_name=f"npa_pg_lock_{token}")
    test.query(f'CREATE SCHEMA "{test.schema}"')
    try:
        yield test
    finally:
        test.cleanup()
