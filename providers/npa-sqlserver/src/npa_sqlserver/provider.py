"""SqlServerProvider: what SQL Server 2017+ and Azure SQL do differently from the base
provider.

* pyodbc in autocommit mode; transactions are explicit ``BEGIN TRANSACTION`` /
  ``COMMIT TRANSACTION`` statements, and DDL is transactional. Each session runs with
  ``SET XACT_ABORT ON`` (any error rolls the whole transaction back) and ``NOCOUNT ON``.
* Every statement is its own batch (no ``GO`` is ever sent); ``--sql`` scripts end each
  one with ``GO`` for ``sqlcmd``/SSMS. Custom SQL with ``GO`` lines is sent batch by batch.
* Renames are ``sp_rename`` calls with bound parameters. Defaults are constraints:
  before a column is altered or dropped, its default constraint is found by name in
  ``sys.default_constraints`` and dropped by a batch that works in offline scripts too.
* ``ALTER COLUMN`` restates the type, the nullability and the collation, and keeps the
  column's default and its indexes (see :func:`npa_sqlserver.tsql.alter_column`).
* The lock is ``sp_getapplock`` on a dedicated session (:mod:`npa_sqlserver.locking`).
* Types go through SQLAlchemy's mssql dialect with ``String`` -> ``NVARCHAR`` and
  ``DateTime`` -> ``DATETIME2`` (:mod:`npa_sqlserver.dialect`).

pyodbc is imported only when a connection is opened: generating SQL and ``--sql
--offline`` scripts need neither pyodbc nor an ODBC driver.
"""

from __future__ import annotations

import math
import os
import re
import socket
from typing import TYPE_CHECKING, Any, Iterable

from npa_migrations import operations as ops
from npa_migrations.errors import ConfigurationError
from npa_migrations.provider import (BaseProvider, Capabilities, Driver, RenderContext,
                                     SqlGenerator, url_with_driver)
from npa_migrations.statements import Statement

from . import tsql
from .comparison import SqlServerSchemaRules

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

    from npa_migrations.provider.connection import DbConnection

    from .locking import SqlServerLock

#: the driver this provider drives (``mssql://`` means ``mssql+pyodbc://``)
DRIVER = "pyodbc"
#: SQL Server error number of "Lock request time out period exceeded" (SET LOCK_TIMEOUT)
ERROR_LOCK_TIMEOUT = 1222

#: @@OPTIONS bits of the session settings the provider sets, with the value it sets
SESSION_OPTIONS = (
    ("ANSI_WARNINGS", 8, True),
    ("ANSI_PADDING", 16, True),
    ("ANSI_NULLS", 32, True),
    ("ARITHABORT", 64, True),
    ("QUOTED_IDENTIFIER", 256, True),
    ("NOCOUNT", 512, True),
    ("CONCAT_NULL_YIELDS_NULL", 4096, True),
    ("NUMERIC_ROUNDABORT", 8192, False),
    ("XACT_ABORT", 16384, True),
)
#: the batch that puts a session in the provider's settings
SESSION_SETUP = "; ".join(f"SET {name} {'ON' if on else 'OFF'}"
                          for name, _bit, on in SESSION_OPTIONS)

#: the batch a --sql script runs after every statement: stop executing after a failure
SCRIPT_GUARD = "IF @@ERROR <> 0 SET NOEXEC ON"

_VARLEN_TYPE = re.compile(r"^(N?VARCHAR|VARBINARY)\((\d+)\)$", re.IGNORECASE)
_CHARACTER_TYPE = re.compile(r"^(N?VARCHAR|N?CHAR|N?TEXT)\b", re.IGNORECASE)


def normalise_url(url: "sa.engine.URL") -> "sa.engine.URL":
    """``mssql://`` uses pyodbc; other drivers are refused clearly."""
    return url_with_driver(
        url, DRIVER, "npa-sqlserver drives SQL Server through pyodbc, not '{driver}'. Use a "
        "mssql+pyodbc:// URL (e.g. mssql+pyodbc://user:pass@host/db?driver=ODBC+Driver+18"
        "+for+SQL+Server), or an Engine created from one.")


