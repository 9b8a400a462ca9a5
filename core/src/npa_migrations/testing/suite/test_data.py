"""bulk_insert (a list, a generator, no rows) and execute (with and without dialects=)."""

from __future__ import annotations

from .base import SuiteTest

__all__ = ["TestBulkInsert", "TestExecute"]

TABLE = """
    b.create_table("npat_data",
                   sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                   sa.Column("name", sa.String(100), nullable=True),
                   sa.Column("amount", sa.Numeric(10, 2), nullable=True))
"""
HOSTILE_VALUES = ["it's", 'say "hi"', "a; DROP TABLE npat_data; --", "héllo ✓ 日本", None, ""]


class _DataTest(SuiteTest):
    def create(self) -> None:
        self.folder.python("20250101000000_CreateData", TABLE, 'b.drop_table("npat_data")')


class TestBulkInsert(_DataTest):
    def test_list_of_rows_with_values_that_need_binding(self):
        self.create()
        rows = [{"id": n, "name": value, "amount": n * 1.5}
                for n, value in enumerate(HOSTILE_VALUES, 1)]
        self.folder.python("20250102000000_InsertRows", f"b.bulk_insert('npat_data', {rows!r})",
                           "b.execute('DELETE FROM npat_data')")
        self.up()
        stored = self.db.rows("npat_data", ["id", "name", "amount"])
        assert [(i, name) for i, name, _ in stored] == [
            (n, value) for n, value in enumerate(HOSTILE_VALUES, 1)]
        assert [float(a) for _, _, a in stored] == [n * 1.5 for n in range(1, 7)]
        assert self.db.tables() == {"npat_data"}
        self.down()
        assert self.db.count("npat_data") == 0

    def test_generator_streams_more_rows_than_one_batch(self):
        self.create()
        self.folder.python("20250102000000_InsertMany", """
            b.bulk_insert("npat_data", ({"id": n, "name": f"row {n}"}
                                        for n in range(1, 10_002)))
        """, "b.execute('DELETE FROM npat_data')")
        self.up()
        assert self.db.count("npat_data") == 10_001
        assert self.db.scalar("SELECT MAX(id) FROM npat_data") == 10_001
        assert self.db.rows("npat_data", ["id", "name"])[:2] == [(1, "row 1"), (2, "row 2")]
        self.down()
        assert self.db.count("npat_data") == 0

    def test_no_rows(self):
        self.create()
        self.folder.python("20250102000000_InsertNothing", "b.bulk_insert('npat_data', [])",
                           "")
        self.up()
        assert self.db.count("npat_data") == 0
        assert self.db.applied() == ["20250101000000_CreateData", "20250102000000_InsertNothing"]


class TestExecute(_DataTest):
    def test_plain_sql_and_several_statements(self):
        self.create()
        self.folder.python("20250102000000_Execute", '''
            b.execute("INSERT INTO npat_data (id, name) VALUES (1, 'a;b')")
            b.execute("""
                INSERT INTO npat_data (id, name) VALUES (2, 'two');
                -- a comment; with a semicolon
                INSERT INTO npat_data (id, name) VALUES (3, 'it''s');
            """)
        ''', "b.execute('DELETE FROM npat_data')")
        self.up()
        assert self.db.rows("npat_data", ["id", "name"]) == [(1, "a;b"), (2, "two"), (3, "it's")]
        self.down()
        assert self.db.count("npat_data") == 0

    def test_dialects_select_the_provider(self):
        self.create()
        names = sorted(self.provider.names)
        self.folder.python("20250102000000_PerDialect", f'''
            b.execute("INSERT INTO npat_data (id, name) VALUES (1, 'mine')",
                      dialects={[self.provider.name]!r})
            b.execute("INSERT INTO npat_data (id, name) VALUES (2, 'other')",
                      dialects=["npa_no_such_database"])
            b.execute("INSERT INTO npat_data (id, name) VALUES (3, 'by name')",
                      dialects={self.provider.dialect.name!r})
            b.execute("INSERT INTO npat_data (id, name) VALUES (4, 'listed')",
                      dialects=["npa_no_such_database"] + {names!r})
        ''', f'''
            b.execute("DELETE FROM npat_data", dialects={[self.provider.name]!r})
            b.execute("DROP TABLE npat_data", dialects=["npa_no_such_database"])
        ''')
        self.up()
        assert self.db.rows("npat_data", ["id", "name"]) == [
            (1, "mine"), (3, "by name"), (4, "listed")]
        self.down()
        assert self.db.tables() == {"npat_data"}
        assert self.db.count("npat_data") == 0
