"""Data steps rendered into statements: SQL with bound parameters, Python functions, and
backfills in key-ordered chunks.

* :func:`bound_statement` -- a SQLAlchemy statement compiled for the provider's driver:
  the values travel as bound parameters in the driver's own style (``?``, ``%s``,
  ``:name``), while a ``--sql`` script shows them as literals.
* :func:`python_statement` -- ``b.run_python(fn)``: a statement whose ``run`` calls
  ``fn`` with a SQLAlchemy ``Connection`` lent on the run's own DB-API connection, inside
  the transaction the engine opened (:func:`call_with_connection`). SQLAlchemy can never
  end that transaction: the connection's ``commit`` and ``rollback`` are refused while
  ``fn`` runs, and are no-ops on the DB-API connection afterwards.
* :func:`backfill_statements` -- ``b.backfill(...)``: one ``UPDATE`` per chunk of
  ``batch_size`` rows in the order of the key column, each bounded by key values
  (``key > :last AND key <= :upper``), so ties are never split and no row is in two
  chunks. The next chunk's upper key is read from the database just before the chunk
  runs. Every chunk records, once it ran, the last key it reached and the rows done so
  far (:attr:`Statement.checkpoint <npa_migrations.statements.Statement.checkpoint>`): the
  journal stores it with the chunk, and a run that continues renders from there.

The SQL is SQLAlchemy Core compiled with the provider's dialect, so ``LIMIT``/``OFFSET``,
``FETCH FIRST`` and quoting are the dialect's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterator

from ..compiled import CompiledSql
from ..errors import ConfigurationError
from ..statements import Statement

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

    from .. import operations as ops
    from .connection import DbConnection
    from .sql import RenderContext, SqlGenerator


def bound_statement(sql: "SqlGenerator", element: Any, label: str | None = None) -> Statement:
    """``element`` compiled for the driver, its values bound; the script shows them as
    literals (or, for a type without a literal form, the SQL with the values in a
    comment)."""
    compiled = CompiledSql(sql.dialect, element)

    def script() -> str:
        try:
            return sql.compile_literal(element)
        except Exception:  # a value without a literal form in this dialect
            values = {bind.key: bind.value for bind in element.compile().binds.values()}
            return f"{sql.compile(element)} -- with {values!r}"

    return Statement(compiled.sql, params=compiled.arguments(), script=script, label=label)


# run_python ----------------------------------------------------------------------------------
#: how a ``--sql`` script marks the place of a Python step it cannot hold
PYTHON_STEP_MARK = "PYTHON STEP NOT IN THIS SCRIPT"


def python_statement(op: "ops.RunPython") -> Statement:
    """The statement of ``b.run_python(fn)``: it calls ``fn`` when it runs; its text is
    what a ``--sql`` script shows instead."""
    from ..pycode import function_name

    name = function_name(op.fn)
    return Statement(f"-- {PYTHON_STEP_MARK}: {name}(connection) runs here when 'npa migrate' "
                     "applies the migration; SQL cannot hold Python code. Do its work by hand "
                     "here, or apply this migration with npa.",
                     run=lambda conn: call_with_connection(op.fn, conn),
                     label=f"Python function {name}()")


class CommitRefused(ConfigurationError):
    """A Python step tried to end the migration's transaction."""


def call_with_connection(fn: Callable[[Any], Any], conn: "DbConnection") -> None:
    """Call ``fn`` with a SQLAlchemy ``Connection`` on ``conn``'s DB-API connection,
    inside its open transaction (see the module docs)."""
    import sqlalchemy as sa

    from ..pycode import function_name
    from ..schema.live import reflection_engine

    engine = reflection_engine(conn.driver.provider, conn.raw)
    lent = [True]

    def refuse(connection: Any) -> None:
        if lent[0]:
            raise CommitRefused(
                f"{function_name(fn)}() tried to commit or roll back. A Python step runs "
                "inside the migration's transaction, which npa commits with the migration's "
                "history row: leave commit() and rollback() out (for a savepoint, use "
                "connection.begin_nested()).")

    sa.event.listen(engine, "commit", refuse)
    sa.event.listen(engine, "rollback", refuse)
    try:
        with engine.connect() as connection:
            connection.begin()
            try:
                fn(connection)
            finally:
                lent[0] = False
    finally:
        engine.dispose()


