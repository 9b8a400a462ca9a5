"""A migration's bookkeeping in one round trip on MariaDB (``MysqlDriver.batched``): the
``BEGIN``, history row, event-log row and ``COMMIT`` go as one ``BEGIN NOT ATOMIC ...
END`` compound statement, values bound as PyMySQL binds any statement; a failure in it
rolls the whole block back."""

from __future__ import annotations

import pymysql
import pytest
import sqlalchemy as sa

from npa_mysql.provider import MysqlProvider

from mysql_support import q

#: values that must survive client-side binding inside the compound statement
AWKWARD = "it's; -- not a comment\\ %s END;"


def questions(conn) -> int:
    """Statements this session has sent (a compound statement counts once)."""
    ((_, value),) = conn.query("SHOW SESSION STATUS LIKE 'Questions'")
    return int(value)


def bookkeeping(provider, conn, table: str, ids: list[int]) -> None:
    """What ``finish_migration`` does: begin, write rows with bound values, commit."""
    with provider.driver.batched(conn):
        conn.begin()
        for ident in ids:
            conn.execute(f"INSERT INTO {q(table)} (id, name) VALUES (%s, %s)", (ident, AWKWARD))
        conn.commit()


def test_the_block_is_one_statement_and_commits(session, my):
    provider, conn, table = session
    assert provider.compound_statements  # the test server is MariaDB
    before = questions(conn)
    bookkeeping(provider, conn, table, [1, 2])
    assert questions(conn) - before == 2  # the compound statement, and SHOW STATUS itself
    assert not conn.in_transaction and provider.driver.transaction_open(conn) is False
    # committed: another session sees both rows, the values exactly as bound
    assert my.query(f"SELECT id, name FROM {q(table)} ORDER BY id") == \
        [(1, AWKWARD), (2, AWKWARD)]


def test_a_failure_rolls_the_whole_block_back(session, my):
    provider, conn, table = session
    with pytest.raises(pymysql.err.IntegrityError):
        bookkeeping(provider, conn, table, [1, 2, 1])
    assert not conn.in_transaction and provider.driver.transaction_open(conn) is False
    assert my.query(f"SELECT COUNT(*) FROM {q(table)}") == [(0,)]
    bookkeeping(provider, conn, table, [3])  # the connection is usable afterwards
    assert my.query(f"SELECT id FROM {q(table)}") == [(3,)]


def test_an_error_before_the_block_ends_sends_nothing(session, my):
    provider, conn, table = session
    with pytest.raises(ZeroDivisionError):
        with provider.driver.batched(conn):
            conn.begin()
            conn.execute(f"INSERT INTO {q(table)} (id, name) VALUES (%s, %s)", (1, "a"))
            1 / 0
    assert not conn.in_transaction and conn.held is None
    assert my.query(f"SELECT COUNT(*) FROM {q(table)}") == [(0,)]


def test_without_compound_statements_each_statement_runs_at_once(session, my):
    """MySQL (and MariaDB in Oracle mode) has no ``BEGIN NOT ATOMIC``: one by one."""
    provider, conn, table = session
    provider.compound_statements = False
    before = questions(conn)
    bookkeeping(provider, conn, table, [1, 2])
    assert questions(conn) - before == 5  # BEGIN, two INSERTs, COMMIT, SHOW STATUS
    assert my.query(f"SELECT COUNT(*) FROM {q(table)}") == [(2,)]


def test_oracle_mode_turns_compound_statements_off(my):
    """In ``sql_mode=ORACLE`` ``BEGIN`` starts a PL/SQL block: not used there."""
    provider = MysqlProvider(sa.make_url(my.url))
    raw = my.connect(init_command="SET SESSION sql_mode = 'ORACLE'")
    try:
        provider.detect_server(raw)
    finally:
        raw.close()
    assert provider.is_mariadb and not provider.compound_statements


def test_applied_and_reverted_rows_through_the_engine(my):
    table = my.name("items")
    my.sql("20250101000000_items", f"""
        -- npa:up
        CREATE TABLE {q(table)} (id INTEGER PRIMARY KEY);
        -- npa:down
        DROP TABLE {q(table)};
    """)
    assert my.executor().execute().success
    assert [row[:2] for row in my.history()] == [("20250101000000_Items", 1)]
    assert my.executor().rollback().success
    assert my.history() == []
    events = my.query(f"SELECT event, migration_id FROM {q(my.name('log'))} ORDER BY id")
    assert events == [("apply", "20250101000000_Items"), ("revert", "20250101000000_Items")]


def test_a_failed_bookkeeping_block_leaves_the_data_change_unrecorded(my):
    """The block is what commits a data-only migration's rows: when it fails, the rows
    are rolled back, and the migration must not be recorded, nor reported, as having
    taken effect (the journal learns of the commit only once the block ended)."""
    rows, log = q(my.name("rows")), q(my.name("log"))
    my.query(f"CREATE TABLE {rows} (id INTEGER PRIMARY KEY)")
    my.sql("20250101000000_first", "-- npa:up\nSELECT 1;\n-- npa:down\nSELECT 1;")
    assert my.executor().execute().success  # the history and the log exist from here on
    my.query(f"CREATE TRIGGER {q(my.name('refuse'))} BEFORE INSERT ON {log} FOR EACH ROW "
             "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'the log refuses'")
    my.sql("20250102000000_data", f"""
        -- npa:up
        INSERT INTO {rows} VALUES (1);
        INSERT INTO {rows} VALUES (2);
        -- npa:down
        DELETE FROM {rows};
    """)
    result = my.executor().execute()
    message = result.errors[0].message
    assert not result.success and "the log refuses" in message
    assert "rolled back and left no trace" in message and "took effect" not in message
    assert my.query(f"SELECT COUNT(*) FROM {rows}") == [(0,)]
    assert [row[:3] for row in my.history()] == [("20250101000000_First", 1, None)]
