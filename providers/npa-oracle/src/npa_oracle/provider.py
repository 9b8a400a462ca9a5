"""OracleProvider: what Oracle Database 19c+ does differently from the base provider.

* No transactional DDL: every DDL statement commits implicitly (before and after
  itself), so the engine refuses all-in-one mode and records a migration that fails
  half-way as failed, with the number of operations that took effect.
* No ``BEGIN`` statement: a transaction starts with the first data statement. The
  engine's connections run with python-oracledb's ``autocommit`` on; :meth:`begin` turns
  it off, so the data statements of a migration and its history row commit together with
  ``connection.commit()`` (or are undone with ``rollback()``).
* SQL is compiled by SQLAlchemy's Oracle dialect, pinned to the 19c feature set
  (:data:`BASELINE_VERSION`) whatever server it runs on, so one migration makes the same
  schema on 19c and on 23ai, and ``--sql --offline`` prints exactly what runs.
* The migration lock is ``DBMS_LOCK`` (an exclusive user lock held by a session of its
  own), or the lock table when the user may not execute ``DBMS_LOCK``
  (:mod:`npa_oracle.locking`).
* ``--sql`` scripts are SQL*Plus / SQLcl scripts: ``;`` after plain statements, PL/SQL
  blocks end with ``END;`` and a ``/`` line, and the script starts with
  ``WHENEVER SQLERROR EXIT FAILURE ROLLBACK`` and ``SET DEFINE OFF``.
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING, Any, Iterable

from npa_migrations import operations as ops
from npa_migrations.errors import ConfigurationError
from npa_migrations.provider import (BaseProvider, Capabilities, Driver, RenderContext,
                                     SqlGenerator, copy_constraint, url_with_driver)

from . import sqltext
from .comparison import OracleSchemaRules
from .errors import (ORA_ACCOUNT_LOCKED, ORA_ALREADY_NOT_NULL, ORA_ALREADY_NULL,
                     ORA_INVALID_CREDENTIALS, ORA_LIBRARY_CACHE_TIMEOUT, ORA_RESOURCE_BUSY,
                     ORA_SERVICE_UNKNOWN, ORA_SID_UNKNOWN, error_text, ora_code)

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

    from npa_migrations.provider.connection import DbConnection
    from npa_migrations.provider.locking import MigrationLock

#: the only driver this provider drives; bare ``oracle://`` URLs use it
DRIVER = "oracledb"
#: server version whose feature set SQL is compiled for (SQLAlchemy's Oracle dialect
#: otherwise assumes the newest: native BOOLEAN and JSON exist only from 23ai / 21c)
BASELINE_VERSION = (19, 0, 0, 0, 0)
#: Oracle's identifier limit in bytes from 12.2 on (COMPATIBLE >= 12.2)
MAX_IDENTIFIER_BYTES = 128

#: ``ON DELETE`` actions Oracle has (``NO ACTION`` is its behaviour without a clause)
_ON_DELETE = {"CASCADE": "CASCADE", "SET NULL": "SET NULL", "NO ACTION": None,
              "RESTRICT": None}


def normalise_url(url: "sa.engine.URL") -> "sa.engine.URL":
    """``oracle://`` uses python-oracledb; other drivers are refused clearly."""
    return url_with_driver(
        url, DRIVER, "npa-oracle drives Oracle through python-oracledb, not '{driver}'. Use "
        "an oracle+oracledb:// (or plain oracle://) URL, or an Engine created from one.")


