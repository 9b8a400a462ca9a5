"""The table a rebuild works on: what it reads from the database, then changes as the
operations say, then creates.

These are plain objects so that any source can fill them: the generic reflection
(:mod:`.reflect`), a provider's corrections of it
(:meth:`~npa_migrations.provider.SqlGenerator.reflect_rebuild_table`) and, later, a
schema model replayed offline. Columns are referred to by identity, not by name, so a
constraint follows its column through renames and is dropped with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...schema.model import same_name

#: what error messages call each constraint kind
CONSTRAINT_LABELS = {"primary": "primary key", "unique": "unique constraint",
                     "check": "check constraint", "foreignkey": "foreign key"}


@dataclass(eq=False)
class ColumnShape:
    """One column of the table.

    :ivar name: the column's name in the new table.
    :ivar type: a SQLAlchemy type (or any type object the dialect's compiler renders).
    :ivar nullable: whether the new column accepts NULL.
    :ivar default: the server default as SQL text, ``None`` for none.
    :ivar computed: ``(expression, persisted)`` of a generated column, else ``None``.
    :ivar source: the column's name in the old table, which the copy reads; ``None`` for
        a column the rebuild adds.
    :ivar was_nullable: whether the old column accepted NULL (a NOT NULL column that was
        nullable is checked for NULLs before the copy).
    """

    name: str
    type: Any
    nullable: bool
    default: str | None = None
    computed: tuple[str, bool | None] | None = None
    source: str | None = None
    was_nullable: bool = True


@dataclass(eq=False)
class ConstraintShape:
    """A primary key, unique, check or foreign key constraint of the table.

    :ivar kind: ``"primary"``, ``"unique"``, ``"check"`` or ``"foreignkey"``.
    :ivar columns: the constrained columns (none for a check).
    :ivar sqltext: a check's condition.
    :ivar referent: a foreign key's referenced table; ``remote`` its columns, as names,
        or as :class:`ColumnShape` when the key references its own table.
    :ivar created: added by an operation of this rebuild (its data is checked first).
    """

    kind: str
    name: str | None
    columns: list[ColumnShape] = field(default_factory=list)
    sqltext: str | None = None
    referent: str | None = None
    referent_schema: str | None = None
    remote: list = field(default_factory=list)
    ondelete: str | None = None
    onupdate: str | None = None
    deferrable: bool | None = None
    initially: str | None = None
    created: bool = False

    def describe(self) -> str:
        """How messages name it, e.g. ``check constraint 'ck_price'``."""
        label = CONSTRAINT_LABELS[self.kind]
        return f"{label} '{self.name}'" if self.name else f"unnamed {label}"


@dataclass(eq=False)
class IndexShape:
    """An index of the table, re-created after the copy.

    :ivar columns: the plain columns it indexes, in order.
    :ivar expressions: SQL expressions among its keys (as SQLAlchemy reflects them).
    :ivar dialect_options: SQLAlchemy's per-dialect index options (``postgresql_where``).
    :ivar sql: the database's stored definition, replayed as it is instead of compiling
        one (SQLite keeps partial, expression and collated indexes this way).
    :ivar uses: the folded names of the columns it depends on, so a dropped column takes
        the index with it.
    """

    name: str
    columns: list[str] = field(default_factory=list)
    unique: bool = False
    expressions: list[str] = field(default_factory=list)
    dialect_options: dict[str, Any] = field(default_factory=dict)
    sql: str | None = None
    uses: set[str] = field(default_factory=set)


@dataclass(eq=False)
class TriggerShape:
    """A trigger of the table, re-created from its stored definition after the copy.

    :ivar uses: folded names it mentions; dropping a column it uses is refused.
    """

    name: str
    sql: str
    uses: set[str] = field(default_factory=set)


@dataclass(eq=False)
class TableShape:
    """The table as reflected, then as the operations change it.

    :ivar options: SQLAlchemy ``Table`` keyword arguments the new table is created with
        (the dialect's table options, e.g. ``sqlite_with_rowid=False``).
    :ivar copied_hidden: columns the copy carries besides the model's columns, on both
        sides of ``INSERT ... SELECT`` (SQLite's ``rowid``).
    """

    name: str
    schema: str | None
    columns: list[ColumnShape]
    constraints: list[ConstraintShape] = field(default_factory=list)
    indexes: list[IndexShape] = field(default_factory=list)
    triggers: list[TriggerShape] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    copied_hidden: list[str] = field(default_factory=list)

    def column(self, name: str) -> ColumnShape | None:
        """The column called ``name`` (an exact match first, then one differing only in
        case)."""
        exact = next((c for c in self.columns if c.name == name), None)
        return exact or next((c for c in self.columns if same_name(c.name, name)), None)

    def primary_key(self) -> ConstraintShape | None:
        """The primary key constraint, if the table has one."""
        return next((c for c in self.constraints if c.kind == "primary"), None)
