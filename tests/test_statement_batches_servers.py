"""Statements sent in batches (``Driver.execute_batch``) on the real servers: a large
``.sql`` file travels in a few round trips -- on PostgreSQL in the transaction the
migration owns, on MariaDB (journaled: DDL commits implicitly) its runs of plain DML,
with the journal's position after each batch; a failing statement in the middle of a
batch is still named exactly, with its migration and file, and nothing of the
migration remains; a ``-- npa:no-transaction`` file runs statement by statement."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from npa_migrations import MigrationExecutor, hookimpl
from npa_migrations.errors import MigrationException
from npa_migrations.plugins import get_plugin_manager
from npa_migrations.provider.connection import DbConnection

from server_databases import execute_sql, fresh_database

#: statements of the large file (beside its CREATE TABLE)
ROWS = 600
#: the batches a PostgreSQL run of the file may take at most (1,000 statements each)
FEW = 10


@pytest.fixture(params=["postgresql", "mariadb"])
def database(request):
    with fresh_database(request.param, "npa_batch") as url:
        yield request.param, url.render_as_string(hide_password=False)


@pytest.fixture
def round_trips(monkeypatch):
    """Every SQL text the engine's connections send (one entry per round trip)."""
    sent: list[str] = []
    execute = DbConnection.execute

    def spy(self, sql, params=None):
        sent.append(sql)
        return execute(self, sql, params)

    monkeypatch.setattr(DbConnection, "execute", spy)
    return sent


@pytest.fixture
def events():
    """The statement events a plugin sees, in order."""
    seen: list[tuple[str, str]] = []

    class Recorder:
        @hookimpl
        def npa_statement_start(self, migration, statement):
            seen.append(("start", statement.sql))

        @hookimpl
        def npa_statement_executed(self, migration, statement, duration):
            seen.append(("executed", statement.sql))

        @hookimpl
        def npa_operation_done(self, migration, operation, duration):
            seen.append(("done", operation.sql))

    manager, plugin = get_plugin_manager(), Recorder()
    manager.register(plugin)
    yield seen
    manager.unregister(plugin)


def insert(n: int) -> str:
    # every 7th row ends with a line comment before its ';': a batch must not let it
    # swallow the next statement
    tail = " -- a comment\n" if n % 7 == 0 else ""
    return f"INSERT INTO items (id, name) VALUES ({n}, 'item {n}; it''s here'){tail}"


def write(folder, rows: list[str], *, create: bool, no_transaction: bool = False) -> None:
    folder.mkdir(exist_ok=True)
    lines = ["-- npa:no-transaction"] if no_transaction else []
    lines.append("-- npa:up")
    if create:
        lines.append("CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(40));")
    lines += [f"{row};" for row in rows]
    lines += ["-- npa:down", "DELETE FROM items;"]
    (folder / "20250101000000_load_items.sql").write_text("\n".join(lines) + "\n",
                                                          encoding="utf-8")


def scalar(url: str, sql: str):
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql)).scalar()
    finally:
        engine.dispose()


@pytest.mark.parametrize("count", [ROWS, 2500])
def test_a_large_file_runs_in_few_round_trips(database, tmp_path, round_trips, events, count):
    backend, url = database
    rows = [insert(n) for n in range(1, count + 1)]
    write(tmp_path / "m", rows, create=True)
    result = MigrationExecutor(url, tmp_path / "m").execute()
    assert result.success, result.errors
    assert scalar(url, "SELECT count(*) FROM items") == count
    assert scalar(url, "SELECT name FROM items WHERE id = 14") == "item 14; it's here"
    sent = [sql for sql in round_trips if "items" in sql]
    assert len(sent) <= FEW, f"{len(sent)} round trips for {count + 1} statements"
    # every statement still gets its two events, then its operation's, in order, as
    # when the statements run one by one
    assert [kind for kind, _ in events] == ["start", "executed", "done"] * (count + 1)
    assert [sql for kind, sql in events if kind == "executed"][1:] == \
        [row.strip() for row in rows]


@pytest.mark.parametrize("count, failing", [(ROWS, 299), (2500, 1699)])
def test_a_failing_statement_in_a_batch_is_named_and_nothing_remains(database, tmp_path,
                                                                     events, count, failing):
    """Also in the second of three batches: sent while the third was being rendered
    (MariaDB reads its results then), the failure is still the one reported."""
    backend, url = database
    rows = [insert(n) for n in range(1, count + 1)]
    rows[failing] = insert(17).strip()  # it repeats id 17: a duplicate key
    # MariaDB commits DDL implicitly: there the table exists before, so that the file is
    # data only and its transaction can take all of it back
    if backend == "mariadb":
        execute_sql(url, "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(40))")
    write(tmp_path / "m", rows, create=backend == "postgresql")
    result = MigrationExecutor(url, tmp_path / "m").execute()
    assert not result.success and len(result.errors) == 1
    error = result.errors[0].exception
    assert isinstance(error, MigrationException)
    assert error.migration_id == "20250101000000_LoadItems"
    assert error.statement == rows[failing]
    message = str(error)
    assert "Migration 20250101000000_LoadItems (" in message
    assert "20250101000000_load_items.sql) failed at statement: " \
           "INSERT INTO items (id, name) VALUES (17, 'item 17; it''s here')" in message
    assert "rolled back and left no trace" in message
    # the statements before it got all their events, it got its start; none after it
    before = failing + (backend == "postgresql")  # the inserts before it (and CREATE TABLE)
    assert [kind for kind, _ in events] == ["start", "executed", "done"] * before + ["start"]
    assert events[-2] == ("done", rows[failing - 1].strip())
    assert events[-1] == ("start", rows[failing])
    assert ("start", rows[failing + 1].strip()) not in events
    # nothing of the migration remains: no table (or no row), no history row
    if backend == "postgresql":
        assert scalar(url, "SELECT to_regclass('items')") is None
    else:
        assert scalar(url, "SELECT count(*) FROM items") == 0
    assert scalar(url, "SELECT count(*) FROM npa_migrations_history") == 0


def test_a_no_transaction_file_is_not_batched(database, tmp_path, round_trips):
    _, url = database
    rows = [insert(n) for n in range(1, 51)]
    write(tmp_path / "m", rows, create=True, no_transaction=True)
    result = MigrationExecutor(url, tmp_path / "m").execute()
    assert result.success, result.errors
    assert scalar(url, "SELECT count(*) FROM items") == 50
    assert len([sql for sql in round_trips if sql.startswith("INSERT INTO items")]) == 50
