"""PostgresProvider: what PostgreSQL does differently from the base provider.

Most SQL comes from :class:`~npa_migrations.provider.BaseProvider` and SQLAlchemy's
``postgresql`` dialect (quoting, types, ``SERIAL`` / ``GENERATED ... AS IDENTITY``,
constraints, indexes, schemas). This module adds what the dialect's ``CREATE TABLE``
leaves out (native ``ENUM`` types, column comments), PostgreSQL's ``ALTER COLUMN ...
TYPE ... USING``, the session settings (statement timeout, DDL lock timeout,
``application_name``), ``ensure_created`` and the advisory migration lock
(:mod:`npa_postgres.lock`).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

from npa_migrations import operations as ops
from npa_migrations.errors import ConfigurationError, DatabaseUnavailableError
from npa_migrations.provider import (BaseProvider, Capabilities, Driver, RenderContext,
                                     SqlGenerator, type_instance)
from npa_migrations.schema.sqlscan import QNAME, split_qname, strip_comments
from npa_migrations.sqltext import Lexicon
from npa_migrations.statements import Statement

from .comparison import PostgresSchemaRules
from .guard import do_block, psql_conditional

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

    from npa_migrations.provider.connection import DbConnection

#: the SQLAlchemy dialect + driver every PostgreSQL URL is mapped to (psycopg 3)
DRIVERNAME = "postgresql+psycopg"
#: default ``application_name`` of every connection the provider opens
APPLICATION_NAME = "npa-migrations"
#: ``lock_not_available``: ``lock_timeout`` expired (also ``NOWAIT`` failures)
LOCK_NOT_AVAILABLE = "55P03"
#: ``query_canceled``: ``statement_timeout`` expired (or a cancel request)
QUERY_CANCELED = "57014"
#: ``duplicate_database`` / ``unique_violation``: a concurrent CREATE DATABASE won the race
DUPLICATE_DATABASE = ("42P04", "23505")
#: ``object_in_use``: the template database is busy (concurrent CREATE DATABASE)
OBJECT_IN_USE = "55006"

#: ``CREATE [UNIQUE] INDEX CONCURRENTLY <index> ON <table>`` (names bare or quoted)
_CONCURRENT_INDEX = re.compile(
    r"^CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    rf"(?P<index>{QNAME})\s+ON\s+(?:ONLY\s+)?(?P<table>{QNAME})", re.IGNORECASE)
#: how PostgreSQL writes SQL, for splitting scripts: ``/* */`` comments nest, ``E'...'``
#: strings take backslash escapes, ``$tag$ ... $tag$`` bodies, no backtick names, and a
#: ``BEGIN`` opens a block only in ``CREATE FUNCTION / PROCEDURE ... BEGIN ATOMIC``
#: (elsewhere it starts a transaction, or is a name: ``begin`` is not reserved)
POSTGRES = Lexicon(nested_comments=True, escape_strings=True, backticks=False,
                   block_statements=r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:FUNCTION|PROCEDURE)\b.*")

#: SQLAlchemy type classes whose ``ALTER COLUMN ... TYPE`` needs no ``USING`` clause:
#: every type has an assignment cast to a string type, and an explicit cast would
#: silently truncate too-long values where the assignment cast raises an error.
_NO_USING = ("String", "BIT")


def sqlstate(exc: BaseException | None) -> str | None:
    """The SQLSTATE of a psycopg 3 (``sqlstate``) or psycopg2 (``pgcode``) error, looking
    through ``__cause__`` chains; ``None`` for anything else."""
    seen = 0
    while exc is not None and seen < 5:
        code = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
        if isinstance(code, str):
            return code
        orig = getattr(exc, "orig", None)  # SQLAlchemy's DBAPIError wrapper
        exc = orig if orig is not None and orig is not exc else exc.__cause__
        seen += 1
    return None


def psycopg_url(url: "sa.engine.URL") -> "sa.engine.URL":
    """``url`` with the ``postgresql+psycopg`` driver: a bare ``postgresql://`` means
    psycopg2 in SQLAlchemy 2.0, but this provider always talks psycopg 3."""
    if url.drivername == DRIVERNAME:
        return url
    return url.set(drivername=DRIVERNAME)


def default_application_name() -> str:
    """``npa-migrations host:pid``, at most 63 bytes (PostgreSQL's limit), so a waiting
    run can say which process holds the migration lock."""
    name = f"{APPLICATION_NAME} {socket.gethostname()}:{os.getpid()}"
    return name.encode("utf-8")[:63].decode("utf-8", "ignore")


def server_version(raw: Any) -> int:
    """The server version number (e.g. ``150004``) a driver connection already knows."""
    info = getattr(raw, "info", None)  # psycopg 3
    version = getattr(info, "server_version", None) or getattr(raw, "server_version", 0)
    return int(version or 0)


def search_path_option(schema: str) -> str:
    """The libpq ``options`` value that puts ``schema`` alone on the ``search_path``: the
    name double-quoted (any case, any character), with the spaces and backslashes libpq
    splits ``options`` on escaped by a backslash."""
    quoted = '"' + schema.replace('"', '""') + '"'
    return "-csearch_path=" + quoted.replace("\\", "\\\\").replace(" ", "\\ ")


def milliseconds(seconds: float) -> int:
    """A PostgreSQL timeout setting in ms; at least 1 ms (0 would mean "no timeout")."""
    return max(1, int(math.ceil(float(seconds) * 1000)))


class PostgresDriver(Driver):
    """psycopg 3 in autocommit mode with explicit ``BEGIN`` / ``COMMIT``; the session
    settings (statement timeout, DDL lock timeout, ``application_name``), the spare
    connection ``ensure_created`` keeps, pipelined bookkeeping, ``COPY`` for bulk inserts
    and cancelling a running statement."""

    #: names of the maintenance databases ``ensure_created`` connects to, in order
    maintenance_databases = ("postgres", "template1")
    quick_connect = "npa_postgres.quick:connect"
    #: ``client_connection_check_interval`` (ms) of the run's connection (PostgreSQL 14+)
    client_check_interval_ms = 1000
    #: statements of a transactional migration sent in one simple-query message
    #: (:meth:`send_batch`); on PostgreSQL 13+ ``statement_timeout`` still applies to
    #: each of them
    batch_statements = 1000

    def __init__(self, provider: "PostgresProvider"):
        super().__init__(provider)
        self._spare: "DbConnection | None" = None
        self._spare_lock = threading.Lock()

    # connections -----------------------------------------------------------------------
    def open_dbapi(self, dbapi: Any, cargs: list, cparams: dict) -> Any:
        cparams.setdefault("application_name", default_application_name())
        if "PGCONNECT_TIMEOUT" not in os.environ:
            # libpq's connect_timeout: the base's bound, unless the URL or PGCONNECT_TIMEOUT says
            cparams.setdefault("connect_timeout", math.ceil(self.connect_timeout))
        return dbapi.connect(*cargs, autocommit=True, **cparams)

    def connect(self) -> "DbConnection":
        with self._spare_lock:
            spare, self._spare = self._spare, None
        if spare is not None:  # the connection ensure_database() opened to check
            return spare
        return super().connect()

    def wrap(self, raw: Any) -> "DbConnection":
        self._discard_spare()
        return super().wrap(raw)

    def prepare_connection(self, raw: Any) -> None:
        """Autocommit mode (the engine sends BEGIN/COMMIT itself). A caller's connection
        must not be inside a transaction: psycopg cannot switch it to autocommit then."""
        status = getattr(getattr(raw, "info", None), "transaction_status", 0)
        if status:  # 0 = IDLE in psycopg 3 and psycopg2
            raise ConfigurationError(
                "The SQLAlchemy Connection given to MigrationExecutor is inside a "
                "transaction. Commit or roll it back first (conn.commit()), pass a fresh "
                "Connection, or pass the Engine instead.")
        raw.autocommit = True

    def restore_connection(self, raw: Any, state: Any) -> None:
        """Undo the session settings the run made on a caller's connection."""
        try:
            settings = ["RESET statement_timeout", "RESET lock_timeout"]
            if server_version(raw) >= 140000:
                settings.append("RESET client_connection_check_interval")
            cursor = raw.cursor()
            cursor.execute("; ".join(settings))
            cursor.close()
        except Exception:  # a broken connection: the caller sees it on next use
            pass
        super().restore_connection(raw, state)

    def _discard_spare(self) -> None:
        with self._spare_lock:
            spare, self._spare = self._spare, None
        if spare is not None:
            spare.close()

    def _keep_spare(self, conn: "DbConnection") -> None:
        with self._spare_lock:
            old, self._spare = self._spare, conn
        if old is not None:
            old.close()

    # transactions ----------------------------------------------------------------------

    def cancel(self, conn: "DbConnection") -> bool:
        """psycopg's ``cancel_safe()`` (a cancel request on a connection of its own): the
        running statement fails with ``query_canceled`` and its transaction rolls back."""
        conn.raw.cancel_safe()
        return True

    # transactions ----------------------------------------------------------------------
    def begin(self, conn: "DbConnection") -> None:
        conn.execute("BEGIN")
        conn.session_settings["local_lock_timeout"] = False

    def begin_write(self, conn: "DbConnection") -> None:
        """``BEGIN ISOLATION LEVEL SERIALIZABLE`` for the lease lock (the fallback where
        advisory locks are unavailable): two runs that both see an expired lock and both
        take it over conflict, and the second one's commit fails instead of both holding
        it (read committed would let the second ``UPDATE`` overwrite the first)."""
        conn.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
        conn.session_settings["local_lock_timeout"] = False

    def commit(self, conn: "DbConnection") -> None:
        conn.session_settings["local_lock_timeout"] = False
        conn.execute("COMMIT")

    def rollback(self, conn: "DbConnection") -> None:
        conn.session_settings["local_lock_timeout"] = False
        conn.execute("ROLLBACK")

    @contextlib.contextmanager
    def batched(self, conn: "DbConnection"):
        """psycopg's pipeline mode: a migration's history write, event-log row and
        ``COMMIT`` go in one round trip instead of three. When one of them fails, the
        transaction is rolled back before the error propagates."""
        try:
            with conn.raw.pipeline():
                yield
        except BaseException:
            from psycopg.pq import TransactionStatus

            if conn.raw.info.transaction_status != TransactionStatus.IDLE:
                conn.rollback()
            conn.in_transaction = False
            raise

    def send_batch(self, conn: "DbConnection", sqls: Any) -> None:
        """One ``execute`` without parameters: psycopg sends it as one simple-query
        message, which the server runs statement after statement and stops at the first
        error. Each statement ends on a line of its own, so a trailing ``--`` comment
        cannot swallow the ``;`` after it."""
        conn.execute("\n;\n".join(sqls))

    # bulk inserts ----------------------------------------------------------------------
    def execute_many(self, conn: "DbConnection", sql: str, rows: Any) -> None:
        """A bulk insert (:class:`~npa_postgres.bulk.CopyRows`) runs as ``COPY``; any other
        many-parameter statement as the base provider runs it."""
        from .bulk import CopyRows, copy_rows

        if isinstance(rows, CopyRows):
            copy_rows(conn, sql, rows)
        else:
            super().execute_many(conn, sql, rows)


    # timeouts --------------------------------------------------------------------------
    def set_statement_timeout(self, conn: "DbConnection", seconds: float | None) -> None:
        """``SET statement_timeout`` on the run's connection (``None`` keeps the server's
        default, ``0`` disables it). In the same round trip, on PostgreSQL 14+,
        ``client_connection_check_interval``: if this process dies during a long
        statement, the server notices within that interval, aborts the statement and rolls
        back, instead of holding the migration's locks until the statement ends."""
        settings = []
        if seconds is not None:
            settings.append(f"SET statement_timeout = {0 if seconds <= 0 else milliseconds(seconds)}")
        if server_version(conn.raw) >= 140000 and self.client_check_interval_ms:
            settings.append(f"SET client_connection_check_interval = {self.client_check_interval_ms}")
        if settings:
            conn.execute("; ".join(settings))

    def set_wait_timeout(self, conn: "DbConnection", seconds: float) -> None:
        conn.execute(f"SET lock_timeout = {milliseconds(seconds)}")

    def apply_ddl_lock_timeout(self, conn: "DbConnection", seconds: float | None) -> None:
        """``SET LOCAL lock_timeout`` inside the migration's transaction (reset by its
        COMMIT/ROLLBACK); ``SET lock_timeout`` for the session when the migration runs
        outside a transaction, reset before the next migration that sets none. ``0``
        means wait without limit."""
        session_set = conn.session_settings.get("session_lock_timeout", False)
        local_set = conn.session_settings.get("local_lock_timeout", False)
        if seconds is not None:
            value = 0 if seconds <= 0 else milliseconds(seconds)
            if conn.in_transaction:
                conn.execute(f"SET LOCAL lock_timeout = {value}")
                conn.session_settings["local_lock_timeout"] = True
            else:
                conn.execute(f"SET lock_timeout = {value}")
                conn.session_settings["session_lock_timeout"] = True
        elif conn.in_transaction:
            if local_set or session_set:  # an earlier migration's value must not leak
                conn.execute("SET LOCAL lock_timeout TO DEFAULT")
                conn.session_settings["local_lock_timeout"] = True
        elif session_set:
            conn.execute("RESET lock_timeout")
            conn.session_settings["session_lock_timeout"] = False

    def is_lock_timeout(self, exc: BaseException) -> bool:
        return sqlstate(exc) == LOCK_NOT_AVAILABLE

    def is_statement_timeout(self, exc: BaseException) -> bool:
        """``query_canceled`` with the server's "statement timeout" reason (a cancel
        request of an interrupted run has the same SQLSTATE, another reason)."""
        return sqlstate(exc) == QUERY_CANCELED and "statement timeout" in str(exc)

    # ensure_created --------------------------------------------------------------------

    # ensure_created --------------------------------------------------------------------
    def ensure_database(self) -> bool:
        """Create the URL's database (``CREATE DATABASE``, quoted) from the maintenance
        database ``postgres`` when it does not exist. The connection used to check is kept
        for the run, so an existing database costs no extra connection."""
        if not self.url.database:
            return False
        self._discard_spare()
        try:
            self._keep_spare(self.connect())
            return False
        except DatabaseUnavailableError as exc:
            first = exc  # libpq reports no SQLSTATE at connect time: ask the server
        try:
            maintenance = self._maintenance_connection()
        except DatabaseUnavailableError:
            raise first from None
        try:
            created = self._create_database(maintenance)
        finally:
            maintenance.close()
        if not created:
            # it exists (maybe created concurrently): a failure now has another cause
            self._keep_spare(self.connect())
        return created

    def _maintenance_connection(self) -> Any:
        import psycopg

        last: BaseException | None = None
        for database in self.maintenance_databases:
            url = self.url.set(database=database)
            cargs, cparams = self.dialect.create_connect_args(url)
            try:
                return self.open_dbapi(psycopg, cargs, cparams)
            except Exception as exc:  # e.g. no database 'postgres': try template1
                last = exc
        raise DatabaseUnavailableError(
            f"Database '{self.url.database}' does not exist and cannot be created: connecting "
            f"to the maintenance database of {self.provider.display_url()} failed ({last}). Create it "
            "by hand (CREATE DATABASE) or give a user that may connect to 'postgres'.")

    def _create_database(self, raw: Any) -> bool:
        database = self.url.database
        cursor = raw.cursor()
        try:
            for attempt in range(20):
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
                if cursor.fetchone():
                    return False
                try:
                    cursor.execute(f"CREATE DATABASE {self.provider.sql.preparer.quote_identifier(database)}")
                    return True
                except Exception as exc:
                    code = sqlstate(exc)
                    if code in DUPLICATE_DATABASE:
                        return False  # created concurrently by another process
                    if code == OBJECT_IN_USE and attempt < 19:
                        time.sleep(0.1 * (attempt + 1))  # template busy: another CREATE
                        continue
                    raise ConfigurationError(
                        f"Cannot create database '{database}' on {self.provider.display_url()}: {exc}. "
                        "Create it by hand, or grant the user CREATEDB.") from exc
            return False
        finally:
            cursor.close()

    # locking ---------------------------------------------------------------------------


class PostgresSql(SqlGenerator):
    """What SQLAlchemy's ``postgresql`` dialect leaves out of ``CREATE TABLE`` (native
    ``ENUM`` types, column comments), ``ALTER COLUMN ... TYPE ... USING``, and bulk
    inserts as ``COPY``."""

    lexicon = POSTGRES

    def utc_now(self) -> Any:
        """``timezone('UTC', now())``: the history keeps UTC in a ``TIMESTAMP``."""
        import sqlalchemy as sa

        return sa.func.timezone("UTC", sa.func.now())

    def guard_migration(self, pending: str, statements: list[str], *,
                        transactional: bool = True) -> list[str]:
        """A ``DO`` block running the statements with ``EXECUTE`` while ``pending``
        holds; a migration that must run outside a transaction, which a ``DO`` block
        cannot hold, is guarded with psql's ``\\if`` instead (:mod:`npa_postgres.guard`)."""
        sql = [piece for text in statements for piece in self.split_statements(text)]
        if not transactional:
            return psql_conditional(pending, sql, self.script_statement)
        return [self.script_statement(do_block(pending, sql))]

    def _type_prelude(self, columns) -> list[str]:
        """``CREATE TYPE ... AS ENUM`` for native enum columns (the dialect's CREATE TABLE
        assumes the type exists)."""
        from sqlalchemy.dialects.postgresql.named_types import CreateEnumType

        statements = []
        for column in columns:
            impl = column.type.dialect_impl(self.dialect)
            if (getattr(impl, "native_enum", False) and getattr(impl, "create_type", True)
                    and getattr(impl, "name", None)):
                self.check_identifier(impl.name, "type")
                statements.append(self.compile(CreateEnumType(impl)))
        return statements

    def sql_create_table(self, op: ops.CreateTable, ctx: RenderContext) -> list[str]:
        return self._type_prelude(op.columns) + super().sql_create_table(op, ctx)

    def sql_add_column(self, op: ops.AddColumn, ctx: RenderContext) -> list[str]:
        return self._type_prelude([op.column]) + super().sql_add_column(op, ctx)

    def bulk_insert_statements(self, op: ops.BulkInsert, columns: list[str], rows: Any
                               ) -> list[Statement]:
        """``COPY <table> (<columns>) FROM STDIN``, streaming the rows (see
        :mod:`npa_postgres.bulk`); the ``--sql`` script keeps the base provider's
        ``INSERT`` statements, and a failure names the ``COPY``."""
        statements = super().bulk_insert_statements(op, columns, ())
        if not columns or len(statements) != 1:
            return super().bulk_insert_statements(op, columns, rows)
        from .bulk import CopyRows

        target = self.table_name(op.table, op.schema)
        names = ", ".join(self.quote(self.check_identifier(c, "column")) for c in columns)
        copy_sql = f"COPY {target} ({names}) FROM STDIN"
        # psycopg reads %s placeholders: a % in a quoted name is written %%
        insert_sql = (f"INSERT INTO {target.replace('%', '%%')} ({names.replace('%', '%%')}) "
                      f"VALUES ({', '.join(['%s'] * len(columns))})")
        return [Statement(copy_sql, params=CopyRows(target, columns, insert_sql, rows,
                                                    self.value_converter()),
                          many=True, script=statements[0].script, label=copy_sql)]

    def interrupted_statement_cleanup(self, sql: str, context: RenderContext
                                      ) -> list[Statement]:
        """A ``CREATE INDEX CONCURRENTLY`` that failed or was interrupted leaves its index
        behind, marked invalid: drop it (``DROP INDEX CONCURRENTLY``), so the statement
        can run again. Nothing for any other statement, or for a valid index."""
        match = _CONCURRENT_INDEX.match(strip_comments(sql))
        if match is None or context.connection is None:
            return []
        index_schema, index = split_qname(match["index"])
        schema = index_schema or split_qname(match["table"])[0]
        invalid = context.connection.query(
            "SELECT 1 FROM pg_catalog.pg_index i "
            "JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = %s AND n.nspname = COALESCE(%s, current_schema()) "
            "AND NOT i.indisvalid", (index, schema))
        if not invalid:
            return []
        name = self.quote(index)
        if schema:
            name = f"{self.preparer.quote_schema(schema)}.{name}"
        return [Statement(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")]

    def needs_using(self, type_: Any) -> bool:
        """Whether ``ALTER COLUMN ... TYPE`` gets ``USING col::type``: for every target
        except string and bit types (their assignment casts exist and reject values that
        do not fit, where an explicit cast would truncate them)."""
        type_ = type_instance(type_)
        return not any(cls.__name__ in _NO_USING for cls in type(type_).__mro__)

    def sql_alter_column(self, op: ops.AlterColumn, ctx: RenderContext) -> list[str]:
        """One ``ALTER TABLE`` with every change (one lock, at most one table rewrite):
        the old default is dropped first when the type changes too, so it never has to be
        cast; ``USING "col"::type`` where :meth:`needs_using` says so."""
        table = self.table_name(op.table, op.schema)
        column = self.quote(self.check_identifier(op.column_name, "column"))
        prefix = f"ALTER COLUMN {column}"
        actions = []
        type_changes = op.type_ is not ops.UNCHANGED
        default_changes = op.server_default is not ops.UNCHANGED
        if default_changes and (type_changes or op.server_default is None):
            actions.append(f"{prefix} DROP DEFAULT")
        if type_changes:
            type_sql = self.compile_type(op.type_)
            using = f" USING {column}::{type_sql}" if self.needs_using(op.type_) else ""
            actions.append(f"{prefix} TYPE {type_sql}{using}")
        if op.nullable is not ops.UNCHANGED:
            actions.append(f"{prefix} {'DROP' if op.nullable else 'SET'} NOT NULL")
        if default_changes and op.server_default is not None:
            actions.append(f"{prefix} SET DEFAULT {self.render_default(op.server_default)}")
        statements = [f"ALTER TABLE {table} " + ", ".join(actions)] if actions else []
        statements += self.alter_comment_sql(op)
        if op.new_column_name is not ops.UNCHANGED:
            statements.extend(self.sql_rename_column(
                ops.RenameColumn(op.table, op.column_name, op.new_column_name, schema=op.schema),
                ctx))
        return statements


class PostgresProvider(BaseProvider):
    """PostgreSQL 12+ through psycopg 3.

    Connections run in autocommit mode with explicit ``BEGIN`` / ``COMMIT`` (PostgreSQL
    DDL is transactional, so per-migration and all-in-one modes roll back everything on
    failure). The migration lock is a session-level advisory lock
    (:class:`~npa_postgres.lock.AdvisoryLock`).
    """

    name = "postgresql"
    install_hint = "psycopg[binary]"
    capabilities = Capabilities(transactional_ddl=True, advisory_lock=True, schemas=True,
                                if_exists=True, alter_in_place=True, drop_column=True,
                                create_database=True, partial_indexes=True)
    driver_class = PostgresDriver
    sql_class = PostgresSql
    schema_rules_class = PostgresSchemaRules

    def __init__(self, url: "sa.engine.URL"):
        #: the URL as the user wrote it (shown in messages, password hidden)
        self.user_url = url
        super().__init__(psycopg_url(url))

    # identity --------------------------------------------------------------------------
    @property
    def names(self) -> set[str]:
        return super().names | {"postgres", "postgresql", "pg"}

    def display_url(self) -> str:
        from npa_migrations.urls import display_url

        return display_url(self.user_url)

    def database_name(self) -> str:
        return self.url.database or self.url.username or self.display_url()

    # connections -----------------------------------------------------------------------

    def tenant_url(self, url: "sa.engine.URL", schema: str) -> "sa.engine.URL":
        """``url`` with ``schema`` alone on the ``search_path`` (libpq ``options``
        ``-c search_path=...``): the history table, the lock and every unqualified object
        of the migrations live in that schema."""
        return url.update_query_dict({"options": search_path_option(schema)})

    # locking ---------------------------------------------------------------------------
    def create_lock(self, table_name: str):
        """A session-level advisory lock keyed by ``table_name`` (the lock table name
        option, default ``npa_migrations_lock``); no table is created."""
        from .lock import AdvisoryLock

        return AdvisoryLock(self, table_name)

    # SQL generation --------------------------------------------------------------------
