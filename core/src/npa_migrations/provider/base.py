"""BaseProvider: everything a database provider shares; subclasses hold what differs.

A provider is bound to one database URL. It opens DB-API connections (through the
SQLAlchemy dialect's own connect arguments), controls transactions, and turns
:mod:`~npa_migrations.operations` into SQL with SQLAlchemy's DDL and type compilers and
identifier preparer, so quoting and type names are the dialect's, never hand-written.
"""

from __future__ import annotations

import contextlib
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterable

from .. import operations as ops
from ..errors import ConfigurationError
from ..statements import Statement, Step

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

    from .connection import DbConnection
    from .locking import MigrationLock


@dataclass(frozen=True)
class Capabilities:
    """What a database can do; the engine and the conformance suite read these flags."""

    #: DDL statements take part in transactions and roll back (PostgreSQL, SQLite, SQL Server)
    transactional_ddl: bool = True
    #: the database has a session-level lock the engine can use instead of a lock table
    advisory_lock: bool = False
    #: ``CREATE SCHEMA`` / schema-qualified names are supported
    schemas: bool = True
    #: ``DROP ... IF EXISTS`` is supported
    if_exists: bool = True
    #: ``ALTER TABLE`` can change a column / add a constraint in place (SQLite: rebuild)
    alter_in_place: bool = True
    #: ``ALTER TABLE ... DROP COLUMN`` exists
    drop_column: bool = True
    #: the database can be created by the engine (``ensure_created``)
    create_database: bool = True
    #: ``CREATE INDEX ... WHERE`` (partial indexes: PostgreSQL, SQLite, SQL Server)
    partial_indexes: bool = False


