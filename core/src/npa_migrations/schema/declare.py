"""Model objects as the builder operations that declare them: a table as its
``create_table`` (columns, keys, constraints) and ``create_index`` calls, a column as an
``sa.Column``, a foreign key as ``create_foreign_key`` -- what autogenerate writes to
create something the models have, and, in ``down()``, to recreate what it drops.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Callable, Iterable

from .. import operations as ops
from .model import UNKNOWN, ColumnModel, TableModel, fold, same_name

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

    from ..provider.base import BaseProvider


def generated_name(prefix: str, table: str, columns: Iterable[str], limit: int) -> str:
    """A constraint name for a constraint the models leave unnamed, e.g.
    ``fk_orders_customer_id``; a long one is cut and ends with a hash, to fit ``limit``
    bytes."""
    name = "_".join([prefix, table, *columns])
    if len(name.encode("utf-8")) <= limit:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    cut = name.encode("utf-8")[:limit - 9].decode("utf-8", "ignore")
    return f"{cut}_{digest}"


class Declarer:
    """Turns model objects into the SQLAlchemy objects and operations a migration
    declares.

    :param provider: the provider of the configured database.
    :param live: the models were read from a database, so server defaults are SQL text.
    """

    def __init__(self, provider: "BaseProvider", live: bool):
        self.provider = provider
        self.live = live

    def default(self, column: ColumnModel) -> Any:
        """The server default as a migration declares it (``None``: no default)."""
        import sqlalchemy as sa

        default = column.default
        if default is None or default is UNKNOWN:
            return None
        if self.live:
            # an autoincrement column's default is the database's own sequence/identity
            return None if column.autoincrement else sa.text(str(default))
        return getattr(default, "arg", default)

    def column(self, column: ColumnModel, single_integer_key: bool = False) -> "sa.Column":
        """The ``sa.Column`` of a column model; ``single_integer_key``: it is the table's
        only key column and an integer, so ``autoincrement=False`` is said when the model
        does not auto-increment it."""
        import sqlalchemy as sa

        from ..sqla import type_instance

        kwargs: dict[str, Any] = {}
        default = self.default(column)
        if default is not None:
            kwargs["server_default"] = default
        if column.comment not in (None, UNKNOWN):
            kwargs["comment"] = column.comment
        if single_integer_key and not column.autoincrement:
            kwargs["autoincrement"] = False
        type_ = sa.types.NullType() if column.type is UNKNOWN else type_instance(column.type)
        return sa.Column(column.name, type_, nullable=column.nullable is not False, **kwargs)

    def create_table(self, table: TableModel, inline_fks: Callable[[Any], bool] = lambda fk: True
                     ) -> list[ops.MigrationOperation]:
        """``create_table`` with its columns, primary key, unique, check and foreign-key
        constraints (those ``inline_fks`` accepts), then ``create_index`` for its
        indexes."""
        import sqlalchemy as sa

        key = tuple(table.primary_key) if table.primary_key is not UNKNOWN else ()
        single = len(key) == 1 and _is_integer(table.column(key[0]))
        columns = [self.column(c, single and same_name(c.name, key[0]))
                   for c in table.columns.values()]
        constraints: list[Any] = []
        if key:
            constraints.append(sa.PrimaryKeyConstraint(*key, name=table.primary_key_name))
        for fk in sorted(table.foreign_keys, key=by_columns):
            if inline_fks(fk):
                constraints.append(sa.ForeignKeyConstraint(
                    list(fk.columns), [_colspec(fk, c) for c in fk.referred_columns],
                    name=fk.name, ondelete=fk.ondelete, onupdate=fk.onupdate))
        constraints += [sa.UniqueConstraint(*u.columns, name=u.name)
                        for u in sorted(table.uniques, key=by_columns)]
        constraints += [sa.CheckConstraint(c.sqltext, name=c.name)
                        for c in sorted(table.checks, key=lambda c: c.name or "") if c.sqltext]
        out: list[ops.MigrationOperation] = [
            ops.CreateTable(table.name, tuple(columns), tuple(constraints), schema=table.schema)]
        return out + [self.create_index(table, index)
                      for index in sorted(table.indexes.values(), key=lambda i: i.name or "")]

    def create_index(self, table: TableModel, index: Any) -> ops.CreateIndex:
        """``create_index`` of an index model of ``table``."""
        return ops.CreateIndex(index.name, table.name, tuple(index.columns),
                               unique=bool(index.unique), schema=table.schema,
                               where=index.where)

    def create_foreign_key(self, table: TableModel, fk: Any, name: str
                           ) -> ops.CreateForeignKey:
        """``create_foreign_key`` of a foreign-key model of ``table``, named ``name``."""
        return ops.CreateForeignKey(name, table.name, fk.referred_table, tuple(fk.columns),
                                    tuple(fk.referred_columns), ondelete=fk.ondelete,
                                    onupdate=fk.onupdate, schema=table.schema,
                                    referent_schema=fk.referred_schema)


def by_columns(constraint: Any) -> tuple:
    """Sort key of a model's unique or foreign-key constraint (kept in a set by
    SQLAlchemy, so in no stable order)."""
    return (tuple(fold(c) for c in constraint.columns), constraint.name or "")


def _colspec(fk: Any, column: str) -> str:
    parts = [fk.referred_schema, fk.referred_table, column]
    return ".".join(p for p in parts if p)


def _is_integer(column: ColumnModel | None) -> bool:
    import sqlalchemy as sa

    if column is None or column.type is UNKNOWN:
        return False
    return isinstance(column.type, sa.Integer) or (
        isinstance(column.type, type) and issubclass(column.type, sa.Integer))
