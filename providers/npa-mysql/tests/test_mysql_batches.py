"""Batches of plain DML in one ``COM_QUERY`` (``MysqlDriver.send_batch``): the server's
multi-statement option is on for the batch only, a failing statement is named by its
index from the results read before it, and a journaled migration's batches leave the
history row exactly where one-statement-at-a-time would."""

from __future__ import annotations

import pymysql
import pytest
import sqlalchemy as sa

from npa_migrations.provider.driver import StatementBatchError
from npa_mysql.provider import MysqlProvider

from mysql_support import q


@pytest.mark.parametrize("sql, keeps", [
    ("INSERT INTO t VALUES (1)", True),
    ("  update t SET a = 1", True),
    ("-- a comment; with a semicolon\nINSERT INTO t VALUES (1)", True),
    ("# a comment\n/* and another */ DELETE FROM t", True),
    ("-- one\n-- two\n\nREPLACE INTO t VALUES (1)", True),
    ("--1\nINSERT INTO t VALUES (1)", False),  # not a comment in MySQL: minus minus 1
    ("/*! CREATE TABLE x (a int) */ INSERT INTO t VALUES (1)", False),  # executable
    ("/*M!100100 COMMIT */ SELECT 1", False),
    ("-- a comment\nCREATE TABLE t (a int)", False),
    ("SET @a = 1", False),
    ("INSERTED", False),
])
def test_keeps_transaction_reads_past_comments(sql, keeps):
    provider = MysqlProvider(sa.make_url("mysql+pymysql://u@localhost/db"))
    assert provider.driver.keeps_transaction(sql) is keeps


def multi_statements_off(conn) -> bool:
    """A text of two statements fails as a syntax error: the option is off again."""
    try:
        conn.execute("SELECT 1; SELECT 2")
    except pymysql.err.ProgrammingError as exc:
        return exc.args[0] == 1064
    return False


def test_a_batch_is_one_query_and_leaves_the_option_off(session):
    provider, conn, table = session
    driver = provider.driver
    assert multi_statements_off(conn)
    sent = []
    execute = conn.execute
    conn.execute = lambda sql, params=None: (sent.append(sql), execute(sql, params))[1]
    conn.begin()
    driver.execute_batch(conn, [
        f"INSERT INTO {q(table)} VALUES (1, 'a;b') -- a trailing comment",
        f"# a comment\nINSERT INTO {q(table)} VALUES (2, 'it''s')",
        f"SELECT COUNT(*) FROM {q(table)}",
        f"UPDATE {q(table)} SET name = CONCAT(name, '!') WHERE id = 2",
    ])
    conn.commit()
    del conn.execute
    # one COM_QUERY between BEGIN and COMMIT (no savepoint: the results name a failure)
    assert len(sent) == 3 and sent[0] == "BEGIN" and sent[2] == "COMMIT"
    assert conn.query(f"SELECT id, name FROM {q(table)} ORDER BY id") == \
        [(1, "a;b"), (2, "it's!")]
    assert multi_statements_off(conn)


def test_a_failing_statement_is_named_and_the_rest_never_runs(session):
    provider, conn, table = session
    driver = provider.driver
    conn.begin()
    with pytest.raises(StatementBatchError) as info:
        driver.execute_batch(conn, [
            f"INSERT INTO {q(table)} VALUES (1, 'a')",
            f"INSERT INTO {q(table)} VALUES (2, 'b')",
            f"INSERT INTO {q(table)} VALUES (1, 'duplicate')",
            f"INSERT INTO {q(table)} VALUES (3, 'never')",
        ])
    assert info.value.index == 2
    assert isinstance(info.value.error, pymysql.err.IntegrityError)
    # the two before it ran in the transaction, the one after it did not
    assert conn.query(f"SELECT id FROM {q(table)} ORDER BY id") == [(1,), (2,)]
    conn.rollback()
    assert conn.query(f"SELECT COUNT(*) FROM {q(table)}") == [(0,)]
    assert multi_statements_off(conn)
    with pytest.raises(StatementBatchError) as info:  # the first one
        driver.execute_batch(conn, [f"INSERT INTO {q(table)}_missing VALUES (1)",
                                    f"INSERT INTO {q(table)} VALUES (9, 'x')"])
    assert info.value.index == 0
    assert conn.query(f"SELECT COUNT(*) FROM {q(table)}") == [(0,)]


def test_a_connection_opened_with_the_option_keeps_it(session, my):
    """A caller's connection that asked for ``CLIENT.MULTI_STATEMENTS`` at connect is
    left with it: the batch does not switch it off."""
    provider, _, table = session
    driver = provider.driver
    raw = my.connect(client_flag=pymysql.constants.CLIENT.MULTI_STATEMENTS)
    from npa_migrations.provider.connection import DbConnection

    conn = DbConnection(driver, raw, close=raw.close)
    try:
        driver.execute_batch(conn, [f"INSERT INTO {q(table)} VALUES (1, 'a')",
                                    f"INSERT INTO {q(table)} VALUES (2, 'b')"])
        cursor = conn.execute("SELECT 1; SELECT 2")
        assert cursor.fetchall() == ((1,),) and cursor.nextset()
        assert cursor.fetchall() == ((2,),)
    finally:
        conn.close()


def test_journaled_batches_record_what_took_effect(my):
    """DDL commits implicitly: the inserts before ``CREATE INDEX`` are committed by it,
    the batch after it fails and rolls back; the row says 5 statements took effect."""
    table = my.name("items")
    rows = lambda ids: "\n".join(  # noqa: E731
        f"INSERT INTO {q(table)} (id, name) VALUES ({n}, 'item {n}');" for n in ids)
    my.sql("20250101000000_items", f"""
        -- npa:up
        CREATE TABLE {q(table)} (id INTEGER PRIMARY KEY, name VARCHAR(40));
        {rows([1, 2, 3])}
        CREATE INDEX {q(my.name("ix"))} ON {q(table)} (name);
        {rows([4, 5, 1])}
        -- npa:down
        DROP TABLE {q(table)};
    """)
    result = my.executor().execute()
    assert not result.success
    message = result.errors[0].message
    assert f"failed at statement: INSERT INTO {q(table)} (id, name) VALUES (1, 'item 1')" \
        in message
    ((_, success, steps_done, error),) = my.history()
    assert (success, steps_done) == (0, 5) and "1062" in error
    assert my.query(f"SELECT id FROM {q(table)} ORDER BY id") == [(1,), (2,), (3,)]


def test_a_python_step_still_cannot_send_two_statements_in_one_text(my):
    """The option is on only for a batch: a migration's own text of two statements,
    after a batch of the same migration, still fails as MySQL's syntax error."""
    table = my.name("t")
    my.migration("20250101000000_Two", f"""
        b.create_table({table!r}, sa.Column("id", sa.Integer, primary_key=True))
        b.execute("INSERT INTO {table} (id) VALUES (1)")
        b.execute("INSERT INTO {table} (id) VALUES (2)")
        b.run_python(lambda connection: connection.exec_driver_sql(
            "INSERT INTO {table} (id) VALUES (3); INSERT INTO {table} (id) VALUES (4)"))
    """, f"b.drop_table({table!r})")
    result = my.executor().execute()
    assert not result.success
    assert "1064" in result.errors[0].message
    assert my.query(f"SELECT id FROM {q(table)} ORDER BY id") == []
