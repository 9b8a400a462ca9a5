"""Lock (DBMS_LOCK and the table-lock fallback), history and transaction code paths,
against the fake python-oracledb connection of :mod:`oracle_fakedb` (no server here)."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest

from npa_migrations import MigrationExecutor, MigrationExecutorOptions
from npa_migrations.errors import ConfigurationError, LockTimeoutError
from oracle_fakedb import FakeServer

from npa_oracle.locking import OracleLock, OracleTableLock, lock_name
from npa_oracle.provider import OracleDriver, OracleProvider

URL = "oracle+oracledb://app:secret@db.example.com:1521/?service_name=FREEPDB1"


@pytest.fixture
def server(monkeypatch):
    server = FakeServer()
    monkeypatch.setattr(OracleDriver, "open_dbapi",
                        lambda self, dbapi, cargs, cparams: server.connect(*cargs, **cparams))
    return server


@pytest.fixture
def provider(server):
    from npa_migrations.engine.target import parse_url
    from npa_migrations.provider.registry import resolve_provider

    return resolve_provider(parse_url(URL))


def calls(server, session=None):
    return [" ".join(s.split()) for s in server.statements(session)]


# DBMS_LOCK -----------------------------------------------------------------------------------
def test_dbms_lock_is_requested_exclusively_on_its_own_session(server, provider):
    lock = OracleLock(provider, "npa_migrations_lock")
    lock.acquire(2.5)
    try:
        assert lock.description == "DBMS_LOCK 'npa:APP:npa_migrations_lock'"
        assert lock.fallback is None
        session = server.connections[-1]
        assert session.client_identifier.startswith(lock.owner[:20])
        assert session.module == "npa-migrations"
        log = [(sql, params) for s, sql, params in server.log if s == session.session]
        assert "SYS_CONTEXT('USERENV', 'CURRENT_SCHEMA')" in log[0][0]
        assert "DBMS_LOCK.ALLOCATE_UNIQUE(lockname => :name, lockhandle => :handle)" in log[1][0]
        assert log[1][1]["name"] == "npa:APP:npa_migrations_lock"
        request, params = log[2]
        assert "DBMS_LOCK.REQUEST(lockhandle => :handle, lockmode => DBMS_LOCK.X_MODE" in request
        assert "release_on_commit => FALSE" in request
        assert params["timeout"] == 3  # whole seconds, rounded up
        assert params["handle"] == server.handles["npa:APP:npa_migrations_lock"]
        assert list(server.locks.values()) == [session]
    finally:
        lock.release()
    assert not server.locks
    log = calls(server, session.session)
    assert "DBMS_LOCK.RELEASE(lockhandle => :handle)" in log[-3] and log[-2] == "<close>"
    assert session.closed


def test_second_run_times_out_and_names_the_holder(server, provider):
    first = OracleLock(provider, "npa_migrations_lock")
    first.acquire(1)
    server.holder_row = ("build-7:pid=42:run=1f2e3d4c", "APP", "build-7", "python3", 123)
    second = OracleLock(provider, "npa_migrations_lock")
    with pytest.raises(LockTimeoutError) as caught:
        second.acquire(5)
    message = str(caught.value)
    assert "within 5s" in message
    assert "build-7:pid=42:run=1f2e3d4c (APP@build-7, python3, sid 123)" in message
    assert "needs no unlock" in message
    assert caught.value.holder.startswith("build-7:pid=42")
    assert caught.value.exit_code == 4
    assert server.connections[-1].closed  # the waiter's session is not kept
    first.release()
    second.acquire(0)
    second.release()


def test_holder_unknown_without_dictionary_privileges(server, provider):
    first = OracleLock(provider, "t")
    first.acquire(1)
    second = OracleLock(provider, "t")
    with pytest.raises(LockTimeoutError) as caught:
        second.acquire(0)
    assert caught.value.holder is None
    assert "It is held by" not in str(caught.value)
    first.release()


def test_session_death_releases_the_lock(server, provider):
    first = OracleLock(provider, "t")
    first.acquire(1)
    first._conn.raw.close()  # the process died: Oracle ends its session
    second = OracleLock(provider, "t")
    second.acquire(0)
    second.release()


@pytest.mark.parametrize("code, words", [
    (2, "deadlock"), (3, "bug in npa-oracle"), (5, "illegal"), (9, "does not document")])
def test_request_error_codes_have_clear_messages(server, provider, code, words):
    server.request_code = code
    lock = OracleLock(provider, "t")
    with pytest.raises(LockTimeoutError) as caught:
        lock.acquire(1)
    assert words in str(caught.value)
    assert f"returned {code}" in str(caught.value)


def test_request_code_4_already_owned_counts_as_held(server, provider):
    server.request_code = 4
    lock = OracleLock(provider, "t")
    lock.acquire(1)
    assert lock._conn is not None
    server.request_code = None
    server.locks[lock._handle] = lock._conn.raw
    lock.release()
    assert not server.locks


def test_release_of_a_lost_lock_warns(server, provider):
    lock = OracleLock(provider, "t")
    lock.acquire(1)
    server.locks.clear()  # lost meanwhile
    with pytest.warns(RuntimeWarning, match="no longer held"):
        lock.release()


def test_timeout_is_capped_below_maxwait(server, provider):
    lock = OracleLock(provider, "t")
    lock.acquire(10 ** 9)
    params = [p for _, sql, p in server.log if "REQUEST" in sql][0]
    assert params["timeout"] == 32766
    lock.release()


def test_lock_names_fit_128_bytes():
    assert lock_name("APP", "npa_migrations_lock") == "npa:APP:npa_migrations_lock"
    long = lock_name("A" * 128, "é" * 100)
    assert len(long.encode("utf-8")) <= 128
    assert long != lock_name("A" * 128, "é" * 99)


# fallback: the lock table --------------------------------------------------------------------
def test_without_grant_falls_back_to_the_table_lock(server, provider):
    server.dbms_lock = False
    lock = OracleLock(provider, "npa_migrations_lock")
    lock.acquire(1)
    assert isinstance(lock.fallback, OracleTableLock)
    assert "table lock npa_migrations_lock" in lock.description
    assert "no EXECUTE on DBMS_LOCK" in lock.description
    rows = server.tables["NPA_MIGRATIONS_LOCK"]
    assert [r["OWNER"] for r in rows] == [lock.fallback.owner]
    statements = calls(server)
    take = statements.index("LOCK TABLE npa_migrations_lock IN EXCLUSIVE MODE NOWAIT")
    assert statements[take + 1].startswith("SELECT npa_migrations_lock.owner")

    other = OracleLock(provider, "npa_migrations_lock")
    with pytest.raises(LockTimeoutError) as caught:
        other.acquire(0)
    assert lock.fallback.owner in str(caught.value)
    assert other.holder == lock.fallback.owner
    lock.release()
    assert server.tables["NPA_MIGRATIONS_LOCK"] == []


def test_table_lock_attempt_gives_way_while_another_holds_the_table(server, provider):
    server.dbms_lock = False
    lock = OracleTableLock(provider, "t")
    server.fail["LOCK TABLE"] = (54, "resource busy and acquire with NOWAIT specified")
    assert lock.try_acquire() is False
    assert not lock._conn.raw.transaction_in_progress
    del server.fail["LOCK TABLE"]
    assert lock.try_acquire() is True
    lock.release()


def test_other_allocate_errors_are_not_mistaken_for_a_missing_grant(server, provider):
    server.fail["ALLOCATE_UNIQUE"] = (6550, "PLS-00306: wrong number or types of arguments")
    with pytest.raises(Exception, match="PLS-00306"):
        OracleLock(provider, "t").acquire(1)


def test_unlock_clears_a_table_lock_left_by_a_fallback_run(server, provider):
    assert OracleLock(provider, "t").force_release() is False
    server.dbms_lock = False
    held = OracleLock(provider, "t")
    held.acquire(1)
    held.fallback._stop.set()  # the process "dies" without releasing
    server.dbms_lock = True
    unlock = OracleLock(provider, "t")
    assert unlock.force_release() is True
    assert unlock.holder == held.fallback.owner
    assert server.tables["T"] == []


# executor: history and transactions ----------------------------------------------------------
def write(folder, name, text):
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


def run(folder, **options):
    options.setdefault("log_table", None)
    return MigrationExecutor(URL, str(folder), options=MigrationExecutorOptions(**options))


MIGRATION = """
    import sqlalchemy as sa
    from npa_migrations import Migration

    class Create(Migration):
        def up(self, b):
            b.create_table("items", sa.Column("id", sa.Integer, primary_key=True),
                           sa.Column("name", sa.String(20)))
            b.bulk_insert("items", [{"id": None, "name": "a"}, {"id": 2, "name": None}])

        def down(self, b):
            b.drop_table("items")