class SqlServerDriver(Driver):
    """pyodbc in autocommit mode; explicit ``BEGIN TRANSACTION`` / ``COMMIT TRANSACTION``,
    the session settings every connection gets (``XACT_ABORT``, ``NOCOUNT``, the ANSI
    options), query and lock timeouts, ``fast_executemany`` bulk inserts and
    ``CREATE DATABASE`` from ``master``."""

    begin_statement = "BEGIN TRANSACTION"
    commit_statement = "COMMIT TRANSACTION"
    #: XACT_ABORT may already have rolled the transaction back; ROLLBACK would then fail
    rollback_statement = "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION"
    #: bulk_insert sends rows as ODBC parameter arrays (pyodbc ``fast_executemany``)
    fast_executemany = True

    def missing_driver_error(self, exc: ImportError) -> ConfigurationError:
        """pyodbc missing: ``pip install pyodbc``; pyodbc installed but unable to load the
        ODBC driver manager (``libodbc``): the system packages it needs."""
        if isinstance(exc, ModuleNotFoundError) and exc.name == "pyodbc":
            return super().missing_driver_error(exc)
        return ConfigurationError(
            f"pyodbc is installed but cannot load the ODBC driver manager ({exc}). Install "
            "unixODBC and Microsoft's ODBC Driver 18 for SQL Server, e.g. on Debian/Ubuntu: "
            "apt-get install unixodbc msodbcsql18 (see docs/providers/sqlserver.md).")

    def open_dbapi(self, dbapi: Any, cargs: list, cparams: dict) -> Any:
        """pyodbc in autocommit mode, with ``APP=npa-migrations <host>:<pid>`` unless the
        URL names an application, so ``sys.dm_exec_sessions.program_name`` (and a run
        waiting for the lock) shows who is migrating."""
        cargs = list(cargs)
        if cargs and isinstance(cargs[0], str) and not re.search(r"(?i)(^|;)\s*app\s*=",
                                                                  cargs[0]):
            app = f"npa-migrations {socket.gethostname()}:{os.getpid()}".replace("}", "}}")
            cargs[0] = f"{cargs[0].rstrip(';')};APP={{{app}}}"
        cparams = dict(cparams)
        cparams["autocommit"] = True  # never an implicit transaction, even before setup
        # pyodbc's login timeout (TCP connect, TLS and login), unless the URL sets one
        cparams.setdefault("timeout", math.ceil(self.connect_timeout))
        return dbapi.connect(*cargs, **cparams)

    def connection_error(self, exc: BaseException):
        error = super().connection_error(exc)
        text = str(exc)
        hint = ""
        if "IM002" in text or "Data source name not found" in text:
            hint = (" The ODBC driver was not found: name an installed one in the URL, e.g. "
                    "?driver=ODBC+Driver+18+for+SQL+Server (odbcinst -q -d lists them).")
        elif "certificate" in text.lower() or "SSL" in text:
            hint = (" ODBC Driver 18 encrypts and checks the server certificate by default; "
                    "for a development server with a self-signed certificate add "
                    "&TrustServerCertificate=yes to the URL.")
        if hint:
            error.args = (str(error) + hint,)
        return error

    def prepare_connection(self, raw: Any) -> None:
        raw.autocommit = True
        cursor = raw.cursor()
        try:
            cursor.execute(SESSION_SETUP)
        finally:
            cursor.close()

    def connection_state(self, raw: Any) -> Any:
        cursor = raw.cursor()
        try:
            cursor.execute("SELECT @@OPTIONS, @@LOCK_TIMEOUT")
            options, lock_timeout = cursor.fetchone()
        finally:
            cursor.close()
        return raw.autocommit, int(options), int(lock_timeout), raw.timeout

    def restore_connection(self, raw: Any, state: Any) -> None:
        autocommit, options, lock_timeout, timeout = state
        sets = [f"SET {name} {'ON' if options & bit else 'OFF'}"
                for name, bit, _on in SESSION_OPTIONS]
        sets.append(f"SET LOCK_TIMEOUT {lock_timeout}")
        cursor = raw.cursor()
        try:
            cursor.execute("; ".join(sets))
        finally:
            cursor.close()
        raw.timeout = timeout
        raw.autocommit = autocommit

    def set_statement_timeout(self, conn: "DbConnection", seconds: float | None) -> None:
        """pyodbc's query timeout (whole seconds; the driver cancels the statement). It is
        applied to cursors when they are created, so the connection's cursor is renewed."""
        value = 0 if not seconds or seconds <= 0 else max(1, math.ceil(seconds))
        conn.raw.timeout = value
        conn.renew_cursor()

    def set_wait_timeout(self, conn: "DbConnection", seconds: float) -> None:
        conn.execute(f"SET LOCK_TIMEOUT {max(0, int(seconds * 1000))}")

    def apply_ddl_lock_timeout(self, conn: "DbConnection", seconds: float | None) -> None:
        value = -1 if seconds is None else max(0, int(seconds * 1000))
        conn.execute(f"SET LOCK_TIMEOUT {value}")

    def is_lock_timeout(self, exc: BaseException) -> bool:
        text = " ".join(str(a) for a in getattr(exc, "args", ())) or str(exc)
        return f"({ERROR_LOCK_TIMEOUT})" in text

    def is_statement_timeout(self, exc: BaseException) -> bool:
        """ODBC's SQLSTATE ``HYT00`` (query timeout expired): pyodbc's query timeout."""
        args = getattr(exc, "args", ())
        return bool(args) and args[0] == "HYT00"

    def execute_many(self, conn: "DbConnection", sql: str, rows: Iterable[Any]) -> None:
        """Rows in batches with pyodbc's ``fast_executemany`` (ODBC parameter arrays: one
        round trip per batch, not per row), on the session's own cursor -- a second
        cursor would find the session busy while the first has unread results."""
        cursor = conn.execute("SET NOCOUNT ON")  # also discards any pending results
        cursor.fast_executemany = self.fast_executemany
        conn.executemany(sql, rows)

    def ensure_database(self) -> bool:
        """``CREATE DATABASE`` from ``master`` when ``DB_ID(<name>)`` is NULL."""
        database = self.url.database
        if not database or "odbc_connect" in self.url.query or database == "master":
            return False
        if self.engine is not None:
            return False  # the caller's Engine connects; it already names a database
        dbapi = self.import_dbapi()
        cargs, cparams = self.dialect.create_connect_args(self.url.set(database="master"))
        try:
            raw = self.open_dbapi(dbapi, cargs, cparams)
        except Exception as exc:
            raise ConfigurationError(
                f"ensure_created: cannot connect to the master database of "
                f"{self.provider.display_url()} to check that '{database}' exists ({exc}). It needs a "
                "login that may connect to master and CREATE DATABASE; create the database "
                "yourself otherwise.") from exc
        try:
            cursor = raw.cursor()
            cursor.execute("SELECT DB_ID(?)", (database,))
            if cursor.fetchone()[0] is not None:
                return False
            try:
                cursor.execute(f"CREATE DATABASE {self.provider.sql.quote(database)}")
            except Exception:
                cursor.execute("SELECT DB_ID(?)", (database,))
                if cursor.fetchone()[0] is not None:
                    return False  # created by a concurrent run
                raise
            return True
        finally:
            raw.close()


