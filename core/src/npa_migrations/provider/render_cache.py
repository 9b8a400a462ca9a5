"""Render templates: the SQL of an operation compiled once per *shape*, names filled in.

A Python migration's ``create_table`` / ``create_index`` / ``drop_table`` /
``drop_index`` is compiled by SQLAlchemy from a stub ``Table`` (and ``Index``); building
and compiling those objects costs ≈ 0.5 ms per operation, most of the time a builder
migration spends outside the database. Migrations repeat the same shapes with other
names (a table of an ``id`` and a ``VARCHAR(100)``, an index on one column), so
:class:`RenderCache` renders an operation once with placeholder names, keeps the SQL as
a template, and fills the next operation of the same shape with its own names, each
quoted by the dialect's preparer -- what the DDL compiler writes for a name.

The SQL must be byte-identical to rendering the operation itself, so a shape is cached
only when that is certain:

- only plain shapes: names of letters, digits and ``_`` (at most 30 characters, so no
  limit or truncation applies), columns without foreign keys, constraints, identity,
  computed or Python-side defaults, indexes or dialect options, types of SQLAlchemy's
  own (their state, not just their name, is part of the key), no table-level
  constraints; anything else is rendered directly, every time;
- a template is kept only if each placeholder stands as a whole name in the SQL (not
  inside a longer name a provider derived from it) and a second rendering with names the
  dialect must quote (mixed case, a space) equals the template filled with those names;
  otherwise the shape is remembered as not cacheable;
- an operation the provider reads the live schema for (``reads_live_schema``) is never
  cached, and a provider whose SQL depends on more than the operation turns the cache
  off with :attr:`SqlGenerator.cache_renders
  <npa_migrations.provider.sql.SqlGenerator.cache_renders>`.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any, Callable

from .. import operations as ops

if TYPE_CHECKING:  # pragma: no cover
    from .context import RenderContext
    from .sql import SqlGenerator

_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,29}")
_PLACEHOLDER = "npaqz"
_SLOT = re.compile(r"(?<![A-Za-z0-9_$#@])npaqz(\d{3})a(?![A-Za-z0-9_$#@])")
#: shapes remembered per generator (a migration set has a few dozen)
MAX_TEMPLATES = 1024

#: a slot of a template: the index of the name and whether it is a schema
Slot = tuple[int, bool]


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


class _Shape:
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


def shape_of(op: ops.MigrationOperation) -> _Shape | None:
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
        return _Shape((op.kind, has_schema, tuple(column_shapes)), names, schemas, build_table)

    if type(op) is ops.CreateIndex:
        if not (_plain(op.name) and _plain(op.table) and op.columns
                and all(_plain(c) for c in op.columns)):
            return None
        if op.schema is not None and not _plain(op.schema):
            return None
        if op.where is not None and (not isinstance(op.where, str) or _PLACEHOLDER in op.where):
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
        return _Shape((op.kind, has_schema, count, bool(unique), where), names, schemas,
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
        return _Shape((op.kind, has_schema), names, schemas, build_drop)
    return None


def _placeholders(count: int, form: str) -> list[str]:
    if form == "a":
        return [f"{_PLACEHOLDER}{i:03d}a" for i in range(count)]
    return [f"Npa Qz{i:03d}b" for i in range(count)]


class _Template:
    """Rendered SQL with the names cut out: per statement, text pieces between slots."""

    def __init__(self, statements: list[tuple[list[str], list[Slot]]]):
        self.statements = statements

    def fill(self, quoted: list[str]) -> list[str]:
        out = []
        for pieces, slots in self.statements:
            parts = [pieces[0]]
            for (index, _), piece in zip(slots, pieces[1:]):
                parts.append(quoted[index])
                parts.append(piece)
            out.append("".join(parts))
        return out


def _cut(statements: list[str], count: int, schemas: list[bool]) -> _Template | None:
    """The template of SQL rendered with placeholder names; ``None`` when a placeholder
    is part of a longer word (a name the provider derived from it)."""
    cut = []
    for sql in statements:
        matches = list(_SLOT.finditer(sql))
        if len(matches) != sql.count(_PLACEHOLDER):
            return None
        pieces, slots, start = [], [], 0
        for match in matches:
            index = int(match.group(1))
            if index >= count:
                return None
            pieces.append(sql[start:match.start()])
            slots.append((index, schemas[index]))
            start = match.end()
        pieces.append(sql[start:])
        cut.append((pieces, slots))
    return _Template(cut)


class RenderCache:
    """The templates of one :class:`~npa_migrations.provider.sql.SqlGenerator`, keyed by
    the operation's shape and what the dialect is (its name and server version)."""

    def __init__(self, generator: "SqlGenerator"):
        self.generator = generator
        self.templates: dict[tuple, _Template | None] = {}

    def render(self, op: ops.MigrationOperation, context: "RenderContext",
               method: Callable[[Any, Any], Any]) -> list[str] | None:
        """The statements of ``op`` from a template, or ``None`` when it has to be
        rendered directly (not a cacheable shape)."""
        if type(op) not in SHAPED_TYPES:  # e.g. each statement of a large .sql file
            return None
        generator = self.generator
        if generator.reads_live_schema(op):
            return None
        shape = shape_of(op)
        if shape is None:
            return None
        dialect = generator.ddl_dialect
        key = (shape.key, dialect.name, getattr(dialect, "server_version_info", None))
        if key in self.templates:
            template = self.templates[key]
        else:
            if len(self.templates) >= MAX_TEMPLATES:
                return None
            template = self.templates[key] = self._build(shape, context, method)
        if template is None:
            return None
        return template.fill(self._quoted(shape.names, shape.schemas))

    def _quoted(self, names: list[str], schemas: list[bool]) -> list[str]:
        preparer = self.generator.preparer
        return [preparer.quote_schema(n) if schema else preparer.quote(n)
                for n, schema in zip(names, schemas)]

    def _build(self, shape: _Shape, context: "RenderContext",
               method: Callable[[Any, Any], Any]) -> _Template | None:
        count = len(shape.names)
        try:
            first = list(method(shape.build(_placeholders(count, "a")), context))
            names = _placeholders(count, "b")
            second = list(method(shape.build(names), context))
        except Exception:  # the operation's own rendering reports it, with its names
            return None
        if not all(type(s) is str for s in first + second):
            return None
        template = _cut(first, count, shape.schemas)
        if template is None or template.fill(self._quoted(names, shape.schemas)) != second:
            return None
        return template
