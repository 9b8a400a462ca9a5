"""Transactional DDL on PostgreSQL: failures leave no trace; no-transaction migrations."""

from __future__ import annotations

import time

import pytest

from npa_migrations import TransactionMode
from npa_migrations.errors import ConfigurationError


def test_failure_at_third_statement_leaves_no_trace(pg):
    pg.sql("20250101000000_ok", """
        -- npa:up
        CREATE TABLE kept (id INT);
    """)
    pg.sql("20250101000100_breaks", """
        -- npa:up
        CREATE TABLE half_done (id INT PRIMARY KEY);
        INSERT INTO half_done (id) VALUES (1);
        INSERT INTO half_done (id) VALUES (1);
        CREATE TABLE never (id INT);
    """)
    result = pg.executor().execute()
    assert result.migration_ids == ["20250101000000_Ok"]
    (error,) = result.errors
    assert error.migration_id == "20250101000100_Breaks"
    assert "INSERT INTO half_done (id) VALUES (1)" in error.message
    assert "duplicate key" in error.message
    assert "rolled back" in error.message
    assert pg.tables() == {"kept"}
    assert pg.history() == [("20250101000000_Ok", True)]


def test_python_migration_failure_rolls_back_ddl_and_data(pg):
    pg.python("20250101000000_breaks", """
        class Breaks(Migration):
            def up(self, b):
                b.create_schema("half_schema")
                b.create_table("t1", sa.Column("id", sa.Integer), schema="half_schema")
                b.bulk_insert("t1", [{"id": 1}], schema="half_schema")
                b.add_column("no_such_table", sa.Column("x", sa.Integer))

            def down(self, b):
                pass
    """)
    pg.extra_schemas.append("half_schema")
    result = pg.executor().execute()
    assert not result.success
    assert 'relation "no_such_table" does not exist' in result.errors[0].message
    assert "half_schema" not in pg.inspector().get_schema_names()
    assert pg.history() == []


def test_all_in_one_rolls_back_every_migration(pg):
    for n in range(3):
        pg.sql(f"2025010100000{n}_step_{n}", f"""
            -- npa:up
            CREATE TABLE step_{n} (id INT);
            INSERT INTO step_{n} VALUES ({n});
        """)
    pg.sql("20250101000009_fails", """
        -- npa:up
        SELECT 1 / 0;
    """)
    result = pg.executor(transaction_mode=TransactionMode.ALL_IN_ONE).execute()
    assert result.migration_ids == []
    assert "division by zero" in result.errors[0].message
    assert "whole all-in-one transaction was rolled back" in result.errors[0].message
    # even the history table created by the run is the only thing left: no step table
    assert pg.tables() == set()
    assert pg.history() == []
    # fixed, the same run applies everything in one commit
    (pg.folder / "20250101000009_fails.sql").write_text("-- npa:up\nSELECT 1;\n")
    result = pg.executor(transaction_mode="all-in-one").execute()
    assert result.success and len(result.migration_ids) == 4
    assert pg.tables() == {"step_0", "step_1", "step_2"}


