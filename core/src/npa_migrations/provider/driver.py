"""Driver: the session part of a provider -- how the engine talks to one database
through its DB-API driver.

It opens connections (through the SQLAlchemy dialect's own connect arguments, or from a
caller's Engine), puts them in autocommit mode so the engine controls every transaction
itself, begins, commits and rolls back, sets timeouts, maps driver errors to the
engine's questions ("was that a lock timeout?", "is the transaction still open after
that DDL?") and cancels a running statement when the run is interrupted. What SQL to
send is the other part's job (:class:`~npa_migrations.provider.sql.SqlGenerator`).
"""

from __future__ import annotations

import contextlib
import shlex
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterable, Sequence

from ..errors import ConfigurationError, DatabaseUnavailableError

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

    from .base import BaseProvider
    from .connection import DbConnection


class StatementBatchError(Exception):
    """A statement of a batch (:meth:`Driver.execute_batch`) failed.

    :ivar index: the failing statement's place in the batch (0-based), or ``None`` when
        it could not be told (the batch was cancelled by a stop request, or the
        connection broke before it could be found).
    :ivar error: the driver's error for it.
    """

    def __init__(self, index: int | None, error: BaseException):
        super().__init__(str(error))
        self.index = index
        self.error = error


class Driver:
    """The DB-API session of one provider; subclasses override what their driver does
    differently (a provider names its subclass in ``BaseProvider.driver_class``).

    :param provider: the provider this driver serves (its URL and dialects).
    """

    #: starts an explicit transaction on an autocommit connection; ``None``: none (the
    #: driver begins implicitly, e.g. Oracle)
    begin_statement: ClassVar[str | None] = "BEGIN"
    #: commits it; ``None``: the DB-API ``commit()``
    commit_statement: ClassVar[str | None] = "COMMIT"
    #: rolls it back; ``None``: the DB-API ``rollback()``
    rollback_statement: ClassVar[str | None] = "ROLLBACK"
    #: seconds a new connection may take (TCP connect and the server's greeting) when
    #: the URL does not say: a server that accepts connections and never answers fails
    #: with a clear message instead of hanging; a provider passes it in its driver's way
    connect_timeout: ClassVar[float] = 10.0
    #: how many statements :meth:`execute_batch` sends in one round trip; ``1`` (the
    #: default): one at a time. A provider whose driver sends several parameterless
    #: statements in one message (:meth:`send_batch`) raises it
    batch_statements: ClassVar[int] = 1
    #: the most SQL text (characters) one batch holds
    batch_chars: ClassVar[int] = 128 * 1024
    #: the savepoint a batch is sent after, so that a failed batch can be run again
    #: statement by statement to find which one failed (``{name}``: its name)
    savepoint_statement: ClassVar[str] = "SAVEPOINT {name}"
    #: goes back to it
    rollback_to_savepoint_statement: ClassVar[str] = "ROLLBACK TO SAVEPOINT {name}"
    #: forgets it once the batch ran
    release_savepoint_statement: ClassVar[str] = "RELEASE SAVEPOINT {name}"
    #: the name of that savepoint
    batch_savepoint: ClassVar[str] = "npa_batch"
    #: :meth:`send_batch` itself tells which statement of a failed batch failed (it
    #: raises :class:`StatementBatchError` with the index, as MySQL's multi-statement
    #: results do): the batch goes out without the savepoint and is never run again
    batch_names_failure: ClassVar[bool] = False
    #: ``module:function`` opening this database with the bare driver, called as
    #: ``function(args, kwargs)`` with :meth:`quick_connect_arguments` (and the URL's
    #: password) for the recorded up-to-date answers of :mod:`npa_migrations.uptodate`;
    #: its module imports only the driver. ``None``: no recorded answers
    quick_connect: ClassVar[str | None] = None

    def __init__(self, provider: "BaseProvider"):
        self.provider = provider
        self.engine: "sa.engine.Engine | None" = None

    @property
    def url(self) -> "sa.engine.URL":
        """The provider's URL (with the driver it connects through)."""
        return self.provider.url

    @property
    def dialect(self) -> Any:
        """The provider's SQLAlchemy dialect (connect arguments, server version)."""
        return self.provider.dialect

    # connections -----------------------------------------------------------------------
    def use_engine(self, engine: "sa.engine.Engine") -> None:
        """Open connections from a caller's SQLAlchemy Engine instead of the URL."""
        self.engine = engine

    def connect(self) -> "DbConnection":
        """Open a new DB-API connection in autocommit mode, wrapped for the engine."""
        from .connection import DbConnection

        if self.engine is not None:
            fairy = self.engine.raw_connection()
            raw = fairy.driver_connection
            fairy.detach()  # our session settings must never leak back into the pool
            self.prepare_connection(raw)
            return DbConnection(self, raw, close=fairy.close)
        dbapi = self.import_dbapi()
        cargs, cparams = self.dialect.create_connect_args(self.url)
        try:
            raw = self.open_dbapi(dbapi, cargs, cparams)
        except Exception as exc:
            raise self.connection_error(exc) from exc
        self.prepare_connection(raw)
        return DbConnection(self, raw, close=raw.close)

    def quick_connect_arguments(self) -> tuple[list, dict] | None:
        """The arguments :attr:`quick_connect` opens this database with: the dialect's
        connect arguments without the password (which is never written down), or
        ``None`` when there is no quick connect, the connections come from a caller's
        Engine, or the arguments are not plain values."""
        import json

        if self.quick_connect is None or self.engine is not None:
            return None
        cargs, cparams = self.dialect.create_connect_args(self.url)
        arguments = (list(cargs), {k: v for k, v in cparams.items() if k != "password"})
        try:
            json.dumps(arguments)
        except (TypeError, ValueError):
            return None
        return arguments

    def import_dbapi(self) -> Any:
        """The DB-API module of the URL's dialect; :meth:`missing_driver_error` when it
        cannot be imported (the provider is installed, its driver is not)."""
        try:
            return self.url.get_dialect().import_dbapi()
        except ImportError as exc:
            raise self.missing_driver_error(exc) from exc

    def missing_driver_error(self, exc: ImportError) -> ConfigurationError:
        """The error for a driver that cannot be imported: it names the driver to
        ``pip install`` (the provider's ``install_hint``, else the URL's driver name)."""
        requirement = shlex.quote(self.provider.install_hint or self.url.get_driver_name())
        return ConfigurationError(
            f"The database driver for '{self.url.drivername}' is not installed ({exc}). "
            f"Install it: pip install {requirement}")

    def open_dbapi(self, dbapi: Any, cargs: list, cparams: dict) -> Any:
        """Call the driver's ``connect``; providers adjust arguments here."""
        return dbapi.connect(*cargs, **cparams)

    def connection_error(self, exc: BaseException) -> ConfigurationError:
        """A clear error for a failed connection; never shows the password."""
        if self.connect_timed_out(exc):
            return DatabaseUnavailableError(
                f"Cannot connect to {self.provider.display_url()}: no answer within the "
                f"connect timeout ({self.connect_timeout:g}s unless the URL sets one; {exc}). "
                "Check that the host and port are those of the database server and that it "
                "is not overloaded; a firewall or proxy that accepts connections and never "
                "forwards them looks like this.")
        return DatabaseUnavailableError(
            f"Cannot connect to {self.provider.display_url()}: {exc}. Check that the server "
            "is running and the URL (host, port, user, database) is right.")

    def connect_timed_out(self, exc: BaseException) -> bool:
        """Whether a failed connection ran out of :attr:`connect_timeout` (a socket timeout
        anywhere in the exception's chain, or a driver's "timed out" / "timeout expired"
        message); providers whose driver says it otherwise override this."""
        seen: set[int] = set()
        current: BaseException | None = exc
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            text = str(current).lower()
            if isinstance(current, TimeoutError) or "timed out" in text \
                    or "timeout expired" in text:
                return True
            current = current.__cause__ or current.__context__
        return False

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

    def ensure_database(self) -> bool:
        """Create the database when it does not exist; return ``True`` if it was created."""
        return False

    def database_exists(self) -> bool | None:
        """Whether the database exists, when that can be told without connecting (the
        file of :meth:`BaseProvider.database_path`); ``None`` when it cannot. A read-only
        command on a database that does not exist reads nothing instead of creating it."""
        path = self.provider.database_path()
        return None if path is None else path.exists()

    # transactions ----------------------------------------------------------------------
    def begin(self, conn: "DbConnection") -> None:
        """Open an explicit transaction: :attr:`begin_statement` (the connection is in
        autocommit mode); nothing when it is empty (the driver begins implicitly)."""
        if self.begin_statement:
            conn.execute(self.begin_statement)

    def begin_write(self, conn: "DbConnection") -> None:
        """Begin a transaction that takes the database's write lock at once (used by the
        lock table). Defaults to :meth:`begin`; SQLite uses ``BEGIN IMMEDIATE``."""
        self.begin(conn)

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

    def transaction_open(self, conn: "DbConnection") -> bool | None:
        """Whether the transaction the engine began on ``conn`` is still open on the
        server. Where DDL commits implicitly (no transactional DDL) the engine asks this
        after each statement: ``False`` means the statement committed everything before
        it, so the engine records its progress and opens a new transaction. ``None`` (the
        default): the database cannot tell; the engine then treats every statement as
        committed when it finishes."""
        return None

    def keeps_transaction(self, sql: str) -> bool:
        """Whether ``sql`` certainly runs inside the open transaction without committing
        it (plain DML where DDL commits implicitly). The engine then leaves the record of
        the statements before it in memory and writes it once, before the transaction
        commits or before a statement that may commit it: one round trip per statement
        instead of two. ``False`` (the default, always safe): write the record before
        every statement."""
        return False

    def commits_implicitly(self, sql: str) -> bool:
        """Whether ``sql`` certainly commits implicitly where DDL is not transactional:
        whatever transaction is open when it runs is committed before it starts, even when
        it then fails (``CREATE TABLE`` on MySQL). The engine then writes a journal
        record due just before it in autocommit instead of in a transaction of its own:
        the statement would commit it anyway, so one ``BEGIN`` fewer, the same durable
        states. ``False`` (the default, always safe): the record is written in a
        transaction. It must be ``False`` for anything that may run inside the
        transaction (DML, ``CREATE TEMPORARY TABLE``), and for a statement the server
        may reject before committing it is harmless (the record then says the statement
        may have run, which the next run checks anyway)."""
        return False

    def batched(self, conn: "DbConnection") -> "contextlib.AbstractContextManager[None]":
        """A block whose statements may travel to the server together; their errors may
        surface only when it ends. The engine runs a migration's bookkeeping in it: the
        history row, the event-log row and the commit -- statements that read no result.
        A provider whose driver can pipeline returns that (PostgreSQL: psycopg's pipeline
        mode); when the block fails it must leave no transaction open
        (``conn.in_transaction`` false). The default runs them one by one."""
        return contextlib.nullcontext()

    def execute_batch(self, conn: "DbConnection", sqls: Sequence[str], *,
                      locate: "Callable[[BaseException], bool] | None" = None) -> None:
        """Run parameterless statements, in order, inside the transaction open on
        ``conn``; up to :attr:`batch_statements` of them in one round trip.

        The statements go out together behind a savepoint, in one message
        (:meth:`send_batch`). When the batch fails, the transaction goes back to the
        savepoint and the statements run again one at a time, so the failure names the
        statement that failed; ``locate(error)`` returning ``False`` skips that (a stop
        was requested and the batch was cancelled on purpose). A batch that succeeds the
        second time took effect once, as if it had the first time. A driver that tells
        the failing statement itself (:attr:`batch_names_failure`) sends the batch as it
        is, without the savepoint. The default (:attr:`batch_statements` 1) runs them one
        at a time.

        :raises StatementBatchError: a statement failed (its index, the driver's error);
            the transaction must then be rolled back (the statements before it may have
            taken effect in it).
        """
        if self.batch_statements <= 1 or len(sqls) < 2:
            self._one_by_one(conn, sqls)
            return
        if self.batch_names_failure:
            self.send_batch(conn, sqls)
            return
        name = self.batch_savepoint
        try:
            self.send_batch(conn, [self.savepoint_statement.format(name=name), *sqls,
                                   self.release_savepoint_statement.format(name=name)])
            return
        except Exception as exc:
            error = exc
        if locate is not None and not locate(error):
            raise StatementBatchError(None, error) from error
        try:
            conn.execute(self.rollback_to_savepoint_statement.format(name=name))
        except Exception:  # the connection is gone: the batch's error is what is known
            raise StatementBatchError(None, error) from error
        self._one_by_one(conn, sqls)
        conn.execute(self.release_savepoint_statement.format(name=name))

    def start_batch(self, conn: "DbConnection", sqls: Sequence[str], *,
                    locate: "Callable[[BaseException], bool] | None" = None) -> Any:
        """Send a batch as :meth:`execute_batch` does, returning as soon as the driver
        allows, so that the engine can prepare the next batch while the server runs this
        one; :meth:`end_batch` waits for it, and nothing else may use ``conn`` in
        between. Returns what :meth:`end_batch` needs (``None``: nothing left to wait
        for). The default runs the whole batch here (:meth:`execute_batch`).

        :raises StatementBatchError: as :meth:`execute_batch`, for what failed already.
        """
        self.execute_batch(conn, sqls, locate=locate)
        return None

    def end_batch(self, conn: "DbConnection", pending: Any) -> None:
        """Wait for the rest of the batch :meth:`start_batch` sent (``pending``: what it
        returned).

        :raises StatementBatchError: as :meth:`execute_batch`.
        """

    def _one_by_one(self, conn: "DbConnection", sqls: Sequence[str]) -> None:
        for index, sql in enumerate(sqls):
            try:
                conn.execute(sql)
            except Exception as exc:
                raise StatementBatchError(index, exc) from exc

    def send_batch(self, conn: "DbConnection", sqls: Sequence[str]) -> None:
        """Send ``sqls`` (parameterless, each one complete statement) in as few round
        trips as the driver allows, stopping at the first that fails (raised as the
        driver's error; with :attr:`batch_names_failure`, as
        :class:`StatementBatchError` with its index). Called by :meth:`execute_batch`
        only where :attr:`batch_statements` is above 1; the default sends them one at a
        time."""
        for sql in sqls:
            conn.execute(sql)

    def execute_many(self, conn: "DbConnection", sql: str, rows: Iterable[Any]) -> None:
        """Run one statement for many parameter sets (bulk insert); streamed in batches."""
        conn.executemany(sql, rows)

    def cancel(self, conn: "DbConnection") -> bool:
        """Ask the server to cancel the statement running on ``conn`` (called from another
        thread or a signal handler when a run is interrupted); ``True`` when a cancel was
        sent. The statement then fails and its transaction rolls back. The default cannot
        cancel: the engine waits for the statement to finish."""
        return False

    # timeouts --------------------------------------------------------------------------
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

    def is_statement_timeout(self, exc: BaseException) -> bool:
        """Whether a statement failed because it ran longer than the statement timeout
        (:meth:`set_statement_timeout`); the failure message then names that setting."""
        return False

    def is_lock_timeout(self, exc: BaseException) -> bool:
        """Whether a statement failed because it waited too long for a lock (the DDL lock
        timeout); the engine then retries the migration while nothing of it took effect,
        up to ``ddl_lock_retries`` times."""
        return False
