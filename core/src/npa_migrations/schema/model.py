"""The schema model: what the applied migrations say the database looks like.

Replaying the operations of the applied migrations on a :class:`SchemaModel` gives the
expected schema -- tables, columns (type, nullability, server default), primary keys,
unique / check constraints, foreign keys and indexes -- without touching a database.
Drift detection (:mod:`npa_migrations.schema.drift`) compares it with the live schema read by
SQLAlchemy reflection, and post-execution verification compares the objects one
migration touched.

Raw SQL (``b.execute()`` and every statement of a ``.sql`` migration) is opaque: the
model does not guess what it did. A light scan of each statement finds the tables it
names (``CREATE TABLE x``, ``ALTER TABLE x``, ``DROP TABLE x``, ``CREATE INDEX ... ON x``,
``RENAME TABLE``) and marks them *not fully known*: only what later Python operations
declare about them is compared, and the reports list them under "not compared".
Statements that cannot change tables (DML, views, functions, grants, ...) are ignored;
anything else the scan cannot read (a ``DO`` block, ``CALL``, ``EXEC``) marks the whole
schema as not fully known.

Every :meth:`SchemaModel.apply` returns the *claims* of the operation: the objects it says
exist (or no longer exist) afterwards, as :data:`Claim` tuples. Verification compares
exactly those, so drift that was already there before a migration is never blamed on it.
"""

from __future__ import annotations

import copy
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, overload

from .. import operations as ops
from ..operation_shapes import shape_of
from .sqlscan import SqlEffect, TableKey, analyse_sql, changes_rows_only

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa


class _Unknown(ops.Sentinel):
    """Sentinel: an attribute the model does not know (raw SQL, or a partial alter)."""

    label = "UNKNOWN"


UNKNOWN: Any = _Unknown()

#: ``(schema, table, category, name, attribute)``. Categories: ``table``, ``column``,
#: ``index``, ``unique``, ``foreign_key``, ``check``, ``primary_key``, ``constraint``
#: (any named constraint) and ``*`` (every object of the table). Attributes (columns
#: only): ``exists``, ``type``, ``nullable``, ``default``, ``comment`` or ``*``.
Claim = tuple

#: object categories a table model can know completely
CATEGORIES = frozenset({"columns", "indexes", "uniques", "foreign_keys", "checks",
                        "primary_key"})


@overload
def fold(name: str) -> str: ...
@overload
def fold(name: None) -> None: ...
def fold(name: str | None) -> str | None:
    """Case-folded name, for the fallback match (databases that fold unquoted names)."""
    return name.casefold() if isinstance(name, str) else name


def same_name(a: str | None, b: str | None) -> bool:
    return a == b or (a is not None and b is not None and fold(a) == fold(b))


@dataclass
class ColumnModel:
    """One column. ``type`` is a SQLAlchemy type; ``default`` is ``None`` (no server
    default), the declared default (expected side: a string, ``sa.text()``, expression or
    value) or the reflected SQL text (live side); ``comment`` is its text or ``None``.
    Any attribute may be :data:`UNKNOWN`."""

    name: str
    type: Any = UNKNOWN
    nullable: Any = UNKNOWN
    default: Any = UNKNOWN
    comment: Any = UNKNOWN
    autoincrement: bool = False
    #: the reflected ``identity`` / ``autoincrement`` information (live side)
    identity: bool = False
    #: a generated column's ``(expression, persisted)``, else ``None`` (declared side)
    computed: tuple[str, bool | None] | None = None


@dataclass
class IndexModel:
    """One index; ``where`` is the SQL text of a partial index's predicate."""

    name: str
    columns: tuple[str, ...]
    unique: bool = False
    where: str | None = None


@dataclass
class UniqueModel:
    name: str | None
    columns: tuple[str, ...]


@dataclass
class ForeignKeyModel:
    name: str | None
    columns: tuple[str, ...]
    referred_schema: str | None
    referred_table: str
    referred_columns: tuple[str, ...]
    ondelete: str | None = None
    onupdate: str | None = None


@dataclass
class CheckModel:
    name: str | None
    sqltext: str | None = None


