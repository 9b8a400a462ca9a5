"""The history table ``npa_migrations_history``: the current state of each migration.

One row per migration ever applied (the full applied set, never a high-water mark):
``migration_id`` (PK), ``checksum``, ``applied_at`` (UTC), ``execution_ms``,
``product_version``, ``success``; plus ``steps_done`` (operations completed, for a failed
migration on a database without transactional DDL) and ``error`` (what failed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..compiled import CompiledSql
from ..options import DEFAULT_HISTORY_TABLE

if TYPE_CHECKING:  # pragma: no cover
    from ..provider.connection import DbConnection
    from ..provider.base import BaseProvider


@dataclass(frozen=True)
class HistoryRow:
    """One row of the history table."""

    migration_id: str
    checksum: str
    applied_at: dt.datetime | None
    execution_ms: int
    product_version: str
    success: bool
    steps_done: int | None = None
    error: str | None = None


def utcnow() -> dt.datetime:
    """Current UTC time, naive (stored as UTC by convention), millisecond precision."""
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class HistoryStore:
    """Creates, reads and writes the history table for one provider.

    Statements are SQLAlchemy Core compiled once for the provider's dialect.
    """

    def __init__(self, provider: "BaseProvider", table_name: str = DEFAULT_HISTORY_TABLE):
        import sqlalchemy as sa

        self.provider = provider
        self.table_name = provider.sql.check_identifier(table_name, "history table")
        metadata = sa.MetaData()
        self.table = table = sa.Table(
            table_name, metadata,
            sa.Column("migration_id", sa.String(255), primary_key=True),
            sa.Column("checksum", sa.String(100), nullable=False),
            sa.Column("applied_at", sa.DateTime(), nullable=False),
            sa.Column("execution_ms", sa.Integer(), nullable=False),
            sa.Column("product_version", sa.String(50), nullable=False),
            sa.Column("success", sa.Boolean(create_constraint=False), nullable=False),
            sa.Column("steps_done", sa.Integer(), nullable=True),
            sa.Column("error", sa.Text(), nullable=True),
        )
        dialect = provider.dialect
        c = table.c
        self._create = provider.sql.compile(sa.schema.CreateTable(table))
        self._probe = f"SELECT 1 FROM {provider.sql.table_name(table_name)} WHERE 1 = 0"
        self._select = CompiledSql(dialect, sa.select(
            c.migration_id, c.checksum, c.applied_at, c.execution_ms, c.product_version,
            c.success, c.steps_done, c.error).order_by(c.applied_at, c.migration_id))
        self._insert = CompiledSql(dialect, table.insert())
        self._delete = CompiledSql(dialect, table.delete().where(
            c.migration_id == sa.bindparam("migration_id")))
        self._update_checksum = CompiledSql(dialect, table.update().where(
            c.migration_id == sa.bindparam("migration_id_")).values(
            checksum=sa.bindparam("checksum")))

    # schema ----------------------------------------------------------------------------
    def create_statements(self) -> list[str]:
        """DDL that creates the table (also used in ``--sql`` scripts)."""
        return [self._create]

    def exists(self, conn: "DbConnection") -> bool:
        """Whether the table exists (a probe query; rolled back on failure)."""
        try:
            conn.execute(self._probe).fetchall()
            return True
        except Exception:  # the driver's "no such table", whatever its class
            if conn.in_transaction:
                conn.rollback()
            return False

    def ensure(self, conn: "DbConnection") -> bool:
        """Create the table if missing; returns ``True`` if it was created."""
        if self.exists(conn):
            return False
        try:
            conn.execute(self._create)
        except Exception:
            # another process may have created it between the probe and the CREATE
            if not self.exists(conn):
                raise
            return False
        return True

    # rows ------------------------------------------------------------------------------
    def read(self, conn: "DbConnection") -> dict[str, HistoryRow]:
        """All rows keyed by id, in the order they were applied."""
        rows = self._select.fetchall(conn)
        return {r[0]: HistoryRow(r[0], r[1], _as_datetime(r[2]), int(r[3]), r[4], bool(r[5]),
                                 r[6], r[7]) for r in rows}

    def values(self, migration_id: str, checksum: str, execution_ms: int, success: bool,
               steps_done: int | None = None, error: str | None = None) -> dict:
        from .. import __version__

        return {"migration_id": migration_id, "checksum": checksum, "applied_at": utcnow(),
                "execution_ms": int(execution_ms), "product_version": __version__,
                "success": success, "steps_done": steps_done,
                "error": error[:4000] if error else None}

    def record(self, conn: "DbConnection", migration_id: str, checksum: str,
               execution_ms: int, success: bool = True, steps_done: int | None = None,
               error: str | None = None, replace: bool = False) -> None:
        """Insert a row (``replace`` deletes an existing one for that id first)."""
        if replace:
            self._delete.execute(conn, migration_id=migration_id)
        self._insert.execute(conn, **self.values(migration_id, checksum, execution_ms, success,
                                                 steps_done, error))

    def insert_script(self, migration_id: str, checksum: str) -> str:
        """The history insert with literal values, for ``--sql`` scripts."""
        values = self.values(migration_id, checksum, 0, True)
        return self.provider.sql.compile_literal(self.table.insert().values(**values))

    def delete_script(self, migration_id: str) -> str:
        return self.provider.sql.compile_literal(
            self.table.delete().where(self.table.c.migration_id == migration_id))

    def delete(self, conn: "DbConnection", migration_id: str) -> None:
        self._delete.execute(conn, migration_id=migration_id)

    def set_checksum(self, conn: "DbConnection", migration_id: str, checksum: str) -> None:
        self._update_checksum.execute(conn, migration_id_=migration_id, checksum=checksum)


def _as_datetime(value) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))
