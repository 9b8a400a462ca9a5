"""The history table ``npa_migrations_history``: the current state of each migration.

One row per migration applied or under way (the full applied set, never a high-water
mark): ``migration_id`` (PK), ``checksum``, ``applied_at`` (UTC), ``execution_ms``,
``product_version``, ``success`` (SPEC §5), and the write-ahead journal of a migration
that runs statements which cannot be rolled back together (:mod:`npa_migrations.engine.journal`):

* ``state`` -- ``applied``; ``running`` (under way, or its process died); ``stopped``
  (interrupted at a safe point); ``failed`` (a statement failed; ``npa migrate repair``);
* ``direction`` -- what is under way: ``up``, ``down`` (a rollback) or ``undo`` (``repair
  --undo-partial``);
* ``steps_done`` / ``statements_done`` -- the position up to which the migration's steps
  have certainly taken effect: that many whole steps, then that many statements of the
  next one;
* ``in_flight`` -- a statement that commits on its own was started at that position and
  its outcome is not recorded yet (the next run checks it against the live schema);
* ``step_checkpoint`` -- where a data step continues after the statements done (JSON: a
  backfill's last key and its rows done), so its next chunk follows the last one that
  committed;
* ``error`` -- what failed.

A table created by an older version lacks the journal columns; :meth:`HistoryStore.ensure`
adds them (under the migration lock), and rows without a ``state`` read as ``applied`` or
``failed`` from ``success``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..compiled import CompiledSql, compiled_once
from ..options import DEFAULT_HISTORY_TABLE

if TYPE_CHECKING:  # pragma: no cover
    from ..provider.base import BaseProvider
    from ..provider.connection import DbConnection

#: the states of a history row
APPLIED, RUNNING, STOPPED, FAILED = "applied", "running", "stopped", "failed"
#: the columns a table of an older version may lack, added by :meth:`HistoryStore.ensure`
JOURNAL_COLUMNS = ("state", "direction", "statements_done", "in_flight", "step_checkpoint")


@dataclass(frozen=True, order=True)
class Position:
    """How far a migration's steps have taken effect: ``step`` whole steps, then
    ``statement`` statements of the next one; ``checkpoint`` is where a data step
    continues after those statements (a backfill's last key), ``None`` for other steps."""

    step: int = 0
    statement: int = 0
    checkpoint: Any = field(default=None, compare=False)

    def __str__(self) -> str:
        """Where a run continues: ``step 3`` or ``step 3, statement 2``."""
        return (f"step {self.step + 1}, statement {self.statement + 1}" if self.statement
                else f"step {self.step + 1}")

    def done(self) -> str:
        """What took effect: ``2 step(s)`` or ``2 step(s) and 1 statement(s) of the next``."""
        text = f"{self.step} step(s)"
        if self.statement:
            text += f" and {self.statement} statement(s) of the next"
        return text


@dataclass(frozen=True)
class HistoryRow:
    """One row of the history table (see the module docs for the journal fields)."""

    migration_id: str
    checksum: str
    applied_at: dt.datetime | None
    execution_ms: int
    product_version: str
    success: bool
    steps_done: int | None = None
    error: str | None = None
    state: str | None = field(default=None)
    direction: str | None = None
    statements_done: int | None = None
    in_flight: bool = False
    step_checkpoint: str | None = None

    @property
    def status(self) -> str:
        """``applied``, ``running``, ``stopped`` or ``failed`` (rows written before the
        journal existed read from ``success``)."""
        if self.success:
            return APPLIED
        return self.state or FAILED

    @property
    def position(self) -> Position:
        """How far the migration's steps (in :attr:`direction`) have taken effect."""
        checkpoint = json.loads(self.step_checkpoint) if self.step_checkpoint else None
        return Position(self.steps_done or 0, self.statements_done or 0, checkpoint)

    @property
    def under_way(self) -> bool:
        """Started and neither applied nor failed: its process died or was interrupted,
        and the next run in :attr:`direction` continues it."""
        return self.status in (RUNNING, STOPPED)


def utcnow() -> dt.datetime:
    """Current UTC time, naive (stored as UTC by convention), millisecond precision."""
    now = dt.datetime.now(dt.timezone.utc)
    return now.replace(tzinfo=None, microsecond=now.microsecond // 1000 * 1000)


class HistoryStore:
    """Creates, reads and writes the history table for one provider.

    Statements are SQLAlchemy Core compiled once for the provider's dialect (and shared
    by the stores of later providers of the same kind on the same server:
    :func:`~npa_migrations.compiled.compiled_once`).
    """

    #: the ``sqlalchemy.Table`` of the history
    table: Any
    _create: str
    _probe: str
    #: selects every column and no row: whether a table lacks a column of this version
    _probe_columns: str
    _select: CompiledSql
    _select_one: CompiledSql
    _insert: CompiledSql
    _delete: CompiledSql
    #: the insert that replaces the row of the same id, where one statement can
    #: (:meth:`~npa_migrations.provider.SqlGenerator.replace_row_sql`)
    _replace: CompiledSql | None
    _update_checksum: CompiledSql
    _progress: CompiledSql
    _settle: CompiledSql
    _mark: CompiledSql

    def __init__(self, provider: "BaseProvider", table_name: str = DEFAULT_HISTORY_TABLE):
        self.provider = provider
        self.table_name = provider.sql.check_identifier(table_name, "history table")
        self.__dict__.update(compiled_once(("history", table_name), provider,
                                           lambda: self._compile(provider, table_name)))
        #: the rows :meth:`read` returned, by the driver's values of the row
        self._known: dict[tuple, HistoryRow] = {}

    @staticmethod
    def _compile(provider: "BaseProvider", table_name: str) -> dict[str, Any]:
        """The table and its statements, compiled for ``provider``
        (:func:`~npa_migrations.compiled.compiled_once` shares them)."""
        import sqlalchemy as sa

        metadata = sa.MetaData()
        table = sa.Table(
            table_name, metadata,
            sa.Column("migration_id", sa.String(255), primary_key=True),
            sa.Column("checksum", sa.String(100), nullable=False),
            sa.Column("applied_at", sa.DateTime(), nullable=False),
            sa.Column("execution_ms", sa.Integer(), nullable=False),
            sa.Column("product_version", sa.String(50), nullable=False),
            sa.Column("success", sa.Boolean(create_constraint=False), nullable=False),
            sa.Column("steps_done", sa.Integer(), nullable=True),
            sa.Column("error", sa.Text(), nullable=True),
            sa.Column("state", sa.String(16), nullable=True),
            sa.Column("direction", sa.String(8), nullable=True),
            sa.Column("statements_done", sa.Integer(), nullable=True),
            sa.Column("in_flight", sa.Boolean(create_constraint=False), nullable=True),
            sa.Column("step_checkpoint", sa.Text(), nullable=True),
        )
        dialect = provider.dialect
        c = table.c
        insert = CompiledSql(dialect, table.insert())
        replace = None
        replace_sql = provider.sql.replace_row_sql(insert.sql)
        if replace_sql is not None:  # the same binds, the database's replacing insert
            replace = CompiledSql(dialect, table.insert())
            replace.sql = replace_sql
        return {
            "_replace": replace,
            "table": table,
            "_create": provider.sql.compile(sa.schema.CreateTable(table)),
            "_probe": f"SELECT 1 FROM {provider.sql.table_name(table_name)} WHERE 1 = 0",
            "_probe_columns": "SELECT {} FROM {} WHERE 1 = 0".format(
                ", ".join(provider.sql.quote(column.name) for column in table.columns),
                provider.sql.table_name(table_name)),
            "_select": CompiledSql(dialect, sa.select(*table.columns).order_by(
                c.applied_at, c.migration_id)),
            "_select_one": CompiledSql(dialect, sa.select(*table.columns).where(
                c.migration_id == sa.bindparam("migration_id_"))),
            "_insert": insert,
            "_delete": CompiledSql(dialect, table.delete().where(
                c.migration_id == sa.bindparam("migration_id"))),
            "_update_checksum": CompiledSql(dialect, table.update().where(
                c.migration_id == sa.bindparam("migration_id_")).values(
                checksum=sa.bindparam("checksum"))),
            "_progress": CompiledSql(dialect, table.update().where(
                c.migration_id == sa.bindparam("migration_id_")).values(
                steps_done=sa.bindparam("steps"), statements_done=sa.bindparam("statements"),
                in_flight=sa.bindparam("flight"), step_checkpoint=sa.bindparam("checkpoint"))),
            "_settle": CompiledSql(dialect, table.update().where(
                c.migration_id == sa.bindparam("migration_id_")).values(
                state=sa.bindparam("state_"), error=sa.bindparam("error_"),
                execution_ms=sa.bindparam("ms"))),
            "_mark": CompiledSql(dialect, table.update().where(
                c.migration_id == sa.bindparam("migration_id_")).values(
                success=sa.bindparam("success_"), state=sa.bindparam("state_"),
                direction=sa.bindparam("direction_"), steps_done=sa.bindparam("steps"),
                statements_done=sa.bindparam("statements"), in_flight=sa.bindparam("flight"),
                step_checkpoint=sa.bindparam("checkpoint"))),
        }

    def statements(self) -> list[str]:
        """The SQL of every statement the store runs (``CREATE TABLE`` first), as compiled
        for the provider: for tests that parse the SQL a provider will send."""
        return [self._create, self._probe, self._probe_columns] + [q.sql for q in (
            self._select, self._select_one, self._insert, self._delete, self._update_checksum,
            self._progress, self._settle, self._mark) + ((self._replace,) if self._replace
                                                         else ())]

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
        """Create the table if missing, or add the journal columns a table of an older
        version lacks; returns ``True`` if the table was created."""
        if self.exists(conn):
            self._add_journal_columns(conn)
            return False
        try:
            conn.execute(self._create)
        except Exception:
            # another process may have created it between the probe and the CREATE
            if not self.exists(conn):
                raise
            return False
        return True

    def _add_journal_columns(self, conn: "DbConnection") -> None:
        try:  # every column, no row: the rows are read next, once
            conn.execute(self._probe_columns).fetchall()
            return
        except Exception:  # an older table: which columns does it lack?
            if conn.in_transaction:
                conn.rollback()
        from ..operations import AddColumn
        from ..provider.context import RenderContext

        context = RenderContext(conn)
        for name in JOURNAL_COLUMNS:
            if self._has_column(conn, name):
                continue
            column = self.table.c[name]._copy()
            for statement in self.provider.sql.sql_add_column(
                    AddColumn(self.table_name, column), context):
                conn.execute(getattr(statement, "sql", statement))

    def _has_column(self, conn: "DbConnection", name: str) -> bool:
        """Whether the table has column ``name`` (a probe query; rolled back on failure)."""
        try:
            conn.execute(f"SELECT {self.provider.sql.quote(name)} FROM {self._probe[14:]}"
                         ).fetchall()
            return True
        except Exception:
            if conn.in_transaction:
                conn.rollback()
            return False

    # rows ------------------------------------------------------------------------------
    @property
    def select_sql(self) -> str:
        """The statement :meth:`read` runs: every column of every row, in the order they
        were applied, without parameters (the quick reader of
        :mod:`npa_migrations.uptodate` sends it through the bare driver)."""
        return self._select.sql

    def read(self, conn: "DbConnection") -> dict[str, HistoryRow]:
        """All rows keyed by id, in the order they were applied.

        Every read sends the query: ``up`` reads once to find that it has nothing to do
        without queueing on the lock, and again under the lock, where what a concurrent
        run did in between must be seen. A row the driver returns exactly as an earlier
        read of this store did is the same :class:`HistoryRow` (they are frozen), taken
        from :attr:`_known` instead of being converted again: the second read of a deploy
        converts only what changed."""
        try:
            raw = self._select.execute(conn).fetchall()
        except Exception:
            if conn.in_transaction:
                conn.rollback()
            return self._read_older(conn)
        rows = {}
        for values in raw:
            row = self._converted(tuple(values))
            rows[row.migration_id] = row
        return rows

    def _converted(self, values: tuple) -> HistoryRow:
        """The row of the driver's ``values``: converted once per store."""
        try:
            row = self._known.get(values)
        except TypeError:  # a value the driver gives unhashable: convert it every time
            return _row(self._select.processed(values))
        if row is None:
            row = self._known[values] = _row(self._select.processed(values))
        return row

    def read_one(self, conn: "DbConnection", migration_id: str) -> HistoryRow | None:
        """One migration's row, or ``None``."""
        rows = self._select_one.fetchall(conn, migration_id_=migration_id)
        return _row(rows[0]) if rows else None

    def _read_older(self, conn: "DbConnection") -> dict[str, HistoryRow]:
        """The rows of a table an older version created (without some journal columns;
        ``up`` adds them under the lock), read for ``status`` and idle runs: a missing
        column reads as ``NULL``."""
        import sqlalchemy as sa

        c = self.table.c
        journal = [c[name] if self._has_column(conn, name) else sa.null().label(name)
                   for name in JOURNAL_COLUMNS]
        older = CompiledSql(self.provider.dialect, sa.select(
            c.migration_id, c.checksum, c.applied_at, c.execution_ms, c.product_version,
            c.success, c.steps_done, c.error, *journal).order_by(c.applied_at, c.migration_id))
        return {r[0]: _row(r) for r in older.fetchall(conn)}

    def values(self, migration_id: str, checksum: str, execution_ms: int, success: bool,
               steps_done: int | None = None, error: str | None = None, *,
               state: str | None = None, direction: str | None = None,
               statements_done: int | None = None, in_flight: bool = False) -> dict:
        """The column values of one row (``applied_at`` now, this version)."""
        from .. import __version__  # read when written: tests pin it

        return {"migration_id": migration_id, "checksum": checksum, "applied_at": utcnow(),
                "execution_ms": int(execution_ms), "product_version": __version__,
                "success": success, "steps_done": steps_done,
                "error": error[:4000] if error else None,
                "state": state or (APPLIED if success else FAILED), "direction": direction,
                "statements_done": statements_done, "in_flight": in_flight}

    def record(self, conn: "DbConnection", migration_id: str, checksum: str,
               execution_ms: int, success: bool = True, steps_done: int | None = None,
               error: str | None = None, replace: bool = False, **journal: Any) -> None:
        """Insert a row (``replace`` deletes an existing one for that id first);
        ``journal`` holds the journal columns (``state``, ``direction``,
        ``statements_done``, ``in_flight``)."""
        insert = self._insert
        if replace:
            if self._replace is not None:  # the delete and the insert in one statement
                insert = self._replace
            else:
                self._delete.execute(conn, migration_id=migration_id)
        insert.execute(conn, **self.values(migration_id, checksum, execution_ms, success,
                                                 steps_done, error, **journal))

    def progress(self, conn: "DbConnection", migration_id: str, position: Position,
                 in_flight: bool = False) -> None:
        """Record how far the migration's steps have taken effect (and whether a statement
        that commits on its own is now under way at that position)."""
        self._progress.execute(conn, migration_id_=migration_id, steps=position.step,
                               statements=position.statement, flight=in_flight,
                               checkpoint=_checkpoint_text(position))

    def mark(self, conn: "DbConnection", migration_id: str, *, success: bool, state: str,
             direction: str, position: Position, in_flight: bool = False) -> None:
        """Set a row's journal: its state, the direction under way and its position (a
        rollback or undo starting on an applied or failed row, or putting it back)."""
        self._mark.execute(conn, migration_id_=migration_id, success_=success, state_=state,
                           direction_=direction, steps=position.step,
                           statements=position.statement, flight=in_flight,
                           checkpoint=_checkpoint_text(position))

    def settle(self, conn: "DbConnection", migration_id: str, state: str,
               error: str | None = None, execution_ms: int = 0) -> None:
        """Set the state of a row under way (``stopped`` or ``failed``), with the error."""
        self._settle.execute(conn, migration_id_=migration_id, state_=state,
                             error_=error[:4000] if error else None, ms=int(execution_ms))

    def insert_script(self, migration_id: str, checksum: str) -> str:
        """The history insert with literal values, for ``--sql`` scripts; ``applied_at``
        is the database's clock when the script runs
        (:meth:`~npa_migrations.provider.SqlGenerator.utc_now`), not when it was written:
        a script run days later must not put its rows before those written meanwhile."""
        values = self.values(migration_id, checksum, 0, True)
        values["applied_at"] = self.provider.sql.utc_now()
        return self.provider.sql.compile_literal(self.table.insert().values(**values))

    def delete_script(self, migration_id: str) -> str:
        """The history delete with a literal id, for ``--sql`` scripts."""
        return self.provider.sql.compile_literal(
            self.table.delete().where(self.table.c.migration_id == migration_id))

    def create_if_missing_statements(self) -> list[str]:
        """DDL that creates the table unless it exists (idempotent ``--sql`` scripts)."""
        return self.provider.sql.create_table_if_missing(self.table)

    def pending_condition(self, ids: list[str], checksum: str | None = None) -> str:
        """A SQL condition, with literal values, that holds while none of ``ids`` is
        recorded -- with ``checksum``, recorded with that checksum (a repeatable
        migration that changed is pending again): the guard of a migration in an
        idempotent script."""
        import sqlalchemy as sa

        c = self.table.c
        recorded: sa.ColumnElement[bool] = c.migration_id.in_(ids)
        if checksum is not None:
            recorded = sa.and_(recorded, c.checksum == checksum)
        return self.provider.sql.compile_literal(~sa.exists().where(recorded))

    def delete(self, conn: "DbConnection", migration_id: str) -> None:
        """Remove one migration's row."""
        self._delete.execute(conn, migration_id=migration_id)

    def set_checksum(self, conn: "DbConnection", migration_id: str, checksum: str) -> None:
        """Store a new checksum for an applied migration."""
        self._update_checksum.execute(conn, migration_id_=migration_id, checksum=checksum)


def _checkpoint_text(position: Position) -> str | None:
    """A position's checkpoint as the column stores it (JSON; a value JSON has no type
    for, such as a date or a UUID key, as its text)."""
    if position.checkpoint is None:
        return None
    return json.dumps(position.checkpoint, default=str, sort_keys=True)


def _row(r: tuple) -> HistoryRow:
    journal = r[8:13] if len(r) > 8 else (None, None, None, None, None)
    state, direction, statements_done, in_flight, checkpoint = journal
    return HistoryRow(r[0], r[1], _as_datetime(r[2]), int(r[3]), r[4], bool(r[5]), r[6], r[7],
                      state=state, direction=direction, statements_done=statements_done,
                      in_flight=bool(in_flight), step_checkpoint=checkpoint)


def _as_datetime(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))
