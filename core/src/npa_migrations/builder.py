"""MigrationBuilder: the object passed to ``up(b)`` / ``down(b)``; it only records."""

from __future__ import annotations

from typing import Any, Iterable

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
        return self._add(ops.DropTable(name, schema=schema))

    def rename_table(self, old_name: str, new_name: str, schema: str | None = None):
        return self._add(ops.RenameTable(old_name, new_name, schema=schema))

    def add_column(self, table: str, column: Any, schema: str | None = None):
        return self._add(ops.AddColumn(table, column, schema=schema))

    def drop_column(self, table: str, name: str, schema: str | None = None):
        return self._add(ops.DropColumn(table, name, schema=schema))

    def alter_column(self, table: str, name: str, *, type_: Any = UNCHANGED,
                     nullable: Any = UNCHANGED, server_default: Any = UNCHANGED,
                     new_column_name: Any = UNCHANGED, existing_type: Any = None,
                     existing_nullable: bool | None = None,
                     existing_server_default: Any = None, schema: str | None = None):
        return self._add(ops.AlterColumn(
            table, name, type_=type_, nullable=nullable, server_default=server_default,
            new_column_name=new_column_name, existing_type=existing_type,
            existing_nullable=existing_nullable,
            existing_server_default=existing_server_default, schema=schema))

    def rename_column(self, table: str, old_name: str, new_name: str, schema: str | None = None):
        return self._add(ops.RenameColumn(table, old_name, new_name, schema=schema))

    def create_index(self, name: str, table: str, columns: Iterable[str], unique: bool = False,
                     schema: str | None = None):
        return self._add(ops.CreateIndex(name, table, tuple(columns), unique=unique,
                                         schema=schema))

    def drop_index(self, name: str, table: str, schema: str | None = None):
        return self._add(ops.DropIndex(name, table, schema=schema))

    def create_foreign_key(self, name: str, source: str, referent: str,
                           local_cols: Iterable[str], remote_cols: Iterable[str],
                           ondelete: str | None = None, onupdate: str | None = None,
                           schema: str | None = None, referent_schema: str | None = None):
        return self._add(ops.CreateForeignKey(
            name, source, referent, tuple(local_cols), tuple(remote_cols), ondelete=ondelete,
            onupdate=onupdate, schema=schema, referent_schema=referent_schema))

    def create_primary_key(self, name: str, table: str, columns: Iterable[str],
                           schema: str | None = None):
        return self._add(ops.CreatePrimaryKey(name, table, tuple(columns), schema=schema))

    def create_unique_constraint(self, name: str, table: str, columns: Iterable[str],
                                 schema: str | None = None):
        return self._add(ops.CreateUniqueConstraint(name, table, tuple(columns), schema=schema))

    def create_check_constraint(self, name: str, table: str, condition: str,
                                schema: str | None = None):
        return self._add(ops.CreateCheckConstraint(name, table, str(condition), schema=schema))

    def drop_constraint(self, name: str, table: str, type_: str | None = None,
                        schema: str | None = None):
        return self._add(ops.DropConstraint(name, table, type_=type_, schema=schema))

    def create_schema(self, name: str):
        return self._add(ops.CreateSchema(name))

    def drop_schema(self, name: str):
        return self._add(ops.DropSchema(name))

    def bulk_insert(self, table: str, rows: Iterable[dict], columns: Iterable[str] | None = None,
                    schema: str | None = None):
        if isinstance(rows, dict):
            raise TypeError(f"bulk_insert({table!r}): rows must be an iterable of dicts, "
                            "not a single dict")
        return self._add(ops.BulkInsert(table, rows, tuple(columns) if columns else None,
                                        schema=schema))

    def execute(self, sql: str, dialects: Iterable[str] | str | None = None):
        if isinstance(dialects, str):
            dialects = (dialects,)
        return self._add(ops.Execute(str(sql), tuple(dialects) if dialects else None))
