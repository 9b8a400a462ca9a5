"""The event log ``npa_migrations_log``: an append-only record of everything the engine did.

The history table holds the *current* state of each migration; the log keeps every
event that led there, never updated or deleted by the engine: ``apply``, ``revert``,
``failure`` (with the failed statement and the error), ``interrupt`` (a run stopped at a
safe point, and where), ``repair`` (including ``--accept-checksum``), ``baseline``,
``mark`` (``npa migrate mark``), ``squash`` (a squashed migration recorded because every
migration it replaces is applied) and ``unlock``, each with the time (UTC), host,
OS user, duration, checksum and product version. ``npa migrate history`` shows it.

Writes are SQLAlchemy Core compiled once (like the history table). An ``apply`` or
``revert`` row is written inside the migration's own transaction, next to its history
row, so a migration still costs exactly one commit; a ``failure`` row is written after
the rollback, so it survives it. Set the option ``log_table`` to ``None`` to turn the
log off.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import socket
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..compiled import CompiledSql, compiled_once
from ..options import DEFAULT_LOG_TABLE
from .history import utcnow

if TYPE_CHECKING:  # pragma: no cover
    from ..provider.connection import DbConnection
    from ..provider.base import BaseProvider

EVENTS = ("apply", "revert", "failure", "interrupt", "repair", "baseline", "mark", "squash",
          "unlock")


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry (containers) and no LOGNAME/USER
        pass
    user = os.environ.get("USER") or os.environ.get("USERNAME")
    if user:
        return user
    return f"uid={os.getuid()}" if hasattr(os, "getuid") else "unknown"


_IDENTITY: tuple[str, str] | None = None


def identity() -> tuple[str, str]:
    """``(host, OS user)`` of this process (computed once)."""
    global _IDENTITY
    if _IDENTITY is None:
        _IDENTITY = (socket.gethostname()[:255], _os_user()[:255])
    return _IDENTITY


@dataclass(frozen=True)
class LogEntry:
    """One row of the event log."""

    id: int
    occurred_at: dt.datetime | None
    event: str
    migration_id: str | None
    checksum: str | None
    success: bool
    duration_ms: int | None
    host: str
    os_user: str
    product_version: str
    statement: str | None
    error: str | None
    detail: str | None

    def to_json(self) -> dict:
        """One entry of ``events`` in ``npa migrate history --json``."""
        return {"id": self.id,
                "occurred_at": self.occurred_at.isoformat() + "Z" if self.occurred_at else None,
                "event": self.event, "migration_id": self.migration_id,
                "checksum": self.checksum, "success": self.success,
                "duration_ms": self.duration_ms, "host": self.host, "user": self.os_user,
                "product_version": self.product_version, "statement": self.statement,
                "error": self.error, "detail": self.detail}


class EventLog:
    """Creates, appends to and reads the event log table for one provider (statements
    compiled once per kind of provider and server:
    :func:`~npa_migrations.compiled.compiled_once`)."""

    #: the ``sqlalchemy.Table`` of the log
    table: Any
    _columns: list[str]
    _create: str
    _probe: str
    _insert: CompiledSql
    _select: CompiledSql

    def __init__(self, provider: "BaseProvider", table_name: str = DEFAULT_LOG_TABLE):
        self.provider = provider
        self.table_name = provider.sql.check_identifier(table_name, "log table")
        self.__dict__.update(compiled_once(("log", table_name), provider,
                                           lambda: self._compile(provider, table_name)))
        self._exists: "weakref.WeakSet[DbConnection]" = weakref.WeakSet()

    @staticmethod
    def _compile(provider: "BaseProvider", table_name: str) -> dict[str, Any]:
        """The table and its statements, compiled for ``provider``
        (:func:`~npa_migrations.compiled.compiled_once` shares them)."""
        import sqlalchemy as sa

        table = sa.Table(
            table_name, sa.MetaData(),
            sa.Column("id", sa.Integer(), sa.Identity(), primary_key=True),
            sa.Column("occurred_at", sa.DateTime(), nullable=False),
            sa.Column("event", sa.String(20), nullable=False),
            sa.Column("migration_id", sa.String(255), nullable=True),
            sa.Column("checksum", sa.String(100), nullable=True),
            sa.Column("success", sa.Boolean(create_constraint=False), nullable=False),
            sa.Column("duration_ms", sa.Integer(), nullable=True),
            sa.Column("host", sa.String(255), nullable=False),
            sa.Column("os_user", sa.String(255), nullable=False),
            sa.Column("product_version", sa.String(50), nullable=False),
            sa.Column("statement", sa.Text(), nullable=True),
            sa.Column("error", sa.Text(), nullable=True),
            sa.Column("detail", sa.Text(), nullable=True),
        )
        dialect = provider.dialect
        c = table.c
        columns = [col.name for col in table.columns if col.name != "id"]
        return {
            "table": table,
            "_columns": columns,
            "_create": provider.sql.compile(sa.schema.CreateTable(table)),
            "_probe": f"SELECT 1 FROM {provider.sql.table_name(table_name)} WHERE 1 = 0",
            "_insert": CompiledSql(dialect, table.insert().values(
                {name: sa.bindparam(f"v_{name}") for name in columns})),
            "_select": CompiledSql(dialect, sa.select(*[c[n] for n in ["id"] + columns])
                                   .order_by(c.id)),
        }

    # schema ----------------------------------------------------------------------------
    def create_statements(self) -> list[str]:
        return [self._create]

    def exists(self, conn: "DbConnection") -> bool:
        try:
            conn.execute(self._probe).fetchall()
            return True
        except Exception:  # the driver's "no such table"
            if conn.in_transaction:
                conn.rollback()
            return False

    def ensure(self, conn: "DbConnection") -> None:
        """Create the table if missing (once per connection)."""
        if conn in self._exists:
            return
        if not self.exists(conn):
            try:
                conn.execute(self._create)
            except Exception:
                if not self.exists(conn):  # not created concurrently by another process
                    raise
        self._exists.add(conn)

    # rows ------------------------------------------------------------------------------
    def record(self, conn: "DbConnection", event: str, *, migration_id: str | None = None,
               checksum: str | None = None, success: bool = True,
               duration_ms: int | None = None, statement: str | None = None,
               error: str | None = None, detail: str | None = None) -> None:
        """Append one row (in whatever transaction ``conn`` has open)."""
        from .. import __version__  # read when written: tests pin it

        host, user = identity()
        self._insert.execute(
            conn, v_occurred_at=utcnow(), v_event=event, v_migration_id=migration_id,
            v_checksum=checksum, v_success=bool(success),
            v_duration_ms=int(duration_ms) if duration_ms is not None else None,
            v_host=host, v_os_user=user, v_product_version=__version__,
            v_statement=statement[:4000] if statement else None,
            v_error=error[:4000] if error else None, v_detail=detail[:4000] if detail else None)

    def read(self, conn: "DbConnection") -> list[LogEntry]:
        """Every row, oldest first (``[]`` when the table does not exist)."""
        if not self.exists(conn):
            return []
        entries = []
        for r in self._select.fetchall(conn):
            occurred = r[1]
            if occurred is not None and not isinstance(occurred, dt.datetime):
                occurred = dt.datetime.fromisoformat(str(occurred))
            entries.append(LogEntry(int(r[0]), occurred, r[2], r[3], r[4], bool(r[5]),
                                    r[6], r[7], r[8], r[9], r[10], r[11], r[12]))
        return entries


class NullEventLog:
    """The log turned off (``log_table=None``)."""

    table_name = None

    def create_statements(self) -> list[str]:
        return []

    def exists(self, conn) -> bool:
        return False

    def ensure(self, conn) -> None:
        pass

    def record(self, conn, event: str, **values: Any) -> None:
        pass

    def read(self, conn) -> list[LogEntry]:
        return []


def event_log(provider: "BaseProvider", table_name: str | None) -> "EventLog | NullEventLog":
    return EventLog(provider, table_name) if table_name else NullEventLog()
