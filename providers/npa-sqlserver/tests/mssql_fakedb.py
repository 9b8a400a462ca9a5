"""A fake ``pyodbc`` module for the connection, history and lock code paths.

It records every call and answers the way SQL Server and pyodbc do for the statements
the provider sends -- ``sp_getapplock``/``sp_releaselock`` return codes, the history
table's rows, ``DB_ID``, ``@@OPTIONS`` -- and it behaves like pyodbc where the provider
depends on it: ``Connection.timeout`` is applied to cursors when they are created, an
error of a later statement of a batch is raised only by ``nextset()``, a statement
without a result set has ``description = None``.

Only the tests use it; nothing here claims to be SQL Server.
"""

from __future__ import annotations

import re
import types
from collections import deque
from typing import Any, Callable


class Error(Exception):
    pass


class DatabaseError(Error):
    pass


class ProgrammingError(DatabaseError):
    pass


class OperationalError(DatabaseError):
    pass


class Result:
    """What one executed statement answers: result sets in order (``rows`` lists, or
    ``None`` for "no result set"), and an error raised either at execute or at the
    ``nextset()`` that reaches it."""

    def __init__(self, *sets: Any, error: Exception | None = None,
                 error_at_nextset: Exception | None = None):
        self.sets = list(sets) or [None]
        self.error = error
        self.error_at_nextset = error_at_nextset


class FakeServer:
    """The state behind every fake connection: tables, history rows, lock answers."""

    def __init__(self) -> None:
        self.log: list[tuple] = []  # (connection number, kind, sql, params)
        self.connections: list["FakeConnection"] = []
        self.connect_calls: list[tuple[tuple, dict]] = []
        self.tables: set[str] = set()
        self.history: list[tuple] = []
        self.applock_codes: deque[int] = deque()
        self.release_code = 0
        self.holder_rows: list[tuple] | Exception = []
        self.database_id: Any = 5
        self.database_name = "shop"
        self.options = 5496  # ANSI_WARNINGS, ANSI_PADDING, ANSI_NULLS, QUOTED_IDENTIFIER, ...
        self.lock_timeout = -1
        self.rules: list[tuple[re.Pattern, Callable[[str, Any], Result]]] = []
        self.fail_connect: Exception | None = None

    # the fake pyodbc module ----------------------------------------------------------------
    def module(self) -> types.ModuleType:
        module = types.ModuleType("pyodbc")
        module.paramstyle = "qmark"
        module.version = "5.5.0"
        module.Error = Error
        module.DatabaseError = DatabaseError
        module.ProgrammingError = ProgrammingError
        module.OperationalError = OperationalError
        module.connect = self.connect
        module.SQL_WVARCHAR = -9
        return module

    def connect(self, *args: Any, **kwargs: Any) -> "FakeConnection":
        self.connect_calls.append((args, kwargs))
        if self.fail_connect is not None:
            raise self.fail_connect
        conn = FakeConnection(self, len(self.connections), kwargs.get("autocommit", False))
        self.connections.append(conn)
        return conn

    def when(self, pattern: str, answer: Callable[[str, Any], Result] | Result) -> None:
        """Answer statements matching ``pattern`` (a regex searched in the SQL)."""
        handler = answer if callable(answer) else (lambda sql, params: answer)
        self.rules.insert(0, (re.compile(pattern, re.S), handler))

    # answers ------------------------------------------------------------------------------
    def answer(self, sql: str, params: Any) -> Result:
        for pattern, handler in self.rules:
            if pattern.search(sql):
                return handler(sql, params)
        if "sp_getapplock" in sql:
            code = self.applock_codes.popleft() if self.applock_codes else 0
            return Result([(code,)])
        if "sp_releaselock" in sql:
            return Result([(self.release_code,)])
        if "sys.dm_tran_locks" in sql:
            if isinstance(self.holder_rows, Exception):
                return Result(error=self.holder_rows)
            return Result(list(self.holder_rows))
        if sql.startswith("SELECT DB_NAME()"):
            return Result([(self.database_name,)])
        if sql.startswith("SELECT DB_ID("):
            return Result([(self.database_id,)])
        if sql.startswith("SELECT @@OPTIONS"):
            return Result([(self.options, self.lock_timeout)])
        match = re.match(r"SELECT 1 FROM (\S+) WHERE 1 = 0", sql)
        if match:
            if match.group(1) not in self.tables:
                return Result(error=ProgrammingError(
                    "42S02", f"[42S02] Invalid object name '{match.group(1)}'. (208)"))
            return Result([])
        match = re.match(r"CREATE TABLE (\S+)", sql)
        if match:
            self.tables.add(match.group(1))
            return Result()
        if sql.startswith("INSERT INTO npa_migrations_history"):
            self.history.append(tuple(params))
            return Result()
        if sql.startswith("DELETE FROM npa_migrations_history"):
            self.history = [r for r in self.history if r[0] != params[0]]
            return Result()
        if sql.startswith("SELECT npa_migrations_history.migration_id"):
            return Result(sorted(self.history, key=lambda r: (r[2], r[0])))
        if sql == "SELECT 1":
            return Result([(1,)])
        return Result()

    def statements(self, connection: int | None = None) -> list[str]:
        return [entry[2] for entry in self.log
                if entry[1] in ("execute", "executemany")
                and (connection is None or entry[0] == connection)]