class OracleDriver(Driver):
    """python-oracledb (thin mode) with ``autocommit`` on; :meth:`begin` turns it off, so
    the data statements of a migration and its history row commit together with
    ``connection.commit()``. DDL still commits implicitly: :meth:`transaction_open`
    tells the engine when it did."""

    begin_statement = None
    commit_statement = None
    rollback_statement = None

    def connect(self) -> "DbConnection":
        if self.engine is None and self.dialect.dbapi is None:
            self.dialect.dbapi = self.import_dbapi()
        return super().connect()

    def open_dbapi(self, dbapi: Any, cargs: list, cparams: dict) -> Any:
        params = dict(cparams)
        # python-oracledb wants integers where a URL query gives text
        for key in ("expire_time", "retry_count", "retry_delay", "port", "sdu"):
            if isinstance(params.get(key), str) and params[key].isdigit():
                params[key] = int(params[key])
        # the connect bound (TCP and the listener's answer), unless the URL sets one
        params.setdefault("tcp_connect_timeout", float(self.connect_timeout))
        return dbapi.connect(*cargs, **params)

    def connection_error(self, exc: BaseException):
        from npa_migrations.errors import DatabaseUnavailableError

        code = ora_code(exc)
        text = error_text(exc)
        where = self.provider.display_url()
        if code in (ORA_SERVICE_UNKNOWN, ORA_SID_UNKNOWN) or "DPY-6001" in text \
                or "DPY-6003" in text:
            return DatabaseUnavailableError(
                f"Cannot connect to {where}: {text}. The listener does not know that service; "
                "check the service name (e.g. ?service_name=FREEPDB1). npa cannot create an "
                "Oracle database or pluggable database: it must exist (ensure_created does "
                "nothing on Oracle).")
        if code == ORA_INVALID_CREDENTIALS:
            return DatabaseUnavailableError(
                f"Cannot connect to {where}: {text}. Check the user name and password; the "
                "user (the schema being migrated) must exist, npa does not create it.")
        if code == ORA_ACCOUNT_LOCKED:
            return DatabaseUnavailableError(
                f"Cannot connect to {where}: {text}. Ask a DBA to unlock the account "
                "(ALTER USER ... ACCOUNT UNLOCK).")
        return super().connection_error(exc)

    def prepare_connection(self, raw: Any) -> None:
        """Autocommit on (the engine's explicit transactions turn it off), LOBs fetched
        as ``str`` / ``bytes``, and the server's identifier limit learnt once."""
        raw.autocommit = True
        raw.outputtypehandler = _lob_as_value
        try:
            self.provider.detect_server(raw)
        except ConfigurationError:
            raw.close()
            raise

    def connection_state(self, raw: Any) -> Any:
        return (getattr(raw, "autocommit", None), getattr(raw, "outputtypehandler", None),
                getattr(raw, "call_timeout", 0))

    def restore_connection(self, raw: Any, state: Any) -> None:
        autocommit, handler, call_timeout = state
        if getattr(raw, "transaction_in_progress", False):
            raw.rollback()
        raw.autocommit = bool(autocommit)
        raw.outputtypehandler = handler
        raw.call_timeout = call_timeout or 0

    def begin(self, conn: "DbConnection") -> None:
        """Oracle has no ``BEGIN``: a transaction starts with the first data statement.
        Autocommit goes off until :meth:`commit` / :meth:`rollback`. DDL still commits
        implicitly."""
        conn.raw.autocommit = False

    def commit(self, conn: "DbConnection") -> None:
        try:
            conn.raw.commit()
        finally:
            conn.raw.autocommit = True

    def rollback(self, conn: "DbConnection") -> None:
        try:
            conn.raw.rollback()
        finally:
            conn.raw.autocommit = True

    def transaction_open(self, conn: "DbConnection") -> bool | None:
        """Whether the session has uncommitted changes (python-oracledb tracks it without
        a round trip): ``False`` right after a DDL statement committed them."""
        value = getattr(conn.raw, "transaction_in_progress", None)
        return None if value is None else bool(value)

    def set_statement_timeout(self, conn: "DbConnection", seconds: float | None) -> None:
        """python-oracledb's ``call_timeout`` (milliseconds) limits every round trip to the
        database, DDL included; ``0`` means no limit."""
        if seconds is None:
            return
        if seconds < 0:
            raise ConfigurationError("timeout_seconds must be >= 0 (0 means no limit).")
        conn.raw.call_timeout = int(math.ceil(seconds * 1000))

    def apply_ddl_lock_timeout(self, conn: "DbConnection", seconds: float | None) -> None:
        """How long a DDL statement waits for a table another session is changing:
        ``DDL_LOCK_TIMEOUT`` in whole seconds, rounded up (``None``: 0, fail at once with
        ORA-00054, Oracle's default)."""
        value = 0 if seconds is None else min(1_000_000, max(1, math.ceil(seconds)))
        conn.execute(f"ALTER SESSION SET DDL_LOCK_TIMEOUT = {int(value)}")

    def set_wait_timeout(self, conn: "DbConnection", seconds: float) -> None:
        self.apply_ddl_lock_timeout(conn, seconds)

    def is_statement_timeout(self, exc: BaseException) -> bool:
        """python-oracledb's ``call_timeout`` expired: ``DPY-4024`` (thin mode) or
        ``DPI-1067`` (thick mode)."""
        text = error_text(exc)
        return "DPY-4024" in text or "DPI-1067" in text

    def is_lock_timeout(self, exc: BaseException) -> bool:
        """ORA-00054 (resource busy) or ORA-04021 (timeout waiting to lock an object)."""
        return ora_code(exc) in (ORA_RESOURCE_BUSY, ORA_LIBRARY_CACHE_TIMEOUT)

    def execute_many(self, conn: "DbConnection", sql: str, rows: Iterable[Any]) -> None:
        """``executemany`` in batches; each batch declares the bind types of columns whose
        first value is ``None`` from the first value that is not, so a column that
        starts with NULLs still binds numbers and dates as such."""
        import itertools

        from npa_migrations.provider.connection import BATCH_SIZE

        cursor = conn.cursor
        iterator = iter(rows)
        while True:
            batch = list(itertools.islice(iterator, BATCH_SIZE))
            if not batch:
                break
            sizes = _input_sizes(batch)
            if sizes is not None:
                cursor.setinputsizes(*sizes)
            cursor.executemany(sql, batch)

    def ensure_database(self) -> bool:
        """Nothing: an Oracle database (a pluggable database, reached through its service)
        and the user that owns the schema are created by a DBA, not by migrations. A
        missing one is reported by the connection error."""
        return False