class SqlServerSql(SqlGenerator):
    """T-SQL: ``sp_rename`` with bound names, default constraints found and dropped
    before a column changes, ``ALTER COLUMN`` restating the column, unique indexes that
    ignore NULLs, ``GO``-separated batches in scripts and in custom SQL."""

    script_terminator = "\nGO"
    bracket_identifiers = True
    lexicon = tsql.TSQL

    def check_identifier(self, name: Any, what: str) -> str:
        """SQL Server counts identifier length in characters (UTF-16 code units), not
        bytes: up to 128."""
        if not isinstance(name, str) or not name:
            raise ConfigurationError(
                f"The {what} name {name!r} is empty or not a string; give it a name.")
        units = tsql.identifier_units(name)
        limit = self.max_identifier_length()
        if units > limit:
            raise ConfigurationError(
                f"The {what} name '{name}' is {units} characters long; SQL Server allows "
                f"at most {limit}. Choose a shorter name.")
        return name

    def script_prologue(self, transaction_mode: Any = None) -> list[str]:
        """The script's session gets the engine's settings: ``XACT_ABORT ON`` (an error
        rolls the transaction back), ``QUOTED_IDENTIFIER ON`` and the other ANSI settings
        filtered indexes need (``sqlcmd`` starts with QUOTED_IDENTIFIER OFF unless given
        ``-I``), and ``NOEXEC OFF`` (see :meth:`script_statement`)."""
        return ["SET NOEXEC OFF;",
                *[f"SET {name} {'ON' if on else 'OFF'};" for name, _bit, on in SESSION_OPTIONS],
                "GO"]

    def script_statement(self, sql: str) -> str:
        """Each statement is a batch ended by ``GO``, followed by the guard batch
        ``IF @@ERROR <> 0 SET NOEXEC ON``: once a batch fails, the server compiles but no
        longer executes the rest of the script, in any client (``sqlcmd`` without ``-b``,
        SSMS, Azure Data Studio), so a failed migration is never followed by its history
        row or by the next migration."""
        return f"{sql.rstrip().rstrip(';')}{self.script_terminator}\n{SCRIPT_GUARD}\nGO"

    def utc_now(self) -> Any:
        """``SYSUTCDATETIME()``: ``CURRENT_TIMESTAMP`` is the server's local time."""
        import sqlalchemy as sa

        return sa.func.sysutcdatetime()

    def guard_migration(self, pending: str, statements: list[str], *,
                        transactional: bool = True) -> list[str]:
        """One batch: ``IF <pending> BEGIN ... END`` running each statement with ``EXEC``
        (:func:`npa_sqlserver.tsql.guarded_batch`)."""
        return [self.script_statement(tsql.guarded_batch(pending, statements))]

    def create_table_if_missing(self, table: Any) -> list[str]:
        """``IF OBJECT_ID(...) IS NULL`` before the ``CREATE TABLE``."""
        import sqlalchemy as sa

        name = self.table_name(table.name, table.schema)
        return [f"IF OBJECT_ID({tsql.nstring(name)}, N'U') IS NULL\n"
                f"{self.compile(sa.schema.CreateTable(table))}"]

    def split_statements(self, sql: str) -> list[str]:
        """Custom SQL with ``GO`` lines is split into those batches, each sent whole (as
        ``sqlcmd`` does: ``CREATE PROCEDURE`` and friends need a batch of their own);
        without ``GO`` it is split at semicolons, ``[...]`` being quoted identifiers."""
        batches = tsql.split_go(sql)
        if batches is None:
            return super().split_statements(sql)
        return batches

    def generate(self, operation: ops.MigrationOperation, context: RenderContext
                 ) -> list[Statement]:
        """Every statement reads all of its batch's results after running, so an error in
        any statement of a batch fails the migration."""
        out = []
        for statement in super().generate(operation, context):
            if isinstance(statement, str):
                statement = Statement(statement)
            if statement.check is None and not statement.many:
                statement.check = tsql.drain_results
            out.append(statement)
        return out

    def sql_rename_table(self, op: ops.RenameTable, ctx: RenderContext) -> list[Statement]:
        self.check_identifier(op.new_name, "table")
        old = self.table_name(op.table, op.schema)
        return [self._sp_rename(old, op.new_name, None)]

    def sql_rename_column(self, op: ops.RenameColumn, ctx: RenderContext) -> list[Statement]:
        self.check_identifier(op.new_column_name, "column")
        column = self.quote(self.check_identifier(op.column_name, "column"))
        old = f"{self.table_name(op.table, op.schema)}.{column}"
        return [self._sp_rename(old, op.new_column_name, "COLUMN")]

    @staticmethod
    def _sp_rename(objname: str, newname: str, objtype: str | None) -> Statement:
        """``sp_rename`` with the names as bound parameters (literals in scripts). The new
        name is the bare name: brackets there would become part of it."""
        kind = f", @objtype = '{objtype}'" if objtype else ""
        return Statement(
            f"EXEC sp_rename @objname = ?, @newname = ?{kind}", params=(objname, newname),
            script=(f"EXEC sp_rename @objname = {tsql.nstring(objname)}, "
                    f"@newname = {tsql.nstring(newname)}{kind}"))

    def sql_add_column(self, op: ops.AddColumn, ctx: RenderContext) -> list[str]:
        """``ALTER TABLE ... ADD <column>`` (T-SQL has no ``COLUMN`` keyword), then the
        column's own constraints and indexes (primary key, unique, foreign keys, type
        checks, ``index=True``) and its comment."""
        import sqlalchemy as sa

        table = self.stub_table(op.table, op.schema, [op.column])
        self.ensure_fk_targets(table)
        name = self.table_name(op.table, op.schema)
        statements = [f"ALTER TABLE {name} ADD {self.column_spec(table, op.column.name)}"]
        for constraint in sorted(table.constraints,
                                 key=lambda c: (_constraint_order(c), c.name or "")):
            if isinstance(constraint, sa.PrimaryKeyConstraint) and not constraint.columns:
                continue
            statements.append(self.compile(sa.schema.AddConstraint(constraint)))
        for index in sorted(table.indexes, key=lambda index: index.name or ""):
            statements.append(self.compile(sa.schema.CreateIndex(index)))
        return statements + self.column_comments_sql(op.table, op.schema, [op.column])

    def sql_column_comment(self, table: str, schema: str | None, column: str,
                           comment: str | None, existing_comment: str | None = None
                           ) -> list[str]:
        """``sp_dropextendedproperty`` of the comment the column has (``existing_comment``;
        ``sp_addextendedproperty`` refuses to replace one), then
        ``sp_addextendedproperty`` of the new one."""
        import sqlalchemy as sa

        stub = self.stub_table(table, schema, [sa.Column(column, sa.types.NullType(),
                                                         comment=comment)])
        statements = []
        if existing_comment is not None:
            statements.append(self.compile(sa.schema.DropColumnComment(stub.c[column])))
        if comment is not None:
            statements.append(self.compile(sa.schema.SetColumnComment(stub.c[column])))
        return statements

    def sql_drop_column(self, op: ops.DropColumn, ctx: RenderContext) -> list[str]:
        table = self.table_name(op.table, op.schema)
        column = self.check_identifier(op.column_name, "column")
        return [tsql.drop_default(table, column),
                f"ALTER TABLE {table} DROP COLUMN {self.quote(column)}"]

    def sql_alter_column(self, op: ops.AlterColumn, ctx: RenderContext) -> list[Statement | str]:
        table = self.table_name(op.table, op.schema)
        column = self.check_identifier(op.column_name, "column")
        column_sql = self.quote(column)
        statements: list[Statement | str] = []
        default_changes = op.server_default is not ops.UNCHANGED
        if op.type_ is not ops.UNCHANGED or _given(op.nullable):
            statements.append(self._alter_column_batch(op, table, column, column_sql))
        elif default_changes:
            statements.append(tsql.drop_default(table, column))
        if default_changes and op.server_default is not None:
            name = self.quote(tsql.default_constraint_name(op.table, column))
            statements.append(f"ALTER TABLE {table} ADD CONSTRAINT {name} DEFAULT "
                              f"{self.render_default(op.server_default)} FOR {column_sql}")
        statements += self.alter_comment_sql(op)
        if op.new_column_name is not ops.UNCHANGED:
            statements.extend(self.sql_rename_column(
                ops.RenameColumn(op.table, column, op.new_column_name, schema=op.schema), ctx))
        return statements

    def _alter_column_batch(self, op: ops.AlterColumn, table: str, column: str,
                            column_sql: str) -> str:
        if op.type_ is not ops.UNCHANGED:
            type_sql = self.compile_type(op.type_)
            match = _VARLEN_TYPE.match(type_sql)
            if match:
                size = int(match.group(2)) * (2 if match.group(1).upper() == "NVARCHAR" else 1)
                in_place = f"@type = N'{match.group(1).lower()}' AND @length BETWEEN 0 AND {size}"
            else:
                in_place = None
        elif op.existing_type is not None:
            type_sql = self.compile_type(op.existing_type)
            in_place = "1 = 1"  # the type stays as it is
        else:
            raise ConfigurationError(
                f"alter_column('{op.table}', '{op.column_name}', nullable={op.nullable!r}): "
                "SQL Server's ALTER COLUMN restates the column's type, so give its current "
                "type as existing_type=, e.g. existing_type=sa.String(50).")
        if _given(op.nullable):
            nullable = bool(op.nullable)
        elif op.existing_nullable is not None:
            nullable = bool(op.existing_nullable)
        else:
            nullable = None  # read from the catalog when the batch runs
        if _given(op.nullable) and not op.nullable:
            # NOT NULL on an indexed column needs the indexes rebuilt, unless it is already
            in_place = "@nullable = 0" if in_place == "1 = 1" else (
                None if in_place is None else f"{in_place} AND @nullable = 0")
        keep_collation = bool(_CHARACTER_TYPE.match(type_sql)) and " COLLATE " not in type_sql
        return tsql.alter_column(
            table, column, column_sql, type_sql, nullable=nullable,
            keep_default=op.server_default is ops.UNCHANGED, in_place=in_place,
            keep_collation=keep_collation)

    def sql_create_index(self, op: ops.CreateIndex, ctx: RenderContext) -> list[str]:
        """Unique indexes ignore rows with a NULL in a nullable key column (a filter
        ``WHERE <column> IS NOT NULL`` computed when the batch runs), as in PostgreSQL and
        the SQL standard; plain indexes are plain ``CREATE INDEX``."""
        statements = super().sql_create_index(op, ctx)
        if not op.unique or op.where:  # a partial index keeps the filter it was given
            return statements
        table = self.table_name(op.table, op.schema)
        return [tsql.unique_index(statements[0], table, op.columns)]

    def sql_create_schema(self, op: ops.CreateSchema, ctx: RenderContext) -> list[str]:
        """``CREATE SCHEMA`` (it must be alone in its batch: every statement is)."""
        return [f"CREATE SCHEMA {self.quote(self.check_identifier(op.name, 'schema'))}"]

    def sql_drop_schema(self, op: ops.DropSchema, ctx: RenderContext) -> list[str]:
        return [f"DROP SCHEMA {self.quote(self.check_identifier(op.name, 'schema'))}"]

    def bulk_insert_statements(self, op: ops.BulkInsert, columns: list[str],
                               rows: Any) -> list[Statement]:
        """The base insert, between ``SET IDENTITY_INSERT ON/OFF`` when the rows give the
        table's identity column a value (decided when the batch runs)."""
        table = self.table_name(op.table, op.schema)
        return [Statement(tsql.identity_insert(table, columns, on=True)),
                *super().bulk_insert_statements(op, columns, rows),
                Statement(tsql.identity_insert(table, columns, on=False))]


