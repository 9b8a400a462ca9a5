"""The PostgreSQL migration lock: a session-level advisory lock on a dedicated connection.

* **Key**: a signed 64-bit integer derived from the lock name (the ``lock_table`` option,
  default ``npa_migrations_lock``): the first 8 bytes of
  ``sha256("npa-migrations:" + name)``. Advisory locks are scoped to the current
  database, so two databases on one server never block each other.
* **Waiting** is done by the server, not by polling: ``SET lock_timeout = <ms>`` then
  ``SELECT pg_advisory_lock(key)`` blocks in the server's lock queue (first come, first
  served) until the lock is granted or the timeout fires with SQLSTATE ``55P03``
  (``lock_not_available``), which becomes :class:`~npa_migrations.errors.LockTimeoutError`
  (exit code 4). A timeout of 0 makes a single ``pg_try_advisory_lock`` attempt.
* **Holder**: on timeout, ``pg_locks`` joined with ``pg_stat_activity`` names the session
  that holds the key (backend pid, ``application_name`` — ``npa-migrations host:pid`` for
  our own runs — user, client address, connected since).
* **Release**: ``pg_advisory_unlock`` and closing the connection, on success and failure;
  if the process dies, the server ends its session and frees the lock by itself.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from npa_migrations.errors import LockTimeoutError
from npa_migrations.provider.locking import SessionLock

from .provider import LOCK_NOT_AVAILABLE, QUERY_CANCELED, milliseconds, server_version, sqlstate

if TYPE_CHECKING:  # pragma: no cover
    from npa_migrations.provider.connection import DbConnection

    from .provider import PostgresProvider


def advisory_key(name: str) -> int:
    """The advisory lock key of a lock name (signed 64-bit, as ``pg_advisory_lock`` takes)."""
    digest = hashlib.sha256(f"npa-migrations:{name}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


#: the session holding a bigint advisory key (split into classid/objid, objsubid = 1)
HOLDER_SQL = """\
SELECT a.pid, a.application_name, a.usename, host(a.client_addr), a.client_port,
       a.backend_start, a.state, a.query_start
FROM pg_catalog.pg_locks l
JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted
  AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
  AND l.classid = %(hi)s::oid AND l.objid = %(lo)s::oid AND l.objsubid = 1
LIMIT 1"""


class AdvisoryLock(SessionLock):
    """``pg_advisory_lock`` held on a connection of its own for the whole run
    (:class:`~npa_migrations.provider.locking.SessionLock`; no keep-alive: the server waits, and
    ``idle_session_timeout`` is turned off for the lock's session)."""

    keepalive_seconds = None
    releaser = "PostgreSQL"
    session_word = "connection"

    def __init__(self, provider: "PostgresProvider", name: str):
        super().__init__(provider)
        self.name = provider.sql.check_identifier(name, "lock")
        self.key = advisory_key(name)
        self.description = f"PostgreSQL advisory lock {self.key} ({name})"
        self.holder_pid: int | None = None

    # acquire / release -----------------------------------------------------------------
    def request(self, conn: "DbConnection", timeout: float) -> None:
        if timeout <= 0:
            if not conn.query(f"SELECT pg_try_advisory_lock({self.key})")[0][0]:
                raise self._timeout_error(conn, timeout)
            return
        # one round trip for the settings; the wait happens in the server's lock queue,
        # interrupted by lock_timeout (no client-side polling)
        settings = [f"SET lock_timeout = {milliseconds(timeout)}", "SET statement_timeout = 0"]
        if server_version(conn.raw) >= 140000:
            settings.append("SET idle_session_timeout = 0")
        conn.execute("; ".join(settings))
        try:
            conn.execute(f"SELECT pg_advisory_lock({self.key})").fetchall()
        except Exception as exc:
            if sqlstate(exc) in (LOCK_NOT_AVAILABLE, QUERY_CANCELED):
                raise self._timeout_error(conn, timeout) from None
            raise

    def unlock(self, conn: "DbConnection") -> str | None:
        conn.execute(f"SELECT pg_advisory_unlock({self.key})").fetchall()
        return None

    def force_release(self) -> bool:
        """An advisory lock cannot be left behind: the server frees it when its session
        ends. Returns ``False`` when nobody holds it; when a live session does, raises
        :class:`LockTimeoutError` naming it (npa never terminates another session)."""
        conn = self.provider.driver.connect()
        try:
            holder = self.find_holder(conn)
        finally:
            conn.close()
        if holder is None:
            return False
        raise LockTimeoutError(
            f"The migration lock ({self.description}) is held by a live session: {holder}. "
            "PostgreSQL releases it by itself when that session ends, so there is nothing to "
            "unlock. If that run hangs, end it: "
            f"SELECT pg_terminate_backend({self.holder_pid});", holder=holder)

    # holder ----------------------------------------------------------------------------
    def find_holder(self, conn: "DbConnection") -> str | None:
        """Describe the session holding the key, or ``None``."""
        unsigned = self.key & 0xFFFFFFFFFFFFFFFF
        try:
            rows = conn.query(HOLDER_SQL, {"hi": unsigned >> 32, "lo": unsigned & 0xFFFFFFFF})
        except Exception:  # no privilege on pg_stat_activity details, or a lost link
            return None
        if not rows:
            return None
        pid, app, user, addr, port, started, state, query_start = rows[0]
        self.holder_pid = pid
        parts = [f"PostgreSQL backend pid {pid}"]
        if app:
            parts.append(f"application '{app}'")
        if user:
            parts.append(f"user {user}")
        if addr:
            parts.append(f"client {addr}" + (f":{port}" if port and port > 0 else ""))
        elif port == -1:
            parts.append("client on a local socket")
        if started is not None:
            parts.append(f"connected since {started.isoformat(sep=' ', timespec='seconds')}")
        self.holder = ", ".join(parts)
        return self.holder

    def _timeout_error(self, conn: "DbConnection", timeout: float) -> LockTimeoutError:
        holder = self.find_holder(conn)
        hint = (f" If that run hangs, end its session: SELECT pg_terminate_backend({self.holder_pid})."
                if holder else "")
        return self.timeout_error(timeout, hint)
