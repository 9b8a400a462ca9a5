"""The GET_LOCK migration lock: timeout naming the holder, release on disconnect, held by
the session that migrates, NULL handled, names within 64 characters."""

from __future__ import annotations

import time

import pytest

from npa_migrations.provider.connection import DbConnection
from npa_migrations.errors import LockTimeoutError
from npa_mysql.locking import MAX_LOCK_NAME, MysqlLock, lock_name

from mysql_support import q


def _one_table_migration(my):
    t = my.name("t")
    my.migration("20250101000000_Create", f"""
        b.create_table({t!r}, sa.Column("id", sa.Integer, primary_key=True))
    """)
    return t


def test_timeout_names_the_holder_then_runs_once_released(my):
    t = _one_table_migration(my)
    holder = my.connect()
    try:
        cur = holder.cursor()
        cur.execute("SELECT GET_LOCK(%s, 0), CONNECTION_ID()", (my.lock_name(),))
        got, holder_id = cur.fetchone()
        assert got == 1
        started = time.monotonic()
        with pytest.raises(LockTimeoutError) as info:
            my.executor(lock_timeout_seconds=1).execute()
        elapsed = time.monotonic() - started
        print(f"\nlock timeout of 1s raised after {elapsed:.2f}s")
        assert elapsed < 2.5, elapsed
        assert info.value.exit_code == 4
        assert info.value.holder.startswith(f"connection {holder_id} (root@")
        assert f"held by connection {holder_id}" in str(info.value)
        assert t not in my.tables()
    finally:
        holder.close()  # the server frees the lock with the connection: no RELEASE_LOCK
    started = time.monotonic()
    assert my.executor(lock_timeout_seconds=10).execute().success
    assert time.monotonic() - started < 3
    assert t in my.tables()


def test_lock_is_held_by_the_migrating_session_and_released(my):
    """The lock lives exactly as long as the session doing the work: after a kill, a
    statement the server still executes keeps the next run waiting until it is over."""
    t = my.name("who")
    name = my.lock_name()
    my.migration("20250101000000_Who", f"""
        b.create_table({t!r}, sa.Column("runner", sa.BigInteger), sa.Column("holder", sa.BigInteger))
        b.execute("INSERT INTO {t} SELECT CONNECTION_ID(), IS_USED_LOCK('{name}')")
    """)
    assert my.executor().execute().success
    ((runner, holder),) = my.query(f"SELECT runner, holder FROM {q(t)}")
    assert holder is not None and holder == runner
    assert my.query("SELECT IS_FREE_LOCK(%s)", (name,)) == [(1,)]


def test_null_from_get_lock_is_a_clear_error(my, monkeypatch):
    original = DbConnection.query

    def query(self, sql, params=None):
        if sql.startswith("SELECT GET_LOCK"):
            return [(None,)]
        return original(self, sql, params)

    monkeypatch.setattr(DbConnection, "query", query)
    lock = MysqlLock(my.executor().provider, my.lock_table)
    with pytest.raises(LockTimeoutError, match="returned NULL"):
        lock.acquire(1)


def test_lock_names():
    assert lock_name("app", "npa_migrations_lock") == "npa:app:npa_migrations_lock"
    long_a = lock_name("a" * 64, "npa_migrations_lock")
    long_b = lock_name("a" * 63 + "b", "npa_migrations_lock")
    assert len(long_a) == len(long_b) == MAX_LOCK_NAME and long_a != long_b


def test_unlock_has_nothing_to_force(my):
    assert my.executor().unlock() is None


def test_unlock_names_a_live_holder_instead_of_claiming_the_lock_is_free(my):
    holder = my.executor()
    lock = holder.hook.npa_create_lock(provider=holder.provider,
                                       table_name=holder.options.lock_table)
    lock.acquire(1)
    try:
        with pytest.raises(LockTimeoutError, match="held by connection .*nothing to unlock"):
            my.executor().unlock()
    finally:
        lock.release()
    assert my.executor().unlock() is None  # the probe left the lock free
