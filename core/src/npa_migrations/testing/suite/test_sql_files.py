"""SQL-file migrations: ``-- npa:up`` / ``-- npa:down`` sections, statement splitting,
``-- npa:no-transaction``."""

from __future__ import annotations

from .base import SuiteTest, assert_failed

__all__ = ["TestSqlFileMigrations"]

UP = """
    CREATE TABLE npat_sql (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(50) NOT NULL);
    -- a comment; with a semicolon
    INSERT INTO npat_sql (id, name) VALUES (1, 'a;b');
    /* a block comment;
       over two lines */
    INSERT INTO npat_sql (id, name) VALUES (2, 'it''s');
"""


class TestSqlFileMigrations(SuiteTest):
    def test_up_and_down(self):
        migration_id = self.folder.sql("20250101000000_sql_table", UP, "DROP TABLE npat_sql;")
        assert migration_id == "20250101000000_SqlTable"
        self.up()
        assert self.db.tables() == {"npat_sql"}
        assert self.db.column_names("npat_sql") == ["id", "name"]
        assert self.db.rows("npat_sql", ["id", "name"]) == [(1, "a;b"), (2, "it's")]
        assert self.db.applied() == [migration_id]
        self.down()
        assert self.db.tables() == set()
        assert self.db.applied() == []

    def test_python_and_sql_migrations_run_in_timestamp_order(self):
        self.folder.sql("20250101000000_sql_table", UP, "DROP TABLE npat_sql;")
        self.folder.python("20250102000000_AddColumn",
                           'b.add_column("npat_sql", sa.Column("extra", sa.Integer))',
                           'b.drop_column("npat_sql", "extra")')
        self.folder.sql("20250103000000_more_rows",
                        "INSERT INTO npat_sql (id, name, extra) VALUES (3, 'three', 3);",
                        "DELETE FROM npat_sql WHERE id = 3;")
        result = self.up()
        assert result.migration_ids == ["20250101000000_SqlTable",
                                             "20250102000000_AddColumn",
                                             "20250103000000_MoreRows"]
        assert self.db.rows("npat_sql", ["id", "extra"]) == [(1, None), (2, None), (3, 3)]

    def test_no_transaction_file_applies(self):
        migration_id = self.folder.sql("20250101000000_outside", UP, "DROP TABLE npat_sql;",
                                       no_transaction=True)
        self.up()
        assert self.db.rows("npat_sql", ["id"]) == [(1,), (2,)]
        assert self.db.recorded() == {migration_id: True}

    def test_no_transaction_failure_keeps_what_ran_and_is_recorded_failed(self):
        migration_id = self.folder.sql("20250101000000_outside", """
            CREATE TABLE npat_sql (id INTEGER NOT NULL PRIMARY KEY);
            INSERT INTO npat_no_such_table (id) VALUES (1);
        """, "DROP TABLE npat_sql;", no_transaction=True)
        result = self.executor().execute()
        message = assert_failed(result, migration_id)
        assert "npat_no_such_table" in message
        assert self.db.tables() == {"npat_sql"}  # ran outside a transaction: it stays
        assert self.db.recorded() == {migration_id: False}
