"""The crash-point campaign across databases (docs/errors-and-recovery.md, "What happens
when a run is killed"): a real ``npa migrate up`` process signalled at every boundary of a
run, then a plain ``npa migrate up`` that must end where an uninterrupted run does.

The conformance suite runs the SIGKILL campaign on every provider's server
(``testing/suite/test_crash_points.py``: PostgreSQL and MariaDB here); this module adds
what the suite cannot: SQLite on a file, PostgreSQL with npa-concurrent-index loaded
(its CREATE INDEX CONCURRENTLY runs outside a transaction), SIGTERM and SIGINT at every
boundary, asyncio cancellation, and the crash points that once went wrong.
"""

from __future__ import annotations

import asyncio
import itertools
import textwrap
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from npa_migrations.testing.campaign import (CONVERGED, MANUAL, WRONG, CrashCampaign,
                                             drop_tables, history_rows, snapshot)
from server_databases import fresh_database

#: npa-concurrent-index loaded in the child (the test session blocks it, see conftest.py)
WITH_CONCURRENT_INDEX = {"NPA_DISABLE_PLUGINS": ""}


@contextmanager
def campaign_on(backend: str, tmp_path: Path, env: dict[str, str] | None = None,
                rollback: bool = False) -> Iterator[CrashCampaign]:
    """A campaign on a database of ``backend``: a new SQLite file per run, or a throwaway
    server database emptied of the campaign's tables before each run."""
    if backend == "sqlite":
        counter = itertools.count()
        campaign = CrashCampaign(
            tmp_path, lambda: f"sqlite:///{tmp_path / f'run{next(counter)}.db'}", env,
            rollback=rollback)
        try:
            yield campaign
        finally:
            campaign.close()
        return
    with fresh_database(backend, "npa_crash") as url:
        text = url.render_as_string(hide_password=False)
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)

        def fresh() -> str:
            drop_tables(engine)
            return text

        campaign = CrashCampaign(tmp_path, fresh, env, rollback=rollback)
        try:
            yield campaign
        finally:
            campaign.close()
            engine.dispose()


def check(result) -> None:
    print(result.summary())
    assert result.count(WRONG) == 0, result.failures()
    assert result.count(CONVERGED) + result.count(MANUAL) == result.points


# SIGKILL where the suite does not reach ---------------------------------------------------
@pytest.mark.slow
def test_sqlite_kill_at_every_boundary(tmp_path):
    with campaign_on("sqlite", tmp_path) as campaign:
        result = campaign.run("KILL")
    check(result)
    # only the data UPDATE of the no-transaction migration can be in doubt: marked, and
    # before and after it ran
    assert [o.point for o in result.outcomes if o.verdict == MANUAL] == \
        ["journaled", "statement", "executed"]


@pytest.mark.slow
def test_postgresql_with_concurrent_index_kill_at_every_boundary(tmp_path):
    with campaign_on("postgresql", tmp_path, WITH_CONCURRENT_INDEX) as campaign:
        result = campaign.run("KILL")
        # the plugin is loaded: the builder's index is built outside a transaction,
        # journaled statement by statement
        assert campaign.trace[:12].count("journaled") >= 2
    check(result)


# SIGTERM and SIGINT ------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("backend, signal_name", [
    ("sqlite", "TERM"), ("sqlite", "INT"), ("postgresql", "TERM"), ("mariadb", "TERM")])
def test_signal_at_every_boundary_stops_truthfully(tmp_path, backend, signal_name):
    """Exit 143 / 130 with an 'Interrupted:' line, history rows applied or stopped, an
    interrupt entry in the event log, the lock released; the plain run converges.

    SIGINT and SIGTERM take the same path (one handler; only the exit code differs), so
    SIGINT runs every boundary on SQLite only, to keep the suite within its budget."""
    with campaign_on(backend, tmp_path) as campaign:
        result = campaign.run(signal_name)
    check(result)
    assert result.count(MANUAL) == 0  # a stop settles everything: nothing is in doubt


# the crash points that once went wrong ----------------------------------------------------
def test_mariadb_kill_after_ddl_that_committed_the_previous_steps_record(tmp_path):
    """MariaDB commits the record of 'step 1 done' implicitly with the next step's
    CREATE INDEX. Killed right after that index was created, the row says 'step 1,
    statement 2' -- past the end of a one-statement step: the statement in doubt is the
    first of the next step. It used to be taken as 'nothing ran', so the next run created
    the index again and failed with 'Duplicate key name'."""
    with campaign_on("mariadb", tmp_path) as campaign:
        campaign.learn()
        k = nth(campaign.trace, "executed", 2)  # CREATE INDEX of the first migration
        outcome = campaign.crash_at(k)
    assert outcome.verdict == CONVERGED, outcome.detail


