"""Tests against a real SQL Server (``NPA_TEST_MSSQL_URL``); skipped without one.

Beyond the conformance suite: the application lock (holder, session end), the statement
timeout, errors inside batches, ``ensure_created``, filtered unique indexes, and an
offline ``--sql`` script executed batch by batch as ``sqlcmd -b`` would run it. Every
object created is named ``npat_...`` and dropped afterwards.
"""

from __future__ import annotations

import re
import textwrap
import time
import uuid

import pytest

import mssql_scenarios as scenarios
from mssql_support import needs_server, server_url

pytestmark = needs_server


@pytest.fixture
def provider():
    from npa_migrations.engine.target import DatabaseTarget

    return DatabaseTarget(server_url()).provider


@pytest.fixture
def engine(provider):
    import sqlalchemy as sa

    from npa_migrations.testing.provision import drop_owned

    engine = sa.create_engine(provider.url, poolclass=sa.pool.NullPool)
    drop_owned(engine)
    yield engine
    drop_owned(engine)
    engine.dispose()


def write(folder, name, text):
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


# the lock -----------------------------------------------------------------------------------
def test_lock_timeout_names_the_holding_session(provider):
    from npa_migrations.errors import LockTimeoutError

    first = provider.create_lock("npat_lock")
    first.acquire(5)
    try:
        second = provider.create_lock("npat_lock")
        started = time.monotonic()
        with pytest.raises(LockTimeoutError) as error:
            second.acquire(1)
        assert 0.9 <= time.monotonic() - started < 5
        assert "sp_getapplock" in str(error.value)
        if error.value.holder is not None:  # needs VIEW SERVER STATE
            assert error.value.holder.startswith("session ")
        with pytest.raises(LockTimeoutError, match="KILL"):
            provider.create_lock("npat_lock").force_release()
    finally:
        first.release()
    assert provider.create_lock("npat_lock").force_release() is False


def test_lock_is_released_when_the_holding_session_ends(provider):
    first = provider.create_lock("npat_lock")
    first.acquire(5)
    first._stop.set()
    first._conn.raw.close()  # the process "crashes": its session ends
    second = provider.create_lock("npat_lock")
    second.acquire(10)
    second.release()


# sessions and batches -----------------------------------------------------------------------
def test_statement_timeout_cancels_a_long_statement(provider):
    conn = provider.driver.connect()
    try:
        provider.driver.set_statement_timeout(conn, 1)
        started = time.monotonic()
        with pytest.raises(Exception, match=r"(?i)timeout|HYT00"):
            conn.execute("WAITFOR DELAY '00:00:05'")
        assert time.monotonic() - started < 4
    finally:
        conn.close()


def test_an_error_late_in_a_batch_is_raised(provider):
    from npa_migrations.statements import Statement
    from npa_sqlserver.tsql import drain_results

    conn = provider.driver.connect()
    try:
        with pytest.raises(Exception, match="npat boom"):
            conn.run(Statement("DECLARE @x int = 1; SELECT @x = 2; RAISERROR('npat boom', 16, 1);",
                               check=drain_results))
        options, = conn.query("SELECT @@OPTIONS")[0]
        assert options & 16384 and options & 512  # XACT_ABORT, NOCOUNT
    finally:
        conn.close()


def test_ensure_created_creates_the_database(provider):
    from npa_migrations.engine.target import DatabaseTarget

    name = f"npat_db_{uuid.uuid4().hex[:8]}"
    other = DatabaseTarget(provider.url.set(database=name)).provider
    try:
        assert other.ensure_database() is True
        assert other.ensure_database() is False
        conn = other.connect()
        assert conn.query("SELECT DB_NAME()")[0][0] == name
        conn.close()
    finally:
        conn = provider.driver.connect()
        conn.execute(f"IF DB_ID(N'{name}') IS NOT NULL BEGIN "
                     f"ALTER DATABASE [{name}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; "
                     f"DROP DATABASE [{name}]; END")
        conn.close()


