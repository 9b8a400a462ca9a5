"""The advisory migration lock: timeout, holder, server-side waiting, release, threads."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from npa_migrations.errors import LockTimeoutError
from npa_postgres.lock import advisory_key
from npa_postgres.provider import default_application_name


def pending_migration(pg, name="20250101000000_create_thing"):
    pg.sql(name, """
        -- npa:up
        CREATE TABLE thing (id INT);
        -- npa:down
        DROP TABLE thing;
    """)


def held_locks(pg, key):
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    return pg.query("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND classid = %s::oid AND objid = %s::oid AND objsubid = 1",
                    (unsigned >> 32, unsigned & 0xFFFFFFFF))


@pytest.fixture
def holder(pg):
    """Another session holding the run's advisory lock."""
    conn = pg.connect(application_name="npa-test-holder")
    conn.execute("SELECT pg_advisory_lock(%s)", (advisory_key(pg.lock_name, pg.schema),))
    yield conn
    conn.close()


def test_lock_timeout_raises_within_the_timeout_and_names_the_holder(pg, holder):
    pending_migration(pg)
    started = time.monotonic()
    with pytest.raises(LockTimeoutError) as info:
        pg.executor(lock_timeout_seconds=1).execute()
    elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 2.0, elapsed
    message = str(info.value)
    assert f"backend pid {holder.info.backend_pid}" in message
    assert "application 'npa-test-holder'" in message
    assert "within 1s" in message and "connected since" in message
    assert info.value.holder and info.value.exit_code == 4
    assert "thing" not in pg.tables() and pg.history() == []
    # once the holder lets go, the same run goes through
    holder.execute("SELECT pg_advisory_unlock_all()")
    assert pg.executor(lock_timeout_seconds=1).execute().success
    assert "thing" in pg.tables()


def test_lock_timeout_zero_tries_once(pg, holder):
    pending_migration(pg)
    started = time.monotonic()
    with pytest.raises(LockTimeoutError, match="npa-test-holder"):
        pg.executor(lock_timeout_seconds=0).execute()
    assert time.monotonic() - started < 1.0


def test_waiting_holds_no_snapshot_and_is_granted_soon_after_release(pg, holder):
    """A run queued on the lock polls with short statements: between them its session
    holds no snapshot (``backend_xmin`` is NULL), so a ``CREATE INDEX CONCURRENTLY`` of
    the run holding the lock never waits for it."""
    pending_migration(pg)
    outcome = {}

    def run():
        outcome["result"] = pg.executor(lock_timeout_seconds=20).execute()
        outcome["done"] = time.monotonic()

    thread = threading.Thread(target=run)
    thread.start()
    waiter_sql = ("SELECT backend_xmin IS NULL FROM pg_stat_activity "
                  "WHERE application_name = %s AND pid <> pg_backend_pid()")
    samples = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(samples) < 20:
        samples += [row[0] for row in pg.query(waiter_sql, (default_application_name(),))]
        time.sleep(0.05)
    assert samples, "the waiter never showed up in pg_stat_activity"
    # a statement in flight may hold one for its few milliseconds; the waiting does not
    assert sum(samples) >= 0.8 * len(samples), samples
    released = time.monotonic()
    holder.execute("SELECT pg_advisory_unlock_all()")
    thread.join(timeout=10)
    assert outcome["result"].success
    assert outcome["done"] - released < 1.5  # granted at the next poll (at most 0.5 s)


def test_lock_is_released_after_success_and_after_failure(pg):
    key = advisory_key(pg.lock_name, pg.schema)
    pending_migration(pg)
    assert pg.executor().execute().success
    assert held_locks(pg, key) == []
    pg.sql("20250101000100_fails", "-- npa:up\nSELECT 1 / 0;\n")
    assert not pg.executor().execute().success
    assert held_locks(pg, key) == []
    # and the run left no session behind
    assert pg.query("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                    (default_application_name(),)) == [(0,)]


def test_idle_run_does_not_wait_for_the_lock(pg, holder):
    pending_migration(pg)
    holder.execute("SELECT pg_advisory_unlock_all()")
    assert pg.executor().execute().success
    holder.execute("SELECT pg_advisory_lock(%s)", (advisory_key(pg.lock_name, pg.schema),))
    started = time.monotonic()
    result = pg.executor(lock_timeout_seconds=5).execute()  # nothing pending
    assert result.success and result.migration_ids == []
    assert time.monotonic() - started < 1.0


def test_unlock_names_a_live_holder_and_never_kills_it(pg, holder):
    with pytest.raises(LockTimeoutError, match="pg_terminate_backend"):
        pg.executor().unlock()
    assert holder.execute("SELECT 1").fetchone() == (1,)
    holder.execute("SELECT pg_advisory_unlock_all()")
    assert pg.executor().unlock() is None


def test_cli_exits_4_on_lock_timeout(pg, holder):
    pending_migration(pg)
    config = pg.config_file()
    proc = subprocess.run(
        [sys.executable, "-m", "npa_migrations.cli", "-d", pg.url, "-m", str(pg.folder),
         "--config", str(config), "migrate", "up", "--lock-timeout", "1"],
        capture_output=True, text=True, timeout=60)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert f"backend pid {holder.info.backend_pid}" in proc.stdout + proc.stderr


@pytest.mark.parametrize("shared", [False, True], ids=["executor-per-thread", "shared-executor"])
def test_many_threads_apply_each_migration_once(pg, shared):
    pg.query("CREATE TABLE side_effects (n INT)")
    for n in range(10):
        pg.sql(f"202501010000{n:02d}_step_{n}", f"""
            -- npa:up
            CREATE TABLE t_{n} (id INT);
            INSERT INTO side_effects VALUES ({n});
        """)
    shared_executor = pg.executor(lock_timeout_seconds=60) if shared else None
    barrier = threading.Barrier(12)
    results, failures = [], []

    def run():
        try:
            executor = shared_executor or pg.executor(lock_timeout_seconds=60)
            barrier.wait()
            results.append(executor.execute())
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert all(r.success for r in results) and len(results) == 12
    applied = sorted(m for r in results for m in r.migration_ids)
    assert applied == sorted(f"202501010000{n:02d}_Step{n}" for n in range(10))
    assert pg.query("SELECT n FROM side_effects ORDER BY n") == [(n,) for n in range(10)]
    assert len(pg.history()) == 10 and all(ok for _, ok in pg.history())
