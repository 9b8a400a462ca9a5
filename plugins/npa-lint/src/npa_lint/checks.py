"""Checks of builder operations (``b.add_column(...)`` etc.), one function per kind.

Each returns :class:`Hit` objects: a rule id, a message naming the table and column, and
the table it concerns. The engine (:mod:`npa_lint.engine`) drops hits on tables created
earlier in the same migration (or run), keeps ``rewrite-large-table`` hits only when the
live row estimate reaches the threshold, and applies ignores and severities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from npa_migrations import operations as ops
from npa_migrations.schema.typechange import narrowing, widens_string

from . import rules

if TYPE_CHECKING:  # pragma: no cover
    from npa_migrations.provider import BaseProvider
    from npa_migrations.schema.model import SchemaModel


@dataclass(frozen=True)
class Hit:
    """A rule matched. ``table`` is ``(schema, name)`` of the table concerned; ``fix``
    replaces the rule's general advice when there is a more specific one."""

    rule: str
    message: str
    table: tuple[str | None, str] | None = None
    fix: str | None = None


@dataclass
class OperationContext:
    """What a check may look at: the provider, the schema model as it is before the
    operation (replayed from the earlier migrations), and the SQL the operation renders
    to (through the ``npa_generate_sql`` hook, so SQL overrides of plugins count)."""

    provider: "BaseProvider"
    model: "SchemaModel"
    generate: Callable[[ops.MigrationOperation], list[str]]

    @property
    def dialect(self) -> str:
        return self.provider.dialect.name

    def existing_type(self, op: ops.AlterColumn) -> Any:
        """The column's type before ``op``: ``existing_type``, else the schema model's."""
        if op.existing_type is not None:
            return op.existing_type
        table = self.model.get(op.table, op.schema)
        column = table.column(op.column_name) if table is not None else None
        from npa_migrations.schema.model import UNKNOWN

        if column is None or column.type is UNKNOWN:
            return None
        return column.type


def _name(table: str, schema: str | None) -> str:
    return f"{schema}.{table}" if schema else table


#: PostgreSQL functions whose value differs per row: a default calling one rewrites the
#: whole table when the column is added (constant defaults are metadata-only since PG 11)
VOLATILE_DEFAULT = re.compile(
    r"\b(random|clock_timestamp|timeofday|gen_random_uuid|uuid_generate_v[14]\w*|nextval)"
    r"\s*\(", re.IGNORECASE)


def default_text(default: Any) -> str | None:
    """The SQL text of a column's server default, or ``None``."""
    if default is None:
        return None
    arg = getattr(default, "arg", default)
    return str(getattr(arg, "text", arg))


def _rebuilds(ctx: OperationContext) -> bool:
    """Whether ALTERs beyond ADD COLUMN / RENAME rebuild the table (SQLite)."""
    return not ctx.provider.capabilities.alter_in_place


def check_add_column(ctx: OperationContext, op: ops.AddColumn) -> list[Hit]:
    column, table = op.column, (op.schema, op.table)
    hits = []
    default = default_text(column.server_default)
    generated = column.identity is not None or column.computed is not None
    if not column.nullable and default is None and not generated:
        hits.append(Hit(rules.ADD_NOT_NULL_COLUMN.id,
                        f"Adding NOT NULL column '{column.name}' without a server default to "
                        f"existing table '{_name(op.table, op.schema)}': it fails as soon as "
                        "the table has rows (MySQL instead fills in an implicit value "
                        "silently).", table))
    if ctx.dialect == "postgresql" and (
            (default is not None and VOLATILE_DEFAULT.search(default)) or generated):
        hits.append(Hit(rules.REWRITE_LARGE_TABLE.id,
                        f"Adding column '{column.name}' with a per-row default "
                        f"({default or 'identity/generated'}) rewrites every row of "
                        f"'{_name(op.table, op.schema)}' under an ACCESS EXCLUSIVE lock",
                        table, "Add the column without a default (or with a constant one), "
                        "backfill it in batches, then set the default."))
    return hits


def check_drop_column(ctx: OperationContext, op: ops.DropColumn) -> list[Hit]:
    table = (op.schema, op.table)
    hits = [Hit(rules.DROP_COLUMN.id,
                f"Dropping column '{op.column_name}' of '{_name(op.table, op.schema)}' loses "
                "its data for good and breaks running application code that still reads "
                "or writes it.", table)]
    if not ctx.provider.capabilities.drop_column:
        hits.append(_rebuild_hit(ctx, op, table))
    return hits


def check_drop_table(ctx: OperationContext, op: ops.DropTable) -> list[Hit]:
    return [Hit(rules.DROP_TABLE.id,
                f"Dropping table '{_name(op.table, op.schema)}' loses all of its rows for "
                "good and breaks running application code that still uses it.",
                (op.schema, op.table))]


def check_rename_table(ctx: OperationContext, op: ops.RenameTable) -> list[Hit]:
    return [Hit(rules.RENAME_TABLE.id,
                f"Renaming table '{_name(op.table, op.schema)}' to '{op.new_name}' breaks "
                "every running instance of the application that still uses the old name "
                "(during a rolling deploy the previous release keeps running).",
                (op.schema, op.table))]