class OracleSql(SqlGenerator):
    """SQL compiled by SQLAlchemy's Oracle dialect pinned to 19c: identity columns,
    ``MODIFY``, PL/SQL blocks that ignore exactly the errors a down migration expects,
    schemas as users, and SQL*Plus scripts."""

    script_terminator = ";"
    #: how a PL/SQL block ends in a SQL*Plus script
    plsql_terminator = "\n/"
    lexicon = sqltext.ORACLE

    def max_identifier_length(self) -> int:
        return self.provider.identifier_limit

    def check_identifier(self, name: Any, what: str) -> str:
        """At most 128 bytes (in the database character set; UTF-8 counted here, which is
        AL32UTF8, the default), and no double quote or NUL: Oracle's quoted identifiers
        cannot contain them."""
        name = super().check_identifier(name, what)
        if '"' in name or "\x00" in name:
            raise ConfigurationError(
                f"The {what} name {name!r} cannot be used on Oracle: a quoted identifier may "
                "not contain a double quote (\") or NUL. Choose another name.")
        return name

    def split_statements(self, sql: str) -> list[str]:
        return sqltext.split_oracle(sql)

    def script_statement(self, sql: str) -> str:
        """A statement of a SQL*Plus script: PL/SQL units keep ``END;`` and end with a
        ``/`` line; every other statement ends with ``;``."""
        text = sql.rstrip()
        if not sqltext.strip_comments(text).strip():
            return text  # only comments: no statement to end
        if sqltext.is_plsql(text):
            return sqltext.finish_plsql(text) + self.plsql_terminator
        return text.rstrip(";").rstrip() + self.script_terminator

    def utc_now(self) -> Any:
        """``SYS_EXTRACT_UTC(SYSTIMESTAMP)``: ``CURRENT_TIMESTAMP`` is the session's time
        zone."""
        import sqlalchemy as sa

        return sa.func.sys_extract_utc(sa.literal_column("SYSTIMESTAMP"))

    def guard_migration(self, pending: str, statements: list[str], *,
                        transactional: bool = True) -> list[str]:
        """A PL/SQL block that runs the statements with ``EXECUTE IMMEDIATE`` while
        ``pending`` holds (:func:`npa_oracle.sqltext.guarded_block`)."""
        return [self.script_statement(sqltext.guarded_block(pending, statements))]

    def create_table_if_missing(self, table: Any) -> list[str]:
        """``CREATE TABLE`` in a PL/SQL block that ignores ORA-00955 (the name is
        already used): Oracle before 23ai has no ``IF NOT EXISTS``."""
        import sqlalchemy as sa

        return [sqltext.ignore_errors(self.compile(sa.schema.CreateTable(table)), 955)]

    def script_prologue(self, transaction_mode: Any = None) -> list[str]:
        """SQL*Plus / SQLcl settings: stop at the first error and roll back what is not
        committed (DDL has committed itself), no ``&`` substitution, blank lines allowed
        inside statements; in transaction mode ``none`` every statement commits, as the
        engine does."""
        lines = ["WHENEVER SQLERROR EXIT FAILURE ROLLBACK", "SET DEFINE OFF",
                 "SET SQLBLANKLINES ON"]
        if getattr(transaction_mode, "value", transaction_mode) == "none":
            lines.append("SET AUTOCOMMIT ON")
        return lines

    # one method per operation ------------------------------------------------------------
    def sql_create_table(self, op: ops.CreateTable, ctx: RenderContext) -> list[str]:
        """``CREATE TABLE`` (and ``CREATE INDEX`` for ``index=True`` columns).

        The table's implicit autoincrement column -- a single integer primary key without
        ``autoincrement=False``, a default, a sequence or a foreign key -- becomes
        ``GENERATED BY DEFAULT AS IDENTITY``, as it auto-increments on the other
        databases; explicit ``sa.Identity(...)`` columns are compiled as given. Foreign
        keys keep only the ``ON DELETE`` actions Oracle has."""

        if not op.columns:
            raise ConfigurationError(
                f"create_table('{op.table}') has no columns; add at least one.")
        for column in op.columns:
            self._check_type(column.type, op.table, column.name)
        table = self.stub_table(op.table, op.schema, _with_identity(op.columns, op.constraints))
        for constraint in op.constraints:
            if constraint.name:
                self.check_identifier(constraint.name, "constraint")
            table.append_constraint(self._copy_constraint(constraint, op.table))
        for column in table.columns:
            for fk in column.foreign_keys:
                name = fk.name or f"{op.table}.{column.name}"
                fk.ondelete = self._on_delete(fk.ondelete, name)
                self._on_update(fk.onupdate, name)
                fk.onupdate = None
        return self.create_table_statements(table)

    def sql_add_column(self, op: ops.AddColumn, ctx: RenderContext) -> list[str]:
        """``ALTER TABLE t ADD (<column definition>)`` (Oracle has no ``ADD COLUMN``)."""
        self._check_type(op.column.type, op.table, op.column.name)
        table = self.stub_table(op.table, op.schema, [op.column])
        for fk in table.c[op.column.name].foreign_keys:
            name = fk.name or f"{op.table}.{op.column.name}"
            fk.ondelete = self._on_delete(fk.ondelete, name)
            self._on_update(fk.onupdate, name)
            fk.onupdate = None
        self.ensure_fk_targets(table)
        return [f"ALTER TABLE {self.table_name(op.table, op.schema)} "
                f"ADD ({self.column_spec(table, op.column.name)})",
                *self.column_comments_sql(op.table, op.schema, [op.column])]

    def sql_alter_column(self, op: ops.AlterColumn, ctx: RenderContext) -> list[str]:
        """``ALTER TABLE t MODIFY (c <type> DEFAULT <expr> NULL|NOT NULL)`` restating only
        what changes (Oracle keeps the rest), then ``RENAME COLUMN``.

        ``MODIFY (c NULL)`` on a nullable column fails (ORA-01451), as does ``NOT NULL``
        on a NOT NULL one (ORA-01442). With ``existing_nullable`` given, an unchanged
        nullability is left out; without it, the nullability change runs in a PL/SQL
        block that ignores exactly those two errors. A dropped default is
        ``DEFAULT NULL`` (Oracle cannot remove a default)."""
        table = self.table_name(op.table, op.schema)
        column = self.quote(self.check_identifier(op.column_name, "column"))
        parts = []
        if op.type_ is not ops.UNCHANGED:
            self._check_type(op.type_, op.table, op.column_name)
            parts.append(self.compile_type(op.type_))
        if op.server_default is not ops.UNCHANGED:
            parts.append("DEFAULT " + ("NULL" if op.server_default is None
                                       else self.render_default(op.server_default)))
        statements = []
        tolerant = None
        if op.nullable is not ops.UNCHANGED:
            wanted = bool(op.nullable)
            if op.existing_nullable is None:
                tolerant = "NULL" if wanted else "NOT NULL"
            elif bool(op.existing_nullable) != wanted:
                parts.append("NULL" if wanted else "NOT NULL")
        if parts:
            statements.append(f"ALTER TABLE {table} MODIFY ({column} {' '.join(parts)})")
        if tolerant is not None:
            statements.append(sqltext.ignore_errors(
                f"ALTER TABLE {table} MODIFY ({column} {tolerant})",
                ORA_ALREADY_NULL if tolerant == "NULL" else ORA_ALREADY_NOT_NULL))
        statements += self.alter_comment_sql(op)
        if op.new_column_name is not ops.UNCHANGED:
            statements.extend(self.sql_rename_column(
                ops.RenameColumn(op.table, op.column_name, op.new_column_name, schema=op.schema),
                ctx))
        return statements

    def sql_column_comment(self, table: str, schema: str | None, column: str,
                           comment: str | None, existing_comment: str | None = None
                           ) -> list[str]:
        """Oracle has no ``COMMENT ... IS NULL``: a comment is removed by setting it to
        ``''`` (which Oracle holds as NULL)."""
        return super().sql_column_comment(table, schema, column,
                                          "" if comment is None else comment, existing_comment)

    def sql_drop_index(self, op: ops.DropIndex, ctx: RenderContext) -> list[str]:
        """``DROP INDEX [schema.]name`` (an index belongs to a schema, not to a table)."""
        self.check_identifier(op.name, "index")
        self.check_identifier(op.table, "table")
        name = self.quote(op.name)
        if op.schema:
            name = f"{self.preparer.quote_schema(op.schema)}.{name}"
        return [f"DROP INDEX {name}"]

    def sql_create_foreign_key(self, op: ops.CreateForeignKey, ctx: RenderContext) -> list[str]:
        if isinstance(op, ops.CreateForeignKey):
            ondelete = self._on_delete(op.ondelete, op.name)
            self._on_update(op.onupdate, op.name)
            op = ops.CreateForeignKey(op.name, op.table, op.referent, op.local_cols,
                                      op.remote_cols, ondelete=ondelete, onupdate=None,
                                      schema=op.schema, referent_schema=op.referent_schema)
        return super().sql_create_foreign_key(op, ctx)

    sql_create_primary_key = sql_create_foreign_key
    sql_create_unique_constraint = sql_create_foreign_key
    sql_create_check_constraint = sql_create_foreign_key

    sql_create_primary_key = sql_create_foreign_key
    sql_create_unique_constraint = sql_create_foreign_key
    sql_create_check_constraint = sql_create_foreign_key

    def sql_drop_constraint(self, op: ops.DropConstraint, ctx: RenderContext) -> list[str]:
        """``ALTER TABLE t DROP CONSTRAINT name`` for every kind (a primary key or unique
        constraint also drops the index Oracle created for it)."""
        self.check_identifier(op.name, "constraint")
        return [f"ALTER TABLE {self.table_name(op.table, op.schema)} "
                f"DROP CONSTRAINT {self.quote(op.name)}"]

    def sql_create_schema(self, op: ops.CreateSchema, ctx: RenderContext) -> list[str]:
        """In Oracle a schema is a user. ``create_schema`` creates a schema-only account
        (``NO AUTHENTICATION``: nobody can log in as it) whose default tablespace is the
        migrating user's, with unlimited quota there so its tables can hold rows. Needs
        the ``CREATE USER`` privilege (and ``CREATE ANY TABLE`` etc. to fill it)."""
        self.check_identifier(op.name, "schema")
        user = self.preparer.quote_schema(op.name)
        return ["DECLARE\n"
                "  ts VARCHAR2(128);\n"
                "BEGIN\n"
                "  SELECT default_tablespace INTO ts FROM user_users;\n"
                f"  EXECUTE IMMEDIATE {sqltext.literal(f'CREATE USER {user} NO AUTHENTICATION')}\n"
                "    || ' DEFAULT TABLESPACE \"' || ts || '\"'\n"
                "    || ' QUOTA UNLIMITED ON \"' || ts || '\"';\n"
                "END;"]

    def sql_drop_schema(self, op: ops.DropSchema, ctx: RenderContext) -> list[str]:
        """``DROP USER name`` without ``CASCADE``: refused by Oracle (ORA-01922) while the
        schema still owns objects, like ``DROP SCHEMA`` elsewhere."""
        self.check_identifier(op.name, "schema")
        return [f"DROP USER {self.preparer.quote_schema(op.name)}"]

    def bulk_insert_sql(self, op: ops.BulkInsert, table: Any, columns: list[str]) -> Any:
        """``INSERT INTO t (...) VALUES (:1, :2, ...)`` run with ``executemany`` (values
        bound by position, never inlined, so no column name ever becomes a bind name)."""
        return self.positional_insert(
            op, self.table_name(op.table, op.schema), [self.quote(c) for c in columns],
            [f":{n}" for n in range(1, len(columns) + 1)], columns)

    def bind_value(self, value: Any) -> Any:
        """Python ``bool`` as ``1`` / ``0``: Oracle 19c has no SQL BOOLEAN (``Boolean``
        columns are ``SMALLINT``), as SQLAlchemy binds it."""
        if isinstance(value, bool):
            return int(value)
        return value

    def _on_delete(self, action: str | None, name: str | None) -> str | None:
        if action is None:
            return None
        key = " ".join(str(action).upper().split())
        if key not in _ON_DELETE:
            raise ConfigurationError(
                f"Foreign key '{name}': Oracle has no ON DELETE {action}; it supports "
                "CASCADE and SET NULL (NO ACTION is its default). Change ondelete.")
        return _ON_DELETE[key]

    def _on_update(self, action: str | None, name: str | None) -> None:
        if action is None or " ".join(str(action).upper().split()) in ("NO ACTION",
                                                                       "RESTRICT"):
            return
        raise ConfigurationError(
            f"Foreign key '{name}': Oracle has no ON UPDATE actions (ON UPDATE {action}); "
            "remove onupdate (NO ACTION is its behaviour), or write a trigger with "
            "b.execute(..., dialects=['oracle']).")

    def _copy_constraint(self, constraint: Any, table: str) -> Any:
        """A detached copy of a table-level constraint (foreign keys with Oracle's
        ``ON DELETE`` actions only)."""
        import sqlalchemy as sa

        if isinstance(constraint, sa.ForeignKeyConstraint):
            name = constraint.name or table
            self._on_update(constraint.onupdate, name)
            return sa.ForeignKeyConstraint(
                list(constraint.column_keys), [fk._get_colspec() for fk in constraint.elements],
                name=constraint.name, ondelete=self._on_delete(constraint.ondelete, name),
                deferrable=constraint.deferrable, initially=constraint.initially)
        return copy_constraint(constraint)

    def _check_type(self, type_: Any, table: str, column: str) -> None:
        """Types Oracle cannot hold get a clear error instead of invalid DDL."""
        import sqlalchemy as sa

        if isinstance(type_, type):
            type_ = type_()
        if isinstance(type_, sa.Time) and type(type_).__name__ == "Time":
            raise ConfigurationError(
                f"Column '{table}.{column}': Oracle has no TIME type. Use sa.Interval "
                "(INTERVAL DAY TO SECOND), sa.DateTime / sa.TIMESTAMP, or a string.")


