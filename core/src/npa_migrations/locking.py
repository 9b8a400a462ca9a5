"""Migration locks: only one process migrates a database at a time.

:class:`MigrationLock` is the interface; :class:`TableLock` is the portable lock table
``npa_migrations_lock`` used by SQLite and any provider without a database-level lock.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from typing import TYPE_CHECKING

from .compiled import CompiledSql
from .errors import LockTimeoutError

if TYPE_CHECKING:  # pragma: no cover
    from .connection import DbConnection
    from .provider import BaseProvider

DEFAULT_LOCK_TABLE = "npa_migrations_lock"


def owner_id() -> str:
    """Who holds a lock: host and process id (shown to a waiting process) plus a random
    token, so two runs in one process are two owners."""
    return f"{socket.gethostname()}:pid={os.getpid()}:run={uuid.uuid4().hex[:8]}"


def holder_is_dead(owner: str) -> bool:
    """Whether ``owner`` names a process on this host that no longer runs, so its lock
    can be taken over at once instead of after the lease expires."""
    host, _, rest = owner.partition(":pid=")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by another user
        return False
    return False


class MigrationLock:
    """A lock that serialises migration runs against one database.

    Implementations hold it on a connection of their own, so the migrations'
    transactions never release it.
    """

    #: human description used in the lock line, e.g. ``"table lock npa_migrations_lock"``
    description = "lock"

    def acquire(self, timeout: float) -> None:
        """Block until the lock is held, or raise
        :class:`~npa_migrations.errors.LockTimeoutError` after ``timeout`` seconds."""
        raise NotImplementedError

    def release(self) -> None:
        """Release the lock if held; never raises for a lock already gone."""
        raise NotImplementedError

    def force_release(self) -> bool:
        """Remove the lock whoever holds it (``npa migrate unlock``); ``True`` if one was
        removed. Only meaningful for table locks."""
        return False


class TableLock(MigrationLock):
    """The portable lock table: one row (``lock_id = 1``) with ``owner``,
    ``acquired_at`` and ``expires_at`` (epoch seconds).

    The row is taken in a write transaction, so two processes can never both hold it.
    A background thread renews ``expires_at`` every ``lease / 3`` seconds while the run
    is alive; a crashed holder stops renewing, and its lock is taken over once expired —
    at once when the holder was a process on the same host that no longer exists.
    Expiry compares clocks of the machines involved: keep them in NTP sync.
    """

    #: how long a lock stays valid without renewal
    lease_seconds = 60.0
    poll_min, poll_max = 0.05, 1.0

    def __init__(self, provider: "BaseProvider", table_name: str = DEFAULT_LOCK_TABLE):
        import sqlalchemy as sa

        self.provider = provider
        self.table_name = provider.check_identifier(table_name, "lock table")
        self.description = f"table lock {table_name}"
        self.owner = owner_id()
        self.table = table = sa.Table(
            table_name, sa.MetaData(),
            sa.Column("lock_id", sa.Integer(), primary_key=True, autoincrement=False),
            sa.Column("owner", sa.String(255), nullable=False),
            sa.Column("acquired_at", sa.Float(), nullable=False),
            sa.Column("expires_at", sa.Float(), nullable=False),
        )
        d = provider.dialect
        c = table.c
        self._create = provider.compile(sa.schema.CreateTable(table))
        self._probe = f"SELECT 1 FROM {provider.table_name(table_name)} WHERE 1 = 0"
        self._select = CompiledSql(d, sa.select(c.owner, c.expires_at).where(c.lock_id == 1))
        self._insert = CompiledSql(d, table.insert())
        self._take = CompiledSql(d, table.update().where(c.lock_id == 1).values(
            owner=sa.bindparam("owner_"), acquired_at=sa.bindparam("now"),
            expires_at=sa.bindparam("until")))
        self._renew = CompiledSql(d, table.update().where(
            sa.and_(c.lock_id == 1, c.owner == sa.bindparam("owner_"))).values(
            expires_at=sa.bindparam("until")))
        self._delete_own = CompiledSql(d, table.delete().where(
            sa.and_(c.lock_id == 1, c.owner == sa.bindparam("owner_"))))
        self._delete_any = CompiledSql(d, table.delete().where(c.lock_id == 1))
        self._conn: "DbConnection | None" = None
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None
        self.holder: str | None = None

    # table -------------------------------------------------------------------------------
    def _connection(self) -> "DbConnection":
        if self._conn is None:
            self._conn = self.provider.connect()
            self.provider.set_wait_timeout(self._conn, self.poll_min * 4)
            self._ensure_table(self._conn)
        return self._conn

    def _ensure_table(self, conn: "DbConnection") -> None:
        try:
            conn.execute(self._probe).fetchall()
            return
        except Exception:  # the driver's "no such table"
            pass
        try:
            conn.execute(self._create)
        except Exception:  # created concurrently by another process
            conn.execute(self._probe).fetchall()

    # acquire / release -------------------------------------------------------------------
    def try_acquire(self) -> bool:
        """One attempt in one write transaction; ``True`` if the lock is now ours."""
        conn = self._connection()
        now = time.time()
        until = now + self.lease_seconds
        self.provider.begin_write(conn)
        try:
            rows = self._select.fetchall(conn)
            if not rows:
                self._insert.execute(conn, lock_id=1, owner=self.owner, acquired_at=now,
                                     expires_at=until)
            elif rows[0][1] < now or rows[0][0] == self.owner or holder_is_dead(rows[0][0]):
                self._take.execute(conn, owner_=self.owner, now=now, until=until)
            else:
                self.holder = rows[0][0]
                conn.rollback()
                return False
            conn.commit()
            return True
        except Exception:
            # a concurrent insert of the same row, or a busy database: try again later
            if conn.in_transaction:
                try:
                    conn.rollback()
                except Exception:
                    pass
            return False

    def acquire(self, timeout: float) -> None:
        deadline = time.monotonic() + max(0.0, timeout)
        delay = self.poll_min
        while not self.try_acquire():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                holder = f" It is held by {self.holder}." if self.holder else ""
                raise LockTimeoutError(
                    f"Could not acquire the migration lock ({self.description}) within "
                    f"{timeout:g}s.{holder} Wait for the other run to finish, raise "
                    "--lock-timeout, or if its process is gone run 'npa migrate unlock'.",
                    holder=self.holder)
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, self.poll_max)
        self._start_heartbeat()

    def _start_heartbeat(self) -> None:
        self._stop.clear()
        self._heartbeat = threading.Thread(target=self._renew_loop, name="npa-lock-renewal",
                                           daemon=True)
        self._heartbeat.start()

    def _renew_loop(self) -> None:
        conn = None
        while not self._stop.wait(self.lease_seconds / 3):
            try:
                if conn is None:
                    conn = self.provider.connect()
                    self.provider.set_wait_timeout(conn, 1.0)
                self._renew.execute(conn, owner_=self.owner,
                                    until=time.time() + self.lease_seconds)
            except Exception:  # a busy database: the next beat tries again
                pass
        if conn is not None:
            conn.close()

    def release(self) -> None:
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join()
            self._heartbeat = None
        if self._conn is not None:
            try:
                self._delete_own.execute(self._conn, owner_=self.owner)
            except Exception:  # a busy or lost database: the lease expires by itself
                pass
            finally:
                self._conn.close()
                self._conn = None

    def force_release(self) -> bool:
        conn = self._connection()
        try:
            rows = self._select.fetchall(conn)
            if not rows:
                return False
            self.holder = rows[0][0]
            self._delete_any.execute(conn)
            return True
        finally:
            conn.close()
            self._conn = None
