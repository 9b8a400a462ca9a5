"""SqlGenerator: the SQL part of a provider -- the statements that carry out each
migration operation on one database, and how SQL text is split and written in scripts.

One method per operation kind, ``sql_<kind>(operation, context)``, compiled with
SQLAlchemy's DDL and type compilers and the dialect's identifier preparer, so quoting and
type names are the dialect's, never hand-written. The :class:`RenderContext` says whether
a live connection is there to read the current schema (a run, an online ``--sql``
script) or not (``--sql --offline``). How the statements run (transactions, timeouts,
the driver) is the other part's job (:class:`~npa_migrations.provider.driver.Driver`);
when which operation is rendered is the engine's (:mod:`npa_migrations.engine.planner`).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any, Callable, Iterable

from .. import operations as ops
from ..errors import ConfigurationError
from ..sqla import copy_constraint, type_instance
from ..statements import Statement
from .context import RenderContext
from .rebuild.hooks import RebuildHooks
from .render_cache import RenderCache

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

    from ..sqltext import Lexicon
    from .base import BaseProvider


class SqlGenerator(RebuildHooks):
    """The SQL of one provider; subclasses override only the ``sql_<kind>`` methods,
    identifier rules and script conventions where their database differs from what
    SQLAlchemy's dialect and standard SQL give (a provider names its subclass in
    ``BaseProvider.sql_class``). Operations the database cannot ``ALTER`` are switched
    to a table rebuild with :meth:`needs_rebuild` (the other rebuild methods come from
    :class:`~npa_migrations.provider.rebuild.hooks.RebuildHooks`).

    :param provider: the provider this SQL is for (its dialects and name).
    """

    #: what ends a statement in a ``--sql`` script (SQL Server: ``"\nGO"``)
    script_terminator: str = ";"
    #: split ``[...]`` as quoted identifiers when splitting SQL scripts (SQL Server)
    bracket_identifiers: bool = False
    #: how the database writes comments, strings and quoted names, for splitting SQL
    #: scripts (a :class:`~npa_migrations.sqltext.Lexicon`); ``None``: the portable one
    #: (with ``[...]`` names when :attr:`bracket_identifiers`)
    lexicon: "Lexicon | None" = None
    #: render plain ``create_table`` / ``create_index`` / ``drop_table`` / ``drop_index``
    #: operations from a template per shape (:mod:`npa_migrations.provider.render_cache`);
    #: a provider whose SQL for them depends on more than the operation and the dialect
    #: sets it to ``False``
    cache_renders: bool = True

    def __init__(self, provider: "BaseProvider"):
        self.provider = provider
        self.render_cache = RenderCache(self)

    @property
    def name(self) -> str:
        """The provider's name, for messages."""
        return self.provider.name

    @property
    def dialect(self) -> Any:
        """The SQLAlchemy dialect that compiles statements run with bound parameters."""
        return self.provider.dialect

    @property
    def ddl_dialect(self) -> Any:
        """The SQLAlchemy dialect that compiles DDL and literal SQL (no parameters)."""
        return self.provider.ddl_dialect

    @property
    def preparer(self) -> Any:
        """The identifier preparer of :attr:`ddl_dialect` (``%`` stays single)."""
        return self.provider.ddl_dialect.identifier_preparer

    @property
    def names(self) -> set[str]:
        """Names an ``execute(sql, dialects=...)`` call may use to target this provider."""
        return self.provider.names

    # identifiers -----------------------------------------------------------------------
    def max_identifier_length(self) -> int:
        """The longest identifier the database accepts (the dialect's limit, else 128);
        longer names are refused before anything runs."""
        return self.dialect.max_identifier_length or 128

    def check_identifier(self, name: Any, what: str) -> str:
        """Reject identifiers the database cannot hold (empty, too long)."""
        if not isinstance(name, str) or not name:
            raise ConfigurationError(
                f"The {what} name {name!r} is empty or not a string; give it a name.")
        limit = self.max_identifier_length()
        if len(name.encode("utf-8")) > limit:
            raise ConfigurationError(
                f"The {what} name '{name}' is {len(name.encode('utf-8'))} bytes long; "
                f"{self.name} allows at most {limit}. Choose a shorter name.")
        return name

    def quote(self, name: str) -> str:
        """Quote an identifier with the dialect's preparer (only where needed, so names
        round-trip exactly, as the database folds unquoted ones)."""
        return self.preparer.quote(name)

    def table_name(self, table: str, schema: str | None = None) -> str:
        """The quoted, schema-qualified table name for hand-built SQL (checked
        first)."""
        self.check_identifier(table, "table")
        quoted = self.quote(table)
        if schema:
            return f"{self.preparer.quote_schema(schema)}.{quoted}"
        return quoted

    # script splitting ------------------------------------------------------------------
    def split_statements(self, sql: str) -> list[str]:
        """Split custom SQL (``execute()``, ``.sql`` migrations) into the statements sent
        one by one, with :attr:`lexicon`; a provider whose scripts have rules beyond it
        (``GO`` batches, ``DELIMITER``, SQL*Plus ``/`` lines) overrides this."""
        from ..sqltext import split_statements

        return split_statements(sql, brackets=self.bracket_identifiers, lexicon=self.lexicon)

    def streaming_lexicon(self) -> "Lexicon | None":
        """The lexicon :meth:`split_statements` splits with when it adds no rule of its
        own, so that a large ``.sql`` file can be split a block at a time with it
        (:func:`~npa_migrations.sqltext.split_complete`); ``None`` when a subclass
        overrides :meth:`split_statements` (its rules -- ``GO`` batches, ``DELIMITER``
        lines -- need the whole text: such a file is read whole). A subclass whose
        rules show in the text (MySQL's ``DELIMITER`` lines) overrides this too, with
        :meth:`needs_whole_text`: a file where none shows is split with the lexicon.
        Asked again when a file's statements are split: a server's settings, learnt on
        connecting, may change the lexicon."""
        from ..sqltext import BRACKETS, PORTABLE

        if type(self).split_statements is not SqlGenerator.split_statements:
            return None
        return self.lexicon or (BRACKETS if self.bracket_identifiers else PORTABLE)

    def needs_whole_text(self, block: str) -> bool:
        """Whether ``block`` (whole lines of a large ``.sql`` file) may hold what only
        :meth:`split_statements` reading the whole text honours, so that splitting the
        file a block at a time with :meth:`streaming_lexicon` could cut it otherwise:
        the file is then read whole. ``False`` by default (the lexicon is the whole
        rule); MySQL answers ``True`` for a block holding the word ``DELIMITER``."""
        return False

    def script_statement(self, sql: str) -> str:
        """How one statement reads in a ``--sql`` script: its text, then the terminator
        the database's command-line client expects. The default drops a trailing ``;``
        and appends :attr:`script_terminator`; a provider whose client ends some
        statements differently (Oracle SQL*Plus: PL/SQL blocks keep ``END;`` and end with a
        ``/`` line) overrides it."""
        return sql.rstrip().rstrip(";") + self.script_terminator

    def script_prologue(self, transaction_mode: Any = None) -> list[str]:
        """Lines a ``--sql`` script starts with, before its header comments: settings of
        the database's command-line client (e.g. SQL*Plus ``WHENEVER SQLERROR ...``).
        ``transaction_mode`` is the run's :class:`~npa_migrations.options.TransactionMode`.
        None by default."""
        return []

    def utc_now(self) -> "sa.ColumnElement[Any]":
        """The SQL expression of the current UTC time, as a script writes a history row's
        ``applied_at`` (the history keeps UTC). Default: ``CURRENT_TIMESTAMP``; a
        database whose ``CURRENT_TIMESTAMP`` is local time, or too coarse, overrides it."""
        import sqlalchemy as sa

        return sa.func.current_timestamp()

    def guard_migration(self, pending: str, statements: list[str], *,
                        transactional: bool = True) -> list[str]:
        """One migration of an idempotent script (``npa migrate up --sql --offline
        --idempotent``): its ``statements`` -- its SQL, then its history write, each as
        rendered, without a terminator -- wrapped so that they run only while the SQL
        condition ``pending`` holds (it is true while the history table does not record
        the migration). Returns the script's text for the migration in pieces, each ended
        as the database's client expects (like :meth:`script_statement`).
        ``transactional`` is ``False`` for a migration that must run outside a transaction.

        The default refuses with a :class:`~npa_migrations.errors.ConfigurationError`:
        plain SQL cannot run statements only when a condition holds. A provider whose
        database has procedural blocks overrides it (PostgreSQL ``DO``, T-SQL ``IF``,
        PL/SQL, a MySQL procedure)."""
        raise ConfigurationError(
            f"{self.name} cannot write an idempotent script: its SQL has no way to run "
            "statements only when a condition holds (no procedural blocks). Write the "
            "script for the range the database needs instead -- 'npa migrate up --sql "
            "--offline --from <the newest migration it has applied>' -- or render it "
            "against the database with 'npa migrate up --sql'.")

    def create_table_if_missing(self, table: "sa.Table") -> list[str]:
        """The ``CREATE TABLE`` of an idempotent script's history table, done only when the
        table does not exist yet (the script may run on a database that has it). Default:
        ``CREATE TABLE IF NOT EXISTS``, compiled by SQLAlchemy."""
        import sqlalchemy as sa

        return [self.compile(sa.schema.CreateTable(table, if_not_exists=True))]

    def replace_row_sql(self, insert_sql: str) -> str | None:
        """One statement that inserts a row as ``insert_sql`` (a compiled ``INSERT`` of
        all of a table's columns) does, first removing the row with the same primary key
        if there is one: the history's "write this migration's row" in one round trip
        instead of a ``DELETE`` and an ``INSERT``. ``None`` (the default): the engine
        deletes, then inserts, in one transaction."""
        return None

    # rendering -------------------------------------------------------------------------
    def generate(self, operation: ops.MigrationOperation, context: RenderContext
                 ) -> Iterable[Statement | str]:
        """Render one operation by dispatching to ``sql_<operation.kind>(operation,
        context)``. An operation that :meth:`needs_rebuild` has no SQL of its own: the
        planner renders it as part of its table's rebuild."""
        if self.needs_rebuild(operation):
            raise ConfigurationError(
                f"{operation.describe()}: {self.name} does this by rebuilding the table, "
                "which the planner does. Render migrations through "
                "npa_migrations.engine.planner.plan_steps(), not operation by operation.")
        method = getattr(self, f"sql_{operation.kind}", None)
        if method is None:
            raise ConfigurationError(
                f"Provider '{self.name}' cannot render operation '{operation.kind}'. "
                "Install a plugin that implements it, or use b.execute() with custom SQL.")
        if self.cache_renders:
            cached = self.render_cache.render(operation, context, method)
            if cached is not None:
                return cached
        return method(operation, context)

    def reads_live_schema(self, operation: ops.MigrationOperation) -> bool:
        """Whether the SQL of ``operation`` is read off the live schema when there is a
        connection (e.g. MySQL restates a column's current definition): a ``--sql``
        script is then rendered against the database with the earlier statements
        rehearsed. ``False`` by default."""
        return False

    def interrupted_statement_cleanup(self, sql: str, context: RenderContext
                                      ) -> list[Statement]:
        """Statements that clear what ``sql`` may have left half done when the run executing
        it died (run before the next run checks whether it took effect). The default has
        none: a statement is all or nothing. PostgreSQL drops the invalid index an
        interrupted ``CREATE INDEX CONCURRENTLY`` leaves."""
        return []

    # SQLAlchemy helpers ----------------------------------------------------------------
    def compile(self, element: Any) -> str:
        """SQL text of a SQLAlchemy DDL or expression element, compiled by
        :attr:`ddl_dialect`."""
        return str(element.compile(dialect=self.ddl_dialect)).strip()

    def compile_literal(self, element: Any) -> str:
        """Compile with values rendered inline (scripts only; execution binds them)."""
        return str(element.compile(dialect=self.ddl_dialect,
                                   compile_kwargs={"literal_binds": True})).strip()

    def compile_type(self, type_: Any) -> str:
        """The database type name of a SQLAlchemy type (class or instance), by the
        dialect's type compiler."""
        return self.ddl_dialect.type_compiler_instance.process(type_instance(type_))

    def stub_table(self, name: str, schema: str | None = None, columns: Iterable = (),
                   metadata: "sa.MetaData | None" = None) -> "sa.Table":
        """A ``Table`` used only for compiling DDL; columns are copies."""
        import sqlalchemy as sa

        self.check_identifier(name, "table")
        metadata = metadata if metadata is not None else sa.MetaData()
        cols = []
        for column in columns:
            if isinstance(column, str):
                cols.append(sa.Column(self.check_identifier(column, "column"), sa.types.NullType()))
            else:
                self.check_identifier(column.name, "column")
                cols.append(column._copy())
        return sa.Table(name, metadata, *cols, schema=schema)

    def ensure_fk_targets(self, table: "sa.Table") -> None:
        """Create stub tables for foreign-key targets so SQLAlchemy can compile them."""
        import sqlalchemy as sa

        for fk in list(table.foreign_keys):
            spec = fk._get_colspec()
            parts = spec.split(".")
            column_name = parts[-1]
            table_name = parts[-2]
            schema = ".".join(parts[:-2]) or None
            key = f"{schema}.{table_name}" if schema else table_name
            target = table.metadata.tables.get(key)
            if target is None:
                target = sa.Table(table_name, table.metadata, schema=schema)
            if column_name not in target.c:
                target.append_column(sa.Column(column_name, sa.types.NullType()))

    def column_spec(self, table: "sa.Table", column_name: str) -> str:
        """The column definition (name, type, nullability, default) as ``CREATE TABLE``
        writes it, for ``ADD COLUMN``."""
        compiler = self.ddl_dialect.ddl_compiler(self.ddl_dialect, None)
        return compiler.get_column_specification(table.c[column_name])

    # one method per operation ----------------------------------------------------------
    def sql_create_table(self, op: ops.CreateTable, ctx: RenderContext) -> list[str]:
        """``CREATE TABLE`` with its constraints, compiled by SQLAlchemy from a stub
        table."""
        if not op.columns:
            raise ConfigurationError(
                f"create_table('{op.table}') has no columns; add at least one.")
        table = self.stub_table(op.table, op.schema, op.columns)
        for constraint in op.constraints:
            if constraint.name:
                self.check_identifier(constraint.name, "constraint")
            table.append_constraint(copy_constraint(constraint))
        return self.create_table_statements(table)

    def create_table_statements(self, table: "sa.Table") -> list[str]:
        """``CREATE TABLE`` of a stub table with its constraints, then ``CREATE INDEX``
        for its ``index=True`` columns."""
        import sqlalchemy as sa

        self.ensure_fk_targets(table)
        statements = [self.compile(sa.schema.CreateTable(table))]
        statements += self.column_comments_sql(table.name, table.schema, table.columns)
        # table.indexes is a set: sort, so the same migration always renders the same SQL
        for index in sorted(table.indexes, key=lambda index: index.name or ""):
            statements.append(self.compile(sa.schema.CreateIndex(index)))
        return statements

    def column_comments_sql(self, table: str, schema: str | None, columns: Iterable[Any]
                            ) -> list[str]:
        """The comments of the ``columns`` that have one (SQLAlchemy ``Column`` objects),
        one :meth:`sql_column_comment` each, for ``CREATE TABLE`` and ``ADD COLUMN``."""
        statements: list[str] = []
        for column in columns:
            if column.comment is not None:
                statements += self.sql_column_comment(table, schema, column.name,
                                                      column.comment)
        return statements

    def sql_column_comment(self, table: str, schema: str | None, column: str,
                           comment: str | None, existing_comment: str | None = None
                           ) -> list[str]:
        """Set a column's comment (``None``: remove it) with SQLAlchemy's
        ``SetColumnComment`` (``COMMENT ON COLUMN ... IS ...``); nothing where the
        database keeps no comments (SQLite) or writes them in the column definition
        (MySQL, whose ``alter_column`` restates the column with its comment).
        ``existing_comment`` is the comment the column has, for databases that must
        remove it before setting another."""
        import sqlalchemy as sa

        if not self.ddl_dialect.supports_comments or self.ddl_dialect.inline_comments:
            return []
        stub = self.stub_table(table, schema, [sa.Column(column, sa.types.NullType(),
                                                         comment=comment)])
        return [self.compile(sa.schema.SetColumnComment(stub.c[column]))]

    def alter_comment_sql(self, op: ops.AlterColumn) -> list[str]:
        """The :meth:`sql_column_comment` of an ``alter_column`` that changes the
        comment; nothing when it does not."""
        if op.comment is ops.UNCHANGED:
            return []
        return self.sql_column_comment(op.table, op.schema, op.column_name, op.comment,
                                       op.existing_comment)

    def sql_drop_table(self, op: ops.DropTable, ctx: RenderContext) -> list[str]:
        """``DROP TABLE``."""
        import sqlalchemy as sa

        return [self.compile(sa.schema.DropTable(self.stub_table(op.table, op.schema)))]

    def sql_rename_table(self, op: ops.RenameTable, ctx: RenderContext) -> list[str]:
        """``ALTER TABLE ... RENAME TO``."""
        self.check_identifier(op.new_name, "table")
        return [f"ALTER TABLE {self.table_name(op.table, op.schema)} "
                f"RENAME TO {self.quote(op.new_name)}"]

    def sql_add_column(self, op: ops.AddColumn, ctx: RenderContext) -> list[str]:
        """``ALTER TABLE ... ADD COLUMN`` with the full column definition."""
        table = self.stub_table(op.table, op.schema, [op.column])
        self.ensure_fk_targets(table)
        return [f"ALTER TABLE {self.table_name(op.table, op.schema)} "
                f"ADD COLUMN {self.column_spec(table, op.column.name)}",
                *self.column_comments_sql(op.table, op.schema, [op.column])]

    def sql_drop_column(self, op: ops.DropColumn, ctx: RenderContext) -> list[str]:
        """``ALTER TABLE ... DROP COLUMN``."""
        self.check_identifier(op.column_name, "column")
        return [f"ALTER TABLE {self.table_name(op.table, op.schema)} "
                f"DROP COLUMN {self.quote(op.column_name)}"]

    def sql_rename_column(self, op: ops.RenameColumn, ctx: RenderContext) -> list[str]:
        """``ALTER TABLE ... RENAME COLUMN ... TO``."""
        self.check_identifier(op.new_column_name, "column")
        return [f"ALTER TABLE {self.table_name(op.table, op.schema)} "
                f"RENAME COLUMN {self.quote(op.column_name)} TO {self.quote(op.new_column_name)}"]

    def sql_alter_column(self, op: ops.AlterColumn, ctx: RenderContext) -> list[str]:
        """Standard SQL / PostgreSQL form; providers with other syntax override it."""
        table = self.table_name(op.table, op.schema)
        column = self.quote(self.check_identifier(op.column_name, "column"))
        prefix = f"ALTER TABLE {table} ALTER COLUMN {column}"
        statements = []
        if op.type_ is not ops.UNCHANGED:
            statements.append(f"{prefix} TYPE {self.compile_type(op.type_)}")
        if op.nullable is not ops.UNCHANGED:
            statements.append(f"{prefix} {'DROP' if op.nullable else 'SET'} NOT NULL")
        if op.server_default is not ops.UNCHANGED:
            if op.server_default is None:
                statements.append(f"{prefix} DROP DEFAULT")
            else:
                statements.append(f"{prefix} SET DEFAULT {self.render_default(op.server_default)}")
        statements += self.alter_comment_sql(op)
        if op.new_column_name is not ops.UNCHANGED:
            statements.extend(self.sql_rename_column(
                ops.RenameColumn(op.table, op.column_name, op.new_column_name, schema=op.schema),
                ctx))
        return statements

    def render_default(self, default: Any) -> str:
        """SQL text of a server default: ``sa.text()``/expressions as written, Python
        values as literals."""
        import sqlalchemy as sa

        arg = getattr(default, "arg", default)
        element = arg if isinstance(arg, sa.sql.ClauseElement) else sa.literal(arg)
        return self.compile_literal(element)

    def index_for(self, op: "ops.CreateIndex | ops.DropIndex", **dialect_options: Any
                  ) -> "sa.Index":
        """The SQLAlchemy ``Index`` a create/drop index operation compiles from, on a stub
        table. ``dialect_options`` are SQLAlchemy's per-dialect index options, e.g.
        ``postgresql_concurrently=True`` (a plugin overriding index SQL uses them)."""
        import sqlalchemy as sa

        self.check_identifier(op.name, "index")
        if isinstance(op, ops.CreateIndex):
            table = self.stub_table(op.table, op.schema, op.columns)
            if op.where:  # SQLAlchemy's per-dialect option, e.g. postgresql_where
                dialect_options.setdefault(f"{self.ddl_dialect.name}_where", sa.text(op.where))
            return sa.Index(op.name, *[table.c[c] for c in op.columns], unique=op.unique,
                            **dialect_options)
        table = self.stub_table(op.table, op.schema, ["_"])
        return sa.Index(op.name, table.c["_"], **dialect_options)

    def sql_create_index(self, op: ops.CreateIndex, ctx: RenderContext) -> list[str]:
        """``CREATE [UNIQUE] INDEX``, compiled by SQLAlchemy."""
        import sqlalchemy as sa

        return [self.compile(sa.schema.CreateIndex(self.index_for(op)))]

    def sql_drop_index(self, op: ops.DropIndex, ctx: RenderContext) -> list[str]:
        """``DROP INDEX``, compiled by SQLAlchemy."""
        import sqlalchemy as sa

        return [self.compile(sa.schema.DropIndex(self.index_for(op)))]

    def constraint_for(self, op: ops.AddConstraint | ops.DropConstraint) -> "sa.Constraint":
        """The SQLAlchemy constraint of ``op``, on a stub of its table (what the DDL
        compiler needs to write ``ADD`` / ``DROP CONSTRAINT``)."""
        import sqlalchemy as sa

        self.check_identifier(op.name, "constraint")
        constraint: sa.Constraint
        if isinstance(op, ops.CreateForeignKey):
            metadata = sa.MetaData()
            self.stub_table(op.referent, op.referent_schema, op.remote_cols, metadata=metadata)
            table = self.stub_table(op.table, op.schema, op.local_cols, metadata=metadata)
            prefix = f"{op.referent_schema}.{op.referent}" if op.referent_schema else op.referent
            constraint = sa.ForeignKeyConstraint(
                list(op.local_cols), [f"{prefix}.{c}" for c in op.remote_cols], name=op.name,
                ondelete=op.ondelete, onupdate=op.onupdate)
        elif isinstance(op, ops.CreatePrimaryKey):
            table = self.stub_table(op.table, op.schema, op.columns)
            constraint = sa.PrimaryKeyConstraint(*op.columns, name=op.name)
        elif isinstance(op, ops.CreateUniqueConstraint):
            table = self.stub_table(op.table, op.schema, op.columns)
            constraint = sa.UniqueConstraint(*op.columns, name=op.name)
        elif isinstance(op, ops.CreateCheckConstraint):
            table = self.stub_table(op.table, op.schema)
            constraint = sa.CheckConstraint(sa.text(op.condition), name=op.name)
        elif isinstance(op, ops.DropConstraint):
            table = self.stub_table(op.table, op.schema, ["_"])
            kinds = {"foreignkey": sa.ForeignKeyConstraint, "primary": sa.PrimaryKeyConstraint,
                     "unique": sa.UniqueConstraint, "check": sa.CheckConstraint}
            kind = kinds.get(op.type_) if op.type_ else None
            if kind is sa.ForeignKeyConstraint:
                constraint = sa.ForeignKeyConstraint(["_"], ["_x._"], name=op.name)
            elif kind is sa.CheckConstraint:
                constraint = sa.CheckConstraint(sa.text("1=1"), name=op.name)
            elif kind is not None:
                constraint = kind("_", name=op.name)
            else:
                constraint = sa.Constraint(name=op.name)
        else:
            raise TypeError(f"no constraint for {op.describe()}")
        table.append_constraint(constraint)
        return constraint

    def sql_create_foreign_key(self, op: ops.CreateForeignKey, ctx: RenderContext) -> list[str]:
        """``ALTER TABLE ... ADD CONSTRAINT`` for a foreign key, primary key, unique or
        check constraint (the four ``sql_create_*`` constraint methods)."""
        import sqlalchemy as sa

        return [self.compile(sa.schema.AddConstraint(self.constraint_for(op)))]

    sql_create_primary_key = sql_create_foreign_key
    sql_create_unique_constraint = sql_create_foreign_key
    sql_create_check_constraint = sql_create_foreign_key

    def sql_drop_constraint(self, op: ops.DropConstraint, ctx: RenderContext) -> list[str]:
        """``ALTER TABLE ... DROP CONSTRAINT``."""
        import sqlalchemy as sa

        return [self.compile(sa.schema.DropConstraint(self.constraint_for(op)))]

    def sql_create_schema(self, op: ops.CreateSchema, ctx: RenderContext) -> list[str]:
        """``CREATE SCHEMA``."""
        import sqlalchemy as sa

        self.check_identifier(op.name, "schema")
        return [self.compile(sa.schema.CreateSchema(op.name))]

    def sql_drop_schema(self, op: ops.DropSchema, ctx: RenderContext) -> list[str]:
        """``DROP SCHEMA``."""
        import sqlalchemy as sa

        self.check_identifier(op.name, "schema")
        return [self.compile(sa.schema.DropSchema(op.name))]

    def sql_bulk_insert(self, op: ops.BulkInsert, ctx: RenderContext) -> list[Statement]:
        """One ``INSERT`` run with ``executemany`` (values bound, never inlined; rows given
        as an iterator are streamed); nothing when there are no rows. Providers adjust it
        with :meth:`bulk_insert_sql` and :meth:`bind_value`, or wrap
        :meth:`bulk_insert_statements`."""
        found = self.bulk_insert_rows(op)
        if found is None:
            return []
        columns, rows = found
        return self.bulk_insert_statements(op, columns, rows)

    @staticmethod
    def bulk_insert_rows(op: ops.BulkInsert) -> "tuple[list[str], Iterable[Any]] | None":
        """The columns of a bulk insert (``op.columns``, else the keys of the first row)
        and its rows (an iterator's first row put back); ``None`` when there is no row."""
        rows = op.rows
        if op.columns:
            return list(op.columns), rows
        if isinstance(rows, (list, tuple)):
            first = rows[0] if rows else None
        else:
            rows = iter(rows)
            first = next(rows, None)
            if first is not None:
                rows = itertools.chain([first], rows)
        if first is None:
            return None
        return list(first.keys()), rows

    def bulk_insert_statements(self, op: ops.BulkInsert, columns: list[str],
                               rows: Iterable[Any]) -> list[Statement]:
        """The statements of a bulk insert of ``rows`` into ``columns``; the ``--sql``
        script shows one ``INSERT`` per row with the values as literals."""
        import sqlalchemy as sa

        table = self.stub_table(op.table, op.schema, columns)
        sql, row_params = self.bulk_insert_sql(op, table, columns)

        def literal(value: Any) -> Any:
            return sa.null() if value is None else sa.literal(self.bind_value(value))

        def script() -> str:
            if not isinstance(op.rows, (list, tuple)):
                return f"-- bulk_insert into {op.table}: rows streamed at run time"
            return ";\n".join(self.compile_literal(sa.insert(table).values(
                {k: literal(row.get(k)) for k in columns})) for row in op.rows)

        params = map(row_params, rows)
        return [Statement(sql, params=params, many=True, script=script)]

    def bulk_insert_sql(self, op: ops.BulkInsert, table: "sa.Table", columns: list[str]
                        ) -> "tuple[str, Callable[[Any], Any]]":
        """The ``INSERT`` of a bulk insert and how one row becomes its parameters. The
        default compiles SQLAlchemy's insert in the driver's paramstyle; a provider whose
        driver wants another form returns :meth:`positional_insert`."""
        import sqlalchemy as sa

        compiled = sa.insert(table).compile(dialect=self.dialect, column_keys=columns)
        if self.dialect.positional:
            keys = [compiled.binds[name].key for name in compiled.positiontup or ()]
            return str(compiled), self.row_extractor(keys)
        # the SQL names a bind after its column, escaped where the column name holds
        # characters a paramstyle cannot ("sel ect" -> %(sel_ect)s)
        escaped = getattr(compiled, "escaped_bind_names", None) or {}
        bind_names = {compiled.binds[name].key: escaped.get(name, name)
                      for name in compiled.binds}
        return str(compiled), lambda row: {bind_names[k]: self.bind_value(row.get(k))
                                           for k in columns}

    def positional_insert(self, op: ops.BulkInsert, target: str, names: list[str],
                          markers: list[str], columns: list[str]
                          ) -> "tuple[str, Callable[[Any], Any]]":
        """``INSERT INTO <target> (<names>) VALUES (<markers>)`` with each row bound as a
        tuple in column order (for :meth:`bulk_insert_sql`)."""
        if not columns:
            raise ConfigurationError(f"bulk_insert('{op.table}'): the rows have no columns.")
        sql = f"INSERT INTO {target} ({', '.join(names)}) VALUES ({', '.join(markers)})"
        return sql, self.row_extractor(columns)

    def row_extractor(self, columns: list[str]) -> "Callable[[Any], tuple]":
        """``row -> tuple`` of a ``bulk_insert`` row's values in ``columns`` order, each
        through :meth:`bind_value` when the provider overrides it
        (:func:`npa_migrations.rows.row_extractor`)."""
        from ..rows import row_extractor

        return row_extractor(columns, self.value_converter())

    def value_converter(self) -> "Callable[[Any], Any] | None":
        """:meth:`bind_value` when the provider overrides it, else ``None`` (values
        travel as they are, and a million-row insert skips a million calls)."""
        return self.bind_value if type(self).bind_value is not SqlGenerator.bind_value else None

    def bind_value(self, value: Any) -> Any:
        """A row value as the driver binds it (and as the ``--sql`` script shows it); the
        default passes it through."""
        return value

    def sql_execute(self, op: ops.Execute, ctx: RenderContext) -> list[str | Statement]:
        """Custom SQL split into statements by :meth:`split_statements` (nothing when
        its ``dialects`` exclude this provider; a
        :class:`~npa_migrations.operations.SplitStatement` as it is); with ``params``,
        one statement with its values bound in the driver's parameter style."""
        if op.dialects is not None and not op.applies_to(self.names):
            return []
        if op.params is not None:
            import sqlalchemy as sa

            from .data import bound_statement

            return [bound_statement(self, sa.text(op.sql).bindparams(**op.params))]
        if isinstance(op, ops.SplitStatement):
            return [op.sql]
        return list(self.split_statements(op.sql))

    def sql_run_python(self, op: ops.RunPython, ctx: RenderContext) -> list[Statement]:
        """A Python step: one statement that calls the function with the live connection
        (:mod:`npa_migrations.provider.data`)."""
        from .data import python_statement

        return [python_statement(op)]

    def sql_backfill(self, op: ops.Backfill, ctx: RenderContext) -> Iterable[Statement]:
        """A backfill: one ``UPDATE`` per key-ordered chunk, each chunk's bounds read from
        the database as it comes (:mod:`npa_migrations.provider.data`); offline, one
        ``UPDATE`` for all rows."""
        from .data import backfill_statements

        return backfill_statements(self, op, ctx)

