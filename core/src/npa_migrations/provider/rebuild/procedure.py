"""One table rebuild: the statements that give a table a new definition by copying it,
produced from the live table while they run (see :mod:`npa_migrations.provider.rebuild`
for the procedure and the provider hooks it calls)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from ... import operations as ops
from ...compiled import CompiledSql
from ...errors import RebuildError
from ...schema.model import same_name
from ...statements import Statement
from .changes import TableChanges
from .shape import ColumnShape, TableShape

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

    from ...schema.model import SchemaModel, TableModel
    from ..base import BaseProvider
    from ..connection import DbConnection
    from ..sql import SqlGenerator

#: the prefix of the new table's name while it is filled
TMP_PREFIX = "_npa_tmp_"
#: how many offending rows an error message shows
SAMPLE_ROWS = 10


class TableRebuild:
    """Produces the statements of one table rebuild, reading the live table through
    ``conn`` (inside the migration's transaction) as it goes.

    Provider hooks receive this object: :attr:`provider`, :attr:`sql` (the provider's
    :class:`~npa_migrations.provider.SqlGenerator`), :attr:`conn`, :attr:`operations`,
    :attr:`table` / :attr:`schema` (the table as the database names it), :attr:`tmp`
    (the new table's name while it is filled), :attr:`source_names` (the old table's
    columns, once read), and :meth:`query`, :meth:`quoted`, :meth:`error`,
    :meth:`inspector`.

    Offline (``conn`` is ``None``), it reads the table from ``model``, the schema the
    migrations build (:mod:`.model`), and leaves out what only the data can tell: the
    checks before the copy (the database's own constraints stop a copy that does not fit)
    and the read-back afterwards. Provider hooks see :attr:`offline`.

    :param provider: the provider of the database.
    :param conn: the migration's connection, inside its transaction; ``None`` offline.
    :param operations: consecutive operations on one table.
    :param model: offline, the schema the migrations build up to this step.
    """

    def __init__(self, provider: "BaseProvider", conn: "DbConnection | None",
                 operations: Sequence[ops.TableShapeOperation],
                 model: "SchemaModel | None" = None):
        self.provider = provider
        self.sql: "SqlGenerator" = provider.sql
        self.conn = conn
        self.model = model
        self.operations = tuple(operations)
        first = self.operations[0]
        self.schema: str | None = first.schema
        self._engine: "sa.engine.Engine | None" = None
        #: the table's name as the database spells it
        self.table = self._stored_name(first.table)
        self.tmp = self._tmp_name()
        #: the old table's column names (after in-place renames), once it has been read
        self.source_names: list[str] = []

    # -- helpers for the rebuild and the provider hooks ---------------------------------------
    @property
    def offline(self) -> bool:
        """Whether the rebuild is written for a script, from the schema model, with no
        database to read (a provider hook then writes what it would have read)."""
        return self.conn is None

    def query(self, sql: str, params: Any = ()) -> list[tuple]:
        """Rows of ``sql`` run on the migration's connection."""
        return self.live().query(sql, params)

    def live(self) -> "DbConnection":
        """The migration's connection; an error when the rebuild is written offline."""
        if self.conn is None:
            raise self.error("this step reads the live table, which an offline script "
                             "cannot. Render the script without --offline.")
        return self.conn

    def schema_model(self) -> "SchemaModel":
        """The schema model an offline rebuild reads."""
        if self.model is None:
            raise self.error("there is neither a database nor a schema model to read.")
        return self.model

    def quoted(self, name: str | None = None) -> str:
        """The quoted, schema-qualified name of ``name`` (default: the rebuilt table)."""
        return self.sql.table_name(name or self.table, self.schema)

    def error(self, message: str) -> RebuildError:
        """A :class:`~npa_migrations.errors.RebuildError` naming the table."""
        return RebuildError(f"{self.sql.name} rebuild of table '{self.table}': {message}")

    def inspector(self) -> "sa.Inspector":
        """A fresh SQLAlchemy inspector on the migration's connection (inspectors cache
        what they read; the table changes while it is rebuilt)."""
        import sqlalchemy as sa

        from ...schema.live import reflection_engine

        if self._engine is None:
            self._engine = reflection_engine(self.provider, self.live().raw)
        return sa.inspect(self._engine)

    def close(self) -> None:
        """Let go of the reflection engine (the connection stays the migration's)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def is_this_table(self, name: str, schema: str | None) -> bool:
        """Whether ``name`` in ``schema`` is the table being rebuilt."""
        return (same_name(name, self.table) or same_name(name, self.operations[0].table)) \
            and same_name(schema or self.schema, self.schema)

    def _table_names(self) -> list[str]:
        if self.offline:
            return [t.name for t in self.schema_model().tables.values()
                    if same_name(t.schema, self.schema)]
        return self.inspector().get_table_names(schema=self.schema)

    def _model_table(self) -> "TableModel":
        """The table in the schema model (offline)."""
        table = self.schema_model().get(self.table, self.schema)
        if table is None:
            raise self.error("the schema the migrations build has no such table.")
        return table

    def _stored_name(self, table: str) -> str:
        names = self._table_names()
        found = table if table in names else next((n for n in names if same_name(n, table)),
                                                  None)
        if found is None:
            what = "; ".join(op.describe() for op in self.operations)
            self.close()
            raise RebuildError(f"{what}: table '{table}' does not exist.")
        return found

    def _tmp_name(self) -> str:
        """``_npa_tmp_<table>``, shortened with a hash of the name where the database's
        identifiers cannot hold it."""
        name = TMP_PREFIX + self.table
        limit = self.sql.max_identifier_length()
        if len(name.encode("utf-8")) <= limit:
            return name
        digest = hashlib.sha256(self.table.encode("utf-8")).hexdigest()[:8]
        return f"{TMP_PREFIX}{digest}"

    # -- the statements -----------------------------------------------------------------------
    def statements(self) -> Iterator[Statement]:
        """The rebuild's statements; a generator, so it reads the table after the column
        renames ran and checks the result after the new table took the old one's name."""
        try:
            changes = self.changes()
            renames = changes.renames()
            for old, new in renames:
                yield from self._sql(ops.RenameColumn(self.table, old, new,
                                                      schema=self.schema))
            table = self.read(renames)
            changes.apply(table)
            yield from self.rebuild(table)
        finally:
            self.close()

    def changes(self) -> TableChanges:
        """The operations resolved against the table's column names."""
        if self.offline:
            names = [c.name for c in self._model_table().columns.values()]
        else:
            names = [c["name"] for c in self.inspector().get_columns(self.table,
                                                                     schema=self.schema)]
        return TableChanges(self, names)

    def read(self, renames: Sequence[tuple[str, str]] = ()) -> TableShape:
        """The table after the in-place column ``renames``: the live table as
        :meth:`~npa_migrations.provider.SqlGenerator.reflect_rebuild_table` reads it (the
        renames are done), or offline the schema model's
        (:func:`~npa_migrations.provider.rebuild.model.shape_from_model`); remembers its
        column names in :attr:`source_names`."""
        if self.offline:
            from .model import shape_from_model

            table = shape_from_model(self, self._model_table(), renames)
        else:
            table = self.sql.reflect_rebuild_table(self)
        self.source_names = [c.name for c in table.columns]
        return table

    def rebuild(self, table: TableShape) -> Iterator[Statement]:
        """Create, copy, drop, rename, re-create indexes and triggers, check: the
        statements that give the table the definition ``table`` (already changed)."""
        if any(same_name(n, self.tmp) for n in self._table_names()):
            raise self.error(
                f"a table named '{self.tmp}' already exists (left by an interrupted rebuild "
                "outside a transaction?). Check its rows, then drop or rename it.")
        if not self.offline:
            self.precheck(table)
        self.sql.prepare_rebuilt_table(self, table)
        # the hooks read what they need now, before anything of the rebuild runs
        prologue = list(self.sql.rebuild_prologue(self, table))
        rename = list(self.sql.rebuild_rename(self))
        epilogue = list(self.sql.rebuild_epilogue(self, table))
        create = self.create_table_sql(table)
        copy = self.copy_sql(table)
        indexes = self.index_statements(table)
        yield from prologue
        yield Statement(create)
        yield Statement(copy)
        yield from self._sql(ops.DropTable(self.table, schema=self.schema))
        yield from rename
        yield from map(Statement, indexes)
        yield from (Statement(t.sql) for t in table.triggers)
        yield from epilogue
        if not self.offline:
            self.verify(table)

    def _sql(self, operation: ops.MigrationOperation) -> list[Statement]:
        """The provider's ``sql_<kind>`` statements for one plain step of the rebuild
        (called directly: ``generate`` refuses what ``needs_rebuild`` claims)."""
        from ..context import RenderContext

        method = getattr(self.sql, f"sql_{operation.kind}")
        return [s if isinstance(s, Statement) else Statement(s)
                for s in method(operation, RenderContext(self.conn, schema=self.model))]

    # -- checks before copying ----------------------------------------------------------------
    def _rows(self, select: Any) -> list[tuple]:
        return CompiledSql(self.sql.dialect, select).fetchall(self.live())

    def precheck(self, table: TableShape) -> None:
        """Fail with a clear message before copying when the rows cannot fit the new
        definition: NULLs in a column made NOT NULL, a NOT NULL column added without a
        default to a table that has rows, duplicates under a new primary key or unique
        constraint."""
        import sqlalchemy as sa

        source = sa.table(self.table, *[sa.column(n) for n in self.source_names],
                          schema=self.schema)
        for column in table.columns:
            if column.nullable or column.computed:
                continue
            if column.source is None:
                if column.default is None and self._rows(
                        sa.select(sa.literal(1)).select_from(source).limit(1)):
                    raise self.error(
                        f"cannot add NOT NULL column '{column.name}' without a "
                        "server_default: the table has rows. Give it a server_default, or "
                        "add it nullable, fill it, then alter it to NOT NULL.")
            elif column.was_nullable:
                nulls = self._rows(sa.select(sa.func.count()).select_from(source).where(
                    source.c[column.source].is_(None)))[0][0]
                if nulls:
                    raise self.error(
                        f"cannot make column '{column.name}' NOT NULL: {nulls} row(s) hold "
                        "NULL in it. Update those rows first (e.g. b.execute(\"UPDATE ... "
                        "SET ... WHERE ... IS NULL\")), then alter the column.")
        for constraint in table.constraints:
            if not constraint.created or constraint.kind not in ("primary", "unique") or \
                    any(c.source is None for c in constraint.columns):
                continue
            keys = [source.c[c.source] for c in constraint.columns if c.source is not None]
            rows = self._rows(sa.select(*keys, sa.func.count())
                              .where(*[k.is_not(None) for k in keys]).group_by(*keys)
                              .having(sa.func.count() > 1).limit(SAMPLE_ROWS))
            if rows:
                sample = "; ".join(f"{tuple(r[:-1])!r} x{r[-1]}" for r in rows)
                raise self.error(
                    f"cannot add {constraint.describe()} on "
                    f"({', '.join(c.name for c in constraint.columns)}): values repeat "
                    f"(value x times: {sample}). Remove the duplicates first.")

    # -- the DDL ------------------------------------------------------------------------------
    def create_table_sql(self, table: TableShape) -> str:
        """``CREATE TABLE`` of the new table under :attr:`tmp`, compiled by SQLAlchemy."""
        import sqlalchemy as sa

        metadata = sa.MetaData()
        columns: dict[int, sa.Column] = {}
        for shape in table.columns:
            args: list = []
            if shape.computed is not None:
                args.append(sa.Computed(sa.literal_column(shape.computed[0]),
                                        persisted=shape.computed[1] or None))
            default = (sa.DefaultClause(sa.literal_column(shape.default))
                       if shape.default is not None else None)
            columns[id(shape)] = sa.Column(shape.name, shape.type, *args,
                                           nullable=shape.nullable, server_default=default,
                                           autoincrement=False)
        new = sa.Table(self.tmp, metadata, *columns.values(), schema=self.schema,
                       **table.options)
        for constraint in table.constraints:
            cols = [columns[id(c)] for c in constraint.columns]
            if constraint.kind == "primary":
                new.append_constraint(sa.PrimaryKeyConstraint(*cols, name=constraint.name))
            elif constraint.kind == "unique":
                new.append_constraint(sa.UniqueConstraint(*cols, name=constraint.name))
            elif constraint.kind == "check":
                assert constraint.sqltext is not None  # a check always has its condition
                new.append_constraint(sa.CheckConstraint(sa.literal_column(constraint.sqltext),
                                                         name=constraint.name))
            else:
                assert constraint.referent is not None  # a foreign key always has its table
                remote = [r.name if isinstance(r, ColumnShape) else r for r in constraint.remote]
                target = sa.Table(constraint.referent, metadata,
                                  schema=constraint.referent_schema, extend_existing=True)
                for name in remote:
                    if name not in target.c:
                        target.append_column(sa.Column(name, sa.types.NullType()))
                new.append_constraint(sa.ForeignKeyConstraint(
                    cols, [target.c[n] for n in remote], name=constraint.name,
                    ondelete=constraint.ondelete, onupdate=constraint.onupdate,
                    deferrable=constraint.deferrable, initially=constraint.initially))
        return self.sql.compile(sa.schema.CreateTable(new))

    def copy_sql(self, table: TableShape) -> str:
        """``INSERT INTO <tmp> (...) SELECT ... FROM <table>``: every column of the new
        table that the old one had, plus :attr:`TableShape.copied_hidden`; no ``CAST``,
        so the database converts values as it stores them."""
        quote = self.sql.quote
        pairs = [(quote(name), quote(name)) for name in table.copied_hidden]
        pairs += [(quote(c.name), quote(c.source)) for c in table.columns
                  if c.source is not None and not c.computed]
        if not pairs:
            raise self.error("no column of the old table survives, so its rows cannot be "
                             "copied; create a new table instead.")
        return (f"INSERT INTO {self.quoted(self.tmp)} ({', '.join(t for t, _ in pairs)}) "
                f"SELECT {', '.join(s for _, s in pairs)} FROM {self.quoted()}")

    def index_statements(self, table: TableShape) -> list[str]:
        """``CREATE INDEX`` of each index, on the table's final name: its stored
        definition when it has one, else compiled by SQLAlchemy."""
        import sqlalchemy as sa

        compiled = [i for i in table.indexes if i.sql is None]
        indexes = {id(i): sa.Index(i.name, *i.columns, *map(sa.text, i.expressions),
                                   unique=i.unique, **i.dialect_options) for i in compiled}
        if indexes:  # defined on a stub of the final table, so they compile against it
            sa.Table(self.table, sa.MetaData(),
                     *[sa.Column(c.name, c.type) for c in table.columns],
                     *indexes.values(), schema=self.schema)
        return [i.sql if i.sql is not None
                else self.sql.compile(sa.schema.CreateIndex(indexes[id(i)]))
                for i in table.indexes]

    # -- the check afterwards -----------------------------------------------------------------
    def verify(self, table: TableShape) -> None:
        """Read the rebuilt table back and fail when its columns or primary key are not
        what the operations asked for (a provider hook that lost or reordered one)."""
        inspector = self.inspector()
        name = self.provider.schema_rules.reflected_name
        key = table.primary_key()
        wanted_key = [c.name for c in key.columns] if key else []
        found_key = [name(c) for c in inspector.get_pk_constraint(
            self.table, schema=self.schema).get("constrained_columns") or []]
        # a key column may be NOT NULL without saying so (PostgreSQL makes it so)
        found = [(name(c["name"]), bool(c["nullable"]) or name(c["name"]) in wanted_key)
                 for c in inspector.get_columns(self.table, schema=self.schema)]
        wanted = [(c.name, c.nullable or c.name in wanted_key) for c in table.columns]
        if found != wanted or found_key != wanted_key:
            def show(columns: list, pk: list) -> str:
                cols = ", ".join(f"{n}{'' if nullable else ' NOT NULL'}"
                                 for n, nullable in columns)
                return f"({cols}; primary key: {', '.join(pk) or 'none'})"

            raise self.error(
                f"the rebuilt table is {show(found, found_key)}, not "
                f"{show(wanted, wanted_key)} as the operations ask. This is a fault of the "
                f"{self.sql.name} provider's rebuild hooks; the migration was rolled back.")