class FakeConnection:
    def __init__(self, server: FakeServer, number: int, autocommit: bool):
        self.server = server
        self.number = number
        self.autocommit = autocommit
        self.timeout = 0
        self.closed = False
        self.cursors: list[FakeCursor] = []

    def cursor(self) -> "FakeCursor":
        if self.closed:
            raise ProgrammingError("The cursor's connection has been closed.")
        cursor = FakeCursor(self)
        self.cursors.append(cursor)
        return cursor

    def commit(self) -> None:
        self.server.log.append((self.number, "commit", None, None))

    def rollback(self) -> None:
        self.server.log.append((self.number, "rollback", None, None))

    def close(self) -> None:
        self.closed = True
        self.server.log.append((self.number, "close", None, None))


class FakeCursor:
    def __init__(self, connection: FakeConnection):
        self.connection = connection
        self.timeout = connection.timeout  # pyodbc: applied when the cursor is created
        self.fast_executemany = False
        self.description = None
        self.closed = False
        self._sets: list[Any] = []
        self._rows: list[tuple] = []
        self._pending_error: Exception | None = None

    def _log(self, kind: str, sql: str, params: Any) -> None:
        self.connection.server.log.append((self.connection.number, kind, sql, params))

    def execute(self, sql: str, params: Any = None) -> "FakeCursor":
        if self.closed:
            raise ProgrammingError("Attempt to use a closed cursor.")
        self._log("execute", sql, params)
        result = self.connection.server.answer(sql, params)
        if result.error is not None:
            self.description = None
            raise result.error
        self._sets = list(result.sets)
        self._pending_error = result.error_at_nextset
        self._load(self._sets.pop(0))
        return self

    def executemany(self, sql: str, rows: list) -> None:
        self._log("executemany", sql, list(rows))
        self.connection.server.log.append(
            (self.connection.number, "fast_executemany", self.fast_executemany, None))

    def _load(self, rows: Any) -> None:
        if rows is None:
            self.description = None
            self._rows = []
        else:
            self.description = (("column", None, None, None, None, None, True),)
            self._rows = list(rows)

    def nextset(self) -> bool:
        if self._pending_error is not None and not self._sets:
            error, self._pending_error = self._pending_error, None
            raise error
        if not self._sets:
            self.description = None
            return False
        self._load(self._sets.pop(0))
        return True

    def fetchone(self):
        if self.description is None:
            raise ProgrammingError("No results.  Previous SQL was not a query.")
        return self._rows.pop(0) if self._rows else None

    def fetchall(self):
        if self.description is None:
            raise ProgrammingError("No results.  Previous SQL was not a query.")
        rows, self._rows = self._rows, []
        return rows

    def close(self) -> None:
        self.closed = True