def _rename_column_hit(op: Any, new_name: str) -> Hit:
    return Hit(rules.RENAME_COLUMN.id,
               f"Renaming column '{op.column_name}' of '{_name(op.table, op.schema)}' to "
               f"'{new_name}' breaks every running instance of the application that still "
               "uses the old name (during a rolling deploy the previous release keeps "
               "running).", (op.schema, op.table))


def check_rename_column(ctx: OperationContext, op: ops.RenameColumn) -> list[Hit]:
    return [_rename_column_hit(op, op.new_column_name)]


def check_alter_column(ctx: OperationContext, op: ops.AlterColumn) -> list[Hit]:
    table = (op.schema, op.table)
    where = f"column '{op.column_name}' of '{_name(op.table, op.schema)}'"
    hits = []
    if op.type_ is not ops.UNCHANGED:
        old = ctx.existing_type(op)
        narrowed = narrowing(old, op.type_) if old is not None else None
        if narrowed:
            hits.append(Hit(rules.NARROW_COLUMN_TYPE.id,
                            f"Changing {where} from {_type_name(old)} to "
                            f"{_type_name(op.type_)} {narrowed}: existing values that do not "
                            "fit make the migration fail (or, on MySQL without strict mode, "
                            "are silently truncated).", table))
        if _rebuilds(ctx) or not (old is not None and widens_string(old, op.type_)):
            hits.append(Hit(rules.REWRITE_LARGE_TABLE.id,
                            f"Changing the type of {where} rewrites every row under a lock "
                            "that blocks reads and writes", table,
                            "Add a column of the new type, backfill it in batches, switch the "
                            "application over, then drop the old column."))
    if op.nullable is False and not _rebuilds(ctx):
        hits.append(Hit(rules.REWRITE_LARGE_TABLE.id,
                        f"Making {where} NOT NULL scans every row while holding a lock that "
                        "blocks writes", table,
                        "PostgreSQL: add CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT "
                        "in another migration, then SET NOT NULL (it uses the check). Else "
                        "run it in a maintenance window."))
    elif _rebuilds(ctx) and (op.nullable is not ops.UNCHANGED
                             or op.server_default is not ops.UNCHANGED) \
            and op.type_ is ops.UNCHANGED:
        hits.append(_rebuild_hit(ctx, op, table))
    if op.new_column_name is not ops.UNCHANGED:
        hits.append(_rename_column_hit(op, op.new_column_name))
    return hits


def check_create_index(ctx: OperationContext, op: ops.CreateIndex) -> list[Hit]:
    if ctx.dialect != "postgresql":
        return []
    if any("CONCURRENTLY" in sql.upper() for sql in ctx.generate(op)):
        return []  # a plugin (npa-concurrent-index) renders it concurrently
    return [Hit(rules.CREATE_INDEX_NOT_CONCURRENTLY.id,
                f"Creating index '{op.name}' on existing table '{_name(op.table, op.schema)}' "
                "without CONCURRENTLY blocks every INSERT, UPDATE and DELETE on the table "
                "until the index is built.", (op.schema, op.table))]


def check_constraint(ctx: OperationContext, op: ops.MigrationOperation) -> list[Hit]:
    table = (op.schema, op.table)
    if _rebuilds(ctx):
        return [_rebuild_hit(ctx, op, table)]
    if isinstance(op, (ops.CreateForeignKey, ops.CreateCheckConstraint)):
        return [Hit(rules.REWRITE_LARGE_TABLE.id,
                    f"Adding constraint '{op.name}' to '{_name(op.table, op.schema)}' checks "
                    "every existing row while holding a lock that blocks writes", table,
                    "PostgreSQL: add it NOT VALID (b.execute('ALTER TABLE ... ADD CONSTRAINT "
                    "... NOT VALID')), then VALIDATE CONSTRAINT in a later migration, which "
                    "does not block writes.")]
    return [Hit(rules.REWRITE_LARGE_TABLE.id,
                f"Adding constraint '{op.name}' to '{_name(op.table, op.schema)}' builds a "
                "unique index over every row while holding a lock that blocks writes", table,
                "PostgreSQL: CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... "
                "USING INDEX.")]


def _rebuild_hit(ctx: OperationContext, op: ops.MigrationOperation, table) -> Hit:
    return Hit(rules.REWRITE_LARGE_TABLE.id,
               f"{op.describe()} rebuilds '{_name(table[1], table[0])}' on "
               f"{ctx.provider.name} (copy into a new table, drop, rename), holding the "
               "database's write lock for the whole copy", table)


HANDLERS: dict[type, Callable[[OperationContext, Any], list[Hit]]] = {
    ops.AddColumn: check_add_column,
    ops.DropColumn: check_drop_column,
    ops.DropTable: check_drop_table,
    ops.RenameTable: check_rename_table,
    ops.RenameColumn: check_rename_column,
    ops.AlterColumn: check_alter_column,
    ops.CreateIndex: check_create_index,
    ops.CreateForeignKey: check_constraint,
    ops.CreateCheckConstraint: check_constraint,
    ops.CreatePrimaryKey: check_constraint,
    ops.CreateUniqueConstraint: check_constraint,
}


# --------------------------------------------------------------------------------------
# types
# --------------------------------------------------------------------------------------

def _type(type_: Any) -> Any:
    from npa_migrations.provider import type_instance

    return type_instance(type_)


def _type_name(type_: Any) -> str:
    return repr(_type(type_))
