"""The Oracle migration lock: ``DBMS_LOCK``, or the lock table where it may not be used.

:class:`OracleLock` takes an exclusive user lock with ``DBMS_LOCK.REQUEST`` on a
connection of its own, named after the schema being migrated and the lock table option
(``npa:<SCHEMA>:<lock table>``), so two runs against one schema serialise across
machines, and the server releases the lock by itself the moment that session ends: a
killed process leaves no stale lock, and there is nothing for ``npa migrate unlock`` to
clear.

``DBMS_LOCK`` needs ``GRANT EXECUTE ON SYS.DBMS_LOCK TO <user>``. Without it the first
call fails to compile (ORA-06550 with PLS-00201 / PLS-00904) and the lock falls back to
the portable lock table (:class:`OracleTableLock`); the lock line says which one is held.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from npa_migrations.errors import LockTimeoutError
from npa_migrations.provider.locking import LockUnavailable, SessionLock, TableLock, owner_id
from npa_migrations.provider.locking import lock_name as _lock_name

from .errors import ORA_PLSQL_COMPILATION, error_text, ora_code

if TYPE_CHECKING:  # pragma: no cover
    from npa_migrations.provider.connection import DbConnection

    from .provider import OracleProvider

#: DBMS_LOCK lock names are at most 128 bytes (names starting with ``ORA$`` are Oracle's)
MAX_LOCK_NAME = 128
#: ``DBMS_LOCK.MAXWAIT``: a timeout of 32767 seconds means "wait forever"
MAXWAIT = 32767

ALLOCATE = ("BEGIN\n"
            "  DBMS_LOCK.ALLOCATE_UNIQUE(lockname => :name, lockhandle => :handle);\n"
            "END;")
REQUEST = ("BEGIN\n"
           "  :result := DBMS_LOCK.REQUEST(lockhandle => :handle, lockmode => DBMS_LOCK.X_MODE,\n"
           "                               timeout => :timeout, release_on_commit => FALSE);\n"
           "END;")
RELEASE = ("BEGIN\n"
           "  :result := DBMS_LOCK.RELEASE(lockhandle => :handle);\n"
           "END;")
CURRENT_SCHEMA = "SELECT SYS_CONTEXT('USERENV', 'CURRENT_SCHEMA') FROM DUAL"
#: who holds a user lock (needs SELECT on V$LOCK, V$SESSION and SYS.DBMS_LOCK_ALLOCATED,
#: e.g. SELECT_CATALOG_ROLE; best effort)
HOLDER = ("SELECT s.client_identifier, s.username, s.machine, s.program, s.sid "
          "FROM v$lock l JOIN v$session s ON s.sid = l.sid "
          "WHERE l.type = 'UL' AND l.lmode > 0 AND l.id1 = "
          "(SELECT a.lockid FROM sys.dbms_lock_allocated a WHERE a.name = :name)")

#: ``DBMS_LOCK.REQUEST`` return codes
REQUEST_SUCCESS, REQUEST_TIMEOUT, REQUEST_DEADLOCK = 0, 1, 2
REQUEST_PARAMETER_ERROR, REQUEST_ALREADY_OWNED, REQUEST_ILLEGAL_HANDLE = 3, 4, 5
#: ``DBMS_LOCK.RELEASE`` return codes
RELEASE_SUCCESS, RELEASE_PARAMETER_ERROR, RELEASE_NOT_OWNED, RELEASE_ILLEGAL_HANDLE = 0, 3, 4, 5


def lock_name(schema: str | None, table_name: str) -> str:
    """The ``DBMS_LOCK`` name of a schema's migration lock: ``npa:<SCHEMA>:<table>``,
    shortened with a hash when longer than 128 bytes."""
    return _lock_name(schema, table_name, MAX_LOCK_NAME, in_bytes=True)


def no_dbms_lock(exc: BaseException) -> bool:
    """Whether ``exc`` says this user may not call ``DBMS_LOCK`` (the block does not
    compile: ORA-06550 with PLS-00201 "identifier must be declared" or PLS-00904
    "insufficient privilege")."""
    if ora_code(exc) != ORA_PLSQL_COMPILATION:
        return False
    text = error_text(exc) + " " + str(exc)
    return "PLS-00201" in text or "PLS-00904" in text


class OracleLock(SessionLock):
    """``DBMS_LOCK.REQUEST(handle, X_MODE, timeout, release_on_commit => FALSE)`` on a
    connection of its own (:class:`~npa_migrations.provider.locking.SessionLock`); the lock table
    when ``DBMS_LOCK`` may not be executed.

    :ivar name: the lock name (:func:`lock_name`), known once :meth:`acquire` ran.
    :ivar fallback: the :class:`OracleTableLock` used instead, if any (the base class's
        fallback, :meth:`lease_lock`).

    While held, the base class pings the lock's session every :attr:`keepalive_seconds`
    so an idle-session limit (profile ``IDLE_TIME``) or a firewall never ends it during a
    long migration.
    """

    releaser = "Oracle"
    keepalive_thread = "npa-oracle-lock"

    def __init__(self, provider: "OracleProvider", table_name: str):
        super().__init__(provider)
        self.table_name = provider.sql.check_identifier(table_name, "lock table")
        self.owner = owner_id()
        self.name: str | None = None
        self.description = (f"DBMS_LOCK, or table lock {table_name} without EXECUTE on "
                            "DBMS_LOCK")
        self._cursor: Any = None
        self._handle: str | None = None

    # acquire -----------------------------------------------------------------------------
    def request(self, conn: "DbConnection", timeout: float) -> None:
        raw = conn.raw
        for attribute, value in (("module", "npa-migrations"), ("action", "migration lock"),
                                 ("client_identifier", self.owner[:64])):
            try:
                setattr(raw, attribute, value)
            except Exception:  # attributes are informational only
                pass
        self._cursor = cursor = raw.cursor()
        cursor.execute(CURRENT_SCHEMA)
        schema = cursor.fetchone()[0]
        self.name = lock_name(schema, self.table_name)
        handle = cursor.var(str, MAX_LOCK_NAME)
        try:
            cursor.execute(ALLOCATE, {"name": self.name, "handle": handle})
        except Exception as exc:
            if no_dbms_lock(exc):
                self._close_cursor()
                raise LockUnavailable("no EXECUTE on DBMS_LOCK; GRANT EXECUTE ON "
                                      "SYS.DBMS_LOCK to use it") from exc
            raise
        self._handle = handle.getvalue()
        self.description = f"DBMS_LOCK '{self.name}'"
        seconds = min(MAXWAIT - 1, max(0, math.ceil(timeout)))
        result = cursor.var(int)
        cursor.execute(REQUEST, {"result": result, "handle": self._handle,
                                 "timeout": seconds})
        code = result.getvalue()
        code = int(code) if code is not None else None
        if code not in (REQUEST_SUCCESS, REQUEST_ALREADY_OWNED):
            raise self._request_error(code, timeout, cursor)

    def lease_lock(self) -> "OracleTableLock":
        """The lock table, for a user without EXECUTE on ``DBMS_LOCK``."""
        return OracleTableLock(self.provider, self.table_name)

    def _request_error(self, code: int | None, timeout: float, cursor: Any) -> LockTimeoutError:
        what = f"the migration lock ({self.description})"
        if code == REQUEST_TIMEOUT:
            self.holder = self._holder(cursor)
            return self.timeout_error(timeout)
        if code == REQUEST_DEADLOCK:
            message = (f"Could not acquire {what}: Oracle detected a deadlock "
                       "(DBMS_LOCK.REQUEST returned 2), a session holding it waits for one "
                       "that waits for it. Run again; if it repeats, look for another tool "
                       "holding Oracle user locks (V$LOCK type 'UL').")
        elif code == REQUEST_PARAMETER_ERROR:
            message = (f"Could not acquire {what}: DBMS_LOCK.REQUEST rejected its parameters "
                       "(returned 3). This is a bug in npa-oracle; please report it with your "
                       "Oracle version.")
        elif code == REQUEST_ILLEGAL_HANDLE:
            message = (f"Could not acquire {what}: DBMS_LOCK.REQUEST called the lock handle "
                       "from DBMS_LOCK.ALLOCATE_UNIQUE illegal (returned 5); its allocation may "
                       "have expired meanwhile. Run again.")
        else:
            message = (f"Could not acquire {what}: DBMS_LOCK.REQUEST returned {code!r}, which "
                       "Oracle does not document. Run again; report it if it repeats.")
        return LockTimeoutError(message, holder=self.holder)

    def _holder(self, cursor: Any) -> str | None:
        """``<client identifier> (user@machine, program, sid N)`` of the session holding
        the lock, when this user may read V$LOCK / V$SESSION (best effort)."""
        try:
            cursor.execute(HOLDER, {"name": self.name})
            row = cursor.fetchone()
        except Exception:
            return None
        if not row:
            return None
        client, user, machine, program, sid = row
        details = [f"{user}@{machine}" if machine else str(user)]
        if program:
            details.append(str(program))
        details.append(f"sid {sid}")
        return f"{client} ({', '.join(details)})" if client else f"session {', '.join(details)}"

    # release -----------------------------------------------------------------------------
    def unlock(self, conn: "DbConnection") -> str | None:
        try:
            result = self._cursor.var(int)
            self._cursor.execute(RELEASE, {"result": result, "handle": self._handle})
            code = result.getvalue()
        finally:
            self._close_cursor()
        if code is not None and int(code) != RELEASE_SUCCESS:
            return f"DBMS_LOCK.RELEASE returned {int(code)}"
        return None

    def ping(self, conn: "DbConnection") -> None:
        conn.raw.ping()

    def close_connection(self, conn: "DbConnection") -> None:
        self._close_cursor()
        conn.close()

    def _close_cursor(self) -> None:
        cursor, self._cursor = self._cursor, None
        if cursor is not None:
            try:
                cursor.close()
            except Exception:
                pass

    def force_release(self) -> bool:
        """``DBMS_LOCK`` locks end with their session, so there is nothing to clear; a
        lock-table row left by a run that fell back to the table lock is removed."""
        conn = self.provider.driver.connect()
        try:
            conn.execute(f"SELECT 1 FROM {self.provider.sql.table_name(self.table_name)} "
                         "WHERE 1 = 0").fetchall()
        except Exception:  # no lock table: no run ever used it
            return False
        finally:
            conn.close()
        table_lock = OracleTableLock(self.provider, self.table_name)
        removed = table_lock.force_release()
        self.holder = table_lock.holder
        return removed


class OracleTableLock(TableLock):
    """The portable lock table, with the table itself locked (``LOCK TABLE ... IN
    EXCLUSIVE MODE NOWAIT``) for the moment each attempt reads and writes its row.

    Oracle's read-committed ``UPDATE`` would otherwise let two sessions that both saw an
    expired lock both take it over; with the table lock the second one waits for the
    next attempt and then sees the first one's row.
    """

    def __init__(self, provider: "OracleProvider", table_name: str):
        super().__init__(provider, table_name)
        self._lock_table = (f"LOCK TABLE {provider.sql.table_name(table_name)} "
                            "IN EXCLUSIVE MODE NOWAIT")

    def try_acquire(self) -> bool:
        conn = self._connection()
        conn.begin()
        try:
            conn.execute(self._lock_table)
        except Exception:  # ORA-00054: another attempt holds it right now
            try:
                conn.rollback()
            except Exception:
                pass
            return False
        # the transaction stays open: the base class's begin_write() only turns
        # autocommit off again, and its commit / rollback ends the table lock
        return super().try_acquire()
