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

- only plain shapes (:func:`~npa_migrations.operation_shapes.shape_of`): names of
  letters, digits and ``_`` (at most 30 characters, so no limit or truncation applies),
  columns without foreign keys, constraints, identity, computed or Python-side
  defaults, indexes or dialect options, types of SQLAlchemy's own (their state, not
  just their name, is part of the key), no table-level constraints; anything else is
  rendered directly, every time;
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

import re
from typing import TYPE_CHECKING, Any, Callable

from .. import operations as ops
from ..operation_shapes import PLACEHOLDER, SHAPED_TYPES, Shape, shape_of

if TYPE_CHECKING:  # pragma: no cover
    from .context import RenderContext
    from .sql import SqlGenerator

_SLOT = re.compile(r"(?<![A-Za-z0-9_$#@])npaqz(\d{3})a(?![A-Za-z0-9_$#@])")
#: shapes remembered per generator (a migration set has a few dozen)
MAX_TEMPLATES = 1024

#: a slot of a template: the index of the name and whether it is a schema
Slot = tuple[int, bool]


def _placeholders(count: int, form: str) -> list[str]:
    if form == "a":
        return [f"{PLACEHOLDER}{i:03d}a" for i in range(count)]
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
        if len(matches) != sql.count(PLACEHOLDER):
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

    def _build(self, shape: Shape, context: "RenderContext",
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
