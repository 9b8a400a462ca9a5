"""What a rebuild's operations do to its table: followed through column names first
(renames are done in place before the table is read, so the database itself rewrites
what mentions the renamed columns), then applied to the :class:`~.shape.TableShape`.

What a dropped column takes with it follows PostgreSQL's ``DROP COLUMN``: indexes and
table constraints (primary key, unique, foreign key, CHECK) that involve it go too; a
generated column computed from it, or a trigger that mentions it, is an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

from ... import operations as ops
from ...operations import UNCHANGED
from ...schema.model import fold, same_name
from ...sqla import constraint_name
from .shape import ColumnShape, ConstraintShape, TableShape

if TYPE_CHECKING:  # pragma: no cover
    from .procedure import TableRebuild

#: the prefix of temporary column names when renames swap names
TMP_COLUMN_PREFIX = "_npa_col_"


@dataclass(eq=False)
class TrackedColumn:
    """A column followed through the operations by identity (its name may change).

    :ivar original: its name in the table before the rebuild (after the in-place
        renames: the name the copy reads); ``None`` for a column the rebuild adds.
    :ivar current: its name after the operations so far.
    """

    original: str | None
    current: str
    dropped: bool = False
    shape: ColumnShape | None = None


class TableChanges:
    """The operations of one rebuild resolved against the table's column names.

    :param rebuild: the rebuild (its table, SQL generator and error messages).
    :param column_names: the live table's columns, in order.
    """

    def __init__(self, rebuild: "TableRebuild", column_names: Sequence[str]):
        self.rebuild = rebuild
        self.columns = [TrackedColumn(name, name) for name in column_names]
        #: each operation with what it targets (a column, columns, or nothing)
        self.targets: list[tuple[ops.MigrationOperation, Any]] = [
            (op, self._resolve(op)) for op in rebuild.operations]

    # -- names ----------------------------------------------------------------------------
    def _live(self, name: str, op: ops.MigrationOperation) -> TrackedColumn:
        alive = [c for c in self.columns if not c.dropped]
        found = (next((c for c in alive if c.current == name), None)
                 or next((c for c in alive if same_name(c.current, name)), None))
        if found is None:
            raise self.rebuild.error(
                f"{op.describe()}: column '{name}' does not exist "
                f"(columns: {', '.join(c.current for c in alive)}).")
        return found

    def _free(self, name: str, op: ops.MigrationOperation, own: TrackedColumn | None = None
              ) -> str:
        self.rebuild.sql.check_identifier(name, "column")
        for column in self.columns:
            if column is not own and not column.dropped and same_name(column.current, name):
                raise self.rebuild.error(
                    f"{op.describe()}: a column named '{column.current}' already exists.")
        return name

    def _resolve(self, op: ops.MigrationOperation) -> Any:
        if isinstance(op, (ops.AlterColumn, ops.RenameColumn)):
            column = self._live(op.column_name, op)
            if op.new_column_name is not UNCHANGED:
                column.current = self._free(op.new_column_name, op, column)
            return column
        if isinstance(op, ops.DropColumn):
            column = self._live(op.column_name, op)
            column.dropped = True
            return column
        if isinstance(op, ops.AddColumn):
            column = TrackedColumn(None, self._free(op.column.name, op))
            self.columns.append(column)
            return column
        if isinstance(op, ops.CreateForeignKey):
            local = [self._live(c, op) for c in op.local_cols]
            self_ref = self.rebuild.is_this_table(op.referent, op.referent_schema or op.schema)
            remote = [self._live(c, op) for c in op.remote_cols] if self_ref \
                else list(op.remote_cols)
            return local, remote
        if isinstance(op, (ops.CreatePrimaryKey, ops.CreateUniqueConstraint)):
            return [self._live(c, op) for c in op.columns]
        return None

    def renames(self) -> list[tuple[str, str]]:
        """``(old, new)`` in-place column renames that give surviving columns their final
        names, through temporary names when a final name is still taken in the old
        table; afterwards each column's :attr:`TrackedColumn.original` is the name the
        old table has for it."""
        moving = [c for c in self.columns if c.original is not None and not c.dropped
                  and c.original != c.current]
        if not moving:
            return []
        taken = {fold(c.original) for c in self.columns if c.original is not None}
        if not any(fold(c.current) in taken for c in moving):
            direct = [(c.original, c.current) for c in moving if c.original is not None]
            for column in moving:
                column.original = column.current
            return direct
        # two phases: everything that moves, and every dropped column whose name is
        # wanted, goes to a temporary name first
        wanted = {fold(c.current) for c in moving}
        parked = moving + [c for c in self.columns if c.original is not None and c.dropped
                           and fold(c.original) in wanted]
        used = taken | wanted
        pairs: list[tuple[str, str]] = []
        finals: list[tuple[str, str]] = []
        counter = 0
        for column in parked:
            if column.original is None:  # not in the old table: nothing to move
                continue
            counter += 1
            while fold(f"{TMP_COLUMN_PREFIX}{counter}") in used:
                counter += 1
            temp = f"{TMP_COLUMN_PREFIX}{counter}"
            used.add(fold(temp))
            pairs.append((column.original, temp))
            if column.dropped:
                column.original = temp  # the old table now calls it so
            else:
                finals.append((temp, column.current))
        for column in moving:
            column.original = column.current
        return pairs + finals

    # -- applying ---------------------------------------------------------------------------
    def apply(self, table: TableShape) -> None:
        """Change ``table`` (read after the renames) as the operations say."""
        for column in self.columns:
            if column.original is not None:
                column.shape = table.column(column.original)
        for op, target in self.targets:
            if isinstance(op, ops.AlterColumn):
                self._alter(target.shape, op)
            elif isinstance(op, ops.DropColumn):
                self._drop_column(table, target.shape, op)
            elif isinstance(op, ops.AddColumn):
                target.shape = self._add_column(table, op)
            elif isinstance(op, ops.CreateForeignKey):
                local, remote = target
                self._add_constraint(table, op, ConstraintShape(
                    "foreignkey", op.name, [c.shape for c in local], referent=op.referent,
                    referent_schema=op.referent_schema,
                    remote=[c.shape if isinstance(c, TrackedColumn) else c for c in remote],
                    ondelete=op.ondelete, onupdate=op.onupdate, created=True))
            elif isinstance(op, ops.CreatePrimaryKey):
                existing = table.primary_key()
                if existing is not None:
                    raise self.rebuild.error(
                        f"{op.describe()}: the table already has a primary key "
                        f"({', '.join(c.name for c in existing.columns)}). Drop it first "
                        "with drop_constraint.")
                self._add_constraint(table, op, ConstraintShape(
                    "primary", op.name, [c.shape for c in target], created=True))
            elif isinstance(op, ops.CreateUniqueConstraint):
                self._add_constraint(table, op, ConstraintShape(
                    "unique", op.name, [c.shape for c in target], created=True))
            elif isinstance(op, ops.CreateCheckConstraint):
                self._add_constraint(table, op, ConstraintShape(
                    "check", op.name, sqltext=op.condition, created=True))
            elif isinstance(op, ops.DropConstraint):
                self._drop_constraint(table, op)
            # RenameColumn: done in place; the final names are set below
        for column in self.columns:
            if not column.dropped and column.shape is not None:
                column.shape.name = column.current

    def _alter(self, column: ColumnShape, op: ops.AlterColumn) -> None:
        sql = self.rebuild.sql
        if op.type_ is not UNCHANGED:
            type_ = op.type_() if isinstance(op.type_, type) else op.type_
            sql.compile_type(type_)  # fail here, naming nothing half-done
            column.type = type_
        if op.nullable is not UNCHANGED:
            column.nullable = bool(op.nullable)
        if op.server_default is not UNCHANGED:
            column.default = (None if op.server_default is None
                              else sql.render_default(op.server_default))

    def _drop_column(self, table: TableShape, column: ColumnShape, op: ops.DropColumn) -> None:
        name = fold(column.name)
        names_in = self.rebuild.sql.names_in_sql
        users = [c.name for c in table.columns
                 if c is not column and c.computed and name in names_in(c.computed[0])]
        if users:
            raise self.rebuild.error(f"{op.describe()}: generated column(s) "
                                     f"{', '.join(users)} are computed from it; drop or "
                                     "change them first.")
        triggers = [t.name for t in table.triggers if name in t.uses]
        if triggers:
            raise self.rebuild.error(f"{op.describe()}: trigger(s) {', '.join(triggers)} use "
                                     "the column; drop them first (and recreate them "
                                     "without it).")
        table.columns.remove(column)
        table.constraints = [c for c in table.constraints
                             if not constraint_involves(c, column, names_in)]
        table.indexes = [i for i in table.indexes if name not in i.uses]

    def _add_column(self, table: TableShape, op: ops.AddColumn) -> ColumnShape:
        import sqlalchemy as sa

        sql = self.rebuild.sql
        column = op.column
        if isinstance(column.type, sa.types.NullType):
            raise self.rebuild.error(f"{op.describe()}: the column has no type.")
        computed = None
        if column.computed is not None:
            computed = (sql.compile_literal(column.computed.sqltext), column.computed.persisted)
        default = (sql.render_default(column.server_default)
                   if column.server_default is not None else None)
        added = ColumnShape(column.name, column.type, bool(column.nullable), default, computed)
        table.columns.append(added)
        if column.primary_key:
            if table.primary_key() is not None:
                raise self.rebuild.error(f"{op.describe()}: the table already has a primary "
                                         "key.")
            table.constraints.append(ConstraintShape("primary", None, [added], created=True))
        if column.unique:
            table.constraints.append(ConstraintShape("unique", None, [added], created=True))
        for fk in column.foreign_keys:
            referent, _, remote = fk._get_colspec().rpartition(".")
            referent_schema, _, referent = referent.rpartition(".")
            self_ref = self.rebuild.is_this_table(referent, referent_schema or op.schema)
            table.constraints.append(ConstraintShape(
                "foreignkey", fk.name, [added], referent=referent,
                referent_schema=referent_schema or None,
                remote=[table.column(remote) if self_ref else remote],
                ondelete=fk.ondelete, onupdate=fk.onupdate, deferrable=fk.deferrable,
                initially=fk.initially, created=True))
        for constraint in column.constraints:
            if isinstance(constraint, sa.CheckConstraint):
                table.constraints.append(ConstraintShape(
                    "check", constraint_name(constraint),
                    sqltext=sql.compile_literal(constraint.sqltext), created=True))
        return added

    def _add_constraint(self, table: TableShape, op: Any, constraint: ConstraintShape) -> None:
        self.rebuild.sql.check_identifier(op.name, "constraint")
        if any(c.name is not None and same_name(c.name, op.name) for c in table.constraints):
            raise self.rebuild.error(f"{op.describe()}: a constraint named '{op.name}' "
                                     "already exists on the table.")
        table.constraints.append(constraint)

    def _drop_constraint(self, table: TableShape, op: ops.DropConstraint) -> None:
        named = [c for c in table.constraints if c.name is not None
                 and op.type_ in (None, c.kind)]
        found = (next((c for c in named if c.name == op.name), None)
                 or next((c for c in named if same_name(c.name, op.name)), None))
        if found is not None:
            table.constraints.remove(found)
            return
        listed = [c.describe() for c in table.constraints if c.name]
        raise self.rebuild.error(
            f"{op.describe()}: the table has no {op.type_ + ' ' if op.type_ else ''}"
            f"constraint named '{op.name}' (named constraints: "
            f"{', '.join(listed) if listed else 'none'}). Unnamed constraints cannot be "
            "dropped by name.")


def constraint_involves(constraint: ConstraintShape, column: ColumnShape,
                        names_in: Any) -> bool:
    """Whether ``constraint`` constrains or references ``column``, or (a check) mentions
    it; ``names_in`` is :meth:`~npa_migrations.provider.SqlGenerator.names_in_sql`."""
    return (column in constraint.columns or column in constraint.remote
            or (constraint.kind == "check"
                and fold(column.name) in names_in(constraint.sqltext or "")))


def column_is_used(table: TableShape, column: ColumnShape, names_in: Any) -> bool:
    """Whether an index, a constraint or a generated column of ``table`` depends on
    ``column`` (so dropping it changes more than the column)."""
    name = fold(column.name)
    return (any(constraint_involves(c, column, names_in) for c in table.constraints)
            or any(name in i.uses for i in table.indexes)
            or any(c.computed and name in names_in(c.computed[0]) for c in table.columns))