@dataclass
class TableModel:
    """One table as the model (or the live database) knows it.

    ``known`` holds the categories (:data:`CATEGORIES`) the model knows completely: only
    for those are objects in the database that the model lacks reported as *extra*.
    Objects the model does hold are always compared. ``maybe_absent`` means raw SQL the
    model could not read may have dropped the table.
    """

    name: str
    schema: str | None = None
    columns: dict[str, ColumnModel] = field(default_factory=dict)
    primary_key: Any = ()
    primary_key_name: str | None = None
    indexes: dict[str, IndexModel] = field(default_factory=dict)
    uniques: list[UniqueModel] = field(default_factory=list)
    foreign_keys: list[ForeignKeyModel] = field(default_factory=list)
    checks: list[CheckModel] = field(default_factory=list)
    known: set[str] = field(default_factory=lambda: set(CATEGORIES))
    maybe_absent: bool = False
    #: why parts of the table are not known (shown under "not compared")
    notes: list[str] = field(default_factory=list)
    #: triggers raw SQL created on the table: name -> their ``CREATE TRIGGER`` statement
    triggers: dict[str, str] = field(default_factory=dict)
    #: folded former names of renamed columns (SQL text the model keeps -- a CHECK, a
    #: partial index's predicate, a trigger -- may still say them)
    renamed_columns: set[str] = field(default_factory=set)

    @property
    def key(self) -> TableKey:
        return (self.schema, self.name)

    @property
    def display(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name

    @property
    def fully_known(self) -> bool:
        return self.known >= CATEGORIES and not self.maybe_absent

    def column(self, name: str) -> ColumnModel | None:
        found = self.columns.get(name)
        if found is None:
            for other in self.columns.values():
                if same_name(other.name, name):
                    return other
        return found

    def known_column(self, name: str) -> ColumnModel:
        """The column ``name``, which must be there: a ``KeyError`` otherwise."""
        found = self.column(name)
        if found is None:
            raise KeyError(f"{self.name}.{name}")
        return found

    def index(self, name: str) -> IndexModel | None:
        found = self.indexes.get(name)
        if found is None:
            for other in self.indexes.values():
                if same_name(other.name, name):
                    return other
        return found

    def forget(self, categories: Iterable[str], note: str) -> None:
        """The model no longer knows these categories: drop what it held and record why."""
        categories = set(categories)
        if "columns" in categories:
            self.columns = {}
        if "primary_key" in categories:
            self.primary_key = UNKNOWN
            self.primary_key_name = None
        if "indexes" in categories:
            self.indexes = {}
        if "uniques" in categories:
            self.uniques = []
        if "foreign_keys" in categories:
            self.foreign_keys = []
        if "checks" in categories:
            self.checks = []
        self.known -= categories
        if note not in self.notes:
            self.notes.append(note)

    def rename_column_refs(self, old: str, new: str) -> None:
        def swap(cols):
            return tuple(new if same_name(c, old) else c for c in cols)

        if self.primary_key is not UNKNOWN:
            self.primary_key = swap(self.primary_key)
        for index in self.indexes.values():
            index.columns = swap(index.columns)
        for unique in self.uniques:
            unique.columns = swap(unique.columns)
        for fk in self.foreign_keys:
            fk.columns = swap(fk.columns)


# --------------------------------------------------------------------------------------
# from SQLAlchemy objects
# --------------------------------------------------------------------------------------

def column_from_sa(column: "sa.Column") -> ColumnModel:
    default = column.server_default
    computed = None
    if column.computed is not None:
        computed = (str(column.computed.sqltext), column.computed.persisted)
    return ColumnModel(name=column.name, type=column.type, nullable=bool(column.nullable),
                       default=default if default is not None else None,
                       comment=column.comment, computed=computed)


def _colspec(spec: str) -> tuple[str | None, str, str]:
    parts = spec.split(".")
    return (".".join(parts[:-2]) or None, parts[-2], parts[-1])


def _column_names(items: Iterable[Any]) -> tuple[str, ...]:
    names = []
    for item in items:
        if isinstance(item, str):
            names.append(item)
        elif getattr(item, "name", None) is not None and hasattr(item, "table"):
            names.append(item.name)
        else:
            names.append(str(item))
    return tuple(names)


def index_where(index: "sa.Index", dialect: str | None = None) -> str | None:
    """The SQL text of a partial index's predicate, from SQLAlchemy's per-dialect
    ``<dialect>_where`` option (``postgresql_where``, ``sqlite_where``, ...): the one of
    ``dialect``, or with ``None`` the first one given."""
    for key, value in sorted(index.dialect_kwargs.items()):
        if key.endswith("_where") and value is not None and (
                dialect is None or key == f"{dialect}_where"):
            if isinstance(value, str):
                return value
            # an expression (users.c.active == True): its SQL, as CREATE INDEX writes it
            return str(value.compile(compile_kwargs={"literal_binds": True,
                                                     "include_table": False}))
    return None


def table_from_sa(table: "sa.Table", dialect: str | None = None) -> TableModel:
    """The model of a SQLAlchemy ``Table`` (a ``create_table`` or an application model);
    ``dialect`` chooses which partial-index predicates apply (:func:`index_where`)."""
    import sqlalchemy as sa

    model = TableModel(name=table.name, schema=table.schema)
    auto = table.autoincrement_column
    for column in table.columns:
        col = column_from_sa(column)
        col.autoincrement = column is auto
        model.columns[column.name] = col
    pk = table.primary_key
    model.primary_key = tuple(c.name for c in pk.columns)
    model.primary_key_name = pk.name if isinstance(pk.name, str) else None
    for constraint in table.constraints:
        name = constraint.name if isinstance(constraint.name, str) else None
        if isinstance(constraint, sa.UniqueConstraint):
            model.uniques.append(UniqueModel(name, tuple(c.name for c in constraint.columns)))
        elif isinstance(constraint, sa.CheckConstraint):
            model.checks.append(CheckModel(name, str(constraint.sqltext)))
        elif isinstance(constraint, sa.ForeignKeyConstraint):
            specs = [_colspec(fk._get_colspec()) for fk in constraint.elements]
            if not specs:
                continue
            model.foreign_keys.append(ForeignKeyModel(
                name, tuple(constraint.column_keys), specs[0][0], specs[0][1],
                tuple(s[2] for s in specs), constraint.ondelete, constraint.onupdate))
    for index in table.indexes:
        name = index.name if isinstance(index.name, str) else None
        if name is None:
            continue
        model.indexes[name] = IndexModel(name, _column_names(index.expressions),
                                         bool(index.unique), index_where(index, dialect))
    return model


#: what SQLAlchemy's ``Table`` decides for a plain ``create_table`` shape (see
#: :func:`created_table`): per column position, its final nullability and whether it is
#: the autoincrement column, and the primary key's column positions
TableRules = tuple[tuple[tuple[bool, bool], ...], tuple[int, ...]]
#: the rules per shape; ``None`` for a shape whose model holds more than columns and a
#: primary key
_TABLE_RULES: dict[tuple, TableRules | None] = {}
#: shapes remembered (a migration set has a few dozen)
MAX_TABLE_SHAPES = 1024


def created_table(op: ops.CreateTable) -> TableModel:
    """The model of the table ``op`` creates.

    Building a SQLAlchemy ``Table`` for every ``create_table`` costs ≈ 0.3 ms: most of
    what verification spends on a builder migration, and most of replaying a thousand
    applied ones at the start of a run. A plain shape
    (:func:`~npa_migrations.operation_shapes.shape_of`: columns of SQLAlchemy's own
    types, no constraints, indexes, foreign keys or Python-side defaults) is modelled
    from its own columns instead; what only the ``Table`` decides -- which column
    autoincrements, the nullability of primary-key columns, the key's order -- is taken
    from the ``Table`` built for the first operation of that shape, as the shape
    determines it. Any other ``create_table`` is modelled from its ``Table``.
    """
    shape = shape_of(op)
    if shape is None:
        return table_from_sa(_sa_table(op))
    if shape.key not in _TABLE_RULES:
        model = table_from_sa(_sa_table(op))
        if len(_TABLE_RULES) < MAX_TABLE_SHAPES:
            _TABLE_RULES[shape.key] = _table_rules(model, op)
        return model
    rules = _TABLE_RULES[shape.key]
    if rules is None:
        return table_from_sa(_sa_table(op))
    columns, primary_key = rules
    model = TableModel(name=op.table, schema=op.schema)
    for column, (nullable, autoincrement) in zip(op.columns, columns):
        col = column_from_sa(column)
        col.nullable, col.autoincrement = nullable, autoincrement
        model.columns[column.name] = col
    model.primary_key = tuple(op.columns[i].name for i in primary_key)
    return model


def _table_rules(model: TableModel, op: ops.CreateTable) -> TableRules | None:
    """What :data:`_TABLE_RULES` keeps of ``model`` (made from ``op``'s ``Table``)."""
    names = [c.name for c in op.columns]
    if (list(model.columns) != names or model.primary_key_name is not None or model.indexes
            or model.uniques or model.foreign_keys or model.checks):
        return None
    return (tuple((c.nullable, c.autoincrement) for c in model.columns.values()),
            tuple(names.index(name) for name in model.primary_key))


def _sa_table(op: ops.CreateTable) -> "sa.Table":
    import sqlalchemy as sa

    from ..sqla import copy_constraint

    table = sa.Table(op.table, sa.MetaData(), *[c._copy() for c in op.columns],
                     schema=op.schema)
    for constraint in op.constraints:
        table.append_constraint(copy_constraint(constraint))
    return table


# --------------------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------------------

class TableMap(MutableMapping):
    """Tables by ``(schema, name)``, with an index by case-folded key kept in step, so
    finding a table whose name the database folded (:meth:`find`) takes one look-up,
    whatever the number of tables."""

    def __init__(self) -> None:
        self._tables: dict[TableKey, TableModel] = {}
        #: folded key -> the keys that fold to it, in insertion order
        self._folded: dict[tuple, dict[TableKey, None]] = {}

    @staticmethod
    def _fold(key: TableKey) -> tuple:
        return (fold(key[0]), fold(key[1]))

    def __getitem__(self, key: TableKey) -> TableModel:
        return self._tables[key]

    def __setitem__(self, key: TableKey, table: TableModel) -> None:
        self._tables[key] = table
        self._folded.setdefault(self._fold(key), {})[key] = None

    def __delitem__(self, key: TableKey) -> None:
        del self._tables[key]
        folded = self._fold(key)
        del self._folded[folded][key]
        if not self._folded[folded]:
            del self._folded[folded]

    def __iter__(self):
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)

    def find(self, key: TableKey) -> TableModel | None:
        """The table of ``key``: exactly, else the first whose key folds to the same."""
        found = self._tables.get(key)
        if found is None:
            same = self._folded.get(self._fold(key))
            if same:
                return self._tables[next(iter(same))]
        return found