class BaseProvider:
    """Base class of every provider.

    Subclasses set :attr:`name`, :attr:`capabilities` and :attr:`install_hint`, and
    override only the ``sql_<operation kind>`` methods, transaction statements or
    connection set-up where their database differs from what SQLAlchemy's dialect and
    standard SQL give.
    """

    #: provider name shown to users, e.g. ``"sqlite"``
    name: ClassVar[str] = "base"
    #: extra of npa-migrations that installs this provider, e.g. ``"sqlite"``
    install_extra: ClassVar[str] = ""
    #: what ``pip install`` needs when the driver is missing, for a provider that is not
    #: an extra of npa-migrations, e.g. ``"npa-acme"``; empty: ``'npa-migrations[<extra>]'``
    install_hint: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities] = Capabilities()
    begin_statement: ClassVar[str | None] = "BEGIN"
    commit_statement: ClassVar[str | None] = "COMMIT"
    rollback_statement: ClassVar[str | None] = "ROLLBACK"
    #: what ends a statement in a ``--sql`` script (SQL Server: ``"\nGO"``)
    script_terminator: ClassVar[str] = ";"
    #: split ``[...]`` as quoted identifiers when splitting SQL scripts (SQL Server)
    bracket_identifiers: ClassVar[bool] = False
    #: how the database writes comments, strings and quoted names, for splitting SQL
    #: scripts (a :class:`~npa_migrations.sqltext.Lexicon`); ``None``: the portable one
    #: (with ``[...]`` names when :attr:`bracket_identifiers`)
    lexicon: ClassVar[Any] = None

    def __init__(self, url: "sa.engine.URL"):
        self.url = url
        self.dialect = self.create_dialect()
        #: the dialect that compiles DDL and literal SQL, which run without bound
        #: parameters; :attr:`dialect` compiles statements with parameters (two
        #: instances, as only the latter doubles ``%`` for a %-style driver)
        self.ddl_dialect = self.create_dialect()
        self.use_ddl_preparer()

    def use_ddl_preparer(self) -> None:
        """Quote names with :attr:`ddl_dialect`'s preparer (:attr:`preparer`), which
        leaves ``%`` single: a driver with %-style parameters needs it doubled only in SQL
        that runs with parameters, and SQLAlchemy does that itself when it compiles such
        a statement with :attr:`dialect`; SQL the provider writes by hand with
        parameters doubles it explicitly. Called again by a provider that re-initialises
        its dialects (MySQL, after reading the server version)."""
        self.ddl_dialect.identifier_preparer._double_percents = False
        self.preparer = self.ddl_dialect.identifier_preparer

    # identity --------------------------------------------------------------------------
    @property
    def names(self) -> set[str]:
        """Names an ``execute(sql, dialects=...)`` call may use to target this provider."""
        return {self.name, self.dialect.name, self.url.get_backend_name()}

    def display_url(self) -> str:
        """The URL with its password hidden, safe to print."""
        return self.url.render_as_string(hide_password=True)

    def database_name(self) -> str:
        """The database the URL names, for messages and lock keys; the URL (password
        hidden) when it names none."""
        return self.url.database or self.display_url()

    # connections -----------------------------------------------------------------------
    def create_dialect(self):
        """The SQLAlchemy dialect instance used for compilation (no driver import)."""
        return self.url.get_dialect()()

    def use_engine(self, engine: Any) -> None:
        """Open connections from a caller's SQLAlchemy Engine instead of the URL."""
        self._engine = engine

    def connect(self) -> "DbConnection":
        """Open a new DB-API connection in autocommit mode, wrapped for the engine."""
        from .connection import DbConnection

        engine = getattr(self, "_engine", None)
        if engine is not None:
            fairy = engine.raw_connection()
            raw = fairy.driver_connection
            fairy.detach()  # our session settings must never leak back into the pool
            self.prepare_connection(raw)
            return DbConnection(self, raw, close=fairy.close)
        dialect_cls = self.url.get_dialect()
        try:
            dbapi = dialect_cls.import_dbapi()
        except ImportError as exc:
            raise ConfigurationError(
                f"The database driver for '{self.url.drivername}' is not installed ({exc}). "
                f"Install it: pip install {self.install_command()}") from exc
        cargs, cparams = self.dialect.create_connect_args(self.url)
        try:
            raw = self.open_dbapi(dbapi, cargs, cparams)
        except Exception as exc:
            raise self.connection_error(exc) from exc
        self.prepare_connection(raw)
        return DbConnection(self, raw, close=raw.close)

    def install_command(self) -> str:
        """The ``pip install`` argument that brings this provider's driver."""
        return self.install_hint or f"'npa-migrations[{self.install_extra}]'"

    def open_dbapi(self, dbapi: Any, cargs: list, cparams: dict) -> Any:
        """Call the driver's ``connect``; providers adjust arguments here."""
        return dbapi.connect(*cargs, **cparams)

    def connection_error(self, exc: BaseException) -> ConfigurationError:
        """A clear error for a failed connection; never shows the password."""
        from ..errors import DatabaseUnavailableError

        return DatabaseUnavailableError(
            f"Cannot connect to {self.display_url()}: {exc}. Check that the server is "
            "running and the URL (host, port, user, database) is right.")

    def wrap(self, raw: Any) -> "DbConnection":
        """Wrap a connection the caller owns (from an SQLAlchemy Connection); its session
        settings are restored when the run ends, and it is not closed."""
        from .connection import DbConnection

        state = self.connection_state(raw)
        self.prepare_connection(raw)
        return DbConnection(self, raw, close=lambda: self.restore_connection(raw, state))

    def connection_state(self, raw: Any) -> Any:
        """Session settings :meth:`prepare_connection` changes, to restore later."""
        return getattr(raw, "autocommit", None)

    def restore_connection(self, raw: Any, state: Any) -> None:
        """Put back the session settings :meth:`connection_state` saved, when the engine
        lets go of a connection it did not open."""
        raw.autocommit = state

    def prepare_connection(self, raw: Any) -> None:
        """Put a driver connection in autocommit mode (the engine issues explicit
        transactions)."""
        raw.autocommit = True

    def begin(self, conn: "DbConnection") -> None:
        """Open an explicit transaction: :attr:`begin_statement` (the connection is in
        autocommit mode); nothing when it is empty (the driver begins implicitly)."""
        if self.begin_statement:
            conn.execute(self.begin_statement)

    def begin_write(self, conn: "DbConnection") -> None:
        """Begin a transaction that takes the database's write lock at once (used by the
        lock table). Defaults to :meth:`begin`; SQLite uses ``BEGIN IMMEDIATE``."""
        conn.begin()

    def commit(self, conn: "DbConnection") -> None:
        """Commit the explicit transaction: :attr:`commit_statement`, else the driver's
        ``commit()``."""
        if self.commit_statement:
            conn.execute(self.commit_statement)
        else:
            conn.raw.commit()

    def rollback(self, conn: "DbConnection") -> None:
        """Roll back the explicit transaction: :attr:`rollback_statement`, else the
        driver's ``rollback()``."""
        if self.rollback_statement:
            conn.execute(self.rollback_statement)
        else:
            conn.raw.rollback()

    def batched(self, conn: "DbConnection") -> "contextlib.AbstractContextManager[None]":
        """A block whose statements may travel to the server together; their errors may
        surface only when it ends. The engine runs a migration's bookkeeping in it: the
        history row, the event-log row and the commit -- statements that read no result.
        A provider whose driver can pipeline returns that (PostgreSQL: psycopg's pipeline
        mode); when the block fails it must leave no transaction open
        (``conn.in_transaction`` false). The default runs them one by one."""
        return contextlib.nullcontext()

    def execute_many(self, conn: "DbConnection", sql: str, rows: Iterable[Any]) -> None:
        """Run one statement for many parameter sets (bulk insert); streamed in batches."""
        conn.executemany(sql, rows)

    def set_statement_timeout(self, conn: "DbConnection", seconds: float | None) -> None:
        """Limit how long one statement may run; a no-op where the database has no such
        setting."""

    def set_wait_timeout(self, conn: "DbConnection", seconds: float) -> None:
        """How long a statement on ``conn`` waits for another session's lock, where the
        database lets a session choose (the lock table polls with a short wait)."""

    def apply_ddl_lock_timeout(self, conn: "DbConnection", seconds: float | None) -> None:
        """Called at the start of every migration (right after its ``BEGIN`` when it has
        a transaction; ``conn.in_transaction`` tells) with how long its statements may
        wait for a table lock: the migration's ``lock_timeout_seconds``, else the option
        ``ddl_lock_timeout_seconds``, else ``None`` (the database default; a provider
        undoes what an earlier migration set). A no-op where the database has no such
        setting."""

    def is_lock_timeout(self, exc: BaseException) -> bool:
        """Whether a statement failed because it waited too long for a lock (the DDL lock
        timeout); the engine then retries the rolled-back migration up to
        ``ddl_lock_retries`` times."""
        return False

    def transaction_open(self, conn: "DbConnection") -> bool | None:
        """Whether the transaction the engine began on ``conn`` is still open on the
        server. Where DDL commits implicitly (no transactional DDL) a failed migration's
        operations before that commit took effect and the ones after it roll back; the
        engine asks this after each operation and at a failure to record ``steps_done``
        truthfully. ``None`` (the default): the database cannot tell, and every completed
        operation is counted as having taken effect."""
        return None

    def ensure_database(self) -> bool:
        """Create the database when it does not exist; return ``True`` if it was created."""
        return False

    # locking ---------------------------------------------------------------------------
    def create_lock(self, table_name: str) -> "MigrationLock":
        """The lock for this database: the portable lock table unless overridden."""
        from .locking import TableLock

        return TableLock(self, table_name)

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
    def reflected_name(self, name: str | None) -> str | None:
        """A column, index or constraint name as SQLAlchemy's reflection returned it,
        turned into the name the database holds (drift and verification compare names).
        The default keeps it."""
        return name

    def split_statements(self, sql: str) -> list[str]:
        """Split custom SQL (``execute()``, ``.sql`` migrations) into the statements sent
        one by one, with :attr:`lexicon`; a provider whose scripts have rules beyond it
        (``GO`` batches, ``DELIMITER``, SQL*Plus ``/`` lines) overrides this."""
        from ..sqltext import split_statements

        return split_statements(sql, brackets=self.bracket_identifiers, lexicon=self.lexicon)

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

    # planning --------------------------------------------------------------------------
    def plan(self, operations: list[ops.MigrationOperation]) -> list[Step]:
        """Group operations into executable steps and fix their order where the database
        needs it (:func:`npa_migrations.engine.planner.order_operations`: the author's order,
        except foreign keys whose referent is created later and constraints dropped after
        a table they may reference). The default makes one step per operation."""
        from ..engine.planner import order_operations

        return [self.step_for(op) for op in order_operations(operations)]

    def step_for(self, operation: ops.MigrationOperation) -> Step:
        """One step rendering ``operation`` through the ``npa_generate_sql`` hook when it
        runs; it is non-transactional when a plugin says so (``npa_operation_transactional``
        returns ``False``)."""
        from ..plugins import get_plugin_manager, live, only_default

        hook = get_plugin_manager().hook
        if only_default(hook.npa_generate_sql):  # no override: skip the hook dispatch
            generate = self.generate_sql
        else:
            def generate(operation):
                return hook.npa_generate_sql(provider=self, operation=operation)

        def render(conn: "DbConnection | None") -> list[Statement]:
            return [s if isinstance(s, Statement) else Statement(s)
                    for s in (generate(operation) or [])]

        transactional = live(hook.npa_operation_transactional)(provider=self,
                                                                operation=operation)
        if getattr(operation, "where", None) and not self.capabilities.partial_indexes:
            raise ConfigurationError(
                f"{operation.describe()}: {self.name} has no partial indexes, so "
                f"create_index(..., where=...) cannot run on it. Leave where= out, or create "
                "the index with b.execute(..., dialects=...) for the databases that have them.")
        return Step((operation,), render, transactional=transactional is not False)

    def generate_sql(self, operation: ops.MigrationOperation) -> list[Statement | str]:
        """Render one operation by dispatching to ``sql_<operation.kind>``."""
        method = getattr(self, f"sql_{operation.kind}", None)
        if method is None:
            raise ConfigurationError(
                f"Provider '{self.name}' cannot render operation '{operation.kind}'. "
                "Install a plugin that implements it, or use b.execute() with custom SQL.")
        return method(operation)

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

    def _ensure_fk_targets(self, table: "sa.Table") -> None:
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
    def sql_create_table(self, op: ops.CreateTable) -> list[str]:
        """``CREATE TABLE`` with its constraints, compiled by SQLAlchemy from a stub
        table."""
        if not op.columns:
            raise ConfigurationError(f"create_table('{op.table}') has no columns; add at least one.")
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

        self._ensure_fk_targets(table)
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

    def sql_drop_table(self, op: ops.DropTable) -> list[str]:
        """``DROP TABLE``."""
        import sqlalchemy as sa

        return [self.compile(sa.schema.DropTable(self.stub_table(op.table, op.schema)))]

    def sql_rename_table(self, op: ops.RenameTable) -> list[str]:
        """``ALTER TABLE ... RENAME TO``."""
        self.check_identifier(op.new_name, "table")
        return [f"ALTER TABLE {self.table_name(op.table, op.schema)} "
                f"RENAME TO {self.quote(op.new_name)}"]

    def sql_add_column(self, op: ops.AddColumn) -> list[str]:
        """``ALTER TABLE ... ADD COLUMN`` with the full column definition."""
        table = self.stub_table(op.table, op.schema, [op.column])
        self._ensure_fk_targets(table)
        return [f"ALTER TABLE {self.table_name(op.table, op.schema)} "
                f"ADD COLUMN {self.column_spec(table, op.column.name)}",
                *self.column_comments_sql(op.table, op.schema, [op.column])]

    def sql_drop_column(self, op: ops.DropColumn) -> list[str]:
        """``ALTER TABLE ... DROP COLUMN``."""
        self.check_identifier(op.column_name, "column")
        return [f"ALTER TABLE {self.table_name(op.table, op.schema)} "
                f"DROP COLUMN {self.quote(op.column_name)}"]

    def sql_rename_column(self, op: ops.RenameColumn) -> list[str]:
        """``ALTER TABLE ... RENAME COLUMN ... TO``."""
        self.check_identifier(op.new_column_name, "column")
        return [f"ALTER TABLE {self.table_name(op.table, op.schema)} "
                f"RENAME COLUMN {self.quote(op.column_name)} TO {self.quote(op.new_column_name)}"]

    def sql_alter_column(self, op: ops.AlterColumn) -> list[str]:
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
                ops.RenameColumn(op.table, op.column_name, op.new_column_name, schema=op.schema)))
        return statements

    def alter_comment_sql(self, op: ops.AlterColumn) -> list[str]:
        """The :meth:`sql_column_comment` of an ``alter_column`` that changes the
        comment; nothing when it does not."""
        if op.comment is ops.UNCHANGED:
            return []
        return self.sql_column_comment(op.table, op.schema, op.column_name, op.comment,
                                       op.existing_comment)

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

    def sql_create_index(self, op: ops.CreateIndex) -> list[str]:
        """``CREATE [UNIQUE] INDEX``, compiled by SQLAlchemy."""
        import sqlalchemy as sa

        return [self.compile(sa.schema.CreateIndex(self.index_for(op)))]

    def sql_drop_index(self, op: ops.DropIndex) -> list[str]:
        """``DROP INDEX``, compiled by SQLAlchemy."""
        import sqlalchemy as sa

        return [self.compile(sa.schema.DropIndex(self.index_for(op)))]

    def _constraint(self, op: ops.MigrationOperation) -> "sa.Constraint":
        import sqlalchemy as sa

        self.check_identifier(op.name, "constraint")
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
        else:  # DropConstraint
            table = self.stub_table(op.table, op.schema, ["_"])
            kind = {"foreignkey": sa.ForeignKeyConstraint, "primary": sa.PrimaryKeyConstraint,
                    "unique": sa.UniqueConstraint, "check": sa.CheckConstraint}.get(op.type_)
            if kind is sa.ForeignKeyConstraint:
                constraint = sa.ForeignKeyConstraint(["_"], ["_x._"], name=op.name)
            elif kind is sa.CheckConstraint:
                constraint = sa.CheckConstraint(sa.text("1=1"), name=op.name)
            elif kind is not None:
                constraint = kind("_", name=op.name)
            else:
                constraint = sa.Constraint(name=op.name)
        table.append_constraint(constraint)
        return constraint

    def sql_create_foreign_key(self, op: ops.CreateForeignKey) -> list[str]:
        """``ALTER TABLE ... ADD CONSTRAINT`` for a foreign key, primary key, unique or
        check constraint (the four ``sql_create_*`` constraint methods)."""
        import sqlalchemy as sa

        return [self.compile(sa.schema.AddConstraint(self._constraint(op)))]

    sql_create_primary_key = sql_create_foreign_key
    sql_create_unique_constraint = sql_create_foreign_key
    sql_create_check_constraint = sql_create_foreign_key

    def sql_drop_constraint(self, op: ops.DropConstraint) -> list[str]:
        """``ALTER TABLE ... DROP CONSTRAINT``."""
        import sqlalchemy as sa

        return [self.compile(sa.schema.DropConstraint(self._constraint(op)))]

    def sql_create_schema(self, op: ops.CreateSchema) -> list[str]:
        """``CREATE SCHEMA``."""
        import sqlalchemy as sa

        self.check_identifier(op.name, "schema")
        return [self.compile(sa.schema.CreateSchema(op.name))]

    def sql_drop_schema(self, op: ops.DropSchema) -> list[str]:
        """``DROP SCHEMA``."""
        import sqlalchemy as sa

        self.check_identifier(op.name, "schema")
        return [self.compile(sa.schema.DropSchema(op.name))]

    def sql_bulk_insert(self, op: ops.BulkInsert) -> list[Statement]:
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
            keys = [compiled.binds[name].key for name in compiled.positiontup]
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
        return self.bind_value if type(self).bind_value is not BaseProvider.bind_value else None

    def bind_value(self, value: Any) -> Any:
        """A row value as the driver binds it (and as the ``--sql`` script shows it); the
        default passes it through."""
        return value

    def sql_execute(self, op: ops.Execute) -> list[str]:
        """Custom SQL split into statements by :meth:`split_statements` (nothing when
        its ``dialects`` exclude this provider; a
        :class:`~npa_migrations.operations.SplitStatement` as it is)."""
        if not op.applies_to(self.names):
            return []
        if isinstance(op, ops.SplitStatement):
            return [op.sql]
        return self.split_statements(op.sql)