# backfill ------------------------------------------------------------------------------------
def backfill_statements(sql: "SqlGenerator", op: "ops.Backfill", ctx: "RenderContext"
                        ) -> Iterator[Statement]:
    """The chunks of a backfill (see the module docs); offline, the whole update as one
    statement, since the chunks depend on the rows."""
    import sqlalchemy as sa

    connection = ctx.connection
    if connection is None:  # offline
        yield _offline_backfill(sql, op)
        return
    key = op.key or _primary_key(sql, op, connection)
    if key in dict(op.values):
        raise ConfigurationError(
            f"{op.describe()}: set_ changes '{key}', the column the chunks follow. Pass "
            "key= another column whose values stay as they are.")
    table = _table(op, key)
    key_column = table.c[key]
    checkpoint = ctx.checkpoint or {}
    last, rows = checkpoint.get("key"), int(checkpoint.get("rows") or 0)
    filters = _filters(op)
    while True:
        lower = [key_column > sa.bindparam("last_key", last)] if last is not None else []
        upper = _upper_key(sql, connection, sa.select(key_column).where(*lower, *filters),
                           key_column, op.batch_size)
        if upper is None:
            return
        update = (table.update().where(*lower, key_column <= sa.bindparam("upper_key", upper),
                                       *filters).values(_values(op)))
        statement = bound_statement(sql, update)
        statement.check = _recorder(statement, upper, rows)
        yield statement
        last = upper
        if statement.rows_done is not None:
            rows = statement.rows_done


def _recorder(statement: Statement, upper: Any, rows: int) -> Callable[[Any], None]:
    """Once the chunk ran: the rows done so far, and the checkpoint the journal keeps."""
    def record(cursor: Any) -> None:
        statement.rows_done = rows + max(cursor.rowcount or 0, 0)
        statement.checkpoint = {"key": upper, "rows": statement.rows_done}

    return record


def _upper_key(sql: "SqlGenerator", conn: "DbConnection", select: "sa.Select", key: Any,
               batch_size: int) -> Any:
    """The key of the last row of the next chunk: the ``batch_size``-th key after the
    last one done, or the highest key left; ``None`` when no row is left."""
    import sqlalchemy as sa

    nth = select.order_by(key).offset(batch_size - 1).limit(1)
    rows = CompiledSql(sql.dialect, nth).fetchall(conn)
    if rows:
        return rows[0][0]
    highest = select.with_only_columns(sa.func.max(key))
    rows = CompiledSql(sql.dialect, highest).fetchall(conn)
    return rows[0][0] if rows else None


def _primary_key(sql: "SqlGenerator", op: "ops.Backfill", conn: "DbConnection") -> str:
    import sqlalchemy as sa

    from ..schema.live import reflection_engine

    engine = reflection_engine(sql.provider, conn.raw)
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            if not inspector.has_table(op.table, schema=op.schema):
                raise ConfigurationError(f"{op.describe()}: there is no table '{op.table}'.")
            columns = inspector.get_pk_constraint(op.table, schema=op.schema).get(
                "constrained_columns") or []
    finally:
        engine.dispose()
    if len(columns) != 1:
        which = f"a primary key of {len(columns)} columns" if columns else "no primary key"
        raise ConfigurationError(
            f"{op.describe()}: '{op.table}' has {which}, and the chunks follow one column. "
            "Pass key= a column to order the rows by (ideally unique and indexed).")
    return columns[0]


def _table(op: "ops.Backfill", key: str | None) -> "sa.TableClause":
    import sqlalchemy as sa

    names = dict.fromkeys([*([key] if key else []), *(name for name, _ in op.values)])
    return sa.table(op.table, *(sa.column(name) for name in names), schema=op.schema)


def _values(op: "ops.Backfill") -> dict[str, Any]:
    """``set_`` as SQLAlchemy values: expressions as they are, Python values bound."""
    import sqlalchemy as sa

    return {name: value if isinstance(value, sa.sql.ClauseElement)
            else sa.null() if value is None else sa.literal(value)
            for name, value in op.values}


def _filters(op: "ops.Backfill") -> list[Any]:
    import sqlalchemy as sa

    if op.where is None:
        return []
    return [sa.text(op.where) if isinstance(op.where, str) else op.where]


def _offline_backfill(sql: "SqlGenerator", op: "ops.Backfill") -> Statement:
    table = _table(op, op.key)
    update = table.update().where(*_filters(op)).values(_values(op))
    statement = bound_statement(sql, update)
    single = statement.render()
    statement.script = (f"-- {op.describe()} at run time (the chunks depend on the rows); "
                        f"the same change as one statement:\n{single}")
    return statement