class OracleProvider(BaseProvider):
    """Oracle Database 19c and later through python-oracledb (thin mode).

    SQL is compiled with SQLAlchemy's Oracle dialect: ``String`` -> ``VARCHAR2(n CHAR)``,
    ``Integer`` -> ``INTEGER`` (``NUMBER(38)``), ``BigInteger`` -> ``NUMBER(19)``,
    ``Numeric(p, s)`` -> ``NUMERIC(p, s)``, ``Boolean`` -> ``SMALLINT``, ``DateTime`` ->
    ``DATE`` (to the second; use ``sa.TIMESTAMP`` for fractions), ``Text`` -> ``CLOB``,
    ``LargeBinary`` -> ``BLOB``, ``JSON`` -> ``BLOB``; ``Identity()`` -> ``GENERATED ...
    AS IDENTITY``.
    """

    name = "oracle"
    install_hint = "oracledb"
    capabilities = Capabilities(transactional_ddl=False, advisory_lock=True, schemas=True,
                                if_exists=False, alter_in_place=True, drop_column=True,
                                create_database=False)
    driver_class = OracleDriver
    sql_class = OracleSql
    schema_rules_class = OracleSchemaRules

    def __init__(self, url: "sa.engine.URL"):
        super().__init__(normalise_url(url))
        #: the server's identifier limit in bytes (learnt from the first connection)
        self.identifier_limit = MAX_IDENTIFIER_BYTES
        self._detect_lock = threading.Lock()
        #: the server's version, known after the first connection
        self.server_version: tuple[int, ...] | None = None

    def database_name(self) -> str:
        """The service name (or SID / DSN) the URL connects to."""
        query = self.url.query
        return (query.get("service_name") or self.url.database or self.url.host
                or self.display_url())

    def create_dialect(self):
        """SQLAlchemy's Oracle dialect pinned to the 19c feature set (see
        :data:`BASELINE_VERSION`): ``Boolean`` -> ``SMALLINT``, ``JSON`` -> ``BLOB``,
        identity columns, 128-byte identifiers."""
        dialect = self.url.get_dialect()()
        dialect.server_version_info = BASELINE_VERSION
        dialect.supports_native_boolean = False
        dialect._supports_oracle_json = False
        dialect.supports_identity_columns = True
        dialect._supports_offset_fetch = dialect.enable_offset_fetch
        dialect.max_identifier_length = MAX_IDENTIFIER_BYTES
        return dialect

    def detect_server(self, raw: Any) -> None:
        """The server version and its identifier limit (``max_identifier_length`` of
        python-oracledb: 128 bytes, or 30 when the database runs with COMPATIBLE below
        12.2)."""
        if self.server_version is not None:
            return
        with self._detect_lock:
            if self.server_version is not None:
                return
            limit = getattr(raw, "max_identifier_length", None)
            if isinstance(limit, int) and limit > 0:
                self.identifier_limit = limit
            version = getattr(raw, "version", None) or ""
            parts = tuple(int(p) for p in str(version).split(".") if p.isdigit())
            self.server_version = parts or (0,)
            if parts and parts < (19,):
                raise ConfigurationError(
                    f"{self.display_url()} runs Oracle {version}; npa-oracle supports "
                    "Oracle Database 19c and later.")

    def create_lock(self, table_name: str) -> "MigrationLock":
        from .locking import OracleLock

        return OracleLock(self, table_name)


