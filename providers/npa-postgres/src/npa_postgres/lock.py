"""The PostgreSQL migration lock: a session-level advisory lock on the run's connection.

* **Key**: a signed 64-bit integer derived from the lock name (the ``lock_table`` option,
  default ``npa_migrations_lock``) and the schema the run migrates (``current_schema()``,
  where its history table lives): the first 8 bytes of
  ``sha256("npa-migrations:" + schema + ":" + name)``, or of
  ``sha256("npa-migrations:" + name)`` in the default schema ``public`` (the key earlier
  versions used there). Advisory locks are scoped to the current database, so two
  databases on one server never block each other, and two schemas of a fleet
  (``--tenant-schemas``) never block each other either.
* **Session**: the engine takes it on the run's own connection, so the lock ends exactly
  when the session that migrates ends: if the process dies while the server still
  executes one of its statements, the next run waits until that statement is over.
* **Waiting** polls ``pg_try_advisory_lock`` with a growing pause until the lock timeout,
  which becomes :class:`~npa_migrations.errors.LockTimeoutError` (exit code 4). Waiting
  inside the server's blocking ``pg_advisory_lock`` would hold a snapshot, and a
  ``CREATE INDEX CONCURRENTLY`` of the run holding the lock waits for every older
  snapshot: queued runs would stall it until they gave up.
* **Holder**: on timeout, ``pg_locks`` joined with ``pg_stat_activity`` names the session
  that holds the key (backend pid, ``application_name`` — ``npa-migrations host:pid`` for
  our own runs — user, client address, connected since).
* **Release**: ``pg_advisory_unlock`` on success and failure; if the process dies, the
  server ends its session and frees the lock by itself.
* **Fallback**: where ``pg_try_advisory_lock`` does not exist or may not be executed
  (PostgreSQL-wire distributed SQL such as CockroachDB or YugabyteDB, or a role without
  EXECUTE on it), the lock falls back to the portable lease lock -- the lock table
  ``npa_migrations_lock`` with expiry and renewal, in the run's schema -- and the lock
  line says so.
"""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING

from npa_migrations.errors import LockTimeoutError
from npa_migrations.provider.locking import LockUnavailable, SessionLock, TableLock


if TYPE_CHECKING:  # pragma: no cover
    from npa_migrations.provider.connection import DbConnection

    from .provider import PostgresProvider


#: the schema whose lock keys are those of earlier versions (the name alone)
DEFAULT_SCHEMA = "public"
#: the run's schema: the first existing one on its search_path (the setting itself when
#: none exists yet)
CURRENT_SCHEMA_SQL = "SELECT coalesce(current_schema(), current_setting('search_path'))"
#: SQLSTATEs saying advisory locks cannot be used at all: insufficient_privilege,
#: undefined_function, feature_not_supported
UNAVAILABLE_SQLSTATES = {"42501", "42883", "0A000"}


def advisory_key(name: str, schema: str | None = None) -> int:
    """The advisory lock key of a lock name in ``schema`` (signed 64-bit, as
    ``pg_advisory_lock`` takes); the name alone in the default schema ``public``."""
    scoped = name if schema in (None, DEFAULT_SCHEMA) else f"{schema}:{name}"
    digest = hashlib.sha256(f"npa-migrations:{scoped}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def advisory_unavailable(exc: BaseException) -> str | None:
    """Why advisory locks cannot be used, when ``exc`` says so (no such function, no
    EXECUTE on it, not supported), else ``None``."""
    if getattr(exc, "sqlstate", None) not in UNAVAILABLE_SQLSTATES:
        return None
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"pg_try_advisory_lock is unavailable: {text}"


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
    """A session-level advisory lock held for the whole run
    (:class:`~npa_migrations.provider.locking.SessionLock`)."""

    keepalive_seconds = None
    #: the first and the longest pause between two attempts while the lock is taken
    poll_min, poll_max = 0.05, 0.5
    releaser = "PostgreSQL"
    session_word = "connection"

    def __init__(self, provider: "PostgresProvider", name: str):
        super().__init__(provider)
        self.name = provider.sql.check_identifier(name, "lock")
        self.key = advisory_key(name)
        self.description = f"PostgreSQL advisory lock ({name})"
        self.holder_pid: int | None = None

    def use_schema_of(self, conn: "DbConnection") -> None:
        """Key the lock by the schema ``conn`` migrates (:func:`advisory_key`)."""
        schema = conn.query(CURRENT_SCHEMA_SQL)[0][0]
        self.key = advisory_key(self.name, schema)
        where = "" if schema in (None, DEFAULT_SCHEMA) else f"{schema}."
        self.description = f"PostgreSQL advisory lock {self.key} ({where}{self.name})"

    def lease_lock(self) -> TableLock:
        """The portable lease lock in the run's schema, where advisory locks are
        unavailable."""
        return TableLock(self.provider, self.name)

    # acquire / release -----------------------------------------------------------------
    def request(self, conn: "DbConnection", timeout: float) -> None:
        """``pg_try_advisory_lock`` polled with a growing pause (up to :attr:`poll_max`
        seconds) until ``timeout``. Not the blocking ``pg_advisory_lock``: a session
        waiting inside a statement holds a snapshot, and ``CREATE INDEX CONCURRENTLY`` in
        the run that holds the lock waits for every older snapshot -- so runs queued on the
        lock would stall the migrating one until they gave up."""
        deadline = time.monotonic() + max(0.0, timeout)
        delay = self.poll_min
        self.use_schema_of(conn)
        while not self._try(conn):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._timeout_error(conn, timeout)
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, self.poll_max)

    def _try(self, conn: "DbConnection") -> bool:
        try:
            return bool(conn.query(f"SELECT pg_try_advisory_lock({self.key})")[0][0])
        except Exception as exc:
            reason = advisory_unavailable(exc)
            if reason is None:
                raise
            raise LockUnavailable(reason) from exc

    def unlock(self, conn: "DbConnection") -> str | None:
        conn.execute(f"SELECT pg_advisory_unlock({self.key})").fetchall()
        return None

    def probe(self, conn: "DbConnection") -> str | None:
        """The session holding the key, else the owner of a lease-lock row (a run that
        fell back), else ``None``; takes nothing."""
        self.use_schema_of(conn)
        holder = self.find_holder(conn)
        if holder is None and conn.query("SELECT to_regclass(%s)", (
                self.provider.sql.table_name(self.name),))[0][0] is not None:
            return self.lease_lock().probe(conn)
        return holder

    def force_release(self) -> bool:
        """An advisory lock cannot be left behind: the server frees it when its session
        ends. Returns ``False`` when nobody holds it; when a live session does, raises
        :class:`LockTimeoutError` naming it (npa never terminates another session)."""
        conn = self.provider.driver.connect()
        try:
            self.use_schema_of(conn)
            holder = self.find_holder(conn)
            lease = self.lease_lock()
            leased = lease.probe(conn) if holder is None else None
        finally:
            conn.close()
        if leased is not None:  # a run that fell back to the lease lock left its row
            removed = lease.force_release()
            self.holder = lease.holder
            return removed
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