# migrations ---------------------------------------------------------------------------------
MIGRATIONS = scenarios.SERVER_MIGRATIONS


def check_state(engine):
    import sqlalchemy as sa

    inspector = sa.inspect(engine)
    table = "npat_renamed 'x'"
    assert table in inspector.get_table_names()
    columns = {c["name"]: c for c in inspector.get_columns(table)}
    assert list(columns) == ["id", "code", "npat label]", "note", "qty"]
    label = columns["npat label]"]
    assert label["type"].length == 5 and label["nullable"] is False
    assert "y" in str(label["default"])
    assert columns["note"]["nullable"] is True
    indexes = {i["name"]: i for i in inspector.get_indexes(table)}
    # rebuilt around the ALTER COLUMN (a shorter nvarchar), then renamed with the column
    assert indexes["npat_ix_things_label"]["column_names"] == ["npat label]"]
    assert indexes["npat_ux_things_code"]["unique"]
    with engine.begin() as conn:
        rows = conn.execute(sa.text(
            "SELECT id, code, [npat label]]], note, qty FROM [npat_renamed 'x'] ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [(10, None, "a", "n", 3), (11, None, "b", "n", 3),
                                        (12, "c'1", "日本", "n", 3)]


def test_migrations_run_and_roll_back(provider, engine, tmp_path):
    from npa_migrations import MigrationExecutor, MigrationExecutorOptions

    for name, text in MIGRATIONS.items():
        write(tmp_path / "m", name, text)
    options = MigrationExecutorOptions(history_table="npat_history", lock_table="npat_lock",
                                       log_table="npat_log")
    executor = MigrationExecutor(provider.url, tmp_path / "m", options=options)
    result = executor.execute()
    assert result.success, [e.message for e in result.errors]
    check_state(engine)
    assert MigrationExecutor(provider.url, tmp_path / "m", options=options).rollback(2).success


def test_offline_script_runs_batch_by_batch(provider, engine, tmp_path):
    """The ``--sql --offline`` script, split at its GO lines and run batch by batch on one
    session (what ``sqlcmd -b -i script.sql`` does), leaves the same state as a run."""
    from npa_migrations import MigrationExecutor, MigrationExecutorOptions

    for name, text in MIGRATIONS.items():
        write(tmp_path / "m", name, text)
    options = MigrationExecutorOptions(history_table="npat_history", lock_table="npat_lock",
                                       log_table="npat_log")
    script = MigrationExecutor(provider.url, tmp_path / "m", options=options).script(
        offline=True)
    raw = engine.raw_connection()
    try:
        raw.driver_connection.autocommit = True
        cursor = raw.driver_connection.cursor()
        for batch in re.split(r"(?m)^GO$", script):
            if batch.strip() and not all(line.strip().startswith("--") or not line.strip()
                                         for line in batch.splitlines()):
                cursor.execute(batch)
                while cursor.nextset():
                    pass
    finally:
        raw.close()
    check_state(engine)
    status = MigrationExecutor(provider.url, tmp_path / "m", options=options).status()
    assert status.pending == [] and len(status.applied) == 2


def test_filtered_unique_index_admits_many_nulls(provider, engine, tmp_path):
    import sqlalchemy as sa

    from npa_migrations import MigrationExecutor, MigrationExecutorOptions

    write(tmp_path / "m", "20250101000000_create.py", MIGRATIONS["20250101000000_create.py"])
    options = MigrationExecutorOptions(history_table="npat_history", lock_table="npat_lock",
                                       log_table="npat_log")
    assert MigrationExecutor(provider.url, tmp_path / "m", options=options).execute().success
    with engine.begin() as conn:  # two NULL codes were inserted above; a third is fine
        conn.execute(sa.text("INSERT INTO npat_things (code, label, note) "
                             "VALUES (NULL, 'z', 'n')"))
    with pytest.raises(sa.exc.IntegrityError):
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO npat_things (code, label, note) "
                                 "VALUES (N'c''1', 'z', 'n')"))
