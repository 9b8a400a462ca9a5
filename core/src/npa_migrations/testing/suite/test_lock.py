"""The migration lock: one holder at a time, across threads and processes; timeouts;
release after a run."""

from __future__ import annotations

import threading
import time

import pytest

from ...errors import LockTimeoutError
from ..locks import ProcessLockHolder, ThreadLockHolder, create_lock
from ..requirements import requires
from .base import SuiteTest, assert_failed

__all__ = ["TestMigrationLock"]

A, B, C = "20250101000000_CreateA", "20250102000000_CreateB", "20250103000000_CreateC"
TIMEOUT = 1.0


def create(table: str) -> str:
    return (f'b.create_table("{table}", sa.Column("id", sa.Integer, primary_key=True, '
            f'autoincrement=False))')


def assert_times_out(lock, timeout: float = TIMEOUT) -> LockTimeoutError:
    started = time.monotonic()
    with pytest.raises(LockTimeoutError) as error:
        lock.acquire(timeout)
    elapsed = time.monotonic() - started
    assert timeout * 0.9 <= elapsed <= timeout + 3, f"gave up after {elapsed:.2f}s"
    return error.value


class TestMigrationLock(SuiteTest):
    def write(self) -> None:
        for migration_id in (A, B, C):
            table = "npat_" + migration_id[-1].lower()
            self.folder.python(migration_id, create(table), f'b.drop_table("{table}")')

    def test_second_holder_times_out(self):
        executor = self.executor()
        with ThreadLockHolder(executor):
            error = assert_times_out(create_lock(executor))
        assert f"{TIMEOUT:g}s" in str(error) or "lock" in str(error).lower()

    def test_run_times_out_while_another_holds_the_lock(self):
        self.write()
        with ThreadLockHolder(self.executor()):
            started = time.monotonic()
            with pytest.raises(LockTimeoutError):
                self.executor(lock_timeout_seconds=TIMEOUT).execute()
            assert time.monotonic() - started <= TIMEOUT + 5
        assert self.db.tables() == set()
        assert self.db.recorded() == {}

    def test_waiter_gets_the_lock_once_the_holder_releases(self):
        executor = self.executor()
        holder = ThreadLockHolder(executor).start()
        timer = threading.Timer(0.5, holder.release)
        timer.start()
        lock = create_lock(executor)
        started = time.monotonic()
        try:
            lock.acquire(15)
            assert time.monotonic() - started >= 0.4
        finally:
            lock.release()
            timer.join()

    def test_lock_is_released_after_a_run(self):
        self.write()
        self.up()
        with ThreadLockHolder(self.executor(), timeout=2):
            pass

    def test_lock_is_released_after_a_failed_run(self):
        self.folder.python(A, 'b.execute("DELETE FROM npat_no_such_table")', "")
        assert_failed(self.executor().execute(), A)
        with ThreadLockHolder(self.executor(), timeout=2):
            pass

    def test_lock_held_by_another_process_blocks(self):
        executor = self.executor()
        with ProcessLockHolder(executor):
            assert_times_out(create_lock(executor))
        lock = create_lock(executor)
        lock.acquire(5)
        lock.release()

    def test_concurrent_runs_apply_each_migration_once(self):
        self.write()
        results, errors = [], []

        def run():
            try:
                results.append(self.executor().execute())
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        assert all(r.success for r in results), [e.message for r in results for e in r.errors]
        applied = [m for r in results for m in r.migration_ids]
        assert sorted(applied) == [A, B, C]
        assert self.db.applied() == [A, B, C]
        assert self.db.tables() == {"npat_a", "npat_b", "npat_c"}

    @requires.table_lock
    def test_unlock_force_releases_a_table_lock(self):
        executor = self.executor()
        holder = ThreadLockHolder(executor).start()
        try:
            assert self.executor().unlock() is not None
            lock = create_lock(executor)
            lock.acquire(2)
            lock.release()
        finally:
            holder.release()
        assert self.executor().unlock() is None