"""


def test_history_round_trip_and_one_commit_per_migration(server, tmp_path):
    folder = tmp_path / "m"
    write(folder, "20250101000000_create.py", MIGRATION)
    result = run(folder).execute()
    assert result.success, result.errors
    history = server.tables["NPA_MIGRATIONS_HISTORY"]
    assert len(history) == 1
    row = history[0]
    assert row["MIGRATION_ID"] == "20250101000000_Create"
    assert row["SUCCESS"] == 1 and type(row["SUCCESS"]) is int  # SMALLINT, not a bool bind
    assert isinstance(row["APPLIED_AT"], dt.datetime)
    main = server.connections[0]
    log = calls(server, main.session)
    create = next(i for i, s in enumerate(log) if s.startswith("CREATE TABLE items"))
    insert = next(i for i, s in enumerate(log)
                  if s.startswith("INSERT INTO npa_migrations_history"))
    commits = [i for i, s in enumerate(log) if s == "<commit>"]
    assert [c for c in commits if c > create] == [commits[-1]] and commits[-1] > insert
    assert main.autocommit is True  # back in autocommit after the commit
    assert main.outputtypehandler is not None
    assert main.call_timeout == 0  # no statement timeout unless asked

    status = run(folder).status()
    assert status.applied[0].success is True
    assert status.applied[0].applied_at == row["APPLIED_AT"]
    assert status.pending == []


def test_bulk_insert_declares_bind_types_for_leading_nulls(server, tmp_path):
    folder = tmp_path / "m"
    write(folder, "20250101000000_create.py", MIGRATION)
    assert run(folder).execute().success
    sql, rows, sizes = next(p for s, what, p in server.log if what == "<executemany>")
    assert sql == "INSERT INTO items (id, name) VALUES (:1, :2)"
    assert rows == [(None, "a"), (2, None)]
    import oracledb

    assert sizes == (oracledb.DB_TYPE_NUMBER, None)


def test_failed_migration_records_only_what_committed(server, tmp_path):
    folder = tmp_path / "m"
    write(folder, "20250101000000_create.py", """
        import sqlalchemy as sa
        from npa_migrations import Migration

        class Create(Migration):
            def up(self, b):
                b.create_table("items", sa.Column("id", sa.Integer, primary_key=True))
                b.bulk_insert("items", [{"id": 1}])
                b.execute("UPDATE items SET id = 2 WHERE broken")

            def down(self, b):
                b.drop_table("items")
    """)
    server.fail["WHERE broken"] = (920, "invalid relational operator")
    result = run(folder).execute()
    assert not result.success
    message = result.errors[0].message
    assert "UPDATE items SET id = 2 WHERE broken" in message
    assert "ORA-00920" in message
    assert "npa migrate repair" in message
    assert server.tables["ITEMS"] == []  # the insert after the DDL was rolled back
    row = server.tables["NPA_MIGRATIONS_HISTORY"][0]
    assert row["SUCCESS"] == 0
    assert row["STEPS_DONE"] == 1  # only CREATE TABLE took effect
    assert "ORA-00920" in row["ERROR"]


def test_all_in_one_is_refused_for_runs_and_scripts(server, tmp_path):
    folder = tmp_path / "m"
    write(folder, "20250101000000_create.py", MIGRATION)
    for call in (lambda e: e.execute(), lambda e: e.script(offline=True)):
        with pytest.raises(ConfigurationError, match="all-in-one is not possible on oracle"):
            call(run(folder, transaction_mode="all-in-one"))
    assert "ITEMS" not in server.tables


def test_mode_none_autocommits_every_statement(server, tmp_path):
    folder = tmp_path / "m"
    write(folder, "20250101000000_create.py", MIGRATION)
    assert run(folder, transaction_mode="none").execute().success
    main = server.connections[0]
    seen = calls(server, main.session)
    # the statements commit on their own; one commit carries the final bookkeeping (the
    # history row and its event-log row together)
    assert seen.count("<commit>") == 1
    last_ddl = max(n for n, sql in enumerate(seen) if sql.startswith("CREATE TABLE items"))
    assert seen.index("<commit>") > last_ddl
    assert main.autocommit is True


def test_run_takes_dbms_lock_and_releases_it(server, tmp_path):
    folder = tmp_path / "m"
    write(folder, "20250101000000_create.py", MIGRATION)
    seen = []
    from npa_migrations.hookspecs import hookimpl
    from npa_migrations.plugins import get_plugin_manager

    class Spy:
        @hookimpl
        def npa_lock_acquired(self, description):
            seen.append(description)

    manager = get_plugin_manager()
    spy = Spy()
    manager.register(spy)
    try:
        assert run(folder).execute().success
    finally:
        manager.unregister(spy)
    assert seen == ["DBMS_LOCK 'npa:APP:npa_migrations_lock'"]
    assert not server.locks


# connections ---------------------------------------------------------------------------------
def test_wrapped_connection_is_restored(server, provider):
    raw = server.connect()
    raw.autocommit, raw.call_timeout, raw.outputtypehandler = False, 5, "theirs"
    conn = provider.driver.wrap(raw)
    assert raw.autocommit is True and raw.outputtypehandler != "theirs"
    provider.driver.set_statement_timeout(conn, 1.5)
    assert raw.call_timeout == 1500
    conn.close()
    assert (raw.autocommit, raw.call_timeout, raw.outputtypehandler) == (False, 5, "theirs")


def test_old_servers_are_refused(monkeypatch):
    server = FakeServer(version="18.3.0.0.0")
    monkeypatch.setattr(OracleDriver, "open_dbapi", lambda self, *a: server.connect())
    with pytest.raises(ConfigurationError, match="19c and later"):
        OracleProvider(__import__("sqlalchemy").engine.make_url(URL)).driver.connect()


def test_identifier_limit_follows_the_server(monkeypatch):
    server = FakeServer(max_identifier_length=30)  # COMPATIBLE below 12.2
    monkeypatch.setattr(OracleDriver, "open_dbapi", lambda self, *a: server.connect())
    provider = OracleProvider(__import__("sqlalchemy").engine.make_url(URL))
    provider.sql.check_identifier("x" * 128, "table")
    provider.driver.connect().close()
    with pytest.raises(ConfigurationError, match="at most 30"):
        provider.sql.check_identifier("x" * 31, "table")


def test_lob_output_handler_fetches_text_and_bytes():
    import oracledb

    from npa_oracle.provider import _lob_as_value

    class Cursor:
        arraysize = 7

        def var(self, type_, arraysize=None):
            return (type_, arraysize)

    meta = type("Meta", (), {})
    for lob, fetched in ((oracledb.DB_TYPE_CLOB, oracledb.DB_TYPE_LONG),
                         (oracledb.DB_TYPE_NCLOB, oracledb.DB_TYPE_LONG_NVARCHAR),
                         (oracledb.DB_TYPE_BLOB, oracledb.DB_TYPE_LONG_RAW)):
        meta.type_code = lob
        assert _lob_as_value(Cursor(), meta) == (fetched, 7)
    meta.type_code = oracledb.DB_TYPE_VARCHAR
    assert _lob_as_value(Cursor(), meta) is None


def test_ddl_lock_timeout_is_set_per_session(server, provider):
    conn = provider.driver.connect()
    provider.driver.apply_ddl_lock_timeout(conn, 2.2)
    provider.driver.apply_ddl_lock_timeout(conn, None)
    assert calls(server)[-2:] == ["ALTER SESSION SET DDL_LOCK_TIMEOUT = 3",
                                  "ALTER SESSION SET DDL_LOCK_TIMEOUT = 0"]
    from oracle_fakedb import FakeDatabaseError

    assert provider.driver.is_lock_timeout(FakeDatabaseError(54, "resource busy"))
    assert provider.driver.is_lock_timeout(FakeDatabaseError(4021, "timeout occurred"))
    assert not provider.driver.is_lock_timeout(FakeDatabaseError(942, "no table"))
    conn.close()