class SchemaModel:
    """Tables by ``(schema, name)``, built by replaying operations.

    :param provider_names: names of the provider the migrations ran on; an
        ``execute(sql, dialects=...)`` for another provider does nothing. ``None``: every
        ``execute`` applies.
    :ivar open_world: raw SQL the model could not read ran, so tables the model does not
        know may exist (extra tables are then not reported).
    :ivar notes: model-wide reasons why something is not compared.
    """

    def __init__(self, provider_names: Iterable[str] | None = None):
        self.tables = TableMap()
        #: views and materialized views raw SQL created: an index on one is no table's
        self.views: set[tuple] = set()
        self.open_world = False
        self.notes: list[str] = []
        self.provider_names = set(provider_names) if provider_names is not None else None
        #: the connection's default schema by name (``public``): the same as no schema
        self.default_schema: str | None = None

    # lookup ---------------------------------------------------------------------------
    def _schema(self, schema: str | None) -> str | None:
        if schema is not None and self.default_schema and same_name(schema,
                                                                    self.default_schema):
            return None
        return schema

    def get(self, name: str, schema: str | None = None) -> TableModel | None:
        """The table ``name`` (exactly, else case-insensitively); ``None`` if absent."""
        return self.tables.find((self._schema(schema), name))

    def table(self, name: str, schema: str | None = None) -> TableModel:
        """The table ``name``, which must be there (e.g. the table of a difference the
        comparison found): a ``KeyError`` otherwise."""
        found = self.get(name, schema)
        if found is None:
            raise KeyError(f"{schema}.{name}" if schema else name)
        return found

    def _pop(self, name: str, schema: str | None) -> TableModel | None:
        table = self.get(name, schema)
        if table is not None:
            del self.tables[table.key]
        return table

    def _put(self, table: TableModel) -> TableModel:
        table.schema = self._schema(table.schema)
        self.tables[table.key] = table
        return table

    def _table(self, name: str, schema: str | None, where: str) -> TableModel:
        """The table an operation works on; a placeholder that knows nothing when no
        applied migration created it (e.g. it existed before the tool was adopted)."""
        table = self.get(name, schema)
        if table is None:
            table = TableModel(name=name, schema=schema, primary_key=UNKNOWN, known=set())
            table.notes.append(f"not created by any applied migration ({where}); only what "
                               "the migrations declare about it is compared")
            self._put(table)
        table.maybe_absent = False
        return table

    def _raw_sql_table(self, name: str, schema: str | None, note: str) -> TableModel:
        """The table raw SQL changed. One no applied migration created may as well be a
        view made before the tool was adopted: its absence is not reported."""
        table = self.get(name, schema)
        if table is None:
            table = self._table(name, schema, note)
            table.maybe_absent = True
        return table

    def _view_key(self, name: str, schema: str | None) -> tuple:
        return (fold(self._schema(schema)), fold(name))

    def use_default_schema(self, default: str | None) -> None:
        """Tables declared with the connection's default schema by name (``public``) are
        the same as tables declared without a schema."""
        if not default:
            return
        self.default_schema = default
        for key in [k for k in self.tables if k[0] is not None and same_name(k[0], default)]:
            table = self.tables.pop(key)
            table.schema = None
            self.tables.setdefault((None, table.name), table)

    def snapshot(self) -> "SchemaModel":
        return copy.deepcopy(self)

    # replay ---------------------------------------------------------------------------
    def replay(self, operations: Iterable[ops.MigrationOperation],
               migration_id: str | None = None) -> list[tuple[int, set[Claim]]]:
        """Apply operations in order; returns ``(position, claims)`` per operation."""
        return [(n, self.apply(op, migration_id)) for n, op in enumerate(operations)]

    def apply(self, op: ops.MigrationOperation, migration_id: str | None = None) -> set[Claim]:
        """Apply one operation; returns its claims (see module docs)."""
        self._migration_id = migration_id
        if op.kind == "execute":  # raw SQL: no description needed (a dump: one a statement)
            return self._op_execute(op)  # type: ignore[arg-type]
        where = f"{migration_id}: {op.describe()}" if migration_id else op.describe()
        handler = getattr(self, f"_op_{op.kind}", None)
        if handler is None:
            return self._opaque_operation(op, where)
        return handler(op, where) or set()

    def _opaque_operation(self, op: ops.MigrationOperation, where: str) -> set[Claim]:
        tables = [t for t in op.tables() if t[1]]
        if not tables:
            self.forget_everything(f"{where}: operation '{op.kind}' is unknown to the schema "
                                   "model")
            return set()
        for schema, name in tables:
            self._table(name, schema, where).forget(
                CATEGORIES, f"changed by operation '{op.kind}' ({where}), which the schema "
                "model cannot read")
        return set()

    def forget_everything(self, note: str) -> None:
        """Raw SQL the model cannot read: every table may have changed or gone, and
        unknown tables may exist."""
        self.open_world = True
        if note not in self.notes:
            self.notes.append(note)
        for table in self.tables.values():
            table.forget(CATEGORIES, note)
            table.maybe_absent = True

    # one method per operation kind ------------------------------------------------------
    def _op_create_table(self, op: ops.CreateTable, where: str) -> set[Claim]:
        self._pop(op.table, op.schema)
        self._put(created_table(op))
        return {(op.schema, op.table, "*", None, None)}

    def _op_drop_table(self, op: ops.DropTable, where: str) -> set[Claim]:
        self._pop(op.table, op.schema)
        return {(op.schema, op.table, "table", None, None)}

    def _op_rename_table(self, op: ops.RenameTable, where: str) -> set[Claim]:
        table = self._pop(op.table, op.schema)
        if table is None:
            table = TableModel(name=op.table, schema=op.schema, primary_key=UNKNOWN, known=set())
            table.notes.append(f"not created by any applied migration ({where})")
        table.name = op.new_name
        table.maybe_absent = False
        self._pop(op.new_name, op.schema)
        self._put(table)
        for other in self.tables.values():
            for fk in other.foreign_keys:
                if same_name(fk.referred_table, op.table) and same_name(fk.referred_schema,
                                                                        op.schema):
                    fk.referred_table = op.new_name
        return {(op.schema, op.table, "table", None, None),
                (op.schema, op.new_name, "table", None, None)}

    def _op_add_column(self, op: ops.AddColumn, where: str) -> set[Claim]:
        table = self._table(op.table, op.schema, where)
        table.columns[op.column.name] = column_from_sa(op.column)
        return {(op.schema, op.table, "column", op.column.name, "*")}

    def _op_drop_column(self, op: ops.DropColumn, where: str) -> set[Claim]:
        table = self._table(op.table, op.schema, where)
        column = table.column(op.column_name)
        if column is not None:
            del table.columns[column.name]
        name = op.column_name
        partial = False

        def keep(cols: tuple[str, ...]) -> bool:
            nonlocal partial
            if any(same_name(c, name) for c in cols):
                partial = partial or len(cols) > 1
                return False
            return True

        table.indexes = {k: i for k, i in table.indexes.items() if keep(i.columns)}
        table.uniques = [u for u in table.uniques if keep(u.columns)]
        table.foreign_keys = [f for f in table.foreign_keys if keep(f.columns)]
        if table.primary_key is not UNKNOWN and not keep(table.primary_key):
            table.primary_key = UNKNOWN
        if partial:  # databases differ: drop the whole index/constraint or shrink it
            table.known -= {"indexes", "uniques", "foreign_keys"}
            note = (f"{where}: dropping a column of a multi-column index or constraint has "
                    "database-specific effects; indexes and constraints the database still "
                    "has are not reported as extra")
            if note not in table.notes:
                table.notes.append(note)
        return {(op.schema, op.table, "column", op.column_name, "exists")}

    def _op_alter_column(self, op: ops.AlterColumn, where: str) -> set[Claim]:
        table = self._table(op.table, op.schema, where)
        column = table.column(op.column_name)
        if column is None:
            column = table.columns[op.column_name] = ColumnModel(op.column_name)
        name = column.name
        attributes: list[str] = []
        if op.type_ is not ops.UNCHANGED:
            from ..sqla import type_instance

            column.type = type_instance(op.type_)
            attributes.append("type")
        if op.nullable is not ops.UNCHANGED:
            column.nullable = bool(op.nullable)
            attributes.append("nullable")
        if op.server_default is not ops.UNCHANGED:
            column.default = op.server_default
            attributes.append("default")
        if op.comment is not ops.UNCHANGED:
            column.comment = op.comment
            attributes.append("comment")
        claims: set[Claim] = set()
        if op.new_column_name is not ops.UNCHANGED:
            claims |= self._rename_column(table, name, op.new_column_name)
            name = op.new_column_name
        claims |= {(op.schema, op.table, "column", name, a) for a in attributes}
        return claims or {(op.schema, op.table, "column", name, "exists")}

    def _rename_column(self, table: TableModel, old: str, new: str) -> set[Claim]:
        column = table.column(old)
        if column is None:
            column = ColumnModel(old)
        else:
            del table.columns[column.name]
        column.name = new
        table.columns[new] = column
        table.rename_column_refs(old, new)
        table.renamed_columns.add(fold(old))
        for other in self.tables.values():
            for fk in other.foreign_keys:
                if (same_name(fk.referred_table, table.name)
                        and same_name(fk.referred_schema, table.schema)):
                    fk.referred_columns = tuple(new if same_name(c, old) else c
                                                for c in fk.referred_columns)
        return {(table.schema, table.name, "column", old, "exists"),
                (table.schema, table.name, "column", new, "exists")}

    def _op_rename_column(self, op: ops.RenameColumn, where: str) -> set[Claim]:
        table = self._table(op.table, op.schema, where)
        return self._rename_column(table, op.column_name, op.new_column_name)

    def _op_create_index(self, op: ops.CreateIndex, where: str) -> set[Claim]:
        table = self._table(op.table, op.schema, where)
        table.indexes[op.name] = IndexModel(op.name, tuple(str(c) for c in op.columns),
                                            bool(op.unique), op.where)
        return {(op.schema, op.table, "index", op.name, None)}

    def _op_drop_index(self, op: ops.DropIndex, where: str) -> set[Claim]:
        table = self._table(op.table, op.schema, where)
        index = table.index(op.name)
        if index is not None:
            del table.indexes[index.name]
        return {(op.schema, op.table, "index", op.name, None)}

    def _op_create_foreign_key(self, op: ops.CreateForeignKey, where: str) -> set[Claim]:
        table = self._table(op.table, op.schema, where)
        table.foreign_keys = [f for f in table.foreign_keys if not same_name(f.name, op.name)]
        table.foreign_keys.append(ForeignKeyModel(
            op.name, tuple(op.local_cols), op.referent_schema, op.referent,
            tuple(op.remote_cols), op.ondelete, op.onupdate))
        return {(op.schema, op.table, "foreign_key", op.name, None)}

    def _op_create_primary_key(self, op: ops.CreatePrimaryKey, where: str) -> set[Claim]:
        table = self._table(op.table, op.schema, where)
        table.primary_key = tuple(op.columns)
        table.primary_key_name = op.name
        return {(op.schema, op.table, "primary_key", None, None)}

    def _op_create_unique_constraint(self, op: ops.CreateUniqueConstraint, where: str
                                     ) -> set[Claim]:
        table = self._table(op.table, op.schema, where)
        table.uniques = [u for u in table.uniques if not same_name(u.name, op.name)]
        table.uniques.append(UniqueModel(op.name, tuple(op.columns)))
        return {(op.schema, op.table, "unique", op.name, None)}

    def _op_create_check_constraint(self, op: ops.CreateCheckConstraint, where: str
                                    ) -> set[Claim]:
        table = self._table(op.table, op.schema, where)
        table.checks = [c for c in table.checks if not same_name(c.name, op.name)]
        table.checks.append(CheckModel(op.name, op.condition))
        return {(op.schema, op.table, "check", op.name, None)}

    def _op_drop_constraint(self, op: ops.DropConstraint, where: str) -> set[Claim]:
        table = self._table(op.table, op.schema, where)
        kind = op.type_
        if kind in (None, "primary") and (kind == "primary" or same_name(
                table.primary_key_name, op.name)):
            table.primary_key = ()
            table.primary_key_name = None
            return {(op.schema, op.table, "primary_key", None, None)}
        category = {"foreignkey": "foreign_key", "unique": "unique", "check": "check"}.get(
            kind or "", "constraint")
        if kind in (None, "foreignkey"):
            table.foreign_keys = [f for f in table.foreign_keys if not same_name(f.name, op.name)]
        if kind in (None, "unique"):
            table.uniques = [u for u in table.uniques if not same_name(u.name, op.name)]
        if kind in (None, "check"):
            table.checks = [c for c in table.checks if not same_name(c.name, op.name)]
        return {(op.schema, op.table, category, op.name, None)}

    def _op_create_schema(self, op: ops.CreateSchema, where: str) -> set[Claim]:
        return set()

    def _op_drop_schema(self, op: ops.DropSchema, where: str) -> set[Claim]:
        for key in [k for k in self.tables if same_name(k[0], op.name)]:
            del self.tables[key]
        return set()

    def _op_bulk_insert(self, op: ops.BulkInsert, where: str) -> set[Claim]:
        return set()

    def _op_backfill(self, op: ops.Backfill, where: str) -> set[Claim]:
        return set()

    def _op_run_python(self, op: ops.RunPython, where: str) -> set[Claim]:
        """A Python step changes data, not the schema (the builder's calls do that)."""
        return set()

    def _op_execute(self, op: ops.Execute, where: str = "") -> set[Claim]:
        if self.provider_names is not None and not op.applies_to(self.provider_names):
            return set()
        self.apply_sql(op.sql, getattr(self, "_migration_id", None))
        return set()

    def apply_sql(self, sql: str, migration_id: str | None = None) -> None:
        """Apply one raw SQL statement that runs on this model's database (an
        :class:`~npa_migrations.operations.Execute` for it, or every one): what it does to
        the schema, as far as the model can read it. Raw SQL claims nothing."""
        if changes_rows_only(sql):  # most statements of a data dump
            return
        for effect in analyse_sql(sql):
            self._apply_sql_effect(effect, migration_id or "")

    def _apply_sql_effect(self, effect: SqlEffect, migration_id: str) -> None:
        if effect.kind == "none":
            return
        origin = f"{migration_id}: " if migration_id else ""
        note = f"changed by raw SQL ({origin}{effect.statement})"
        if effect.kind == "unknown":
            self.forget_everything(f"raw SQL the schema model cannot read ({origin}"
                                   f"{effect.statement}): any table may have changed")
            return
        schema, name = effect.table if effect.table else (None, "")
        if effect.kind == "create":
            self._pop(name, schema)
            table = self._put(TableModel(name=name, schema=schema, primary_key=UNKNOWN,
                                         known=set()))
            table.notes.append(f"created by raw SQL ({origin}{effect.statement})")
        elif effect.kind == "trigger":
            owner = self.get(name, schema)
            if owner is not None and effect.index:
                owner.triggers[effect.index] = effect.sql
        elif effect.kind == "drop_trigger":
            for table in self.tables.values():
                table.triggers = {n: sql for n, sql in table.triggers.items()
                                  if not same_name(n, effect.index)}
        elif effect.kind in ("view", "drop_view"):
            key = self._view_key(name, schema)
            if effect.kind == "view":
                self.views.add(key)
            else:
                self.views.discard(key)
        elif self._view_key(name, schema) in self.views:
            return  # an index on a (materialized) view: no table changed
        elif effect.kind == "alter":
            self._raw_sql_table(name, schema, note).forget(CATEGORIES, note)
        elif effect.kind == "rename":
            table = self._pop(name, schema) or TableModel(name=name, schema=schema,
                                                          primary_key=UNKNOWN, known=set())
            new_schema, new_name = effect.new or (schema, name)
            table.name, table.schema = new_name, new_schema
            table.maybe_absent = False
            table.forget(CATEGORIES, note)
            self._pop(new_name, new_schema)
            self._put(table)
        elif effect.kind == "drop":
            self._pop(name, schema)
        elif effect.kind == "indexes":
            self._raw_sql_table(name, schema, note).forget({"indexes", "uniques"}, note)
        elif effect.kind == "drop_index" and effect.index is not None:
            if effect.table is not None:
                table = self._raw_sql_table(name, schema, note)
                index = table.index(effect.index)
                if index is not None:
                    del table.indexes[index.name]
                else:
                    table.forget({"indexes", "uniques"}, note)
                return
            for table in self.tables.values():
                index = table.index(effect.index)
                if index is not None:
                    del table.indexes[index.name]
        elif effect.kind == "drop_schema":
            for key in [k for k in self.tables if same_name(k[0], schema)]:
                del self.tables[key]

    # other sources -----------------------------------------------------------------------
    @classmethod
    def from_metadata(cls, metadata: "sa.MetaData", dialect: str | None = None
                      ) -> "SchemaModel":
        """The model of an application's SQLAlchemy ``MetaData`` (``--model``);
        ``dialect`` chooses which partial-index predicates apply."""
        model = cls()
        for table in metadata.tables.values():
            model._put(table_from_sa(table, dialect))
        return model

    def not_compared(self) -> list[str]:
        """Human lines: what the model does not know, and why."""
        lines = list(self.notes)
        for table in sorted(self.tables.values(), key=lambda t: (t.schema or "", t.name)):
            if table.fully_known:
                continue
            for note in table.notes:
                line = f"table {table.display}: {note}"
                if note in self.notes:
                    continue
                lines.append(line)
        return lines


def build_expected(scripts: Iterable[Any], history: dict[str, Any],
                   provider_names: Iterable[str] | None = None) -> SchemaModel:
    """The schema the history says the database has: the ``up`` operations of each applied
    migration in applied order (a failed one: the operations that took effect)."""
    model = SchemaModel(provider_names)
    by_id = {s.id: s for s in scripts}
    for row in history.values():
        script = by_id.get(row.migration_id)
        if script is None:
            model.forget_everything(f"migration {row.migration_id} is applied but its file "
                                    "was not found, so what it did is unknown")
            continue
        operations = script.up_operations()
        if not row.success:
            operations = operations[:row.steps_done or 0]
        for op in operations:
            model.apply(op, script.id)
    return model
