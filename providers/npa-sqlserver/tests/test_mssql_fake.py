"""Connection, transaction, history and lock code paths against a fake pyodbc
(:mod:`mssql_fakedb`) that records every call and answers with what SQL Server's
procedures return."""

from __future__ import annotations

import datetime as dt
import os
import socket
import sys
import textwrap
import time

import pytest

import mssql_scenarios as scenarios
from mssql_fakedb import FakeServer, ProgrammingError, Result
from npa_migrations import MigrationExecutor, MigrationExecutorOptions
from npa_migrations.engine.target import DatabaseTarget
from npa_migrations.errors import ConfigurationError, LockTimeoutError
from npa_sqlserver import locking
from npa_sqlserver.provider import SESSION_SETUP

URL = scenarios.URL


@pytest.fixture
def server(monkeypatch):
    server = FakeServer()
    monkeypatch.setitem(sys.modules, "pyodbc", server.module())
    return server


@pytest.fixture
def provider(server):
    return DatabaseTarget(URL).provider


def write(folder, name, text):
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


CREATE_ITEMS = """
    import sqlalchemy as sa
    from npa_migrations import Migration

    class CreateItems(Migration):
        def up(self, b):
            b.create_table("items", sa.Column("id", sa.Integer, primary_key=True),
                           sa.Column("name", sa.String(50), nullable=False))
            b.rename_column("items", "name", "title")

        def down(self, b):
            b.drop_table("items")
"""


# connections --------------------------------------------------------------------------------
def test_connect_uses_pyodbc_in_autocommit_with_session_settings(server, provider):
    conn = provider.driver.connect()
    (args, kwargs), = server.connect_calls
    host, pid = socket.gethostname(), os.getpid()
    assert args == ("DRIVER={ODBC Driver 18 for SQL Server};Server=db.example.com;"
                    f"Database=shop;UID=app;PWD=secret;APP={{npa-migrations {host}:{pid}}}",)
    assert kwargs["autocommit"] is True
    assert kwargs["timeout"] == 10  # login timeout: a server that never answers fails
    raw = server.connections[0]
    assert raw.autocommit is True
    assert server.statements(0) == [SESSION_SETUP]
    assert "SET XACT_ABORT ON" in SESSION_SETUP and "SET NOCOUNT ON" in SESSION_SETUP
    conn.close()
    assert raw.closed


def test_statement_timeout_renews_the_cursor(server, provider):
    conn = provider.driver.connect()
    provider.driver.set_statement_timeout(conn, 2.5)
    raw = server.connections[0]
    assert raw.timeout == 3
    assert conn.cursor.timeout == 3  # pyodbc applies the timeout when a cursor is created
    provider.driver.set_statement_timeout(conn, None)
    assert raw.timeout == 0 and conn.cursor.timeout == 0


def test_wait_and_ddl_lock_timeouts(server, provider):
    conn = provider.driver.connect()
    provider.driver.set_wait_timeout(conn, 0.2)
    provider.driver.apply_ddl_lock_timeout(conn, 5)
    provider.driver.apply_ddl_lock_timeout(conn, None)
    assert server.statements(0)[1:] == ["SET LOCK_TIMEOUT 200", "SET LOCK_TIMEOUT 5000",
                                        "SET LOCK_TIMEOUT -1"]
    timeout = ProgrammingError("HY000", "[HY000] Lock request time out period exceeded. (1222) "
                                        "(SQLExecDirectW)")
    assert provider.driver.is_lock_timeout(timeout)
    assert not provider.driver.is_lock_timeout(ProgrammingError("HYT00", "Query timeout expired"))


def test_wrapped_connection_settings_are_restored(server, provider):
    raw = server.connect("x", autocommit=False)
    raw.timeout = 7
    state = provider.driver.connection_state(raw)
    provider.driver.prepare_connection(raw)
    raw.timeout = 300
    provider.driver.restore_connection(raw, state)
    assert raw.autocommit is False and raw.timeout == 7
    restore = server.statements(0)[-1]
    assert "SET XACT_ABORT OFF" in restore and "SET NOCOUNT OFF" in restore
    assert "SET ANSI_NULLS ON" in restore and "SET LOCK_TIMEOUT -1" in restore


def test_application_name_from_the_url_is_kept(server):
    DatabaseTarget(URL + "&app=deployer").provider.driver.connect()
    (args, _kwargs), = server.connect_calls
    assert args[0].count("APP=") == 0 and "app=deployer" in args[0]


def test_connection_error_hints(server, provider):
    server.fail_connect = ProgrammingError(
        "IM002", "[IM002] [unixODBC][Driver Manager]Data source name not found")
    with pytest.raises(ConfigurationError) as error:
        provider.driver.connect()
    assert "?driver=ODBC+Driver+18+for+SQL+Server" in str(error.value)
    assert "secret" not in str(error.value)


