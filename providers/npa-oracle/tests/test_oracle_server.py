"""Against a real Oracle server ($NPA_TEST_ORACLE_URL; skipped without it): the lock
between sessions and processes, and the example and hostile migrations up and down.

Objects are named with the suite prefix ``npat_`` or dropped afterwards.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from npa_migrations import MigrationExecutor, MigrationExecutorOptions
from npa_migrations.errors import LockTimeoutError

TESTS = Path(__file__).parent
EXAMPLES = TESTS.parents[2] / "examples" / "migrations"
HOSTILE = TESTS / "migrations_hostile"
LOCK_TABLE = "npat_oracle_lock"


URL_ENV = "NPA_TEST_ORACLE_URL"


@pytest.fixture
def url():
    value = os.environ.get(URL_ENV)
    if not value:
        pytest.skip(f"${URL_ENV} is not set: the Oracle server tests need an Oracle 19c+ "
                    "database (see docs/providers/oracle.md, 'Running the server tests')")
    return value


def executor(url, folder=(), **options):
    options.setdefault("history_table", "npat_oracle_history")
    options.setdefault("log_table", "npat_oracle_log")
    options.setdefault("lock_table", LOCK_TABLE)
    return MigrationExecutor(url, [str(f) for f in folder] if folder else [],
                             options=MigrationExecutorOptions(**options))


def lock_of(url):
    ex = executor(url)
    return ex.hook.npa_create_lock(provider=ex.provider, table_name=LOCK_TABLE)


def test_lock_excludes_a_second_session_until_released(url):
    first = lock_of(url)
    first.acquire(5)
    try:
        assert "DBMS_LOCK" in first.description or "table lock" in first.description
        second = lock_of(url)
        started = time.monotonic()
        with pytest.raises(LockTimeoutError):
            second.acquire(1)
        assert time.monotonic() - started < 10
    finally:
        first.release()
    third = lock_of(url)
    third.acquire(5)
    third.release()


HOLDER = """
import sys
from npa_migrations import MigrationExecutor, MigrationExecutorOptions
ex = MigrationExecutor(sys.argv[1], [], MigrationExecutorOptions(lock_table=sys.argv[2]))
lock = ex.hook.npa_create_lock(provider=ex.provider, table_name=sys.argv[2])
lock.acquire(30)
print(lock.description, flush=True)
sys.stdin.readline()
"""


def test_lock_of_a_killed_process_is_released_by_the_server(url):
    process = subprocess.Popen([sys.executable, "-c", HOLDER, url, LOCK_TABLE],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        description = process.stdout.readline().strip()
        assert description
        with pytest.raises(LockTimeoutError):
            lock_of(url).acquire(1)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    if "DBMS_LOCK" not in description:
        pytest.skip("no EXECUTE on DBMS_LOCK: the table lock expires after its lease instead")
    lock = lock_of(url)
    lock.acquire(30)  # PMON ends the dead session and frees its user lock
    lock.release()


@pytest.mark.parametrize("folder", [EXAMPLES, HOSTILE], ids=["examples", "hostile"])
def test_migrations_up_and_down(url, folder):
    ex = executor(url, [folder])
    try:
        result = ex.execute()
        assert result.success, [e.message for e in result.errors]
        status = ex.status()
        assert not status.pending and not status.failed
        for _ in status.applied:
            down = executor(url, [folder]).rollback()
            assert down.success, [e.message for e in down.errors]
        assert not executor(url, [folder]).status().applied
    finally:
        _drop(url, ["npat_oracle_history", "npat_oracle_log", LOCK_TABLE, "user_roles",
                    "products", "users", "semi;colon", "order", "Order Items"])


def _drop(url, tables):
    conn = executor(url).provider.driver.connect()
    try:
        for table in tables:
            quoted = executor(url).provider.sql.quote(table)
            try:
                conn.execute(f"DROP TABLE {quoted} CASCADE CONSTRAINTS PURGE")
            except Exception:  # ORA-00942: already gone
                pass
        try:
            conn.execute('DROP USER "My Schema" CASCADE')
        except Exception:  # ORA-01918: already gone
            pass
    finally:
        conn.close()


def test_statement_timeout_interrupts_a_long_call(url):
    ex = executor(url, timeout_seconds=1)
    with ex.session() as session:  # the session sets the statement timeout
        with pytest.raises(Exception, match="DPY-4024|timeout"):
            session.connection.execute("BEGIN DBMS_SESSION.SLEEP(5); END;")


def test_server_identifier_limit_is_128_bytes(url):
    ex = executor(url)
    ex.provider.driver.connect().close()
    assert ex.provider.sql.max_identifier_length() == 128
