"""{{ cookiecutter.__camel_name }}Provider: what {{ cookiecutter.provider_name }} does differently from npa-migrations' BaseProvider.

:mod:`npa_migrations.provider` already does the generic work: its ``Driver`` opens
DB-API connections through the SQLAlchemy dialect and runs explicit transactions, its
``SqlGenerator`` renders every operation with SQLAlchemy's DDL and type compilers, and
``BaseProvider`` uses the portable lock table. A provider holds only what differs for its
database: a ``Driver`` subclass (the session), a ``SqlGenerator`` subclass (the SQL) and
the provider class that names them with its capabilities.

How to read this file:

* Every method below overrides a method of ``Driver``, ``SqlGenerator`` or
  ``BaseProvider``; its docstring says when the engine calls it and what the base class
  does when you delete the override.
* Lines marked ``SAMPLE`` make this package work out of the box on SQLite (stdlib
  ``sqlite3``) under the scheme ``{{ cookiecutter.url_scheme }}://``, so that its conformance tests pass.
  ``REPLACE`` them with what your database needs, or delete the method when the default
  is right for your database.
* The conformance suite (``tests/``) tells you whether the result is right.

The full guide: "Writing a provider" (docs/writing-a-provider.md in npa-migrations).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from npa_migrations import operations as ops
from npa_migrations.provider import BaseProvider, Capabilities, Driver, SqlGenerator

if TYPE_CHECKING:  # pragma: no cover
    from npa_migrations.provider.connection import DbConnection


class {{ cookiecutter.__camel_name }}Driver(Driver):
    """How the engine talks to {{ cookiecutter.provider_name }} through its DB-API driver:
    connections, transactions, timeouts.

    Every method below overrides a method of :class:`npa_migrations.provider.Driver`; its
    docstring says when the engine calls it and what the default does when you delete
    the override.
    """

    # Transaction statements the engine runs on its autocommit connections. ``None``
    # for commit/rollback calls the DB-API connection's commit()/rollback() instead;
    # ``begin_statement = None`` starts no transaction with SQL (the driver's implicit one).
    begin_statement = "BEGIN IMMEDIATE"         # SAMPLE: take SQLite's write lock at once
    commit_statement = "COMMIT"
    rollback_statement = "ROLLBACK"

    #: SAMPLE: seconds a statement waits for another connection's write lock
    busy_timeout = 30.0

    def prepare_connection(self, raw: Any) -> None:
        """Called on every DB-API connection the engine opens (and on a caller's own
        connection): put it in autocommit mode, since the engine issues ``BEGIN`` /
        ``COMMIT`` itself, and apply session settings.

        Default: ``raw.autocommit = True`` (psycopg, pyodbc, python-oracledb, PyMySQL).
        """
        raw.isolation_level = None  # SAMPLE: sqlite3's autocommit switch
        raw.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")  # SAMPLE

    def connection_state(self, raw: Any) -> Any:
        """Read the session settings :meth:`prepare_connection` changes on a connection
        the caller owns (an SQLAlchemy ``Connection``), to restore them after the run.

        Default: ``raw.autocommit``.
        """
        return raw.isolation_level  # SAMPLE

    def restore_connection(self, raw: Any, state: Any) -> None:
        """Put back what :meth:`connection_state` returned. Default: sets ``raw.autocommit``."""
        raw.isolation_level = state  # SAMPLE

    def set_wait_timeout(self, conn: "DbConnection", seconds: float) -> None:
        """How long a statement on ``conn`` waits for another session's lock (the lock
        table polls with short waits). Default: nothing."""
        conn.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")  # SAMPLE

    def set_statement_timeout(self, conn: "DbConnection", seconds: float | None) -> None:
        """Limit how long one statement may run (``timeout_seconds``); ``None`` lifts the
        limit. Default: nothing.

        SAMPLE: SQLite has no such setting, so this keeps the default. REPLACE with your
        database's, e.g. PostgreSQL's ``SET statement_timeout = <ms>``.
        """

    def apply_ddl_lock_timeout(self, conn: "DbConnection", seconds: float | None) -> None:
        """Called at the start of every migration with how long its DDL may wait for a
        table lock (``None``: the database default; undo an earlier migration's value).
        Default: nothing. With it, override :meth:`is_lock_timeout` so the engine can
        retry a migration that timed out (``ddl_lock_retries``).

        SAMPLE: SQLite locks the whole database, which ``busy_timeout`` already covers.
        """

    def is_lock_timeout(self, exc: BaseException) -> bool:
        """Whether ``exc`` (a driver error) means "waited too long for a lock".
        Default: ``False``."""
        return False  # SAMPLE

    def transaction_open(self, conn: "DbConnection") -> bool | None:
        """Whether the engine's transaction is still open on the server. Only matters
        when DDL commits implicitly (``transactional_ddl=False``), to record how much of
        a failed migration took effect. Default: ``None`` (cannot tell)."""
        return None  # SAMPLE: SQLite's DDL is transactional

    def ensure_database(self) -> bool:
        """Create the database when it does not exist (``ensure_created``); return
        ``True`` if it was created. Default: ``False`` (never creates one).

        A server database typically connects to a maintenance database and runs
        ``CREATE DATABASE``; this runs before any other connection is opened.
        """
        # SAMPLE: SQLite creates the file on first connect; only its folder is needed.
        database = self.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return False
        path = Path(database)
        if path.exists():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        return True


class {{ cookiecutter.__camel_name }}Sql(SqlGenerator):
    """The SQL of each migration operation on {{ cookiecutter.provider_name }}.

    :class:`npa_migrations.provider.SqlGenerator` renders every operation with
    SQLAlchemy's DDL and type compilers; override only the ``sql_<kind>(op, ctx)``
    methods your database spells differently. ``ctx.connection`` is the live connection
    (``None`` when a script is rendered offline).
    """

    #: what ends each statement in a ``--sql`` script (SQL Server: ``"\nGO"``)
    script_terminator = ";"

    def needs_rebuild(self, operation: ops.MigrationOperation) -> bool:
        """Whether {{ cookiecutter.provider_name }} can do ``operation`` only by rebuilding its table.

        For such an operation the planner groups it with the neighbouring column and
        constraint operations on the same table into one table rebuild, the core's
        ``npa_migrations.provider.rebuild``: create the new definition, copy the rows,
        drop the old table, rename the copy, re-create its indexes, check the result.
        Its other steps are ``SqlGenerator`` methods too (``reflect_rebuild_table``,
        ``rebuild_prologue``, ``rebuild_rename``, ``rebuild_epilogue``, ...), with
        portable defaults; override one only where your database needs it.
        Default: ``False`` (every operation is altered in place by ``sql_<kind>``).

        SAMPLE: SQLite's ``ALTER TABLE`` cannot change a column's type, nullability or
        default, nor add or drop constraints. REPLACE with what your database cannot
        alter in place, or delete this method when it alters everything in place.
        """
        if isinstance(operation, ops.AlterColumn):
            return operation.changes_definition  # renaming alone is an ALTER
        return isinstance(operation, (ops.AddConstraint, ops.DropConstraint))

    # One method per operation kind, ``sql_<kind>(op, ctx) -> list[str | Statement]``:
    # sql_create_table, sql_drop_table, sql_rename_table, sql_add_column, sql_drop_column,
    # sql_alter_column, sql_rename_column, sql_create_index, sql_drop_index,
    # sql_create_foreign_key, sql_create_primary_key, sql_create_unique_constraint,
    # sql_create_check_constraint, sql_drop_constraint, sql_create_schema,
    # sql_drop_schema, sql_bulk_insert, sql_execute. SqlGenerator renders each with
    # SQLAlchemy's compilers and standard SQL; override only those your database spells
    # differently (e.g. MySQL's ``MODIFY COLUMN`` for sql_alter_column), quoting names with
    # self.quote() / self.table_name(). An operation needs_rebuild() claims never reaches
    # its sql_<kind>.


class {{ cookiecutter.__camel_name }}Provider(BaseProvider):
    """{{ cookiecutter.provider_name }}: ``{{ cookiecutter.url_scheme }}://`` URLs.

    SAMPLE: SQLite through the standard library's ``sqlite3``, with explicit
    ``BEGIN IMMEDIATE`` transactions and table rebuilds for what SQLite's ``ALTER TABLE``
    cannot do. REPLACE this description with your database's.
    """

    #: the provider's name: shown by ``npa providers`` and in messages, and accepted by
    #: ``b.execute(sql, dialects=[...])`` (as are the dialect's and the URL's backend name)
    name = "{{ cookiecutter.url_scheme }}"

    #: your DB-API driver's requirement: the error for a driver that cannot be imported
    #: says ``pip install <install_hint>``. Empty: the URL's driver name (SAMPLE: sqlite3
    #: is in the standard library, there is nothing to install)
    install_hint = "{{ cookiecutter.driver_requirement }}"

    #: REPLACE with the truth about your database. The engine and the conformance suite
    #: read these flags; a wrong ``True`` shows up as failing suite tests, a wrong
    #: ``False`` as skipped ones (``pytest -rs`` lists them with the reason).
    capabilities = Capabilities(
        # DDL rolls back with its transaction. False: the engine refuses all-in-one mode
        # and records a failed migration as failed (later runs stop, pointing to repair).
        transactional_ddl=True,                 # SAMPLE: SQLite
        # the database has a session-level lock (then also override create_lock below)
        advisory_lock=False,                    # SAMPLE: SQLite has none: lock table
        # CREATE SCHEMA and schema-qualified names work
        schemas=False,                          # SAMPLE: SQLite has no CREATE SCHEMA
        # DROP ... IF EXISTS works
        if_exists=True,
        # ALTER TABLE changes columns and constraints in place (False: some operations
        # rebuild the table, see needs_rebuild() above)
        alter_in_place=False,                   # SAMPLE: SQLite rebuilds the table
        # ALTER TABLE ... DROP COLUMN exists
        drop_column=True,
        # the engine may create the database itself (ensure_created, ensure_database())
        create_database=True,
        # the database is a file (or memory), not a server: the conformance suite gives
        # every test a new file instead of sharing one database
        database_file=True,                     # SAMPLE: SQLite
    )
    #: the two parts below
    driver_class = {{ cookiecutter.__camel_name }}Driver
    sql_class = {{ cookiecutter.__camel_name }}Sql

    def database_name(self) -> str:
        """The database's name in messages. Default: ``url.database``, else the URL."""
        return self.url.database or ":memory:"  # SAMPLE

    # -- locking ---------------------------------------------------------------------------
    # create_lock(table_name) returns the migration lock. The default is the portable lock
    # table (npa_migrations.provider.locking.TableLock), which works on every database. A database
    # with a session-level lock (PostgreSQL advisory locks, MySQL GET_LOCK) returns its own
    # npa_migrations.provider.locking.MigrationLock subclass here and sets advisory_lock=True.