def _index_state(pg, name):
    return pg.query("SELECT i.indisvalid, i.indisready FROM pg_index i "
                    "JOIN pg_class c ON c.oid = i.indexrelid "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE c.relname = %s AND n.nspname = %s", (name, pg.schema))


def test_create_index_concurrently_in_no_transaction_sql_migration(pg):
    pg.sql("20250101000000_table", """
        -- npa:up
        CREATE TABLE big (id INT, v TEXT);
        INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 5000) g;
        -- npa:down
        DROP TABLE big;
    """)
    pg.sql("20250101000100_index", """
        -- npa:up
        CREATE INDEX CONCURRENTLY ix_big_v ON big (v);
        -- npa:down
        DROP INDEX CONCURRENTLY ix_big_v;
    """, no_transaction=True)
    ex = pg.executor()
    result = ex.execute()
    assert result.success, [e.message for e in result.errors]
    assert _index_state(pg, "ix_big_v") == [(True, True)]
    assert pg.history() == [("20250101000000_Table", True), ("20250101000100_Index", True)]
    assert ex.rollback().success
    assert _index_state(pg, "ix_big_v") == []


def test_create_index_concurrently_in_python_migration(pg):
    pg.python("20250101000000_table", """
        class Table(Migration):
            def up(self, b):
                b.create_table("big", sa.Column("id", sa.Integer))

            def down(self, b):
                b.drop_table("big")
    """)
    pg.python("20250101000100_index", """
        class Index(Migration):
            transactional = False
            lock_timeout_seconds = 5

            def up(self, b):
                b.execute('CREATE INDEX CONCURRENTLY ix_big_id ON big (id)')

            def down(self, b):
                b.execute('DROP INDEX CONCURRENTLY ix_big_id')
    """)
    result = pg.executor().execute()
    assert result.success, [e.message for e in result.errors]
    assert _index_state(pg, "ix_big_id") == [(True, True)]


def test_concurrently_inside_a_transaction_is_the_database_error(pg):
    pg.sql("20250101000000_index", """
        -- npa:up
        CREATE TABLE big (id INT);
        CREATE INDEX CONCURRENTLY ix_big_id ON big (id);
    """)
    result = pg.executor().execute()
    assert "cannot run inside a transaction block" in result.errors[0].message
    assert pg.tables() == set()


def test_all_in_one_refuses_no_transaction_migration_before_running(pg):
    pg.sql("20250101000000_table", "-- npa:up\nCREATE TABLE big (id INT);\n")
    pg.sql("20250101000100_index", "-- npa:up\nCREATE INDEX CONCURRENTLY ix ON big (id);\n",
           no_transaction=True)
    with pytest.raises(ConfigurationError, match="outside a transaction"):
        pg.executor(transaction_mode="all-in-one").execute()
    assert "big" not in pg.tables()


def test_statement_timeout_stops_a_long_statement(pg):
    pg.sql("20250101000000_slow", """
        -- npa:up
        CREATE TABLE before_sleep (id INT);
        SELECT pg_sleep(5);
    """)
    started = time.monotonic()
    result = pg.executor(timeout_seconds=0.5).execute()
    assert time.monotonic() - started < 3
    assert "statement timeout" in result.errors[0].message
    assert "before_sleep" not in pg.tables()


def test_transaction_mode_none_records_failure_and_keeps_earlier_statements(pg):
    pg.sql("20250101000000_partial", """
        -- npa:up
        CREATE TABLE first_part (id INT);
        SELECT 1 / 0;
    """)
    result = pg.executor(transaction_mode="none").execute()
    assert not result.success
    assert "first_part" in pg.tables()
    assert pg.history() == [("20250101000000_Partial", False)]  # repair decides what next


def test_failed_bookkeeping_write_rolls_the_migration_back(pg):
    """The history row, event-log row and COMMIT travel in one pipeline: when the
    event-log insert fails at the pipeline's sync, the migration's DDL and history row
    roll back with it, the error names the migration, the session is clean for the next
    migration, and a later run applies it."""
    pg.sql("20250101000000_ok", "-- npa:up\nCREATE TABLE kept (id INT);\n")
    assert pg.executor().execute().success
    pg.query("ALTER TABLE npa_migrations_log ADD CONSTRAINT refuse_breaks "
             "CHECK (migration_id IS DISTINCT FROM '20250101000100_Breaks')")
    pg.sql("20250101000100_breaks", "-- npa:up\nCREATE TABLE later (id INT);\n")
    pg.sql("20250101000200_after", "-- npa:up\nCREATE TABLE after_it (id INT);\n")
    result = pg.executor(stop_on_error=False).execute()
    assert result.migration_ids == ["20250101000200_After"]  # the session is clean
    (error,) = result.errors
    assert error.migration_id == "20250101000100_Breaks"
    assert "refuse_breaks" in error.message
    assert "rolled back" in error.message
    assert pg.tables() == {"kept", "after_it"}
    assert pg.history() == [("20250101000000_Ok", True), ("20250101000200_After", True)]
    pg.query("ALTER TABLE npa_migrations_log DROP CONSTRAINT refuse_breaks")
    result = pg.executor(out_of_order="apply").execute()
    assert result.migration_ids == ["20250101000100_Breaks"]
    assert pg.tables() == {"kept", "later", "after_it"}
