"""Migration operations: plain, immutable records of what a migration does.

A :class:`~npa_migrations.builder.MigrationBuilder` records these while ``up``/``down``
run; nothing touches a database then. Providers turn each operation into SQL
(:mod:`npa_migrations.provider`), the checksum is computed from :meth:`canonical`, and
:meth:`MigrationOperation.describe` is the human line shown while it runs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Iterator, cast

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa


class Sentinel:
    """A value that stands for "no value given" in a way ``None`` cannot (``None`` is a
    value). One instance per subclass, kept by copies, printed by its :attr:`label`."""

    label: ClassVar[str] = "SENTINEL"
    _instances: ClassVar[dict[type, "Sentinel"]] = {}

    def __new__(cls) -> "Sentinel":
        if cls not in Sentinel._instances:
            Sentinel._instances[cls] = super().__new__(cls)
        return Sentinel._instances[cls]

    def __repr__(self) -> str:
        return self.label

    def __copy__(self) -> "Sentinel":
        return self

    def __deepcopy__(self, memo: dict) -> "Sentinel":
        return self


class _Unchanged(Sentinel):
    """Sentinel: an ``alter_column`` argument that was not given."""

    label = "UNCHANGED"


UNCHANGED: Any = _Unchanged()


def canonical_value(value: Any) -> Any:
    """Provider-independent, JSON-able form of an operation argument.

    SQLAlchemy types and columns are reduced to their declared meaning (type repr,
    nullability, defaults), never to compiled SQL, so the checksum does not depend on
    the database the migration runs on.
    """
    if value is UNCHANGED:
        return "<unchanged>"
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [canonical_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): canonical_value(v)
                for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    import sqlalchemy as sa

    if isinstance(value, sa.Column):
        return _canonical_column(value)
    if isinstance(value, sa.Constraint):
        return _canonical_constraint(value)
    if isinstance(value, sa.types.TypeEngine):
        return repr(value)
    if isinstance(value, sa.sql.ClauseElement):
        return str(value.compile(compile_kwargs={"literal_binds": True}))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return repr(value)


_IDENTIFIER_FIELDS = {
    "table": "table", "new_name": "table", "referent": "table", "column_name": "column",
    "new_column_name": "column", "name": "name", "schema": "schema",
    "referent_schema": "schema", "local_cols": "column", "remote_cols": "column",
}


def _canonical_default(default: Any) -> Any:
    if default is None:
        return None
    arg = getattr(default, "arg", default)
    return canonical_value(arg)


def _canonical_column(column: "sa.Column") -> dict:
    return {
        "column": column.name,
        "type": repr(column.type),
        "nullable": column.nullable,
        "primary_key": column.primary_key,
        "autoincrement": str(column.autoincrement),
        "unique": bool(column.unique),
        "index": bool(column.index),
        "server_default": _canonical_default(column.server_default),
        "foreign_keys": sorted(fk.target_fullname for fk in column.foreign_keys),
        "comment": column.comment,
    }


def _canonical_constraint(constraint: "sa.Constraint") -> dict:
    import sqlalchemy as sa

    data: dict[str, Any] = {"constraint": type(constraint).__name__, "name": constraint.name}
    if isinstance(constraint, sa.CheckConstraint):
        data["sqltext"] = str(constraint.sqltext)
    elif isinstance(constraint, sa.ForeignKeyConstraint):
        data["columns"] = list(constraint.column_keys)
        data["refcolumns"] = [fk._get_colspec() for fk in constraint.elements]
        data["ondelete"] = constraint.ondelete
        data["onupdate"] = constraint.onupdate
    else:
        pending = getattr(constraint, "_pending_colargs", None) \
            or list(getattr(constraint, "columns", ()))
        data["columns"] = [c if isinstance(c, str) else c.name for c in pending]
    return data


@dataclass(frozen=True, slots=True)  # no fields: subclasses without slots have a __dict__
class MigrationOperation:
    """Base class of every operation a migration can record.

    Subclasses are frozen dataclasses holding plain fields. ``kind`` is the stable name
    used in the canonical form (and so in checksums) and in hook dispatch.
    """

    kind: ClassVar[str] = "operation"
    #: fields added after the operation was first released: left out of the canonical
    #: form while they hold their default, so the checksums of migrations written before
    #: them do not change (not annotated: an annotated class variable of a dataclass,
    #: ``ClassVar`` too, is itself part of the canonical form; the cast types it)
    added_fields = cast("tuple[str, ...]", ())

    def tables(self) -> tuple[tuple[str | None, str], ...]:
        """Tables this operation changes (``(schema, name)`` pairs), for rebuild grouping,
        verification and the schema model."""
        table = getattr(self, "table", None)
        return ((getattr(self, "schema", None), table),) if table else ()

    def describe(self) -> str:
        """One human line for progress output, e.g. ``Adding column 'description'``."""
        raise NotImplementedError

    def canonical(self) -> dict:
        """Provider-independent, JSON-able form used for checksums and scripts."""
        data = {"op": self.kind}
        for name, spec in self.__dataclass_fields__.items():
            value = getattr(self, name)
            if name in self.added_fields and value is spec.default:
                continue
            data[name] = canonical_value(value)
        return data

    def reverse(self) -> "MigrationOperation | None":
        """The operation that undoes this one, or ``None`` when it cannot be known."""
        return None

    def skipped_on(self, names: set[str]) -> str | None:
        """Why this operation does nothing on a provider known by ``names`` (its name and
        dialect names), e.g. ``"only for postgresql"``; ``None`` when it runs there. A
        skipped operation is reported as skipped, never as done."""
        return None

    #: what the ``name`` field names, for error messages
    name_kind: ClassVar[str] = "object"
    #: a data step that runs one statement after another (a Python function, the chunks
    #: of a backfill): outside the migration's transaction each runs in a transaction of
    #: its own with the journal's record of it (:attr:`Step.data
    #: <npa_migrations.statements.Step.data>`); not annotated, like ``added_fields``
    data = False

    def identifiers(self) -> list[tuple[str, Any]]:
        """Every identifier this operation uses, as ``(what, name)`` pairs, so a provider
        can refuse names it cannot hold before anything runs."""
        found: list[tuple[str, Any]] = []
        for field_name, what in _IDENTIFIER_FIELDS.items():
            value = getattr(self, field_name, UNCHANGED)
            if value is UNCHANGED or value is None:
                continue
            what = self.name_kind if what == "name" else what
            if isinstance(value, (tuple, list)):
                found += [(what, v) for v in value if not hasattr(v, "compile")]
            else:
                found.append((what, value))
        for column in getattr(self, "columns", ()) or ():
            found.append(("column", column if isinstance(column, str) else column.name))
        for constraint in getattr(self, "constraints", ()) or ():
            if constraint.name is not None:
                found.append(("constraint", constraint.name))
        column = getattr(self, "column", None)
        if column is not None:
            found.append(("column", column.name))
        return found


@dataclass(frozen=True)
class CreateTable(MigrationOperation):
    """``CREATE TABLE`` with SQLAlchemy columns and table-level constraints."""

    kind: ClassVar[str] = "create_table"
    table: str
    columns: tuple = ()
    constraints: tuple = ()
    schema: str | None = None

    def describe(self) -> str:
        return f"Creating table '{self.table}'"

    def reverse(self):
        return DropTable(self.table, schema=self.schema)


@dataclass(frozen=True)
class DropTable(MigrationOperation):
    """``DROP TABLE``."""

    kind: ClassVar[str] = "drop_table"
    table: str
    schema: str | None = None

    def describe(self) -> str:
        return f"Dropping table '{self.table}'"


@dataclass(frozen=True)
class RenameTable(MigrationOperation):
    """Rename a table within its schema."""

    kind: ClassVar[str] = "rename_table"
    table: str
    new_name: str
    schema: str | None = None

    def tables(self):
        return ((self.schema, self.table), (self.schema, self.new_name))

    def describe(self) -> str:
        return f"Renaming table '{self.table}' to '{self.new_name}'"

    def reverse(self):
        return RenameTable(self.new_name, self.table, schema=self.schema)


@dataclass(frozen=True)
class AddColumn(MigrationOperation):
    """Add one column (a SQLAlchemy ``Column``) to an existing table."""

    kind: ClassVar[str] = "add_column"
    table: str
    column: Any
    schema: str | None = None

    def describe(self) -> str:
        return f"Adding column '{self.column.name}'"

    def reverse(self):
        return DropColumn(self.table, self.column.name, schema=self.schema)


@dataclass(frozen=True)
class DropColumn(MigrationOperation):
    """Drop one column."""

    kind: ClassVar[str] = "drop_column"
    table: str
    column_name: str
    schema: str | None = None

    def describe(self) -> str:
        return f"Dropping column '{self.column_name}'"


@dataclass(frozen=True)
class AlterColumn(MigrationOperation):
    """Change a column's type, nullability, server default, comment and/or name.

    Arguments left as :data:`UNCHANGED` are not touched. ``existing_*`` fields describe
    the column as it is, which some databases need to restate it (MySQL ``MODIFY``);
    ``existing_comment`` ``None`` means the column has no comment.
    """

    kind: ClassVar[str] = "alter_column"
    added_fields = ("comment", "existing_comment")
    table: str
    column_name: str
    type_: Any = UNCHANGED
    nullable: Any = UNCHANGED
    server_default: Any = UNCHANGED
    new_column_name: Any = UNCHANGED
    existing_type: Any = None
    existing_nullable: Any = None
    existing_server_default: Any = None
    schema: str | None = None
    comment: Any = UNCHANGED
    existing_comment: str | None = None

    def describe(self) -> str:
        return f"Altering column '{self.column_name}' of '{self.table}'"

    @property
    def changes_definition(self) -> bool:
        """Whether it changes the column's type, nullability or server default (not
        only its name)."""
        return any(value is not UNCHANGED
                   for value in (self.type_, self.nullable, self.server_default))

    def reverse(self):
        if self.existing_type is None and self.type_ is not UNCHANGED:
            return None
        if self.nullable is not UNCHANGED and self.existing_nullable is None:
            return None
        if self.server_default is not UNCHANGED and self.existing_server_default is None:
            return None
        new_name = self.column_name if self.new_column_name is UNCHANGED else self.new_column_name
        return AlterColumn(
            self.table, new_name,
            type_=self.existing_type if self.type_ is not UNCHANGED else UNCHANGED,
            nullable=self.existing_nullable if self.nullable is not UNCHANGED else UNCHANGED,
            server_default=(self.existing_server_default
                            if self.server_default is not UNCHANGED else UNCHANGED),
            new_column_name=(self.column_name if self.new_column_name is not UNCHANGED
                             else UNCHANGED),
            schema=self.schema,
            comment=self.existing_comment if self.comment is not UNCHANGED else UNCHANGED,
            existing_comment=self.comment if self.comment is not UNCHANGED else None)


@dataclass(frozen=True)
class RenameColumn(MigrationOperation):
    """Rename a column."""

    kind: ClassVar[str] = "rename_column"
    table: str
    column_name: str
    new_column_name: str
    schema: str | None = None

    def describe(self) -> str:
        return f"Renaming column '{self.column_name}' to '{self.new_column_name}'"

    def reverse(self):
        return RenameColumn(self.table, self.new_column_name, self.column_name, schema=self.schema)


@dataclass(frozen=True)
class CreateIndex(MigrationOperation):
    """``CREATE [UNIQUE] INDEX`` on column names (or SQL expressions given as text);
    ``where`` (SQL text) makes it a partial index, on databases that have them."""

    kind: ClassVar[str] = "create_index"
    name_kind: ClassVar[str] = "index"
    added_fields = ("where",)
    name: str
    table: str
    columns: tuple[str, ...]
    unique: bool = False
    schema: str | None = None
    where: str | None = None

    def describe(self) -> str:
        return f"Creating index '{self.name}'"

    def reverse(self):
        return DropIndex(self.name, self.table, schema=self.schema)


@dataclass(frozen=True)
class DropIndex(MigrationOperation):
    """``DROP INDEX``."""

    kind: ClassVar[str] = "drop_index"
    name_kind: ClassVar[str] = "index"
    name: str
    table: str
    schema: str | None = None

    def describe(self) -> str:
        return f"Dropping index '{self.name}'"


@dataclass(frozen=True)
class AddConstraint(MigrationOperation):
    """Base of the operations that add a named constraint to ``table``: they describe
    themselves by :attr:`label` and reverse to a :class:`DropConstraint` of
    :attr:`constraint_type`. Subclasses declare the fields (``name``, ``table``, ...,
    ``schema``)."""

    name_kind: ClassVar[str] = "constraint"
    #: what progress lines call it, e.g. ``"foreign key"``
    label: ClassVar[str] = "constraint"
    #: ``DropConstraint.type_`` of the reverse operation
    constraint_type: ClassVar[str | None] = None

    if TYPE_CHECKING:  # the fields every subclass declares (not fields of this class)
        @property
        def name(self) -> str: ...
        @property
        def table(self) -> str: ...
        @property
        def schema(self) -> str | None: ...

    def describe(self) -> str:
        return f"Adding {self.label} '{self.name}'"

    def reverse(self):
        return DropConstraint(self.name, self.table, type_=self.constraint_type,
                              schema=self.schema)


@dataclass(frozen=True)
class CreateForeignKey(AddConstraint):
    """Add a named foreign key from ``table`` (``local_cols``) to ``referent``."""

    kind: ClassVar[str] = "create_foreign_key"
    label: ClassVar[str] = "foreign key"
    constraint_type: ClassVar[str] = "foreignkey"
    name: str
    table: str
    referent: str
    local_cols: tuple[str, ...]
    remote_cols: tuple[str, ...]
    ondelete: str | None = None
    onupdate: str | None = None
    schema: str | None = None
    referent_schema: str | None = None


@dataclass(frozen=True)
class CreatePrimaryKey(AddConstraint):
    """Add a named primary key."""

    kind: ClassVar[str] = "create_primary_key"
    label: ClassVar[str] = "primary key"
    constraint_type: ClassVar[str] = "primary"
    name: str
    table: str
    columns: tuple[str, ...]
    schema: str | None = None


@dataclass(frozen=True)
class CreateUniqueConstraint(AddConstraint):
    """Add a named unique constraint."""

    kind: ClassVar[str] = "create_unique_constraint"
    label: ClassVar[str] = "unique constraint"
    constraint_type: ClassVar[str] = "unique"
    name: str
    table: str
    columns: tuple[str, ...]
    schema: str | None = None


@dataclass(frozen=True)
class CreateCheckConstraint(AddConstraint):
    """Add a named check constraint; ``condition`` is SQL text."""

    kind: ClassVar[str] = "create_check_constraint"
    label: ClassVar[str] = "check constraint"
    constraint_type: ClassVar[str] = "check"
    name: str
    table: str
    condition: str
    schema: str | None = None


@dataclass(frozen=True)
class DropConstraint(MigrationOperation):
    """Drop a named constraint; ``type_`` (foreignkey, primary, unique, check) helps
    databases that drop each kind differently."""

    kind: ClassVar[str] = "drop_constraint"
    name_kind: ClassVar[str] = "constraint"
    name: str
    table: str
    type_: str | None = None
    schema: str | None = None

    def describe(self) -> str:
        return f"Dropping constraint '{self.name}'"


@dataclass(frozen=True)
class CreateSchema(MigrationOperation):
    """``CREATE SCHEMA``."""

    kind: ClassVar[str] = "create_schema"
    name_kind: ClassVar[str] = "schema"
    name: str

    def tables(self):
        return ()

    def describe(self) -> str:
        return f"Creating schema '{self.name}'"

    def reverse(self):
        return DropSchema(self.name)


@dataclass(frozen=True)
class DropSchema(MigrationOperation):
    """``DROP SCHEMA``."""

    kind: ClassVar[str] = "drop_schema"
    name_kind: ClassVar[str] = "schema"
    name: str

    def tables(self):
        return ()

    def describe(self) -> str:
        return f"Dropping schema '{self.name}'"


@dataclass(frozen=True)
class BulkInsert(MigrationOperation):
    """Insert rows (dicts keyed by column name) with bound parameters.

    ``rows`` may be a list (part of the checksum) or any iterable, which is streamed
    in batches at run time and is then not part of the checksum: only the table and
    column names are.
    """

    kind: ClassVar[str] = "bulk_insert"
    table: str
    rows: Any = field(default=(), compare=False)
    columns: tuple[str, ...] | None = None
    schema: str | None = None

    def describe(self) -> str:
        return f"Inserting rows into '{self.table}'"

    def canonical(self) -> dict:
        data = {"op": self.kind, "table": self.table, "schema": self.schema,
                "columns": list(self.columns) if self.columns else None}
        if isinstance(self.rows, (list, tuple)):
            data["rows"] = canonical_value([dict(r) for r in self.rows])
        else:
            data["rows"] = "<stream>"
        return data


_VERBS = {
    "CREATE TABLE": "Creating table", "DROP TABLE": "Dropping table",
    "ALTER TABLE": "Altering table", "CREATE INDEX": "Creating index",
    "DROP INDEX": "Dropping index", "INSERT INTO": "Inserting rows into",
    "CREATE VIEW": "Creating view", "DROP VIEW": "Dropping view",
}
_STATEMENT_KIND = re.compile(
    r"^\s*(?P<verb>CREATE\s+TABLE|DROP\s+TABLE|ALTER\s+TABLE|CREATE\s+(?:UNIQUE\s+)?INDEX|"
    r"DROP\s+INDEX|INSERT\s+INTO|CREATE\s+VIEW|DROP\s+VIEW)\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?"
    r"(?P<name>\"[^\"]+\"|`[^`]+`|\[[^\]]+\]|[\w.$]+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)  # a large .sql file: one per statement
class Execute(MigrationOperation):
    """Custom SQL. ``dialects`` limits it to providers whose name or dialect is listed.
    With ``params`` (values by name, ``:name`` in the SQL) it is one statement whose
    values are bound parameters, never part of the SQL text."""

    kind: ClassVar[str] = "execute"
    added_fields = ("params",)
    sql: str
    dialects: tuple[str, ...] | None = None
    params: Any = None

    def tables(self):
        return ()

    def describe(self) -> str:
        match = _STATEMENT_KIND.match(self.sql)
        if match:
            verb = _VERBS[" ".join(match["verb"].upper().split()).replace("UNIQUE ", "")]
            return f"{verb} '{match['name'].strip(chr(34) + '`[]')}'"
        first = self.sql.strip().splitlines()[0] if self.sql.strip() else ""
        return f"Executing SQL: {first[:60]}"

    def identifiers(self) -> list[tuple[str, Any]]:
        """Empty: names are not read out of raw SQL, so none is checked before it runs
        (cheap for a large ``.sql`` file, which has one such operation per statement)."""
        return []

    def applies_to(self, names: set[str]) -> bool:
        """Whether this SQL runs on a provider known by ``names`` (its name and dialect names)."""
        return self.dialects is None or bool(names.intersection(self.dialects))

    def skipped_on(self, names: set[str]) -> str | None:
        return None if self.applies_to(names) else f"only for {', '.join(self.dialects or ())}"


@dataclass(frozen=True, slots=True)
class SplitStatement(Execute):
    """One statement of a ``.sql`` migration, already split by the provider it runs on:
    rendered as it is, without splitting it again. Its canonical form is
    :class:`Execute`'s."""


