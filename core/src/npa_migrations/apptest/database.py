"""The throwaway database an application's migration tests run on.

* A database kept in a file (SQLite, whatever the URL's driver): a new file in the test
  session's temporary folder; emptied by deleting it.
* A server database (PostgreSQL, MariaDB/MySQL, ...): a new database
  ``<database>_npa_<random>`` created next to the one the URL names, with the provider's
  own ``ensure_created`` (so the user needs the right to create databases: PostgreSQL
  ``CREATEDB``, MySQL ``CREATE``), and dropped when the session ends. The database the URL
  names is never touched.

:meth:`ThrowawayDatabase.empty` gives a test an empty database: a server database that a
test left tables or schemas in is dropped and created again (nothing is left over from a
test that failed half way, whatever it created).
"""

from __future__ import annotations

import uuid
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigurationError

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

    from ..provider.base import BaseProvider

#: the longest name given to a throwaway database (PostgreSQL allows 63 bytes)
NAME_LENGTH = 60


class ThrowawayDatabase:
    """One throwaway database for a test session (see the module docs).

    :param base_url: the URL the tests were given (``--npa-url``), or a SQLite URL.
    :param folder: where a file database goes (the session's temporary folder).
    """

    def __init__(self, base_url: "sa.engine.URL", folder: Path):
        from ..provider.registry import resolve_provider

        self.base_url = base_url
        base = resolve_provider(base_url)
        self.file = base.database_path() is not None
        if self.file:
            self.url = base_url.set(database=str(folder / "npa_migrations_test.db"))
        else:
            prefix = (base_url.database or "npa")[:NAME_LENGTH - 13]
            self.url = base_url.set(database=f"{prefix}_npa_{uuid.uuid4().hex[:8]}")
        self.provider: "BaseProvider" = resolve_provider(self.url)
        self._schemas: set[str] | None = None

    def create(self) -> None:
        """Create the database (a file database is created by its first connection)."""
        if self.file:
            return
        try:
            self.provider.driver.ensure_database()
            self.provider.driver.connect().close()  # a check, and no spare left open
        except ConfigurationError as exc:
            raise ConfigurationError(
                f"Cannot create a throwaway database for the migration tests on "
                f"{self.provider.display_url()}: {exc} Give the user the right to create "
                "databases, or run the tests on SQLite (leave --npa-url out).") from None
        self._schemas = set(self._inspect()[1])

    def empty(self) -> None:
        """Make the database empty again, if a test left anything in it."""
        if self.file:
            self._remove_files()
            return
        tables, schemas = self._inspect()
        if tables or set(schemas) != self._schemas:
            self.drop()
            self.create()

    def drop(self) -> None:
        """Remove the database; a server database that cannot be dropped is reported in
        a warning that names it."""
        if self.file:
            self._remove_files()
            return
        import sqlalchemy as sa

        engine = self._engine(self.base_url)
        quoted = self.provider.sql.quote(str(self.url.database))
        try:
            with engine.connect() as conn:
                conn.execute(sa.text(f"DROP DATABASE {quoted}"))
        except sa.exc.DBAPIError as exc:
            warnings.warn(f"Could not drop the throwaway database {self.url.database} of the "
                          f"migration tests ({exc.orig}); drop it by hand.", stacklevel=1)
        finally:
            engine.dispose()

    def engine(self) -> "sa.engine.Engine":
        """A SQLAlchemy engine on the database that keeps no connection between uses."""
        return self._engine(self.url)

    # helpers ---------------------------------------------------------------------------
    def _engine(self, url: "sa.engine.URL") -> "sa.engine.Engine":
        import sqlalchemy as sa

        from ..schema.live import reflection_url

        own = reflection_url(self.provider).set(database=url.database)
        return sa.create_engine(own, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")

    def _inspect(self) -> tuple[list[str], list[str]]:
        """The tables of the default schema, and the schema names."""
        import sqlalchemy as sa

        engine = self.engine()
        try:
            inspector = sa.inspect(engine)
            try:
                schemas = inspector.get_schema_names()
            except NotImplementedError:  # pragma: no cover - dialects without schemas
                schemas = []
            return inspector.get_table_names(), schemas
        finally:
            engine.dispose()

    def _remove_files(self) -> None:
        path = Path(str(self.url.database))
        for file in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm",
                                                                      "-journal"))):
            file.unlink(missing_ok=True)