def test_missing_pyodbc_and_missing_odbc_library(monkeypatch):
    provider = DatabaseTarget(URL).provider
    monkeypatch.setitem(sys.modules, "pyodbc", None)
    with pytest.raises(ConfigurationError, match=r"Install it: pip install pyodbc$"):
        provider.driver.connect()

    class Finder:
        def find_spec(self, name, path=None, target=None):
            if name == "pyodbc":
                raise ImportError("libodbc.so.2: cannot open shared object file")

    monkeypatch.delitem(sys.modules, "pyodbc")
    monkeypatch.setattr(sys, "meta_path", [Finder(), *sys.meta_path])
    with pytest.raises(ConfigurationError, match="unixodbc msodbcsql18"):
        provider.driver.connect()


# results of batches -------------------------------------------------------------------------
def test_error_of_a_later_statement_in_a_batch_fails_the_migration(server, tmp_path):
    """pyodbc raises it only at nextset(); the provider reads every result."""
    server.when(r"^DECLARE @default", Result(None, error_at_nextset=ProgrammingError(
        "42000", "[42000] Cannot drop the constraint. (3728)")))
    write(tmp_path / "m", "20250101000000_drop.py", """
        from npa_migrations import Migration

        class Drop(Migration):
            def up(self, b):
                b.drop_column("items", "name")
    """)
    result = MigrationExecutor(URL, tmp_path / "m").execute()
    assert not result.success
    assert "(3728)" in result.errors[0].message
    statements = [s for s in server.statements(0) if "npa_migrations_log" not in s]
    assert "ALTER TABLE items DROP COLUMN name" not in statements
    # rolled back, then the lock released on the same session
    assert statements[-2] == "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION"
    assert "sp_releaselock" in statements[-1]
    assert server.history == []


# a whole run --------------------------------------------------------------------------------
def test_a_run_creates_history_takes_the_lock_and_commits_once(server, tmp_path):
    write(tmp_path / "m", "20250101000000_create_items.py", CREATE_ITEMS)
    result = MigrationExecutor(URL, tmp_path / "m").execute()
    assert result.success, result.errors
    main = [s for s in server.statements(0) if "npa_migrations_log" not in s]  # event log
    assert main[0] == SESSION_SETUP
    # an idle run answers from one probe; this one is not idle: it takes the lock on its
    # own session, then creates the history table under it
    assert main[1] == "SELECT 1 FROM npa_migrations_history WHERE 1 = 0"
    assert "sp_getapplock" in main[2] and "@LockOwner = 'Session'" in main[2]
    create = next(n for n, sql in enumerate(main)
                  if sql.startswith("CREATE TABLE npa_migrations_history ("))
    assert create > 2
    assert "applied_at DATETIME2 NOT NULL" in main[create]
    assert "success BIT NOT NULL" in main[create] and "in_flight BIT NULL" in main[create]
    begin = main.index("BEGIN TRANSACTION")
    assert main[begin + 1] == "SET LOCK_TIMEOUT -1"
    assert main[begin + 2].startswith("CREATE TABLE items (")
    assert main[begin + 3] == "EXEC sp_rename @objname = ?, @newname = ?, @objtype = 'COLUMN'"
    assert main[begin + 4].startswith("INSERT INTO npa_migrations_history")
    assert main[begin + 5] == "COMMIT TRANSACTION"
    assert "sp_releaselock" in main[begin + 6] and main[begin + 7:] == []
    assert all("OUTPUT" not in s for s in server.statements())
    rename = next(e for e in server.log if e[2] and e[2].startswith("EXEC sp_rename"))
    assert rename[3] == ("items.name", "title")
    # the lock: the migrating session's own, released after the migration
    get = next(e for e in server.log if e[2] and "sp_getapplock" in e[2])
    assert get[0] == 0 and get[3][0] == "npa:shop:npa_migrations_lock"
    (row,) = server.history
    migration_id, checksum, applied_at, ms, version, success, steps, error = row[:8]
    assert migration_id == "20250101000000_CreateItems"
    assert success == 1 and isinstance(applied_at, dt.datetime) and error is None  # BIT
    # no statement timeout unless asked (a long index build is a normal migration)
    assert server.connections[0].cursors[-1].timeout == 0
    status = MigrationExecutor(URL, tmp_path / "m").status()
    assert status.current == "20250101000000_CreateItems"
    assert status.applied[0].success is True


def test_failed_statement_rolls_back(server, tmp_path):
    server.when(r"^CREATE TABLE items", Result(error=ProgrammingError(
        "42S01", "[42S01] There is already an object named 'items' in the database. (2714)")))
    write(tmp_path / "m", "20250101000000_create_items.py", CREATE_ITEMS)
    result = MigrationExecutor(URL, tmp_path / "m").execute()
    assert not result.success
    message = result.errors[0].message
    assert "at statement: CREATE TABLE items (" in message and "(2714)" in message
    assert "rolled back" in message
    statements = [s for s in server.statements(0) if "npa_migrations_log" not in s]
    assert statements[-2] == "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION"
    assert server.history == []
    assert "sp_releaselock" in statements[-1]


