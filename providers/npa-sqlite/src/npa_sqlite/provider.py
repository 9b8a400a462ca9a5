"""SqliteProvider: what SQLite does differently from the base provider."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Iterable

from npa_migrations import operations as ops
from npa_migrations.errors import ConfigurationError
from npa_migrations.provider import (BaseProvider, Capabilities, Driver, RenderContext,
                                     SqlGenerator)
from npa_migrations.sqltext import Lexicon

from .comparison import SqliteSchemaRules
from .inplace import needs_rebuild

if TYPE_CHECKING:  # pragma: no cover
    from npa_migrations.provider.connection import DbConnection
    from npa_migrations.provider.rebuild import TableRebuild, TableShape
    from npa_migrations.statements import Statement


#: how SQLite writes SQL, for splitting scripts: ``[...]`` and backtick names besides
#: ``"..."``, no dollar quotes (``$name`` is a parameter), and a ``BEGIN`` opens a block
#: only in ``CREATE TRIGGER`` (elsewhere it starts a transaction, or is a name: a column
#: may be called ``begin``)
SQLITE = Lexicon(brackets=True, dollar_quotes=False,
                 block_statements=r"CREATE\s+(?:TEMP(?:ORARY)?\s+)?TRIGGER\b.*")

class SqliteDriver(Driver):
    """stdlib ``sqlite3`` with explicit transactions (``isolation_level=None``), taken
    with ``BEGIN IMMEDIATE`` so a migration holds the write lock from its first statement
    and two writers never deadlock."""

    begin_statement = "BEGIN IMMEDIATE"
    quick_connect = "npa_sqlite.quick:connect"
    #: seconds a statement waits for another connection's write lock
    busy_timeout = 30.0

    def prepare_connection(self, raw: Any) -> None:
        raw.isolation_level = None
        raw.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")

    def connection_state(self, raw: Any) -> Any:
        return raw.isolation_level

    def restore_connection(self, raw: Any, state: Any) -> None:
        raw.isolation_level = state

    def set_wait_timeout(self, conn: "DbConnection", seconds: float) -> None:
        conn.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")

    def cancel(self, conn: "DbConnection") -> bool:
        """``sqlite3.Connection.interrupt()``: the running statement fails with
        "interrupted" and its transaction rolls back."""
        conn.raw.interrupt()
        return True

    def missing_driver_error(self, exc: ImportError) -> ConfigurationError:
        """``sqlite3`` is part of the standard library: pip cannot bring it, only a Python
        built with SQLite can."""
        return ConfigurationError(
            f"This Python has no sqlite3 module ({exc}), so 'sqlite://' URLs cannot be "
            "opened. Use a Python built with SQLite: install the SQLite headers (e.g. "
            "apt-get install libsqlite3-dev) and rebuild or reinstall Python.")

    def ensure_database(self) -> bool:
        path = self.provider.database_path()
        if path is None or path.exists():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        return True


def _quirks() -> ModuleType:
    """:mod:`npa_sqlite.rebuild`, imported when a rebuild first needs it."""
    return import_module(".rebuild", __package__)


class SqliteSql(SqlGenerator):
    """What ``ALTER TABLE`` cannot do on SQLite is done by the core's table rebuild; the
    methods below are SQLite's quirks of it (:mod:`npa_sqlite.rebuild`, imported only
    when a migration rebuilds a table)."""

    lexicon = SQLITE

    def utc_now(self) -> Any:
        """The UTC time with microseconds, as the history's other rows are written
        (``CURRENT_TIMESTAMP`` has whole seconds, which would sort a script's row before a
        row written earlier in the same second)."""
        import sqlalchemy as sa

        return sa.func.strftime("%Y-%m-%d %H:%M:%f000", "now")

    def needs_rebuild(self, operation: ops.MigrationOperation) -> bool:
        """Constraint changes, a column's type, nullability or default, and columns
        ``ADD COLUMN`` cannot add (:func:`npa_sqlite.inplace.needs_rebuild`)."""
        return needs_rebuild(operation, self)

    def names_in_sql(self, sql: str) -> set[str]:
        """Read with SQLite's four identifier quotes (:mod:`npa_sqlite.sqlscan`)."""
        return _quirks().names_in_sql(sql)

    def reads_live_schema(self, operation: ops.MigrationOperation) -> bool:
        """``drop_column`` is decided from the live table (:meth:`sql_drop_column`)."""
        return isinstance(operation, ops.DropColumn)

    def sql_drop_column(self, op: ops.DropColumn, ctx: RenderContext
                        ) -> "Iterable[Statement | str]":
        """``ALTER TABLE ... DROP COLUMN``, or a table rebuild when an index, constraint
        or generated column uses the column (read from the live table, or offline from the
        schema the migrations build; without either, the plain form)."""
        needed = None
        if not ctx.offline or ctx.schema is not None:
            needed = _quirks().drop_column_rebuild(self.provider, op, ctx)
        return super().sql_drop_column(op, ctx) if needed is None else needed.statements()

    def reflect_rebuild_table(self, rebuild: "TableRebuild") -> "TableShape":
        """The inspector's reading corrected from ``sqlite_master``
        (:func:`npa_sqlite.rebuild.read_table`)."""
        return _quirks().read_table(rebuild)

    def prepare_rebuilt_table(self, rebuild: "TableRebuild", table: "TableShape") -> None:
        """``AUTOINCREMENT`` and the rowid (:func:`npa_sqlite.rebuild.prepare_table`)."""
        _quirks().prepare_table(rebuild, table)

    def rebuild_prologue(self, rebuild: "TableRebuild", table: "TableShape"
                         ) -> "list[Statement]":
        """Foreign keys on (:func:`npa_sqlite.rebuild.prologue`)."""
        return _quirks().prologue(rebuild, table)

    def rebuild_rename(self, rebuild: "TableRebuild") -> "list[Statement]":
        """With ``PRAGMA legacy_alter_table`` (:func:`npa_sqlite.rebuild.rename`)."""
        return _quirks().rename(rebuild)

    def rebuild_epilogue(self, rebuild: "TableRebuild", table: "TableShape"
                         ) -> "list[Statement]":
        """``sqlite_sequence``, ``PRAGMA foreign_key_check`` and dependent views
        (:func:`npa_sqlite.rebuild.epilogue`)."""
        return _quirks().epilogue(rebuild, table)


class SqliteProvider(BaseProvider):
    """SQLite through the standard library's ``sqlite3``."""

    name = "sqlite"
    capabilities = Capabilities(transactional_ddl=True, advisory_lock=False, schemas=False,
                                if_exists=True, alter_in_place=False, drop_column=True,
                                create_database=True, partial_indexes=True,
                                database_file=True)
    driver_class = SqliteDriver
    sql_class = SqliteSql
    schema_rules_class = SqliteSchemaRules

    def database_name(self) -> str:
        return self.url.database or ":memory:"

    def database_path(self) -> Path | None:
        """The database file; ``None`` in memory and for a ``file:`` URI."""
        database = self.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        return Path(database)
