"""MigrationBuilder: the object passed to ``up(b)`` / ``down(b)``; it only records."""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

from . import operations as ops
from .operations import UNCHANGED


class MigrationBuilder:
    """Records :class:`~npa_migrations.operations.MigrationOperation` objects in call order.

    Column definitions are SQLAlchemy ``Column`` objects and types; table-level
    constraints (``PrimaryKeyConstraint``, ``UniqueConstraint``, ``CheckConstraint``,
    ``ForeignKeyConstraint``) may be passed to :meth:`create_table` beside the columns.
    Nothing touches a database while ``up``/``down`` run.
    """

    def __init__(self) -> None:
        self.operations: list[ops.MigrationOperation] = []

    def _add(self, operation: ops.MigrationOperation) -> ops.MigrationOperation:
        self.operations.append(operation)
        return operation

    def create_table(self, name: str, *columns_and_constraints: Any, schema: str | None = None):
        """Create a table from SQLAlchemy ``Column`` objects and table-level constraints.

        ``Column(..., primary_key=True)``, ``unique=True``, ``index=True`` and ``ForeignKey``
        are honoured; ``PrimaryKeyConstraint``, ``UniqueConstraint``, ``CheckConstraint`` and
        ``ForeignKeyConstraint`` may be passed beside the columns. Anything else is a
        ``TypeError`` when the migration is loaded.
        """
        import sqlalchemy as sa

        columns = tuple(c for c in columns_and_constraints if isinstance(c, sa.Column))
        constraints = tuple(c for c in columns_and_constraints if isinstance(c, sa.Constraint))
        other = [c for c in columns_and_constraints
                 if not isinstance(c, (sa.Column, sa.Constraint))]
        if other:
            raise TypeError(f"create_table({name!r}): expected sqlalchemy Column or Constraint "
                            f"objects, got {other[0]!r}")
        return self._add(ops.CreateTable(name, columns, constraints, schema=schema))

    def drop_table(self, name: str, schema: str | None = None):
        """Drop a table."""
        return self._add(ops.DropTable(name, schema=schema))

    def rename_table(self, old_name: str, new_name: str, schema: str | None = None):
        """Rename a table within its schema."""
        return self._add(ops.RenameTable(old_name, new_name, schema=schema))

    def add_column(self, table: str, column: Any, schema: str | None = None):
        """Add one column (a SQLAlchemy ``Column``) to an existing table.

        Only the column itself (type, nullability, server default) is added: create its index,
        foreign key or unique constraint with the builder calls for them.
        """
        return self._add(ops.AddColumn(table, column, schema=schema))

    def drop_column(self, table: str, name: str, schema: str | None = None):
        """Drop a column."""
        return self._add(ops.DropColumn(table, name, schema=schema))

    def alter_column(self, table: str, name: str, *, type_: Any = UNCHANGED,
                     nullable: Any = UNCHANGED, server_default: Any = UNCHANGED,
                     new_column_name: Any = UNCHANGED, existing_type: Any = None,
                     existing_nullable: bool | None = None,
                     existing_server_default: Any = None, schema: str | None = None,
                     comment: Any = UNCHANGED, existing_comment: str | None = None):
        """Change a column's type, nullability, server default, comment and/or name.

        Only the arguments given change (``comment=None`` removes the comment).
        ``existing_type`` / ``existing_nullable`` / ``existing_server_default`` /
        ``existing_comment`` describe the column as it is: they make the operation
        invertible (``repair --undo-partial``) and let databases that restate the whole column
        (MySQL ``MODIFY``) keep what is not changed.
        """
        return self._add(ops.AlterColumn(
            table, name, type_=type_, nullable=nullable, server_default=server_default,
            new_column_name=new_column_name, existing_type=existing_type,
            existing_nullable=existing_nullable,
            existing_server_default=existing_server_default, schema=schema,
            comment=comment, existing_comment=existing_comment))

    def rename_column(self, table: str, old_name: str, new_name: str, schema: str | None = None):
        """Rename a column."""
        return self._add(ops.RenameColumn(table, old_name, new_name, schema=schema))

    def create_index(self, name: str, table: str, columns: Iterable[str], unique: bool = False,
                     schema: str | None = None, where: str | None = None):
        """Create an index named ``name`` on ``columns`` (column names, or SQL expressions
        given as text); ``unique=True`` for a unique index. ``where`` (SQL text, e.g.
        ``"deleted_at IS NULL"``) makes it a partial index, on databases that have them
        (PostgreSQL, SQLite, SQL Server); elsewhere it is refused before anything runs.
        """
        return self._add(ops.CreateIndex(name, table, tuple(columns), unique=unique,
                                         schema=schema, where=where))

    def drop_index(self, name: str, table: str, schema: str | None = None):
        """Drop the index ``name`` of ``table`` (some databases need the table to find it)."""
        return self._add(ops.DropIndex(name, table, schema=schema))

    def create_foreign_key(self, name: str, source: str, referent: str,
                           local_cols: Iterable[str], remote_cols: Iterable[str],
                           ondelete: str | None = None, onupdate: str | None = None,
                           schema: str | None = None, referent_schema: str | None = None):
        """Add the foreign key ``name`` from ``source`` (``local_cols``) to ``referent``
        (``remote_cols``); ``ondelete`` / ``onupdate`` are e.g. ``"CASCADE"``, ``"SET NULL"``.
        """
        return self._add(ops.CreateForeignKey(
            name, source, referent, tuple(local_cols), tuple(remote_cols), ondelete=ondelete,
            onupdate=onupdate, schema=schema, referent_schema=referent_schema))

    def create_primary_key(self, name: str, table: str, columns: Iterable[str],
                           schema: str | None = None):
        """Add the primary key ``name`` on ``columns``."""
        return self._add(ops.CreatePrimaryKey(name, table, tuple(columns), schema=schema))

    def create_unique_constraint(self, name: str, table: str, columns: Iterable[str],
                                 schema: str | None = None):
        """Add the unique constraint ``name`` on ``columns``."""
        return self._add(ops.CreateUniqueConstraint(name, table, tuple(columns), schema=schema))

    def create_check_constraint(self, name: str, table: str, condition: str,
                                schema: str | None = None):
        """Add the check constraint ``name``; ``condition`` is SQL text."""
        return self._add(ops.CreateCheckConstraint(name, table, str(condition), schema=schema))

    def drop_constraint(self, name: str, table: str, type_: str | None = None,
                        schema: str | None = None):
        """Drop the constraint ``name`` of ``table``; ``type_`` is ``"foreignkey"``,
        ``"primary"``, ``"unique"`` or ``"check"`` (MySQL needs it to choose the statement).
        """
        return self._add(ops.DropConstraint(name, table, type_=type_, schema=schema))

    def create_schema(self, name: str):
        """Create a schema (on Oracle, a schema-only user; see the provider guides)."""
        return self._add(ops.CreateSchema(name))

    def drop_schema(self, name: str):
        """Drop a schema."""
        return self._add(ops.DropSchema(name))

    def bulk_insert(self, table: str, rows: Iterable[dict], columns: Iterable[str] | None = None,
                    schema: str | None = None):
        """Insert ``rows`` (dicts keyed by column name) as bound parameters.

        A list of rows is part of the checksum; any other iterable (a generator reading a file)
        is streamed in batches at run time and is not. ``columns`` fixes the column list
        (default: the keys of the first row).
        """
        if isinstance(rows, dict):
            raise TypeError(f"bulk_insert({table!r}): rows must be an iterable of dicts, "
                            "not a single dict")
        return self._add(ops.BulkInsert(table, rows, tuple(columns) if columns else None,
                                        schema=schema))

    def execute(self, sql: str, params: Mapping[str, Any] | None = None,
                dialects: Iterable[str] | str | None = None):
        """Run custom SQL. ``params`` makes it one statement with bound parameters:
        ``b.execute("UPDATE t SET x = :x WHERE id = :id", {"x": 1, "id": 7})`` -- the
        values never go into the SQL text, whatever the driver's parameter style (write
        ``\\:`` for a colon that is no parameter). ``dialects`` (e.g. ``("postgresql",)``)
        limits it to the providers named; elsewhere it is skipped. The statement is opaque
        to drift detection.
        """
        if isinstance(dialects, str):
            dialects = (dialects,)
        if params is not None:
            params = dict(_bound_params(str(sql), params))
        return self._add(ops.Execute(str(sql), tuple(dialects) if dialects else None,
                                     params=params))

    def run_python(self, fn: Callable[[Any], Any]):
        """Call ``fn(connection)`` when the migration runs, inside its transaction:
        ``connection`` is a SQLAlchemy ``Connection`` on the run's own database session
        (``connection.execute(sa.text(...), {...})``, ``sa.orm.Session(bind=connection)``).
        The engine commits; ``connection.commit()`` / ``rollback()`` are refused (use
        ``connection.begin_nested()`` for a savepoint). A ``--sql`` script cannot hold
        Python: it shows a comment naming the function instead. The checksum covers the
        function's name and code (not its comments or formatting), not code it calls
        elsewhere.
        """
        if not callable(fn):
            raise TypeError(f"run_python(): expected a function taking the connection, got "
                            f"{fn!r}")
        return self._add(ops.RunPython(fn))

    def backfill(self, table: str, set_: Mapping[str, Any], *, where: Any = None,
                 batch_size: int = 1000, key: str | None = None, schema: str | None = None):
        """Update ``table`` in key-ordered chunks of ``batch_size`` rows:
        ``set_`` maps columns to values (Python values are bound; SQL expressions such as
        ``sa.text("price * 100")`` run as written), ``where`` (SQL text or a SQLAlchemy
        expression) chooses the rows, ``key`` is the column the chunks follow (default:
        the primary key, which must then be one column). In a migration with
        ``transactional = False`` each chunk commits with the record of how far the
        backfill got, so a run that is killed or stopped continues after the last chunk
        that committed and no row is updated twice; in a transactional migration the
        chunks run in its one transaction. Progress reports the rows done.
        """
        if not set_:
            raise TypeError(f"backfill({table!r}): set_ must name at least one column")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise TypeError(f"backfill({table!r}): batch_size must be a whole number of "
                            f"rows, at least 1 (got {batch_size!r})")
        return self._add(ops.Backfill(table, tuple(dict(set_).items()), where=where,
                                      batch_size=batch_size, key=key, schema=schema))


def _bound_params(sql: str, params: Mapping[str, Any]) -> Mapping[str, Any]:
    """``params`` after checking that they are exactly the ``:name`` parameters of
    ``sql``; a ``TypeError`` naming what is missing or left over otherwise."""
    import sqlalchemy as sa

    if not isinstance(params, Mapping):
        raise TypeError(f"execute({sql[:40]!r}...): params must be a mapping of values by "
                        f"name (got {type(params).__name__}); to limit the SQL to some "
                        "databases, pass dialects=...")
    names = set(sa.text(sql).compile().binds)
    missing, extra = names - set(params), set(params) - names
    if missing or extra:
        problems = ([f"the SQL names {', '.join(':' + n for n in sorted(missing))} but "
                     "params has no value for it"] if missing else [])
        problems += ([f"params gives {', '.join(sorted(extra))}, which the SQL does not "
                      "name (write :name where the value goes)"] if extra else [])
        raise TypeError(f"execute({sql[:40]!r}...): {'; '.join(problems)}.")
    return params