class OperationStream(Sequence):
    """A migration's operations built when they are read instead of held in a list: the
    statements of a large ``.sql`` file, read from the file again on each pass, so a run
    holds one of them at a time. Every one is custom SQL (:class:`Execute`): the planner
    neither moves nor groups them, and plans one step per operation as the run reaches
    it. Indexing counts from the start (a pass), so consumers iterate."""

    def __getitem__(self, index):  # pragma: no cover - abstract
        raise NotImplementedError

    def __len__(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def statements(self) -> "Iterator[str]":
        """The SQL of each operation, in order, without building the operations (a pass
        for what reads only the SQL, e.g. the verification replay): each one runs on
        every database (no ``dialects``) and has no parameters."""
        return (op.sql for op in self)


@dataclass(frozen=True)
class RunPython(MigrationOperation):
    """A Python function called with the live connection, inside the migration's
    transaction: ``fn(connection)`` gets a SQLAlchemy ``Connection`` on the run's own
    database session (:mod:`npa_migrations.provider.data`).

    Its canonical form (and so the checksum) holds the function's qualified name and a
    fingerprint of its code that comments, formatting and the docstring do not change
    (:mod:`npa_migrations.pycode`).
    """

    kind: ClassVar[str] = "run_python"
    data = True
    fn: Any

    def tables(self):
        return ()

    def describe(self) -> str:
        from .pycode import function_name

        return f"Running Python {function_name(self.fn)}(connection)"

    def canonical(self) -> dict:
        from .pycode import code_fingerprint, function_name

        return {"op": self.kind, "function": function_name(self.fn),
                "code": code_fingerprint(self.fn)}


@dataclass(frozen=True)
class Backfill(MigrationOperation):
    """Update the rows of ``table`` in chunks of ``batch_size`` rows, in the order of
    ``key`` (default: the table's primary key, a single column): ``values`` holds
    ``(column, value)`` pairs, a value being a Python value (bound) or a SQL expression
    (``sa.text("price * 100")``); ``where`` (SQL text or a SQLAlchemy expression)
    chooses the rows. Outside a transaction each chunk commits with the record of how
    far it got, so an interrupted run continues after the last chunk that committed.
    """

    kind: ClassVar[str] = "backfill"
    data = True
    table: str
    values: tuple[tuple[str, Any], ...]
    where: Any = None
    batch_size: int = 1000
    key: str | None = None
    schema: str | None = None

    def describe(self) -> str:
        return f"Backfilling '{self.table}' in batches of {self.batch_size} rows"

    def identifiers(self) -> list[tuple[str, Any]]:
        found = super().identifiers() + [("column", name) for name, _ in self.values]
        return found + ([("column", self.key)] if self.key is not None else [])


#: the operations that change the shape of one table: those a table rebuild carries out
TABLE_SHAPE_OPERATIONS = (AddColumn, DropColumn, AlterColumn, RenameColumn, AddConstraint,
                          DropConstraint)
TableShapeOperation = (AddColumn | DropColumn | AlterColumn | RenameColumn | AddConstraint
                       | DropConstraint)