def url_with_driver(url: "sa.engine.URL", driver: str, refusal: str) -> "sa.engine.URL":
    """``url`` served through the DB-API ``driver``: added when the URL names no driver
    (``oracle://``); a URL naming another one is refused with ``refusal``, formatted with
    ``driver=`` the name it gave."""
    if "+" not in url.drivername:
        return url.set(drivername=f"{url.get_backend_name()}+{driver}")
    named = url.drivername.split("+", 1)[1]
    if named != driver:
        raise ConfigurationError(refusal.format(driver=named))
    return url


def copy_constraint(constraint: Any) -> Any:
    """A copy of a table-level constraint not yet attached to a table (SQLAlchemy's
    ``_copy()`` needs the parent table for key, unique and foreign-key constraints)."""
    import sqlalchemy as sa

    if isinstance(constraint, sa.ForeignKeyConstraint):
        return sa.ForeignKeyConstraint(
            list(constraint.column_keys), [fk._get_colspec() for fk in constraint.elements],
            name=constraint.name, ondelete=constraint.ondelete, onupdate=constraint.onupdate,
            deferrable=constraint.deferrable, initially=constraint.initially,
            match=constraint.match)
    if isinstance(constraint, (sa.UniqueConstraint, sa.PrimaryKeyConstraint)):
        columns = getattr(constraint, "_pending_colargs", None) or list(constraint.columns)
        return type(constraint)(*[c if isinstance(c, str) else c.name for c in columns],
                                name=constraint.name, deferrable=constraint.deferrable,
                                initially=constraint.initially)
    return constraint._copy()


def type_instance(type_: Any):
    """An instance of a SQLAlchemy type given as a class or an instance."""
    import sqlalchemy as sa

    if isinstance(type_, type) and issubclass(type_, sa.types.TypeEngine):
        return type_()
    return type_
