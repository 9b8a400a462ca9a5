"""Real processes against one PostgreSQL database: concurrency and crash recovery.

Measured numbers are printed (run with ``-s`` to see them).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from npa_postgres.lock import advisory_key

NPA = [sys.executable, "-m", "npa_migrations.cli"]

EXECUTOR_SCRIPT = """
import sys
from npa_migrations import MigrationExecutor, MigrationExecutorOptions
from npa_migrations.errors import LockTimeoutError
url, folder, lock = sys.argv[1:4]
try:
    result = MigrationExecutor(url, folder, MigrationExecutorOptions(
        lock_table=lock, lock_timeout_seconds=60)).execute()
except LockTimeoutError as exc:
    print(exc)
    sys.exit(4)
print("applied", len(result.migration_ids))
sys.exit(0 if result.success else 1)
"""


def npa(pg, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        NPA + ["-d", pg.url, "-m", str(pg.folder), "--config", str(pg.config_file()),
               "migrate", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def twenty_migrations(pg):
    pg.query("CREATE TABLE side_effects (n INT NOT NULL, pid INT NOT NULL)")
    for n in range(20):
        pg.sql(f"2025010100{n:04d}_step_{n}", f"""
            -- npa:up
            CREATE TABLE t_{n} (id INT PRIMARY KEY);
            INSERT INTO side_effects (n, pid) VALUES ({n}, pg_backend_pid());
            -- npa:down
            DROP TABLE t_{n};
        """)


def check_each_applied_once(pg):
    assert pg.query("SELECT n FROM side_effects ORDER BY n") == [(n,) for n in range(20)]
    history = pg.history()
    assert [m for m, _ in history] == [f"2025010100{n:04d}_Step{n}" for n in range(20)]
    assert all(ok for _, ok in history)
    assert len(pg.tables() - {"side_effects"}) == 20


@pytest.mark.slow
def test_eight_cli_processes_apply_each_migration_once(pg):
    twenty_migrations(pg)
    started = time.monotonic()
    procs = [npa(pg, "up", "--lock-timeout", "60") for _ in range(8)]
    codes = [p.wait(timeout=120) for p in procs]
    elapsed = time.monotonic() - started
    outputs = [p.stdout.read() + p.stderr.read() for p in procs]
    assert all(code in (0, 4) for code in codes), outputs
    assert codes.count(0) >= 1
    check_each_applied_once(pg)
    appliers = pg.query("SELECT count(DISTINCT pid) FROM side_effects")[0][0]
    print(f"\n[8 CLI processes x 20 migrations] {elapsed:.2f}s wall, exit codes "
          f"0: {codes.count(0)}, 4: {codes.count(4)}; migrations applied by "
          f"{appliers} process(es)")


@pytest.mark.slow
def test_eight_executor_processes_apply_each_migration_once(pg):
    twenty_migrations(pg)
    started = time.monotonic()
    procs = [subprocess.Popen([sys.executable, "-c", EXECUTOR_SCRIPT, pg.url, str(pg.folder),
                               pg.lock_name], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(8)]
    codes = [p.wait(timeout=120) for p in procs]
    elapsed = time.monotonic() - started
    outputs = [p.stdout.read() + p.stderr.read() for p in procs]
    assert all(code in (0, 4) for code in codes), outputs
    assert codes.count(0) >= 1
    check_each_applied_once(pg)
    counts = sorted(int(o.split()[1]) for o in outputs if o.startswith("applied"))
    assert sum(counts) == 20
    print(f"\n[8 MigrationExecutor processes x 20 migrations] {elapsed:.2f}s wall, exit codes "
          f"0: {codes.count(0)}, 4: {codes.count(4)}; applied per process: {counts}")


def _wait_for(pg, sql, params, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = pg.query(sql, params)
        if rows:
            return rows
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for: {sql}")


@pytest.mark.slow
def test_killed_run_recovers_without_unlock(pg):
    pg.query("CREATE TABLE side_effects (n INT)")
    pg.query("CREATE TABLE control (sleep_seconds FLOAT NOT NULL)")
    pg.query("INSERT INTO control VALUES (30)")
    pg.sql("20250101000000_slow", """
        -- npa:up
        CREATE TABLE created_before_sleep (id INT PRIMARY KEY);
        INSERT INTO side_effects VALUES (1);
        SELECT pg_sleep((SELECT sleep_seconds FROM control));
        CREATE TABLE created_after_sleep (id INT);
    """)
    key = advisory_key(pg.lock_name, pg.schema)
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    victim = npa(pg, "up")
    # mid-migration: its session sleeps inside the migration's transaction, lock held (the
    # statements go in one batch: the session's query is all of them)
    (sleeper,) = _wait_for(pg, "SELECT pid FROM pg_stat_activity WHERE query LIKE %s "
                               "AND state = 'active'", ("%SELECT pg_sleep(%",))
    assert pg.query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND classid = %s::oid AND objid = %s::oid",
                    (unsigned >> 32, unsigned & 0xFFFFFFFF)) == [(1,)]
    killed = time.monotonic()
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    pg.query("UPDATE control SET sleep_seconds = 0")  # the next run is quick
    survivor = npa(pg, "up", "--lock-timeout", "20")
    code = survivor.wait(timeout=60)
    recovered = time.monotonic() - killed
    assert code == 0, survivor.stdout.read() + survivor.stderr.read()
    assert pg.query("SELECT count(*) FROM side_effects") == [(1,)]
    assert pg.history() == [("20250101000000_Slow", True)]
    assert {"created_before_sleep", "created_after_sleep"} <= pg.tables()
    # the dead client's backend noticed (client_connection_check_interval) and is gone
    assert pg.query("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", sleeper) == [(0,)]
    print(f"\n[kill -9 mid-migration] next run succeeded {recovered:.2f}s after the kill, "
          "no unlock needed; migration applied once")


@pytest.mark.slow
def test_queued_runs_never_stall_a_concurrent_index_build(pg):
    """Four runs at once, the first builds an index CONCURRENTLY, which waits for every
    older snapshot: runs queued on the advisory lock must hold none, or the build stalls
    until they give up (exit 4 after --lock-timeout) -- here every run exits 0."""
    pg.query("CREATE TABLE big (id INT PRIMARY KEY, v INT)")
    pg.query("INSERT INTO big SELECT g, g % 97 FROM generate_series(1, 200000) g")
    pg.sql("20250101000000_index_big", """
        -- npa:up
        SELECT pg_sleep(1);
        CREATE INDEX CONCURRENTLY ix_big_v ON big (v);
    """, no_transaction=True)
    procs = [npa(pg, "up", "--lock-timeout", "20") for _ in range(4)]
    codes = [p.wait(timeout=120) for p in procs]
    outputs = [p.stdout.read() + p.stderr.read() for p in procs]
    assert codes == [0, 0, 0, 0], outputs
    assert pg.query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_big_v'::regclass") \
        == [(True,)]


@pytest.mark.slow
def test_sigterm_during_a_batch_cancels_it_and_leaves_nothing(pg):
    """SIGTERM while a batch of statements runs on the server: the batch is cancelled
    (it rolls back with the migration's transaction anyway), it is not run again
    statement by statement to find the one that failed, and nothing of the migration
    remains; the next run applies it whole."""
    pg.query("CREATE TABLE control (sleep_seconds FLOAT NOT NULL)")
    pg.query("INSERT INTO control VALUES (30)")
    pg.sql("20250101000000_batched", """
        -- npa:up
        CREATE TABLE batched (id INT PRIMARY KEY);
        INSERT INTO batched VALUES (1);
        SELECT pg_sleep((SELECT sleep_seconds FROM control));
        INSERT INTO batched VALUES (2);
        -- npa:down
        DROP TABLE batched;
    """)
    victim = npa(pg, "up")
    # the three statements and the CREATE TABLE went to the server in one message
    _wait_for(pg, "SELECT pid FROM pg_stat_activity WHERE query LIKE %s AND query LIKE %s "
                  "AND state = 'active'", ("%CREATE TABLE batched%", "%SELECT pg_sleep(%"))
    started = time.monotonic()
    victim.send_signal(signal.SIGTERM)
    out, err = victim.communicate(timeout=20)
    assert time.monotonic() - started < 10, "the batch was not cancelled"
    assert victim.returncode != 0, out + err
    assert "Migration 20250101000000_Batched" in err + out
    assert "rolled back and left no trace" in err + out
    # cancelled by the stop request: not run again statement by statement
    assert pg.query("SELECT count(*) FROM pg_stat_activity WHERE query LIKE %s",
                    ("SELECT pg_sleep(%",)) == [(0,)]
    assert "batched" not in pg.tables() and pg.history() == []
    pg.query("UPDATE control SET sleep_seconds = 0")
    again = npa(pg, "up")
    assert again.wait(timeout=60) == 0, again.stdout.read() + again.stderr.read()
    assert pg.query("SELECT id FROM batched ORDER BY id") == [(1,), (2,)]