# helpers ------------------------------------------------------------------------------------
def _with_identity(columns: tuple, constraints: tuple) -> tuple:
    """``columns`` with the implicit autoincrement column made an identity column (a new
    tuple), or ``columns`` itself when there is none."""
    import sqlalchemy as sa

    pk_columns = [c for c in columns if c.primary_key]
    for constraint in constraints:
        if isinstance(constraint, sa.PrimaryKeyConstraint):
            names = getattr(constraint, "_pending_colargs", None) or list(constraint.columns)
            names = [n if isinstance(n, str) else n.name for n in names]
            pk_columns = [c for c in columns if c.name in names]
    if len(pk_columns) != 1:
        return columns
    column = pk_columns[0]
    if column.autoincrement not in (True, "auto") or column.identity is not None \
            or column.server_default is not None or column.default is not None \
            or column.foreign_keys:
        return columns
    type_ = column.type
    if not isinstance(type_, sa.Integer):
        return columns
    copy = sa.Column(column.name, type_, sa.Identity(), primary_key=column.primary_key,
                     nullable=False, autoincrement=column.autoincrement,
                     comment=column.comment, unique=column.unique, index=column.index)
    return tuple(copy if c is column else c for c in columns)


def _lob_as_value(cursor: Any, metadata: Any) -> Any:
    """python-oracledb output type handler: CLOB / NCLOB as ``str``, BLOB as ``bytes``."""
    import oracledb

    code = metadata.type_code
    if code is oracledb.DB_TYPE_CLOB:
        return cursor.var(oracledb.DB_TYPE_LONG, arraysize=cursor.arraysize)
    if code is oracledb.DB_TYPE_NCLOB:
        return cursor.var(oracledb.DB_TYPE_LONG_NVARCHAR, arraysize=cursor.arraysize)
    if code is oracledb.DB_TYPE_BLOB:
        return cursor.var(oracledb.DB_TYPE_LONG_RAW, arraysize=cursor.arraysize)
    return None


def _input_sizes(batch: list[tuple]) -> list | None:
    """Bind types for ``setinputsizes`` where a column's first value is ``None`` and a
    later one is a number or a date (python-oracledb would otherwise bind the whole
    column as text, the type of ``None``); ``None`` when no column needs one."""
    if not batch or not isinstance(batch[0], tuple):
        return None
    first = batch[0]
    if all(v is not None for v in first):
        return None
    sizes: list = [None] * len(first)
    found = False
    for position, value in enumerate(first):
        if value is not None:
            continue
        for row in batch:
            other = row[position]
            if other is not None:
                kind = _bind_type(other)
                if kind is not None:
                    sizes[position] = kind
                    found = True
                break
    return sizes if found else None


def _bind_type(value: Any) -> Any:
    import datetime as dt
    import decimal

    import oracledb

    if isinstance(value, (int, float, decimal.Decimal)):
        return oracledb.DB_TYPE_NUMBER
    if isinstance(value, dt.datetime):
        return oracledb.DB_TYPE_TIMESTAMP
    if isinstance(value, dt.date):
        return oracledb.DB_TYPE_DATE
    return None
