"""DDL lock timeout (SET LOCAL lock_timeout) and the engine's retry of timed-out migrations."""

from __future__ import annotations

import threading
import time

import pytest


class TableHolder:
    """Another session holding ACCESS EXCLUSIVE on a table until released (or ``hold``
    seconds pass)."""

    def __init__(self, pg, table: str, hold: float):
        self.pg, self.table, self.hold = pg, table, hold
        self.taken = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        with self.pg.connect() as conn:
            conn.execute("BEGIN")
            conn.execute(f"LOCK TABLE {self.table} IN ACCESS EXCLUSIVE MODE")
            self.taken.set()
            self.release.wait(self.hold)
            conn.execute("COMMIT")

    def __enter__(self):
        self.thread.start()
        assert self.taken.wait(10)
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.thread.join(10)


def add_column_migration(pg):
    pg.query("CREATE TABLE busy (id INT)")
    pg.sql("20250101000000_add_column", """
        -- npa:up
        CREATE TABLE side (n INT);
        INSERT INTO side VALUES (1);
        ALTER TABLE busy ADD COLUMN extra INT;
    """)


def test_timed_out_migration_is_retried_until_it_succeeds(pg):
    add_column_migration(pg)
    steps = []
    started = time.monotonic()
    with TableHolder(pg, "busy", hold=1.2):
        result = pg.executor(ddl_lock_timeout_seconds=0.3, ddl_lock_retries=10,
                             on_progress=lambda m, s: steps.append(s)).execute()
    elapsed = time.monotonic() - started
    assert result.success, [e.message for e in result.errors]
    retries = [s.message for s in steps if s.kind == "retry"]
    assert retries and "lock timeout" in retries[0] and "retry 1/10" in retries[0]
    assert 1.1 < elapsed < 6
    assert "extra" in {c["name"] for c in pg.inspector().get_columns("busy", schema=pg.schema)}
    assert pg.query("SELECT count(*) FROM side") == [(1,)]  # earlier tries were rolled back
    assert pg.history() == [("20250101000000_AddColumn", True)]


def test_gives_up_clearly_after_the_retries(pg):
    add_column_migration(pg)
    steps = []
    started = time.monotonic()
    with TableHolder(pg, "busy", hold=30):
        result = pg.executor(ddl_lock_timeout_seconds=0.2, ddl_lock_retries=2,
                             on_progress=lambda m, s: steps.append(s)).execute()
        elapsed = time.monotonic() - started
    assert elapsed < 3
    assert [s.kind for s in steps].count("retry") == 2
    (error,) = result.errors
    assert "lock timeout" in error.message
    assert "ALTER TABLE busy ADD COLUMN extra INT" in error.message
    assert "rolled back" in error.message
    assert "side" not in pg.tables() and pg.history() == []


def test_per_migration_lock_timeout_overrides_the_option(pg):
    pg.query("CREATE TABLE busy (id INT)")
    pg.python("20250101000000_touch_busy", """
        class TouchBusy(Migration):
            lock_timeout_seconds = 0.2

            def up(self, b):
                b.add_column("busy", sa.Column("extra", sa.Integer))

            def down(self, b):
                b.drop_column("busy", "extra")
    """)
    started = time.monotonic()
    with TableHolder(pg, "busy", hold=30):
        result = pg.executor(ddl_lock_timeout_seconds=None, ddl_lock_retries=0).execute()
    assert time.monotonic() - started < 2
    assert "lock timeout" in result.errors[0].message


def test_all_in_one_run_is_retried_as_a_whole(pg):
    pg.query("CREATE TABLE busy (id INT)")
    pg.sql("20250101000000_first", "-- npa:up\nCREATE TABLE first_table (id INT);\n")
    pg.sql("20250101000100_second", "-- npa:up\nALTER TABLE busy ADD COLUMN extra INT;\n")
    steps = []
    with TableHolder(pg, "busy", hold=1.0):
        result = pg.executor(transaction_mode="all-in-one", ddl_lock_timeout_seconds=0.3,
                             ddl_lock_retries=10,
                             on_progress=lambda m, s: steps.append(s)).execute()
    assert result.success, [e.message for e in result.errors]
    assert any(s.kind == "retry" for s in steps)
    assert not any(s.kind == "error" for s in steps)
    assert [m for m, _ in pg.history()] == ["20250101000000_First", "20250101000100_Second"]


@pytest.mark.parametrize("mode", ["per-migration", "all-in-one"])
def test_lock_timeout_settings_do_not_leak_between_migrations(pg, mode):
    pg.query("CREATE TABLE seen (migration TEXT, lock_timeout TEXT)")
    pg.python("20250101000000_with_timeout", """
        class WithTimeout(Migration):
            lock_timeout_seconds = 2

            def up(self, b):
                b.execute("INSERT INTO seen SELECT 'a', current_setting('lock_timeout')")

            def down(self, b):
                pass
    """)
    pg.sql("20250101000100_without", """
        -- npa:up
        INSERT INTO seen SELECT 'b', current_setting('lock_timeout');
    """)
    assert pg.executor(transaction_mode=mode).execute().success
    assert pg.query("SELECT migration, lock_timeout FROM seen ORDER BY 1") == \
        [("a", "2s"), ("b", "0")]


def test_no_transaction_migration_gets_a_session_lock_timeout_then_reset(pg):
    pg.query("CREATE TABLE seen (migration TEXT, lock_timeout TEXT)")
    pg.python("20250101000000_outside", """
        class Outside(Migration):
            transactional = False
            lock_timeout_seconds = 1.5

            def up(self, b):
                b.execute("INSERT INTO seen SELECT 'a', current_setting('lock_timeout')")

            def down(self, b):
                pass
    """)
    pg.sql("20250101000100_inside", """
        -- npa:up
        INSERT INTO seen SELECT 'b', current_setting('lock_timeout');
    """)
    pg.sql("20250101000200_outside_default", """
        -- npa:up
        INSERT INTO seen SELECT 'c', current_setting('lock_timeout');
    """, no_transaction=True)
    assert pg.executor(ddl_lock_timeout_seconds=None).execute().success
    assert pg.query("SELECT migration, lock_timeout FROM seen ORDER BY 1") == \
        [("a", "1500ms"), ("b", "0"), ("c", "0")]


def test_option_applies_to_every_migration(pg):
    pg.query("CREATE TABLE seen (migration TEXT, lock_timeout TEXT)")
    pg.sql("20250101000000_one", "-- npa:up\nINSERT INTO seen SELECT 'a', "
                                 "current_setting('lock_timeout');\n")
    pg.sql("20250101000100_two", "-- npa:up\nINSERT INTO seen SELECT 'b', "
                                 "current_setting('lock_timeout');\n", no_transaction=True)
    assert pg.executor(ddl_lock_timeout_seconds=4).execute().success
    assert pg.query("SELECT migration, lock_timeout FROM seen ORDER BY 1") == \
        [("a", "4s"), ("b", "4s")]
