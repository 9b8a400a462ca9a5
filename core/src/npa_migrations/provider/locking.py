"""Migration locks: only one process migrates a database at a time.

:class:`MigrationLock` is the interface; :class:`TableLock` is the portable lock table
``npa_migrations_lock`` used by SQLite and any provider without a database-level lock;
:class:`SessionLock` is the base of the server-side named locks (PostgreSQL advisory
locks, MySQL ``GET_LOCK``, SQL Server ``sp_getapplock``, Oracle ``DBMS_LOCK``), whose
providers supply only the SQL that takes, releases and describes their lock.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
import uuid
import warnings
from typing import TYPE_CHECKING

from ..compiled import CompiledSql
from ..errors import LockTimeoutError
from ..options import DEFAULT_LOCK_TABLE

if TYPE_CHECKING:  # pragma: no cover
    from .connection import DbConnection
    from .base import BaseProvider


def owner_id() -> str:
    """Who holds a lock: host and process id (shown to a waiting process) plus a random
    token, so two runs in one process are two owners."""
    return f"{socket.gethostname()}:pid={os.getpid()}:run={uuid.uuid4().hex[:8]}"


def lock_name(scope: str | None, table_name: str, limit: int, *, in_bytes: bool = False) -> str:
    """The name of a server-side migration lock: ``npa:<scope>:<table>`` (the scope is the
    database or schema migrated, the table the ``lock_table`` option, so runs against one
    database serialise as they would on the portable lock table), shortened with a hash
    suffix when longer than ``limit`` characters (UTF-8 bytes with ``in_bytes``)."""
    name = f"npa:{scope or ''}:{table_name}"

    def size(text: str) -> int:
        return len(text.encode("utf-8")) if in_bytes else len(text)

    if size(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]
    room = limit - len(digest) - 1
    head = (name.encode("utf-8")[:room].decode("utf-8", "ignore") if in_bytes
            else name[:room])
    return f"{head}~{digest}"


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


class LockUnavailable(Exception):
    """Raised by :meth:`SessionLock.request` when the server-side lock cannot be used at
    all -- the function is missing (PostgreSQL-wire databases such as CockroachDB or
    YugabyteDB) or the user may not execute it -- as opposed to being held by someone
    else. The lock then falls back to its :meth:`SessionLock.lease_lock`.

    :ivar reason: what the database said, for the lock line.
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class MigrationLock:
    """A lock that serialises migration runs against one database.

    The migrations' own transactions (and DDL's implicit commits) never release it.
    """

    #: human description used in the lock line, e.g. ``"table lock npa_migrations_lock"``
    description = "lock"

    def acquire(self, timeout: float, conn: "DbConnection | None" = None) -> None:
        """Block until the lock is held, or raise
        :class:`~npa_migrations.errors.LockTimeoutError` after ``timeout`` seconds.

        :param conn: the connection of the run the lock protects. A session lock is taken
            on it, so the lock lives exactly as long as the session doing the work: while
            a statement of a killed run still executes on the server, its lock is still
            held. A lock that needs a connection of its own (the lock table, which commits
            its row apart from the run) ignores it; without it, a session lock opens one.
        """
        raise NotImplementedError

    def release(self) -> None:
        """Release the lock if held; never raises for a lock already gone."""
        raise NotImplementedError

    def force_release(self) -> bool:
        """Remove the lock whoever holds it (``npa migrate unlock``); ``True`` if one was
        removed. Only meaningful for table locks."""
        return False

    def probe(self, conn: "DbConnection") -> str | None:
        """Who holds the lock right now (a description), or ``None`` when it is free --
        for ``npa migrate status --tenants``. The default takes the lock without waiting
        on ``conn`` and releases it at once."""
        try:
            self.acquire(0, conn)
        except LockTimeoutError as exc:
            return exc.holder or self.holder_of(exc)
        self.release()
        return None

    @staticmethod
    def holder_of(error: LockTimeoutError) -> str:
        """A holder to show when the database did not name one."""
        return "another run"


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
    #: how long ``npa migrate unlock`` waits for a database kept busy by a live run
    unlock_wait_seconds = 30.0

    def __init__(self, provider: "BaseProvider", table_name: str = DEFAULT_LOCK_TABLE):
        import sqlalchemy as sa

        self.provider = provider
        self.table_name = provider.sql.check_identifier(table_name, "lock table")
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
        self._create = provider.sql.compile(sa.schema.CreateTable(table))
        self._probe = f"SELECT 1 FROM {provider.sql.table_name(table_name)} WHERE 1 = 0"
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
        #: why the last attempt could not even begin (shown when no holder is known)
        self.last_error: Exception | None = None

    # table -------------------------------------------------------------------------------
    def _connection(self) -> "DbConnection":
        if self._conn is None:
            conn = self.provider.driver.connect()
            try:
                self.provider.driver.set_wait_timeout(conn, self.poll_min * 4)
                self._ensure_table(conn)
            except BaseException:  # e.g. a database too busy to create the table yet
                conn.close()
                raise
            self._conn = conn
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
        """One attempt in one write transaction; ``True`` if the lock is now ours.

        A database too busy to begin it (SQLite: the run holding the lock is inside a
        migration's write transaction) is an attempt that failed, like a held row: the
        caller polls again until its timeout, and :attr:`holder` names the row's owner."""
        now = time.time()
        until = now + self.lease_seconds
        try:
            conn = self._connection()
            self.provider.driver.begin_write(conn)
            conn.in_transaction = True
        except Exception as exc:
            self.last_error = exc
            self._note_holder()
            return False
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

    def _note_holder(self) -> None:
        """Read who holds the row without a write transaction (readers are not blocked by
        the holder's writes), for the timeout message; best effort."""
        conn = self._conn
        if conn is None:
            return
        try:
            if conn.in_transaction:
                conn.rollback()
            rows = self._select.fetchall(conn)
        except Exception:
            return
        if rows and rows[0][0] != self.owner:
            self.holder = rows[0][0]

    def acquire(self, timeout: float, conn: "DbConnection | None" = None) -> None:
        deadline = time.monotonic() + max(0.0, timeout)
        delay = self.poll_min
        while not self.try_acquire():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                holder = (f" It is held by {self.holder}." if self.holder
                          else f" The database kept refusing: {self.last_error}."
                          if self.last_error else "")
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
                    conn = self.provider.driver.connect()
                    self.provider.driver.set_wait_timeout(conn, 1.0)
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
        """Delete the row whoever holds it. A database kept busy by a live run (SQLite:
        its migration's write transaction) is waited for up to :attr:`unlock_wait_seconds`,
        then :class:`~npa_migrations.errors.LockTimeoutError` names the holder."""
        deadline = time.monotonic() + self.unlock_wait_seconds
        delay = self.poll_min
        while True:
            try:
                return self._delete_row()
            except Exception as exc:
                self._note_holder()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    held = f" held by {self.holder}" if self.holder else ""
                    raise LockTimeoutError(
                        f"Could not remove the migration lock ({self.description}){held} "
                        f"within {self.unlock_wait_seconds:g}s: the database stayed busy "
                        f"({exc}). A run is still migrating; wait for it to finish (it "
                        "releases the lock itself), then try again.",
                        holder=self.holder) from exc
            finally:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, self.poll_max)

    def _delete_row(self) -> bool:
        conn = self._connection()
        rows = self._select.fetchall(conn)
        if not rows:
            return False
        self.holder = rows[0][0]
        self._delete_any.execute(conn)
        return True

    def probe(self, conn: "DbConnection") -> str | None:
        """The owner of an unexpired lock row (read on ``conn``, no table created), or
        ``None``."""
        try:
            rows = self._select.fetchall(conn)
        except Exception:  # no lock table: no run ever took the lock
            if conn.in_transaction:
                conn.rollback()
            return None
        if rows and rows[0][1] >= time.time() and not holder_is_dead(rows[0][0]):
            return str(rows[0][0])
        return None


