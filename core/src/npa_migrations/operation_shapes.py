"""Operation shapes: an operation split into what decides its SQL and its model (the
*shape*, a hashable key) and the names filled into it.

Migrations repeat the same shapes with other names -- a table of an ``id`` and a
``VARCHAR(100)``, an index on one column -- so work that depends only on the shape is
done once per shape: the render cache
(:mod:`npa_migrations.provider.render_cache`) compiles an operation's SQL once and fills
in the names; the schema model (:func:`npa_migrations.schema.model.created_table`) asks
SQLAlchemy's ``Table`` what it decides about a ``create_table`` once.

A shape is found only for plain operations (:func:`shape_of`): names of letters, digits
and ``_`` (at most 30 characters), columns of SQLAlchemy's own types without foreign
keys, constraints, identity, computed or Python-side defaults, indexes or dialect
options, and no table-level constraints; the type's whole state, not just its name, is
part of the key. Anything else has no shape and is handled directly, every time.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Callable

from . import operations as ops

_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,29}")
#: the word the render cache writes for a name; an operation whose SQL text holds it
#: (a partial index's predicate) has no shape
PLACEHOLDER = "npaqz"


def _plain(name: Any) -> bool:
    return (isinstance(name, str) and getattr(name, "quote", None) is None
            and _PLAIN_NAME.fullmatch(name) is not None)


def _column_shape(column: Any) -> tuple | None:
    """The parts of a column that decide its DDL besides its name, or ``None`` when the
    column holds anything this cache does not reproduce."""
    import sqlalchemy as sa

    if type(column) is not sa.Column or not _plain(column.name) or column.key != column.name:
        return None
    type_ = column.type
    if not type(type_).__module__.startswith("sqlalchemy."):
        return None
    if (column.foreign_keys or column.constraints or column.default is not None
            or column.onupdate is not None or column.server_onupdate is not None
            or column.identity is not None or column.computed is not None
            or column.index or column.unique or column.system or _has_dialect_kwargs(column)):
        return None
    default = column.server_default
    if default is None:
        default_key: Any = None
    elif type(default) is sa.DefaultClause and not default.for_update:
        arg = default.arg
        if isinstance(arg, str):
            default_key = ("str", arg)
        elif type(arg) is sa.sql.elements.TextClause:
            default_key = ("text", arg.text)
        else:
            return None
    else:
        return None
    try:  # the type's whole state (its class says the rest); a repr, as values may not hash
        state = repr(vars(type_))
    except TypeError:  # no __dict__
        return None
    return (type(type_), state,
            column.nullable, repr(getattr(column, "_user_defined_nullable", None)),
            column.primary_key,
            repr(column.autoincrement), default_key, column.comment)


def _has_dialect_kwargs(column: Any) -> bool:
    """Whether ``column`` holds dialect-specific arguments (``sqlite_on_conflict_not_null``
    ...). SQLAlchemy keeps them in ``dialect_options``, built on first use and then kept
    in the column's ``__dict__`` (a memoized property): a column whose options were never
    built holds none, and building them to find out would be most of what a column's
    shape costs. Where this SQLAlchemy does not keep them so
    (:func:`_dialect_options_memoized`), every column is asked."""
    if _dialect_options_memoized() and "dialect_options" not in vars(column):
        return False
    return bool(column.dialect_kwargs)


@functools.cache
def _dialect_options_memoized() -> bool:
    """Whether a column given a dialect argument holds ``dialect_options`` in its
    ``__dict__`` and one given none does not (checked once, on this SQLAlchemy)."""
    import sqlalchemy as sa

    try:
        given = sa.Column("probe", sa.Integer, sqlite_on_conflict_not_null="FAIL")
        plain = sa.Column("probe", sa.Integer)
        return ("dialect_options" in vars(given) and "dialect_options" not in vars(plain)
                and bool(given.dialect_kwargs))
    except Exception:  # another SQLAlchemy: ask every column
        return False


class Shape:
    """An operation split into its shape (the key) and its names (the slots' values)."""

    def __init__(self, key: tuple, names: list[str], schemas: list[bool],
                 build: Callable[[list[str]], ops.MigrationOperation]):
        self.key = key
        self.names = names
        self.schemas = schemas
        self.build = build


def _rename_column(column: Any, name: str) -> Any:
    copy = column._copy()
    copy.name = name
    copy.key = name
    return copy


#: the operations :func:`shape_of` may find a shape for (of these types exactly)
SHAPED_TYPES = frozenset({ops.CreateTable, ops.CreateIndex, ops.DropTable, ops.DropIndex})


def shape_of(op: ops.MigrationOperation) -> Shape | None:
    """The shape of ``op`` when it is one this cache handles, else ``None``."""
    names: list[str] = []
    schemas: list[bool] = []

    def slot(name: str, schema: bool = False) -> int:
        names.append(name)
        schemas.append(schema)
        return len(names) - 1

    if type(op) is ops.CreateTable:
        if op.constraints or not op.columns or not _plain(op.table):
            return None
        if op.schema is not None and not _plain(op.schema):
            return None
        column_shapes = [_column_shape(c) for c in op.columns]
        if any(s is None for s in column_shapes):
            return None
        slot(op.table)
        has_schema = op.schema is not None
        if op.schema is not None:
            slot(op.schema, True)
        columns = op.columns
        for column in columns:
            slot(column.name)

        def build_table(values: list[str]) -> ops.MigrationOperation:
            offset = 2 if has_schema else 1
            return ops.CreateTable(values[0], tuple(
                _rename_column(c, values[offset + i]) for i, c in enumerate(columns)),
                schema=values[1] if has_schema else None)
        return Shape((op.kind, has_schema, tuple(column_shapes)), names, schemas, build_table)

    if type(op) is ops.CreateIndex:
        if not (_plain(op.name) and _plain(op.table) and op.columns
                and all(_plain(c) for c in op.columns)):
            return None
        if op.schema is not None and not _plain(op.schema):
            return None
        if op.where is not None and (not isinstance(op.where, str) or PLACEHOLDER in op.where):
            return None
        slot(op.name)
        slot(op.table)
        has_schema = op.schema is not None
        if op.schema is not None:
            slot(op.schema, True)
        count = len(op.columns)
        for column in op.columns:
            slot(column)
        unique, where = op.unique, op.where

        def build_index(values: list[str]) -> ops.MigrationOperation:
            return ops.CreateIndex(values[0], values[1], tuple(values[-count:]), unique=unique,
                                   schema=values[2] if has_schema else None, where=where)
        return Shape((op.kind, has_schema, count, bool(unique), where), names, schemas,
                      build_index)

    if type(op) is ops.DropTable or type(op) is ops.DropIndex:
        index_name = op.name if isinstance(op, ops.DropIndex) else None
        schema = op.schema
        if not _plain(op.table) or (index_name is not None and not _plain(index_name)):
            return None
        if schema is not None and not _plain(schema):
            return None
        if index_name is not None:
            slot(index_name)
        slot(op.table)
        if schema is not None:
            slot(schema, True)
        has_schema = schema is not None

        def build_drop(values: list[str]) -> ops.MigrationOperation:
            if index_name is None:
                return ops.DropTable(values[0], schema=values[1] if has_schema else None)
            return ops.DropIndex(values[0], values[1], schema=values[2] if has_schema else None)
        return Shape((op.kind, has_schema), names, schemas, build_drop)
    return None
