"""SqliteProvider: what SQLite does differently from the base provider."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from npa_migrations import operations as ops
from npa_migrations.provider import BaseProvider, Capabilities
from npa_migrations.statements import Step


class SqliteProvider(BaseProvider):
    """SQLite through the standard library's ``sqlite3``.

    Transactions are explicit (``isolation_level=None``) and taken with
    ``BEGIN IMMEDIATE`` so a migration holds the write lock from its first statement and
    two writers never deadlock. What ``ALTER TABLE`` cannot do is done by a table rebuild
    (:mod:`npa_sqlite.rebuild`).
    """

    name = "sqlite"
    install_extra = "sqlite"
    capabilities = Capabilities(transactional_ddl=True, advisory_lock=False, schemas=False,
                                if_exists=True, alter_in_place=False, drop_column=True,
                                create_database=True, partial_indexes=True)
    begin_statement = "BEGIN IMMEDIATE"
    #: seconds a statement waits for another connection's write lock
    busy_timeout = 30.0

    def database_name(self) -> str:
        return self.url.database or ":memory:"

    def prepare_connection(self, raw: Any) -> None:
        raw.isolation_level = None
        raw.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")

    def connection_state(self, raw: Any) -> Any:
        return raw.isolation_level

    def restore_connection(self, raw: Any, state: Any) -> None:
        raw.isolation_level = state

    def set_wait_timeout(self, conn, seconds: float) -> None:
        conn.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")

    def ensure_database(self) -> bool:
        database = self.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return False
        path = Path(database)
        if path.exists():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        return True

    # planning ------------------------------------------------------------------------
    def plan(self, operations: list[ops.MigrationOperation]) -> list[Step]:
        """The core's ordering (:func:`npa_migrations.engine.planner.order_operations`), then
        consecutive operations on one table that SQLite cannot ``ALTER`` become one table
        rebuild step (:mod:`npa_sqlite.rebuild`); a lone ``drop_column`` is decided when
        it runs (plain ``DROP COLUMN`` unless an index or constraint uses the column).

        Operations inside a rebuild are rendered by the rebuild, not by
        ``npa_generate_sql`` implementations.
        """
        from npa_migrations.engine.planner import order_operations

        from .rebuild import drop_column_step, group_operations, rebuild_step

        steps: list[Step] = []
        for kind, group in group_operations(order_operations(operations), self):
            if kind == "rebuild":
                steps.append(rebuild_step(self, group))
            elif kind == "drop_column":
                steps.append(drop_column_step(self, group[0]))
            else:
                steps.append(self.step_for(group[0]))
        return steps

    def sql_alter_column(self, op: ops.AlterColumn) -> list[str]:
        """Only a rename is an ``ALTER TABLE`` on SQLite (``RENAME COLUMN``); type,
        nullability and default changes are planned as a table rebuild."""
        from npa_migrations.errors import ConfigurationError
        from npa_migrations.operations import UNCHANGED

        if any(v is not UNCHANGED for v in (op.type_, op.nullable, op.server_default)):
            raise ConfigurationError(
                f"{op.describe()}: SQLite changes a column's type, nullability or default "
                "only by rebuilding the table; SqliteProvider.plan() does that. Render "
                "migrations through plan(), not operation by operation.")
        return super().sql_alter_column(op)

    def _needs_plan(self, op: ops.MigrationOperation) -> list[str]:
        from npa_migrations.errors import ConfigurationError

        raise ConfigurationError(
            f"{op.describe()}: SQLite cannot add or drop constraints with ALTER TABLE; "
            "SqliteProvider.plan() does it with a table rebuild. Render migrations through "
            "plan(), not operation by operation.")

    sql_create_foreign_key = _needs_plan
    sql_create_primary_key = _needs_plan
    sql_create_unique_constraint = _needs_plan
    sql_create_check_constraint = _needs_plan
    sql_drop_constraint = _needs_plan
