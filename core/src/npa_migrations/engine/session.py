"""Session: one database for the length of one command.

A session owns the run's connection (and so its transaction state), the history store,
the event log and the migration lock. Everything that reads or changes a database --
the runner, repair, baseline, status, drift, the event log -- works through a session,
never through the executor's insides: the executor makes sessions, the commands use them.

The migration lock is taken on the session's own connection where the database has a
session lock (:class:`~npa_migrations.provider.locking.SessionLock`), so it lives exactly
as long as the session doing the work.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Iterator

from ..plugins import get_plugin_manager, live

if TYPE_CHECKING:  # pragma: no cover
    from ..options import MigrationExecutorOptions
    from ..provider import BaseProvider
    from ..provider.connection import DbConnection
    from ..provider.locking import MigrationLock
    from .eventlog import EventLog, NullEventLog
    from .history import HistoryRow, HistoryStore
    from .target import DatabaseTarget


class Session:
    """One database: its connection, history store, event log and migration lock.

    :param target: the database (provider and how to connect).
    :param options: the run's options (table names, timeouts, lock).
    :param read_only: a command that only reads (``status``, ``validate``, ``history``):
        a database that does not exist yet is not created (SQLite would create its file
        on connect); reads answer as for an empty database.

    Use it as a context manager; the connection opens on entry and closes on exit.
    """

    def __init__(self, target: "DatabaseTarget", options: "MigrationExecutorOptions", *,
                 read_only: bool = False):
        from .eventlog import event_log

        self.target = target
        self.provider: "BaseProvider" = target.provider
        self.options = options
        self.read_only = read_only
        self.hook = get_plugin_manager().hook
        self.history: "HistoryStore" = self.hook.npa_history_store(
            provider=self.provider, table_name=options.history_table)
        self.eventlog: "EventLog | NullEventLog" = event_log(self.provider, options.log_table)
        self.lock: "MigrationLock | None" = None
        self._conn: "DbConnection | None" = None
        self._checkpoint = live(self.hook.npa_checkpoint)

    # connection ------------------------------------------------------------------------
    def __enter__(self) -> "Session":
        return self.open()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def open(self) -> "Session":
        """Open the connection (creating the database first when ``ensure_created``
        asks and the command writes); set the statement timeout."""
        driver = self.provider.driver
        if self.read_only and driver.database_exists() is False:
            return self  # nothing to read, and nothing must be created
        if self.options.ensure_created and not self.read_only:
            driver.ensure_database()
        self._conn = self.target.connect()
        driver.set_statement_timeout(self._conn, self.options.timeout_seconds)
        return self

    def close(self) -> None:
        """Release the lock if still held and close the connection; never raises."""
        if self.lock is not None:
            self.release_lock()
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    @property
    def connection(self) -> "DbConnection":
        """The run's connection (the session must be open)."""
        if self._conn is None:
            raise RuntimeError("the session is not open, or its database does not exist")
        return self._conn

    @property
    def connected(self) -> bool:
        """Whether the session has a connection (a read-only session on a database that
        does not exist has none)."""
        return self._conn is not None

    def checkpoint(self, point: str, migration: Any = None) -> None:
        """Tell the ``npa_checkpoint`` listeners that the run reached ``point``."""
        self._checkpoint(point=point, migration=migration)

    # history ---------------------------------------------------------------------------
    def read_history(self) -> dict[str, "HistoryRow"]:
        """Every history row keyed by id (none when the table or database is missing)."""
        if self._conn is None or not self.history.exists(self._conn):
            return {}
        return self.history.read(self._conn)

    def ensure_tables(self) -> None:
        """Create the history table and the event log when missing (and bring an older
        history table up to date)."""
        self.history.ensure(self.connection)
        self.eventlog.ensure(self.connection)

    # transactions ----------------------------------------------------------------------
    def begin(self) -> None:
        """Open a transaction on the run's connection."""
        self.checkpoint("begin")
        self.connection.begin()

    def commit(self, migration: Any = None, *, held: bool = False) -> None:
        """Commit the run's transaction (checkpoints before and after). ``held``: inside
        a driver's :meth:`~npa_migrations.provider.driver.Driver.batched` block, which
        may send the ``COMMIT`` only when it ends -- the caller announces
        :meth:`committed` once the block ended."""
        self.checkpoint("commit", migration)
        self.connection.commit()
        if not held:
            self.committed(migration)

    def committed(self, migration: Any = None) -> None:
        """The run's transaction committed (``npa_checkpoint`` point ``committed``)."""
        self.checkpoint("committed", migration)

    def rollback(self) -> None:
        """Roll back the run's transaction when one is open; never raises (the
        connection may be gone, and the error that led here is what the caller reports)."""
        conn = self._conn
        if conn is not None and conn.in_transaction:
            try:
                conn.rollback()
            except Exception:
                pass

    # lock ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def locked(self) -> Iterator["MigrationLock | None"]:
        """Hold the migration lock for the block (unless the option ``acquire_lock`` is
        off); the lock events fire for the CLI and plugins."""
        if not self.options.acquire_lock:
            yield None
            return
        self.acquire_lock()
        try:
            yield self.lock
        finally:
            self.release_lock()

    def acquire_lock(self) -> None:
        """Take the migration lock on this session (waiting up to the lock timeout)."""
        lock = self.hook.npa_create_lock(provider=self.provider,
                                         table_name=self.options.lock_table)
        timeout = self.options.lock_timeout_seconds
        self.hook.npa_lock_requested(description=lock.description, timeout=timeout)
        self.checkpoint("lock")
        lock.acquire(timeout, self.connection)
        self.lock = lock
        self.checkpoint("locked")
        self.hook.npa_lock_acquired(description=lock.description)

    def release_lock(self) -> None:
        """Release the migration lock; never raises."""
        lock, self.lock = self.lock, None
        if lock is not None:
            self.checkpoint("unlock")
            lock.release()
            self.checkpoint("unlocked")