def test_rollback_deletes_the_history_row(server, tmp_path):
    write(tmp_path / "m", "20250101000000_create_items.py", CREATE_ITEMS)
    assert MigrationExecutor(URL, tmp_path / "m").execute().success
    result = MigrationExecutor(URL, tmp_path / "m").rollback()
    assert result.success, result.errors
    assert server.history == []
    assert "DROP TABLE items" in server.statements()


def test_bulk_insert_uses_fast_executemany_on_the_same_session(server, tmp_path):
    write(tmp_path / "m", "20250101000000_seed.py", """
        from npa_migrations import Migration

        class Seed(Migration):
            def up(self, b):
                b.bulk_insert("items", ({"id": n, "name": f"n{n}"} for n in range(25_000)))
    """)
    assert MigrationExecutor(URL, tmp_path / "m").execute().success
    many = [e for e in server.log if e[1] == "executemany"]
    assert [len(e[3]) for e in many] == [10_000, 10_000, 5_000]
    assert all(e[0] == 0 for e in many)  # the migration's own session and transaction
    assert many[0][2] == "INSERT INTO items (id, name) VALUES (?, ?)"
    assert [e[2] for e in server.log if e[1] == "fast_executemany"] == [True, True, True]
    main = server.statements(0)
    on = main.index(next(s for s in main if s.endswith("SET IDENTITY_INSERT items ON")))
    off = main.index(next(s for s in main if s.endswith("SET IDENTITY_INSERT items OFF")))
    assert main[on + 1:off] == ["SET NOCOUNT ON"] + [
        "INSERT INTO items (id, name) VALUES (?, ?)"] * 3
    # the rows went through the same cursor the session's statements use
    cursor = next(c for c in server.connections[0].cursors if c.fast_executemany)
    assert cursor is server.connections[0].cursors[-1]


# ensure_created -----------------------------------------------------------------------------
def test_ensure_database_creates_it_from_master(server, provider):
    server.database_id = None
    assert provider.driver.ensure_database() is True
    (args, kwargs), = server.connect_calls
    assert "Database=master" in args[0] and kwargs["autocommit"] is True
    assert server.statements(0) == ["SELECT DB_ID(?)", "CREATE DATABASE shop"]
    assert server.log[0][3] == ("shop",)
    assert server.connections[0].closed


def test_ensure_database_when_it_exists_or_was_created_concurrently(server, provider):
    assert provider.driver.ensure_database() is False
    assert server.statements(0) == ["SELECT DB_ID(?)"]
    answers = iter([None, 7])
    server.when(r"^SELECT DB_ID", lambda sql, params: Result([(next(answers),)]))
    server.when(r"^CREATE DATABASE", Result(error=ProgrammingError(
        "42000", "Database 'shop' already exists. (1801)")))
    assert provider.driver.ensure_database() is False


def test_ensure_database_quotes_the_name(server):
    server.database_id = None
    provider = DatabaseTarget(URL.replace("/shop?", "/my%20shop%5D?")).provider
    assert provider.driver.ensure_database() is True
    assert server.statements()[-1] == "CREATE DATABASE [my shop]]]"


# the lock -----------------------------------------------------------------------------------
def lock_calls(server):
    return [(e[2], e[3]) for e in server.log if e[2] and ("applock" in e[2] or "releaselock" in e[2]
                                                          or "dm_tran_locks" in e[2])]


def test_lock_granted_and_released(server, provider):
    lock = provider.create_lock("npa_migrations_lock")
    assert lock.description == "sp_getapplock 'npa:shop:npa_migrations_lock'"
    lock.acquire(2.5)
    (sql, params), = lock_calls(server)
    assert sql == locking.GET_APPLOCK
    assert params[0] == "npa:shop:npa_migrations_lock" and 2000 < params[1] <= 2500
    assert "@LockMode = 'Exclusive'" in sql and "@LockOwner = 'Session'" in sql
    assert not server.connections[0].closed
    lock.release()
    assert lock_calls(server)[-1] == (locking.RELEASE_APPLOCK, ("npa:shop:npa_migrations_lock",))
    assert server.connections[0].closed
    lock.release()  # twice: nothing happens


def test_lock_granted_after_waiting(server, provider):
    server.applock_codes.extend([1])
    lock = provider.create_lock("npa_migrations_lock")
    lock.acquire(10)
    lock.release()