class SessionLock(MigrationLock):
    """A server-side named lock owned by a database session.

    The engine takes it on the run's own connection: the lock is session-level, so the
    migrations' transactions (and DDL's implicit commits) never release it, and the
    server frees it by itself the moment that session ends -- not before: when a run is
    killed while the server still executes one of its statements, the lock stays held
    until that statement finished, so the next run sees its outcome. A killed process
    leaves no stale lock, and there is nothing for ``npa migrate unlock`` to clear.

    Taken without a connection (a tool, a test), it opens one of its own, pings it while
    held and closes it at release.

    This class does the shared work -- the connection when it owns one, a keep-alive
    thread then, the timeout message naming the holder, a release that never raises (the
    run's own outcome is what the caller reports) -- and a provider supplies only its SQL:

    * :meth:`request` takes the lock on the connection, waiting at most ``timeout``
      seconds, and raises (usually :meth:`timeout_error`) when it is not granted;
    * :meth:`unlock` releases it and says why when it was no longer held;
    * :meth:`ping` (keep-alive), :meth:`close_connection` where the default does not fit.

    :ivar holder: who held the lock when acquiring it failed, if the server told.
    """

    #: seconds between keep-alive pings of the lock's session while held, so an idle
    #: timeout (server setting, cloud gateway, firewall) never ends it mid-run; ``None``:
    #: no keep-alive thread
    keepalive_seconds: float | None = 60.0
    #: who frees the lock when its holder's session ends, in messages
    releaser = "The server"
    #: what ends with the holder ("connection" or "session"), in messages
    session_word = "session"
    #: name of the keep-alive thread
    keepalive_thread = "npa-lock-keepalive"

    def __init__(self, provider: "BaseProvider"):
        self.provider = provider
        self.holder: str | None = None
        self._conn: "DbConnection | None" = None
        self._owns_connection = False
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._keepalive: threading.Thread | None = None
        #: the lease lock taken instead when :meth:`request` raised
        #: :class:`LockUnavailable`
        self.fallback: MigrationLock | None = None

    # what a provider implements -----------------------------------------------------------
    def request(self, conn: "DbConnection", timeout: float) -> None:
        """Take the lock on ``conn``, waiting at most ``timeout`` seconds; raise when it is
        not granted (:meth:`timeout_error` after a timeout). Waiting must not hold a
        snapshot or a transaction open for long (poll with short statements where the
        server's blocking call would), so that a statement of the run holding the lock --
        PostgreSQL's ``CREATE INDEX CONCURRENTLY`` waits for every older snapshot --
        never waits for the runs queued behind it."""
        raise NotImplementedError

    def unlock(self, conn: "DbConnection") -> str | None:
        """Release the lock held on ``conn``: ``None`` when it was released, else why it
        was no longer held (e.g. ``"RELEASE_LOCK returned 0"``), which becomes a warning.
        An exception means the session is gone, and the server released the lock with it."""
        raise NotImplementedError

    def lease_lock(self) -> MigrationLock | None:
        """The lock to take when :meth:`request` raises :class:`LockUnavailable`: the
        portable lease lock (:class:`TableLock`, expiry and renewal) for a provider that
        supports falling back; ``None`` (the default) makes the unavailability an error."""
        return None

    def ping(self, conn: "DbConnection") -> None:
        """Keep the lock's session alive (called every :attr:`keepalive_seconds`)."""
        conn.query("SELECT 1")

    def close_connection(self, conn: "DbConnection") -> None:
        """Close the lock's connection (after release, or when the lock was not granted)."""
        conn.close()

    # messages ---------------------------------------------------------------------------
    def unknown_holder(self) -> str:
        """Sentence added to a timeout message when the holder could not be read."""
        return ""

    def timeout_error(self, timeout: float, hint: str = "") -> LockTimeoutError:
        """The error for a lock not granted within ``timeout`` seconds, naming
        :attr:`holder` when known; ``hint`` is added after the advice (e.g. how to end the
        holder's session)."""
        held = f" It is held by {self.holder}." if self.holder else self.unknown_holder()
        return LockTimeoutError(
            f"Could not acquire the migration lock ({self.description}) within {timeout:g}s."
            f"{held} Wait for the other run to finish, or raise --lock-timeout.{hint} "
            f"{self.releaser} releases the lock by itself when the holder's "
            f"{self.session_word} ends, so a crashed run needs no unlock.", holder=self.holder)

    # acquire / release ------------------------------------------------------------------
    def acquire(self, timeout: float, conn: "DbConnection | None" = None) -> None:
        if self._conn is not None or self.fallback is not None:
            return
        owned = conn is None
        if conn is None:
            conn = self.provider.driver.connect()
        try:
            self.request(conn, timeout)
        except LockUnavailable as exc:
            if owned:
                self.close_connection(conn)
            self._fall_back(exc, timeout)
            return
        except BaseException:
            if owned:
                self.close_connection(conn)
            raise
        self._conn, self._owns_connection = conn, owned
        if owned:
            self._start_keepalive()

    def _fall_back(self, unavailable: LockUnavailable, timeout: float) -> None:
        lease = self.lease_lock()
        if lease is None:
            raise LockTimeoutError(
                f"Could not acquire the migration lock ({self.description}): "
                f"{unavailable.reason}. Grant the user the right to take it.")
        lease.description = f"{lease.description} (fallback: {unavailable.reason})"
        self.description = lease.description
        self.fallback = lease
        try:
            lease.acquire(timeout)
        except BaseException:
            self.fallback = None
            raise
        finally:
            self.holder = getattr(lease, "holder", None)

    def release(self) -> None:
        """Release the lock (and close its connection when it owns one). Never raises: a
        lock whose session was lost is already free, and the run's own outcome is what the
        caller reports; a lock found no longer held is a :class:`RuntimeWarning`."""
        if self.fallback is not None:
            lease, self.fallback = self.fallback, None
            lease.release()
            return
        self._stop.set()
        if self._keepalive is not None:
            self._keepalive.join()
            self._keepalive = None
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            with self._guard:
                lost = self.unlock(conn)
            if lost:
                warnings.warn(f"The migration lock {self.description} was no longer held by "
                              f"this run when it ended ({lost}; its {self.session_word} was "
                              "interrupted).", RuntimeWarning, stacklevel=2)
        except Exception:  # the session is gone, and the server released the lock with it
            pass
        finally:
            if self._owns_connection:
                try:
                    self.close_connection(conn)
                except Exception:
                    pass

    def force_release(self) -> bool:
        """There is never a lock to clear: the server frees it when its session ends.
        Returns ``False`` when the lock is free (probed by taking and releasing it at
        once); when a live session holds it, raises
        :class:`~npa_migrations.errors.LockTimeoutError` naming that session, since npa
        never ends another session."""
        conn = self.provider.driver.connect()
        try:
            try:
                self.request(conn, 0)
            except LockTimeoutError as exc:
                who = self.holder or "another session"
                raise LockTimeoutError(
                    f"The migration lock ({self.description}) is held by {who}. "
                    f"{self.releaser} releases it by itself when that {self.session_word} "
                    "ends, so there is nothing to unlock: wait for that run to finish, or "
                    f"if it hangs, end its {self.session_word}.", holder=self.holder) from exc
            self.unlock(conn)
            return False
        finally:
            self.close_connection(conn)

    # keep-alive -------------------------------------------------------------------------
    def _start_keepalive(self) -> None:
        if not self.keepalive_seconds:
            return
        self._stop.clear()
        self._keepalive = threading.Thread(target=self._ping_loop, name=self.keepalive_thread,
                                           daemon=True)
        self._keepalive.start()

    def _ping_loop(self) -> None:
        while not self._stop.wait(self.keepalive_seconds):
            conn = self._conn
            if conn is None:
                return
            with self._guard:
                try:
                    self.ping(conn)
                except Exception:  # lost: release() will say so
                    return
