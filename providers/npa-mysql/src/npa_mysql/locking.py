"""The MySQL / MariaDB migration lock: a named user lock (``GET_LOCK``).

The lock is held by a dedicated connection for the whole run, so the migrations' own
transactions (and the implicit commits of DDL) never release it, and the server releases
it by itself the moment that connection ends: a killed process leaves no stale lock, and
there is nothing for ``npa migrate unlock`` to clear.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from npa_migrations.errors import LockTimeoutError
from npa_migrations.provider.locking import SessionLock
from npa_migrations.provider.locking import lock_name as _lock_name

if TYPE_CHECKING:  # pragma: no cover
    from npa_migrations.provider.connection import DbConnection

    from .provider import MysqlProvider

#: MySQL rejects user-lock names longer than 64 characters
MAX_LOCK_NAME = 64


def lock_name(database: str | None, table_name: str) -> str:
    """The ``GET_LOCK`` name of a database's migration lock: ``npa:<database>:<table>``,
    shortened with a hash when longer than 64 characters (the server's limit)."""
    return _lock_name(database, table_name, MAX_LOCK_NAME)


class MysqlLock(SessionLock):
    """``GET_LOCK(name, timeout)`` on a connection of its own
    (:class:`~npa_migrations.provider.locking.SessionLock`).

    :ivar name: the lock name (:func:`lock_name` of the database and the lock table
        option, so runs against one database serialise, like the portable lock table).

    While the lock is held the base class pings its connection every
    :attr:`keepalive_seconds`, and the connection's ``wait_timeout`` is set to
    :attr:`idle_timeout_seconds`: a live run never loses the lock to an idle timeout
    however long its migrations take, and a machine that vanished without closing its
    socket frees the lock after at most that idle timeout.
    """

    idle_timeout_seconds = 600
    session_word = "connection"
    keepalive_thread = "npa-mysql-lock"

    def __init__(self, provider: "MysqlProvider", table_name: str):
        super().__init__(provider)
        self.name = lock_name(provider.url.database, table_name)
        self.description = f"GET_LOCK('{self.name}')"

    def request(self, conn: "DbConnection", timeout: float) -> None:
        seconds = max(0, math.ceil(timeout))  # GET_LOCK takes whole seconds
        conn.execute(f"SET SESSION wait_timeout = {int(self.idle_timeout_seconds)}")
        value = conn.query("SELECT GET_LOCK(%s, %s)", (self.name, seconds))[0][0]
        if value == 1:
            return
        if value == 0:
            self.holder = self._holder(conn)
            raise self.timeout_error(timeout)
        raise LockTimeoutError(
            f"GET_LOCK('{self.name}') returned NULL: the server could not take the migration "
            "lock (the session was killed, or the server ran out of memory). Check the server "
            "log and run again.", holder=self.holder)

    def unlock(self, conn: "DbConnection") -> str | None:
        value = conn.query("SELECT RELEASE_LOCK(%s)", (self.name,))[0][0]
        return None if value == 1 else f"RELEASE_LOCK returned {value}"

    def _holder(self, conn: "DbConnection") -> str | None:
        """``connection <id> (<user>@<host>, <command> for <n>s[, pid <pid>])`` of the
        session that holds the lock, as far as this user may see it."""
        try:
            rows = conn.query("SELECT IS_USED_LOCK(%s)", (self.name,))
            holder_id = rows[0][0] if rows else None
            if holder_id is None:
                return None
            text = f"connection {holder_id}"
            rows = conn.query(
                "SELECT USER, HOST, COMMAND, TIME FROM information_schema.PROCESSLIST "
                "WHERE ID = %s", (holder_id,))
            details = []
            if rows:
                user, host, command, seconds = rows[0]
                details.append(f"{user}@{host}")
                if command:
                    details.append(f"{command.lower()} for {seconds}s")
            pid = self._client_pid(conn, holder_id)
            if pid:
                details.append(f"client pid {pid}")
            return f"{text} ({', '.join(details)})" if details else text
        except Exception:  # the lookup is best effort; the timeout itself is the error
            return None

    @staticmethod
    def _client_pid(conn: "DbConnection", holder_id: int) -> str | None:
        """The client's process id from the connection attributes (MySQL 8 with the
        performance schema on; MariaDB leaves it off by default)."""
        try:
            rows = conn.query(
                "SELECT ATTR_VALUE FROM performance_schema.session_connect_attrs "
                "WHERE PROCESSLIST_ID = %s AND ATTR_NAME = '_pid'", (holder_id,))
            return rows[0][0] if rows else None
        except Exception:
            return None
