"""A thin wrapper over one DB-API connection, in autocommit mode with explicit
transactions, so the engine controls exactly one commit per migration."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any, Callable, Iterable

if TYPE_CHECKING:  # pragma: no cover
    from ..statements import Statement
    from .driver import Driver

BATCH_SIZE = 10_000


class DbConnection:
    """One database session used by the engine.

    :ivar raw: the driver's DB-API connection.
    :ivar driver: the provider's :class:`~npa_migrations.provider.driver.Driver` that
        opened it (knows how to begin, commit and roll back).
    :ivar in_transaction: whether an explicit transaction is open.
    :ivar session_settings: what a driver has set on this session and must remember
        (e.g. the lock timeout it last sent), keyed by the driver's own names.
    """

    def __init__(self, driver: "Driver", raw: Any, *, close: Callable[[], None] | None):
        self.driver = driver
        self.raw = raw
        self._close = close
        self.in_transaction = False
        self.session_settings: dict[str, Any] = {}
        self.cursor = raw.cursor()
        #: statements :meth:`execute` keeps instead of running them, while a driver's
        #: :meth:`~npa_migrations.provider.driver.Driver.batched` block holds them
        #: (:meth:`hold`); ``None``: every statement runs at once
        self.held: list[tuple[str, Any]] | None = None

    # transactions --------------------------------------------------------------------
    def begin(self) -> None:
        """Open an explicit transaction (the driver's way)."""
        self.driver.begin(self)
        self.in_transaction = True

    def commit(self) -> None:
        """Commit the explicit transaction."""
        self.driver.commit(self)
        self.in_transaction = False

    def rollback(self) -> None:
        """Roll back the explicit transaction; the connection counts as outside a
        transaction afterwards even when the rollback itself fails."""
        try:
            self.driver.rollback(self)
        finally:
            self.in_transaction = False

    # execution -----------------------------------------------------------------------
    def execute(self, sql: str, params: Any = None) -> Any:
        """Run one statement on the session's cursor; returns the cursor. While
        statements are held (:meth:`hold`) it is kept for later instead, and the cursor
        returned has no result of it."""
        if self.held is not None:
            self.held.append((sql, params))
            return self.cursor
        if params is None:
            self.cursor.execute(sql)
        else:
            self.cursor.execute(sql, params)
        return self.cursor

    def query(self, sql: str, params: Any = None) -> list[tuple]:
        """Run a query and return all its rows."""
        return list(self.execute(sql, params).fetchall())

    def run(self, statement: "Statement") -> None:
        """Execute a :class:`~npa_migrations.statements.Statement`, streaming ``many``
        parameter sets in batches of :data:`BATCH_SIZE`, then run its ``check``; a
        statement that is Python code (``run``) is called with this connection."""
        if statement.run is not None:
            statement.run(self)
        elif statement.many:
            self.driver.execute_many(self, statement.sql, statement.params)
        else:
            cursor = self.execute(statement.sql, statement.params)
            if statement.check is not None:
                statement.check(cursor)

    def hold(self) -> None:
        """Keep the statements :meth:`execute` gets from now on, in order, instead of
        running them (none may need a result), until :meth:`release`: a driver that can
        send several statements in one round trip collects them so."""
        self.held = []

    def release(self) -> list[tuple[str, Any]]:
        """Run statements at once again; returns those held, ``(sql, params)``."""
        held, self.held = self.held or [], None
        return held

    def executemany(self, sql: str, rows: Iterable[Any]) -> None:
        """``executemany`` in batches of :data:`BATCH_SIZE` (rows may be an iterator)."""
        iterator = iter(rows)
        while True:
            batch = list(itertools.islice(iterator, BATCH_SIZE))
            if not batch:
                break
            self.cursor.executemany(sql, batch)

    def renew_cursor(self) -> None:
        """Replace the cursor with a new one from the driver connection. A provider calls
        it after changing a driver setting that only cursors created later take (e.g.
        pyodbc's ``Connection.timeout``, the query timeout)."""
        old, self.cursor = self.cursor, self.raw.cursor()
        try:
            old.close()
        except Exception:  # a broken old cursor must not stop the run
            pass

    def close(self) -> None:
        """Close the cursor and the connection (or hand a caller's connection back);
        never raises."""
        try:
            self.cursor.close()
        except Exception:  # closing a broken cursor must not hide the real error
            pass
        if self._close is not None:
            try:
                self._close()
            except Exception:
                pass
            self._close = None
