"""A thin wrapper over one DB-API connection, in autocommit mode with explicit
transactions, so the engine controls exactly one commit per migration."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any, Callable, Iterable

if TYPE_CHECKING:  # pragma: no cover
    from .base import BaseProvider
    from ..statements import Statement

BATCH_SIZE = 10_000


class DbConnection:
    """One database session used by the engine.

    :ivar raw: the driver's DB-API connection.
    :ivar provider: the provider that opened it (knows how to begin/commit).
    :ivar in_transaction: whether an explicit transaction is open.
    """

    def __init__(self, provider: "BaseProvider", raw: Any, *, close: Callable[[], None] | None):
        self.provider = provider
        self.raw = raw
        self._close = close
        self.in_transaction = False
        self._cursor = raw.cursor()

    # transactions --------------------------------------------------------------------
    def begin(self) -> None:
        self.provider.begin(self)
        self.in_transaction = True

    def commit(self) -> None:
        self.provider.commit(self)
        self.in_transaction = False

    def rollback(self) -> None:
        try:
            self.provider.rollback(self)
        finally:
            self.in_transaction = False

    # execution -----------------------------------------------------------------------
    def execute(self, sql: str, params: Any = None):
        if params is None:
            self._cursor.execute(sql)
        else:
            self._cursor.execute(sql, params)
        return self._cursor

    def query(self, sql: str, params: Any = None) -> list[tuple]:
        return list(self.execute(sql, params).fetchall())

    def run(self, statement: "Statement") -> None:
        """Execute a :class:`~npa_migrations.statements.Statement`, streaming ``many``
        parameter sets in batches of :data:`BATCH_SIZE`, then run its ``check``."""
        if statement.many:
            self.provider.execute_many(self, statement.sql, statement.params)
        else:
            cursor = self.execute(statement.sql, statement.params)
            if statement.check is not None:
                statement.check(cursor)

    def executemany(self, sql: str, rows: Iterable[Any]) -> None:
        iterator = iter(rows)
        while True:
            batch = list(itertools.islice(iterator, BATCH_SIZE))
            if not batch:
                break
            self._cursor.executemany(sql, batch)

    def renew_cursor(self) -> None:
        """Replace the cursor with a new one from the driver connection. A provider calls
        it after changing a driver setting that only cursors created later take (e.g.
        pyodbc's ``Connection.timeout``, the query timeout)."""
        old, self._cursor = self._cursor, self.raw.cursor()
        try:
            old.close()
        except Exception:  # a broken old cursor must not stop the run
            pass

    def close(self) -> None:
        try:
            self._cursor.close()
        except Exception:  # closing a broken cursor must not hide the real error
            pass
        if self._close is not None:
            try:
                self._close()
            except Exception:
                pass
            self._close = None
