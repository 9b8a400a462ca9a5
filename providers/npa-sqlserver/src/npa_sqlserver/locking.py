"""The SQL Server migration lock: an exclusive application lock (``sp_getapplock``).

The lock is owned by a session (``@LockOwner = 'Session'``) on a connection of its own,
held for the whole run, so the migrations' transactions never release it, and SQL Server
releases it by itself the moment that session ends: a killed process leaves no stale
lock, and there is nothing for ``npa migrate unlock`` to clear.

Application locks are scoped to the current database; the resource name is
``npa:<database>:<lock table option>`` (:func:`resource_name`), so runs against one
database with the same lock table name serialise, as they would on the portable lock
table. ``sp_getapplock`` waits on the server for at most ``@LockTimeout`` milliseconds
and answers with a return code:

====  ===========================================================================
 0    granted at once
 1    granted after waiting for another session to release it
-1    timed out (:class:`~npa_migrations.errors.LockTimeoutError`, naming the holder)
-2    the request was canceled
-3    chosen as a deadlock victim (retried while the timeout allows)
-999  parameter validation or other call error
====  ===========================================================================

Every code other than 0 and 1 means the lock was not acquired and raises
:class:`~npa_migrations.errors.LockTimeoutError` (exit code 4) with its meaning.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from npa_migrations.errors import LockTimeoutError
from npa_migrations.provider.locking import SessionLock, lock_name

if TYPE_CHECKING:  # pragma: no cover
    from npa_migrations.provider.connection import DbConnection

    from .provider import SqlServerProvider

#: ``sp_getapplock``'s ``@Resource`` is an ``nvarchar(255)``
MAX_RESOURCE = 255
#: ``sys.dm_tran_locks.resource_description`` shows this many characters of the name
DESCRIBED_CHARACTERS = 32

GET_APPLOCK = (
    "SET NOCOUNT ON;\n"
    "DECLARE @result int;\n"
    "EXEC @result = sp_getapplock @Resource = ?, @LockMode = 'Exclusive', "
    "@LockOwner = 'Session', @LockTimeout = ?, @DbPrincipal = 'public';\n"
    "SELECT @result;")

RELEASE_APPLOCK = (
    "SET NOCOUNT ON;\n"
    "DECLARE @result int;\n"
    "EXEC @result = sp_releaselock @Resource = ?, @LockOwner = 'Session', "
    "@DbPrincipal = 'public';\n"
    "SELECT @result;")

#: the session holding the application lock (its first 32 characters identify it);
#: other sessions' locks are visible with VIEW SERVER STATE (VIEW DATABASE STATE on Azure)
HOLDER = (
    "SELECT TOP (1) s.session_id, s.login_name, s.host_name, s.program_name, "
    "s.host_process_id, s.login_time\n"
    "FROM sys.dm_tran_locks AS l\n"
    "JOIN sys.dm_exec_sessions AS s ON s.session_id = l.request_session_id\n"
    "WHERE l.resource_type = N'APPLICATION' AND l.resource_database_id = DB_ID()\n"
    "    AND l.request_status IN (N'GRANT', N'GRANTED') AND l.request_session_id <> @@SPID\n"
    "    AND CHARINDEX(?, l.resource_description) > 0\n"
    "ORDER BY s.login_time")

#: what each return code of sp_getapplock means
RESULTS = {
    0: "granted",
    1: "granted after waiting",
    -1: "timed out",
    -2: "the lock request was canceled",
    -3: "the lock request was chosen as a deadlock victim",
    -999: "parameter validation or other call error",
}


def resource_name(database: str, table_name: str) -> str:
    """The application lock's ``@Resource``: ``npa:<database>:<table>``, shortened with a
    hash when longer than 255 characters."""
    return lock_name(database, table_name, MAX_RESOURCE)


def _scalar(conn: "DbConnection", sql: str, params: Any = None) -> Any:
    """The first column of the first row of the first result set of a batch."""
    cursor = conn.execute(sql, params)
    while cursor.description is None:
        if not cursor.nextset():
            raise RuntimeError(f"The batch returned no result: {sql.splitlines()[-1]}")
    row = cursor.fetchone()
    return None if row is None else row[0]


class SqlServerLock(SessionLock):
    """``sp_getapplock`` (exclusive, session-owned) on a connection of its own
    (:class:`~npa_migrations.provider.locking.SessionLock`).

    :ivar resource: the lock's resource name (``None`` until known when the URL names no
        database: it is then read with ``DB_NAME()`` on connecting).

    While the lock is held the base class runs ``SELECT 1`` on its connection every
    :attr:`keepalive_seconds`, so an idle-connection limit (Azure SQL's gateway closes
    sessions idle for 30 minutes) never ends the session, and so the lock, mid-run.
    """

    releaser = "SQL Server"
    keepalive_thread = "npa-mssql-lock"

    def __init__(self, provider: "SqlServerProvider", table_name: str):
        super().__init__(provider)
        self.table_name = provider.sql.check_identifier(table_name, "lock table")
        database = provider.url.database
        self.resource: str | None = resource_name(database, table_name) if database else None

    @property
    def description(self) -> str:  # type: ignore[override]
        resource = self.resource or f"npa:<current database>:{self.table_name}"
        return f"sp_getapplock '{resource}'"

    def _resource(self, conn: "DbConnection") -> str:
        if self.resource is None:
            self.resource = resource_name(_scalar(conn, "SELECT DB_NAME()"), self.table_name)
        return self.resource

    def request(self, conn: "DbConnection", timeout: float) -> None:
        deadline = time.monotonic() + max(0.0, timeout)
        resource = self._resource(conn)
        while True:
            remaining_ms = max(0, math.ceil((deadline - time.monotonic()) * 1000))
            code = _scalar(conn, GET_APPLOCK, (resource, remaining_ms))
            if code in (0, 1):
                return
            if code == -3 and time.monotonic() < deadline:
                continue  # a deadlock victim: ask again while the timeout allows
            break
        if code == -1:
            self.holder = self._holder(conn)
            raise self.timeout_error(timeout)
        self.holder = None
        meaning = RESULTS.get(code, "an unknown return code")
        raise LockTimeoutError(
            f"Could not acquire the migration lock ({self.description}): sp_getapplock "
            f"returned {code} ({meaning}). Nothing was applied; run again, and if it keeps "
            "failing check the server's error log.", holder=None)

    def unknown_holder(self) -> str:
        return (" (Who holds it could not be read: that needs the VIEW SERVER STATE "
                "permission, VIEW DATABASE STATE on Azure SQL.)")

    def unlock(self, conn: "DbConnection") -> str | None:
        code = _scalar(conn, RELEASE_APPLOCK, (self.resource,))
        return None if code == 0 else f"sp_releaselock returned {code}"

    def _holder(self, conn: "DbConnection") -> str | None:
        """``session <id> (login ..., host ..., program ..., client pid ...)`` of the
        session holding the lock, as far as this login may see it."""
        try:
            rows = conn.query(HOLDER, (self.resource[:DESCRIBED_CHARACTERS],))
        except Exception:  # best effort: the timeout itself is the error
            return None
        if not rows:
            return None
        session_id, login, host, program, pid, since = rows[0]
        details = [f"login {login}" if login else None,
                   f"host {host}" if host else None,
                   f"program '{program.strip()}'" if program and program.strip() else None,
                   f"client pid {pid}" if pid else None,
                   f"connected since {since:%Y-%m-%d %H:%M:%S}" if since else None]
        details = [d for d in details if d]
        return f"session {session_id}" + (f" ({', '.join(details)})" if details else "")

    def force_release(self) -> bool:
        """Nothing can be forced: SQL Server releases an application lock only when its
        session ends. Returns ``False`` when the lock is free; when another session holds
        it, raises :class:`~npa_migrations.errors.LockTimeoutError` naming that session."""
        conn = self.provider.driver.connect()
        try:
            resource = self._resource(conn)
            code = _scalar(conn, GET_APPLOCK, (resource, 0))
            if code in (0, 1):
                _scalar(conn, RELEASE_APPLOCK, (resource,))
                return False
            self.holder = self._holder(conn)
            who = self.holder or "another session (VIEW SERVER STATE shows which)"
            raise LockTimeoutError(
                f"The migration lock ({self.description}) is held by {who}. SQL Server "
                "releases an application lock only when its session ends, so there is "
                "nothing to unlock: wait for that run to finish, or if it hangs end its "
                "session (KILL <session id>).", holder=self.holder)
        finally:
            conn.close()
