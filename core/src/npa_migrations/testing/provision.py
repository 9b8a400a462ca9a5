"""A fresh, empty database for each conformance test (SQLAlchemy's ``provision.py`` idea).

Two strategies, chosen by the provider's capabilities:

* :class:`FileProvision` (a provider whose database is a file, ``database_file``:
  SQLite, whatever the URL scheme of a provider built on it):
  every test gets a new database file in its pytest
  ``tmp_path``; the configured URL only selects the backend, driver and query options.
* :class:`SharedProvision` (every server database): the configured database is shared
  (e.g. a ``test`` database on PostgreSQL or MariaDB), so the suite never drops anything
  it does not own. Every table, schema, index and constraint a suite test creates starts
  with :data:`~npa_migrations.testing.PREFIX` (``npat_``), including the history and
  lock tables the suite's executors use. Before each test, leftovers with that prefix
  (from a crashed run) are dropped; after it, every prefixed table and schema is dropped
  again. Nothing without the prefix is ever touched: a test that leaves an unprefixed
  table behind gets a warning naming it. Do not run two suite sessions against the same
  database at the same time.

A provider with other needs (a database per test, Oracle users as schemas) subclasses
:class:`Provision` and returns it from the ``npa_provision`` fixture in its ``conftest.py``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from . import PREFIX

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

    from ..provider.base import BaseProvider


def owned(name: str | None) -> bool:
    """Whether a table or schema name belongs to the suite (starts with the prefix)."""
    return name is not None and name.lower().startswith(PREFIX)


def suite_schema(current: str | None) -> str:
    """The schema the suite creates while connected to schema (MySQL: database)
    ``current``. On MySQL and MariaDB a schema belongs to the whole server, so its name
    carries the database the run connects to: runs against different test databases of
    one server never create, or clean up, each other's schema."""
    return f"{PREFIX}schema__{current or ''}"


class Provision:
    """How the suite gets a fresh, empty database for one test.

    :param base_url: the URL given with ``--npa-url`` (or the provider's default).
    :param provider: the provider serving that URL.
    """

    def __init__(self, base_url: "sa.engine.URL", provider: "BaseProvider"):
        self.base_url = base_url
        self.provider = provider

    def test_url(self, tmp_path: Path) -> "sa.engine.URL":
        """The URL one test works on; must not touch the database."""
        return self.base_url

    def engine_url(self, url: "sa.engine.URL") -> "sa.engine.URL":
        """``url`` with the provider's own driver, so SQLAlchemy reflects through the same
        driver the provider uses (``postgresql://`` -> ``postgresql+psycopg://``)."""
        if "+" in url.drivername:
            return url
        driver = getattr(self.provider.dialect, "driver", None)
        if not driver or getattr(url.get_dialect(), "driver", None) == driver:
            return url  # already its driver (a third-party scheme may lack a "+driver" form)
        return url.set(drivername=f"{url.get_backend_name()}+{driver}")

    def create_engine(self, url: "sa.engine.URL") -> "sa.engine.Engine":
        """A SQLAlchemy engine on the test database, for reflection and test data. It
        keeps no pooled connections, so it never holds a lock between two statements."""
        import sqlalchemy as sa

        return sa.create_engine(self.engine_url(url), poolclass=sa.pool.NullPool)

    def prepare(self, engine: "sa.engine.Engine") -> None:
        """Called before the test: make the database empty of suite objects."""

    def cleanup(self, engine: "sa.engine.Engine") -> None:
        """Called after the test: remove what it created."""


class FileProvision(Provision):
    """SQLite: a new database file per test (removed with pytest's ``tmp_path``).

    The reflection engine turns ``PRAGMA foreign_keys`` on, so tests can observe the
    foreign keys a migration created (SQLite enforces them per connection).
    """

    file_name = "npa_suite.db"

    def test_url(self, tmp_path: Path) -> "sa.engine.URL":
        return self.base_url.set(database=str(tmp_path / self.file_name))

    def create_engine(self, url: "sa.engine.URL") -> "sa.engine.Engine":
        import sqlalchemy as sa

        engine = super().create_engine(url)

        @sa.event.listens_for(engine, "connect")
        def _foreign_keys_on(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.close()

        return engine


class SharedProvision(Provision):
    """A shared server database: only objects named with the suite prefix are dropped."""

    def prepare(self, engine: "sa.engine.Engine") -> None:
        drop_owned(engine)
        self._before = set(_unowned_tables(engine))

    def cleanup(self, engine: "sa.engine.Engine") -> None:
        drop_owned(engine)
        created = set(_unowned_tables(engine)) - getattr(self, "_before", set())
        if created:
            warnings.warn(
                "A conformance test created table(s) without the suite prefix "
                f"'{PREFIX}': {', '.join(sorted(created))}. They were left in place; "
                "name every object a suite test creates with the prefix.", stacklevel=1)


def provision_for(base_url: "sa.engine.URL", provider: "BaseProvider") -> Provision:
    """The default strategy for a backend: a file per test where the provider's database
    is a file (:attr:`Capabilities.database_file
    <npa_migrations.provider.Capabilities.database_file>`: SQLite), else shared."""
    if provider.capabilities.database_file:
        return FileProvision(base_url, provider)
    return SharedProvision(base_url, provider)


# dropping ----------------------------------------------------------------------------------
def _unowned_tables(engine: "sa.engine.Engine") -> list[str]:
    import sqlalchemy as sa

    return [t for t in sa.inspect(engine).get_table_names() if not owned(t)]


def drop_owned(engine: "sa.engine.Engine") -> None:
    """Drop every suite-owned table in the default schema, then every suite-owned schema
    with its tables. Tables are dropped one per transaction, repeating until foreign keys
    between them no longer stand in the way."""
    import sqlalchemy as sa

    inspector = sa.inspect(engine)
    drop_tables(engine, [t for t in inspector.get_table_names() if owned(t)], None)
    current = inspector.default_schema_name
    try:  # only this run's schema, never the one (MySQL: the database) the URL connects to
        schemas = [s for s in inspector.get_schema_names()
                   if s == suite_schema(current) and s != current]
    except NotImplementedError:  # pragma: no cover - dialects without schemas
        schemas = []
    for schema in schemas:
        drop_tables(engine, sa.inspect(engine).get_table_names(schema=schema), schema)
        cascade = engine.dialect.name == "postgresql"
        with engine.begin() as conn:
            conn.execute(sa.schema.DropSchema(schema, cascade=cascade))


def drop_tables(engine: "sa.engine.Engine", names: list[str], schema: str | None) -> None:
    import sqlalchemy as sa

    remaining = list(names)
    while remaining:
        failures = []
        for name in remaining:
            try:
                with engine.begin() as conn:
                    conn.execute(sa.schema.DropTable(sa.Table(name, sa.MetaData(), schema=schema)))
            except sa.exc.DBAPIError as exc:
                failures.append((name, exc))
        if len(failures) == len(remaining):
            detail = "; ".join(f"{name}: {exc.orig}" for name, exc in failures)
            raise RuntimeError(f"Could not drop the suite's tables ({detail}). Drop them by hand.")
        remaining = [name for name, _ in failures]
