"""Real processes: a run killed with SIGKILL mid-migration, and eight runs at once."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from mysql_support import q, spawn_runner

pytestmark = pytest.mark.slow


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_killed_run_leaves_no_lock_and_a_truthful_state(my):
    """kill -9 while a migration runs ``SELECT SLEEP(30)``: the server frees the lock
    with the dead connection and rolls the migration's open transaction back, the
    history holds only what committed, and a new process finishes the job."""
    side, ctl = my.name("side"), my.name("ctl")
    my.query(f"CREATE TABLE {q(ctl)} (crash INT)")
    my.query(f"INSERT INTO {q(ctl)} VALUES (1)")
    my.migration("20250101000000_Side", f"""
        b.create_table({side!r}, sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("note", sa.String(20), nullable=False))
    """)
    # sleeps 30 s while the control row exists (same SQL, so the same checksum, later)
    my.migration("20250102000000_Slow", f"""
        b.bulk_insert({side!r}, [{{"note": "slow-1"}}])
        b.execute("SELECT SLEEP(IF(EXISTS(SELECT 1 FROM {ctl}), 30, 0))")
        b.bulk_insert({side!r}, [{{"note": "slow-2"}}])
    """)
    my.migration("20250103000000_After", f"b.bulk_insert({side!r}, [{{'note': 'after'}}])")

    proc = spawn_runner(my, lock_timeout=30)
    try:
        sleeping = _wait_for(lambda: my.query(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE %s "
            "AND ID <> CONNECTION_ID()",
            (f"%SLEEP(IF(EXISTS(SELECT 1 FROM {ctl})%",)), 30, "the migration to sleep")
        assert my.query("SELECT IS_FREE_LOCK(%s)", (my.lock_name(),)) == [(0,)]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        killed_at = time.monotonic()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL

    # truthful right away: the first migration is recorded; the killed one is
    # 'running' at its start (its row committed with the first one's end) and nothing of
    # it took effect: its uncommitted insert is invisible
    assert [row[:2] for row in my.history()] == [("20250101000000_Side", 1),
                                                 ("20250102000000_Slow", 0)]
    assert my.query(f"SELECT state, steps_done, statements_done FROM {q(my.history_table)} "
                    "WHERE migration_id = '20250102000000_Slow'") == [("running", 0, 0)]
    assert my.query(f"SELECT note FROM {q(side)}") == []
    lock_free = _wait_for(lambda: my.query("SELECT IS_FREE_LOCK(%s)", (my.lock_name(),))
                          == [(1,)], 10, "the server to free the lock")
    freed_after = time.monotonic() - killed_at
    my.query(f"DELETE FROM {q(ctl)}")

    started = time.monotonic()
    rerun = spawn_runner(my, lock_timeout=30)
    out, err = rerun.communicate(timeout=60)
    rerun_seconds = time.monotonic() - started
    assert rerun.returncode == 0, out + err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["applied"] == ["20250102000000_Slow", "20250103000000_After"]
    assert [row[:2] for row in my.history()] == [
        ("20250101000000_Side", 1), ("20250102000000_Slow", 1), ("20250103000000_After", 1)]
    assert sorted(r[0] for r in my.query(f"SELECT note FROM {q(side)}")) == [
        "after", "slow-1", "slow-2"]
    # the killed session itself lingers until the server notices the dead socket (MariaDB
    # checks every few seconds during SLEEP); the new run did not have to wait for it
    lingering = bool(my.query("SELECT ID FROM information_schema.PROCESSLIST WHERE ID = %s",
                              (sleeping[0][0],)))
    print(f"\ncrash: lock free {freed_after:.3f}s after kill -9 (lock_free={lock_free}); "
          f"new process applied the rest in {rerun_seconds:.2f}s (interpreter start "
          f"included); killed session still on the server then: {lingering}")
    if lingering:
        try:
            my.query(f"KILL {int(sleeping[0][0])}")  # test teardown only: free its locks
        except Exception:  # noqa: BLE001 - it ended meanwhile
            pass


def test_eight_processes_apply_twenty_migrations_exactly_once(my):
    side = my.name("side")
    my.migration("20250101000000_Side", f"""
        b.create_table({side!r}, sa.Column("migration", sa.String(60), primary_key=True),
                       sa.Column("pid", sa.Integer))
    """)
    for n in range(2, 21):
        body = f'b.execute("INSERT INTO {side} SELECT \'{n}\', CONNECTION_ID()")'
        if n % 5 == 0:  # some DDL too
            body = f"b.create_table({my.name(f't{n}')!r}, sa.Column('id', sa.Integer))\n" + body
        my.migration(f"202501{n:02d}000000_Step{n}", body)
    started = time.monotonic()
    procs = [spawn_runner(my, lock_timeout=60) for _ in range(8)]
    outcomes = []
    for proc in procs:
        out, err = proc.communicate(timeout=90)
        outcomes.append((proc.returncode, out, err))
    elapsed = time.monotonic() - started
    codes = [code for code, _, _ in outcomes]
    assert set(codes) <= {0, 4}, outcomes
    for code, out, err in outcomes:
        if code == 4:
            assert '"lock_timeout"' in out, out + err
    applied = [m for code, out, _ in outcomes if code == 0
               for m in json.loads(out.strip().splitlines()[-1])["applied"]]
    history = my.history()
    assert len(history) == 20 and all(row[1] == 1 for row in history)
    assert sorted(applied) == sorted(row[0] for row in history)  # each once, by someone
    assert len(set(applied)) == len(applied) == 20
    assert sorted(int(r[0]) for r in my.query(f"SELECT migration FROM {q(side)}")) == list(
        range(2, 21))
    for n in range(5, 21, 5):
        assert my.name(f"t{n}") in my.tables()
    finals = [json.loads(out.strip().splitlines()[-1]) for code, out, _ in outcomes if code == 0]
    runners = [f for f in finals if f.get("applied")]
    print(f"\n8 processes, 20 migrations: exit codes {sorted(codes)}, {len(runners)} process(es) "
          f"applied migrations (in {max(f['seconds'] for f in runners):.2f}s), the others' "
          f"execute() took {', '.join('%.2f' % f['seconds'] for f in finals if not f['applied'])}s; "
          f"wall time {elapsed:.2f}s including 8 interpreter start-ups")
