"""SqliteProvider: what SQLite does differently from the base provider."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from npa_migrations import operations as ops
from npa_migrations.errors import ConfigurationError
from npa_migrations.provider import (BaseProvider, Capabilities, Driver, RenderContext,
                                     SqlGenerator)

from .comparison import SqliteSchemaRules

if TYPE_CHECKING:  # pragma: no cover
    from npa_migrations.provider.connection import DbConnection
    from npa_migrations.statements import Step


class SqliteDriver(Driver):
    """stdlib ``sqlite3`` with explicit transactions (``isolation_level=None``), taken
    with ``BEGIN IMMEDIATE`` so a migration holds the write lock from its first statement
    and two writers never deadlock."""

    begin_statement = "BEGIN IMMEDIATE"
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
        database = self.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return False
        path = Path(database)
        if path.exists():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        return True


class SqliteSql(SqlGenerator):
    """What ``ALTER TABLE`` cannot do on SQLite is done by a table rebuild
    (:mod:`npa_sqlite.rebuild`)."""

    def group_steps(self, operations: list[ops.MigrationOperation]
                    ) -> "list[ops.MigrationOperation | Step]":
        """Consecutive operations on one table that SQLite cannot ``ALTER`` become one
        table rebuild step (:mod:`npa_sqlite.rebuild`); a lone ``drop_column`` is decided
        when it runs (plain ``DROP COLUMN`` unless an index or constraint uses the
        column). Operations inside a rebuild are rendered by the rebuild, not by
        ``npa_generate_sql`` implementations."""
        from .rebuild import drop_column_step, group_operations, rebuild_step

        units: list[ops.MigrationOperation | Step] = []
        for kind, group in group_operations(operations, self.provider):
            if kind == "rebuild":
                units.append(rebuild_step(self.provider, group))
            elif kind == "drop_column":
                units.append(drop_column_step(self.provider, group[0]))
            else:
                units.append(group[0])
        return units

    def sql_alter_column(self, op: ops.AlterColumn, ctx: RenderContext) -> list[str]:
        """Only a rename is an ``ALTER TABLE`` on SQLite (``RENAME COLUMN``); type,
        nullability and default changes are planned as a table rebuild."""
        if any(v is not ops.UNCHANGED for v in (op.type_, op.nullable, op.server_default)):
            raise ConfigurationError(
                f"{op.describe()}: SQLite changes a column's type, nullability or default "
                "only by rebuilding the table, which the planner does. Render migrations "
                "through npa_migrations.engine.planner.plan_steps(), not operation by "
                "operation.")
        return super().sql_alter_column(op, ctx)

    def _needs_plan(self, op: ops.MigrationOperation, ctx: RenderContext) -> list[str]:
        raise ConfigurationError(
            f"{op.describe()}: SQLite cannot add or drop constraints with ALTER TABLE; the "
            "planner does it with a table rebuild. Render migrations through "
            "npa_migrations.engine.planner.plan_steps(), not operation by operation.")

    sql_create_foreign_key = _needs_plan
    sql_create_primary_key = _needs_plan
    sql_create_unique_constraint = _needs_plan
    sql_create_check_constraint = _needs_plan
    sql_drop_constraint = _needs_plan


class SqliteProvider(BaseProvider):
    """SQLite through the standard library's ``sqlite3``."""

    name = "sqlite"
    capabilities = Capabilities(transactional_ddl=True, advisory_lock=False, schemas=False,
                                if_exists=True, alter_in_place=False, drop_column=True,
                                create_database=True, partial_indexes=True)
    driver_class = SqliteDriver
    sql_class = SqliteSql
    schema_rules_class = SqliteSchemaRules

    def database_name(self) -> str:
        return self.url.database or ":memory:"