class SqlServerProvider(BaseProvider):
    """SQL Server 2017+ and Azure SQL Database through pyodbc."""

    name = "mssql"
    install_hint = "pyodbc"
    capabilities = Capabilities(transactional_ddl=True, advisory_lock=True, schemas=True,
                                if_exists=True, alter_in_place=True, drop_column=True,
                                create_database=True, partial_indexes=True)
    driver_class = SqlServerDriver
    sql_class = SqlServerSql
    schema_rules_class = SqlServerSchemaRules

    def __init__(self, url: "sa.engine.URL"):
        super().__init__(normalise_url(url))

    @property
    def names(self) -> set[str]:
        return super().names | {"sqlserver"}

    def create_dialect(self):
        from .dialect import SqlServerDialect

        return SqlServerDialect()

    def create_lock(self, table_name: str) -> "SqlServerLock":
        from .locking import SqlServerLock

        return SqlServerLock(self, table_name)

def _given(value: Any) -> bool:
    """An ``alter_column`` argument that was given (``None`` for ``nullable`` means "not
    given", as in Alembic)."""
    return value is not ops.UNCHANGED and value is not None


def _constraint_order(constraint: Any) -> int:
    import sqlalchemy as sa

    for rank, kind in enumerate((sa.PrimaryKeyConstraint, sa.UniqueConstraint,
                                 sa.CheckConstraint, sa.ForeignKeyConstraint)):
        if isinstance(constraint, kind):
            return rank
    return 9
