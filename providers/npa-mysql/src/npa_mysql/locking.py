"""The MySQL / MariaDB migration lock: a named user lock (``GET_LOCK``).

The lock is held by a dedicated connection for the whole run, so the migrations' own
transactions (and the implicit commits of DDL) never release it, and the server releases
it by itself the moment that connection ends: a killed process leaves no stale lock, and
there is nothing for ``npa migrate unlock`` to clear.
"""

from __future__ import annotations

import hashlib
import math
import threading
import warnings
from typing import TYPE_CHECKING

from npa_migrations.errors import LockTimeoutError
from npa_migrations.locking import MigrationLock

if TYPE_CHECKING:  # pragma: no cover
    from npa_migrations.connection import DbConnection

    from .provider import MysqlProvider

#: MySQL rejects user-lock names longer than 64 characters
MAX_LOCK_NAME = 64


def lock_name(database: str | None, table_name: str) -> str:
    """The ``GET_LOCK`` name of a database's migration lock: ``npa:<database>:<table>``,
    shortened with a hash when longer than 64 characters (the server's limit)."""
    name = f"npa:{database or ''}:{table_name}"
    if len(name) <= MAX_LOCK_NAME:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]
    return f"{name[:MAX_LOCK_NAME - len(digest) - 1]}~{digest}"


class MysqlLock(MigrationLock):
    """``GET_LOCK(name, timeout)`` on a connection of its own.

    :ivar name: the lock name (:func:`lock_name` of the database and the lock table
        option, so runs against one database serialise, like the portable lock table).
    :ivar holder: who held the lock when acquiring it timed out, if the server told.

    While the lock is held a background thread pings its connection every
    :attr:`keepalive_seconds`, and the connection's ``wait_timeout`` is set to
    :attr:`idle_timeout_seconds`: a live run never loses the lock to an idle timeout
    however long its migrations take, and a machine that vanished without closing its
    socket frees the lock after at most that idle timeout.
    """

    keepalive_seconds = 60.0
    idle_timeout_seconds = 600

    def __init__(self, provider: "MysqlProvider", table_name: str):
        self.provider = provider
        self.name = lock_name(provider.url.database, table_name)
        self.description = f"GET_LOCK('{self.name}')"
        self.holder: str | None = None
        self._conn: "DbConnection | None" = None
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._keepalive: threading.Thread | None = None

    # acquire / release -------------------------------------------------------------------
    def acquire(self, timeout: float) -> None:
        seconds = max(0, math.ceil(timeout))  # GET_LOCK takes whole seconds
        conn = self.provider.connect()
        try:
            conn.execute(f"SET SESSION wait_timeout = {int(self.idle_timeout_seconds)}")
            value = conn.query("SELECT GET_LOCK(%s, %s)", (self.name, seconds))[0][0]
            if value == 1:
                self._conn = conn
                self._start_keepalive()
                return
            if value == 0:
                self.holder = self._holder(conn)
                held = f" It is held by {self.holder}." if self.holder else ""
                message = (f"Could not acquire the migration lock ({self.description}) within "
                           f"{timeout:g}s.{held} Wait for the other run to finish, or raise "
                           "--lock-timeout. The server releases the lock by itself when the "
                           "holder's connection ends, so a crashed run needs no unlock.")
            else:
                message = (f"GET_LOCK('{self.name}') returned NULL: the server could not take "
                           "the migration lock (the session was killed, or the server ran out "
                           "of memory). Check the server log and run again.")
            conn.close()
            raise LockTimeoutError(message, holder=self.holder)
        except LockTimeoutError:
            raise
        except Exception:
            conn.close()
            raise

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

    def release(self) -> None:
        self._stop.set()
        if self._keepalive is not None:
            self._keepalive.join()
            self._keepalive = None
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            value = conn.query("SELECT RELEASE_LOCK(%s)", (self.name,))[0][0]
            if value != 1:
                warnings.warn(f"The migration lock {self.description} was no longer held by "
                              "this run when it ended (its connection was interrupted).",
                              RuntimeWarning, stacklevel=2)
        except Exception:  # the connection is gone, and the server released the lock with it
            pass
        finally:
            conn.close()

    def force_release(self) -> bool:
        """Nothing to do: the server frees a ``GET_LOCK`` lock when its session ends."""
        return False

    # keep-alive --------------------------------------------------------------------------
    def _start_keepalive(self) -> None:
        self._stop.clear()
        self._keepalive = threading.Thread(target=self._ping_loop, name="npa-mysql-lock",
                                           daemon=True)
        self._keepalive.start()

    def _ping_loop(self) -> None:
        while not self._stop.wait(self.keepalive_seconds):
            conn = self._conn
            if conn is None:
                return
            with self._guard:
                try:
                    conn.query("SELECT 1")
                except Exception:  # lost: release() will say so
                    return