def test_stop_requested_before_a_statement_outside_a_transaction_stops_before_it(tmp_path):
    """SIGTERM while the in-flight mark of a no-transaction statement is written: the
    statement has not started, so the run stops there (exit 143, the migration
    ``stopped``) -- it used to run the statement and finish with exit 0."""
    with campaign_on("sqlite", tmp_path) as campaign:
        campaign.learn()
        last = len(campaign.trace) - campaign.trace[::-1].index("statement")  # 1-based
        k = last - 1  # the 'journaled' mark just before the last statement
        assert campaign.trace[k - 1] == "journaled"
        url = campaign.fresh()
        first, _ = campaign.traced(url, "up", at=str(k), signal="TERM")
        assert first.returncode == 143, first.stdout + first.stderr
        assert "Interrupted: 20250104000000_Audit stopped where" in first.stderr
        with campaign.engine(url).connect() as conn:
            assert ("20250104000000_Audit", False, "stopped") in history_rows(conn)
        assert campaign.npa(url, "up").returncode == 0
        assert snapshot(campaign.engine(url)) == campaign.reference


def nth(trace: list[str], point: str, n: int) -> int:
    """The 1-based boundary number of the n-th ``point`` in ``trace``."""
    seen = 0
    for number, name in enumerate(trace, 1):
        seen += name == point
        if seen == n:
            return number
    raise AssertionError(f"fewer than {n} {point!r} boundaries in {trace}")


# asyncio cancellation ----------------------------------------------------------------------
SLOW_STEP = '''
    import time
    import sqlalchemy as sa
    from npa_migrations import Migration

    def pause(connection):
        open(STARTED, "w").close()  # the test cancels the run once this step runs
        time.sleep(0.5)

    class Slow(Migration):
        transactional = False

        def up(self, b):
            b.create_table("npat_crash_slow", sa.Column("id", sa.Integer, primary_key=True))
            b.run_python(pause)
            b.execute("INSERT INTO npat_crash_slow (id) VALUES (1)")

        def down(self, b):
            b.drop_table("npat_crash_slow")
'''


def test_cancelled_async_run_stops_at_the_next_safe_point(tmp_path):
    """``executor.execute_async()`` cancelled while a step runs: the step finishes, the run
    stops before the next statement, the history says ``stopped`` at that position and the
    event log has the interrupt; a plain run then continues. The task is cancelled once
    the slow step has started (it leaves a file), not after a fixed time, which a loaded
    machine could spend before the step."""
    from npa_migrations import MigrationExecutor

    folder = tmp_path / "migrations"
    folder.mkdir()
    started = tmp_path / "step-started"
    (folder / "20250101000000_slow.py").write_text(
        f"STARTED = {str(started)!r}\n" + textwrap.dedent(SLOW_STEP))
    url = f"sqlite:///{tmp_path / 'async.db'}"

    async def cancelled() -> None:
        run = asyncio.ensure_future(MigrationExecutor(url, folder).execute_async())
        for _ in range(6000):
            if started.exists() or run.done():
                break
            await asyncio.sleep(0.01)
        run.cancel()
        await run

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(cancelled())
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT state, steps_done FROM npa_migrations_history")).all()
            events = [r[0] for r in conn.execute(sa.text(
                "SELECT event FROM npa_migrations_log ORDER BY id"))]
            assert conn.execute(sa.text("SELECT COUNT(*) FROM npat_crash_slow")).scalar() == 0
        assert rows == [("stopped", 2)], rows
        assert events[-1] == "interrupt", events
        assert MigrationExecutor(url, folder).execute().success
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT id FROM npat_crash_slow")).all() == [(1,)]
    finally:
        engine.dispose()


@pytest.mark.parametrize("crash_point, repair", [
    # killed before the CREATE INDEX: the CREATE TABLE before it committed itself, its
    # record did not -- it is in doubt, and the schema shows it ran
    (("statement", 2), ["--resume"]),
    # killed after the CREATE INDEX: the record 'step 1 done' committed with it; the
    # user checked that the index is there
    (("executed", 2), ["--resume", "--skip-in-doubt"]),
])
def test_mariadb_repair_after_a_kill_never_reruns_ddl_that_took_effect(tmp_path, crash_point,
                                                                         repair):
    """``repair --resume`` settles the statement in doubt against the live schema as ``up``
    does (it used to run a CREATE TABLE that had taken effect again: 'already exists');
    ``--skip-in-doubt`` skips the statement truly in doubt, also when the record says a
    whole step ran (it used to skip nothing and fail with 'Duplicate key name'). Then
    ``up`` converges."""
    with campaign_on("mariadb", tmp_path) as campaign:
        campaign.learn()
        k = nth(campaign.trace, *crash_point)
        url = campaign.fresh()
        first, _ = campaign.traced(url, "up", at=str(k))
        assert first.returncode == -9
        repaired = campaign.npa(url, "repair", *repair)
        assert repaired.returncode == 0, repaired.stdout + repaired.stderr
        again = campaign.npa(url, "up")
        assert again.returncode == 0, again.stdout + again.stderr
        assert snapshot(campaign.engine(url)) == campaign.reference


# a rollback killed ------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "mariadb"])
def test_rollback_killed_at_every_boundary(tmp_path, backend):
    """``npa migrate down --steps 4`` of the whole history killed at every boundary: the
    plain ``up`` says the rollback must be finished first, ``npa migrate down`` finishes
    it, and ``up`` then ends exactly where the uninterrupted ``up`` did (every down is the
    exact inverse of its up: a data change undone twice, or not at all, would show)."""
    with campaign_on(backend, tmp_path, rollback=True) as campaign:
        result = campaign.run("KILL")
        assert campaign.trace.count("statement") == 6  # every down statement, counted
    check(result)