def test_lock_timeout_names_the_holder(server, provider):
    server.applock_codes.extend([-1])
    server.holder_rows = [(57, "deploy", "web-3", "npa-migrations ", 4242,
                           dt.datetime(2025, 11, 19, 14, 30, 22))]
    lock = provider.create_lock("npa_migrations_lock")
    with pytest.raises(LockTimeoutError) as error:
        lock.acquire(1)
    assert error.value.exit_code == 4
    assert error.value.holder == ("session 57 (login deploy, host web-3, program "
                                  "'npa-migrations', client pid 4242, connected since "
                                  "2025-11-19 14:30:22)")
    message = str(error.value)
    assert "within 1s" in message and "session 57" in message and "no unlock" in message
    holder_query = next(p for s, p in lock_calls(server) if "dm_tran_locks" in s)
    assert holder_query == ("npa:shop:npa_migrations_lock"[:32],)
    assert server.connections[0].closed


def test_lock_timeout_without_permission_to_see_the_holder(server, provider):
    server.applock_codes.extend([-1])
    server.holder_rows = ProgrammingError("42000", "VIEW SERVER STATE permission was denied")
    with pytest.raises(LockTimeoutError) as error:
        provider.create_lock("npa_migrations_lock").acquire(0)
    assert error.value.holder is None
    assert "VIEW SERVER STATE" in str(error.value)
    assert lock_calls(server)[0][1][1] == 0  # no wait at all


@pytest.mark.parametrize("code, meaning", [(-2, "canceled"), (-999, "parameter validation"),
                                           (-7, "unknown")])
def test_lock_other_return_codes(server, provider, code, meaning):
    server.applock_codes.extend([code])
    with pytest.raises(LockTimeoutError, match=meaning) as error:
        provider.create_lock("npa_migrations_lock").acquire(1)
    assert f"returned {code}" in str(error.value)
    assert server.connections[0].closed


def test_lock_deadlock_victim_is_retried(server, provider):
    server.applock_codes.extend([-3, 0])
    lock = provider.create_lock("npa_migrations_lock")
    lock.acquire(5)
    assert [c for c in lock_calls(server) if "sp_getapplock" in c[0]].__len__() == 2
    lock.release()


def test_lock_resource_without_database_in_url(server):
    provider = DatabaseTarget("mssql+pyodbc://u:p@mydsn").provider
    lock = provider.create_lock("npa_migrations_lock")
    assert lock.description == "sp_getapplock 'npa:<current database>:npa_migrations_lock'"
    lock.acquire(1)
    assert lock.resource == "npa:shop:npa_migrations_lock"
    assert server.statements(0)[1] == "SELECT DB_NAME()"
    lock.release()


def test_long_resource_names_are_hashed():
    name = locking.resource_name("d" * 128, "t" * 128)
    assert len(name) == 255 and name.startswith("npa:ddd") and "~" in name
    assert name != locking.resource_name("d" * 128, "t" * 127 + "u")


def test_release_warns_when_the_lock_was_lost(server, provider):
    lock = provider.create_lock("npa_migrations_lock")
    lock.acquire(1)
    server.release_code = -999
    with pytest.warns(RuntimeWarning, match="no longer held"):
        lock.release()


def test_unlock_explains_instead_of_forcing(server, provider):
    lock = provider.create_lock("npa_migrations_lock")
    assert lock.force_release() is False  # free: taken and released at once
    assert [s for s, _ in lock_calls(server)] == [locking.GET_APPLOCK, locking.RELEASE_APPLOCK]
    server.applock_codes.extend([-1])
    server.holder_rows = [(61, "sa", "build-1", "", None, None)]
    with pytest.raises(LockTimeoutError, match=r"held by session 61 .*KILL"):
        provider.create_lock("npa_migrations_lock").force_release()


def test_keepalive_pings_the_lock_session(server, provider, monkeypatch):
    monkeypatch.setattr(locking.SqlServerLock, "keepalive_seconds", 0.02)
    lock = provider.create_lock("npa_migrations_lock")
    lock.acquire(1)
    time.sleep(0.2)
    lock.release()
    assert server.statements(0).count("SELECT 1") >= 2
    assert "sp_releaselock" in server.statements(0)[-1]


def test_run_times_out_on_the_lock_with_exit_code_4(server, tmp_path):
    from click.testing import CliRunner

    from npa_migrations.cli import cli

    write(tmp_path / "m", "20250101000000_create_items.py", CREATE_ITEMS)
    server.applock_codes.extend([-1])
    result = CliRunner().invoke(cli, ["-d", URL, "-m", str(tmp_path / "m"), "migrate", "up",
                                      "--lock-timeout", "0"])
    assert result.exit_code == 4, result.output
    assert "sp_getapplock 'npa:shop:npa_migrations_lock'" in result.output
    assert server.history == []
    options = MigrationExecutorOptions(lock_timeout_seconds=0)
    assert options.lock_timeout_seconds == 0
