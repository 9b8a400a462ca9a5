"""bulk_insert runs as COPY ... FROM STDIN, loading exactly what the INSERT path would."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import pytest

from npa_migrations import operations as ops
from npa_migrations.provider import OFFLINE

COLUMNS = """
    sa.Column("k", sa.Integer, primary_key=True),
    sa.Column("i", sa.Integer), sa.Column("big", sa.BigInteger), sa.Column("n", sa.Numeric(10, 2)),
    sa.Column("f", sa.Float), sa.Column("t", sa.Text), sa.Column("v", sa.String(20)),
    sa.Column("b", sa.Boolean), sa.Column("d", sa.Date), sa.Column("ts", sa.DateTime),
    sa.Column("tz", sa.DateTime(timezone=True)), sa.Column("j", postgresql.JSON),
    sa.Column("jb", postgresql.JSONB), sa.Column("u", postgresql.UUID),
    sa.Column("raw", sa.LargeBinary), sa.Column("iv", sa.Interval), sa.Column("tm", sa.Time),
    sa.Column("mood", sa.Enum("ok", "meh", name="copy_mood")),
"""

AWARE = dt.datetime(2025, 1, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
ROWS = [
    # values COPY reads like INSERT binds them
    {"k": 1, "i": 7, "big": 2**40, "n": decimal.Decimal("1.25"), "f": 0.1 + 0.2, "t": "a\tb\nc\\d",
     "v": 42, "b": True, "d": dt.date(2025, 2, 3), "ts": dt.datetime(2025, 2, 3, 4, 5, 6, 7),
     "tz": AWARE, "j": '{"a": [1, 2]}', "jb": '{"b": null}', "u": uuid.UUID(int=5),
     "raw": b"\x00\\\xff", "iv": dt.timedelta(days=1, seconds=3), "tm": dt.time(1, 2, 3),
     "mood": "meh"},
    {"k": 2, "i": "12", "n": "3.14159", "t": None, "b": "yes", "ts": "2025-01-01 00:00",
     "tz": dt.datetime(2025, 6, 1, 8, 0), "u": "00000000-0000-0000-0000-000000000009",
     "raw": "\\x4142", "d": dt.date(2024, 2, 29)},
    # values where COPY and INSERT would differ: these rows take the INSERT path
    {"k": 3, "i": 1.6, "n": 0.1 + 0.2},            # float -> integer rounds, -> numeric(10,2)
    {"k": 4, "i": decimal.Decimal("2.5"), "t": True, "v": 1.5},  # rounds; 'true'; '1.5'
    {"k": 5, "ts": AWARE, "tm": dt.time(1, 2, tzinfo=dt.timezone.utc)},  # converted, not cut
    {"k": 6, "i": 3, "t": "back to COPY"},
    {"k": 7, "f": decimal.Decimal("1.5"), "b": False, "d": dt.datetime(2025, 1, 1, 23, 59)},
]


def ok(result):
    assert result.success, [e.message for e in result.errors]
    return result


def migration(rows_expr: str, table: str = "loaded") -> str:
    return f"""
        import datetime as dt, decimal, uuid
        from sqlalchemy.dialects import postgresql
        from test_postgres_bulk_copy import ROWS

        class Load(Migration):
            def up(self, b):
                b.create_table("{table}", {" ".join(COLUMNS.split())})
                b.bulk_insert("{table}", {rows_expr})

            def down(self, b):
                b.drop_table("{table}")
                b.execute("DROP TYPE copy_mood")
    """


def inserted_by_insert(pg, rows) -> list[tuple]:
    """The same rows loaded with psycopg INSERTs (the reference) into a twin table."""
    pg.query("CREATE TABLE reference (LIKE loaded)")
    names = [c for c in ROWS[0]]
    with pg.connect() as raw:
        cur = raw.cursor()
        for row in rows:
            cols = [c for c in names if c in row]
            cur.execute(f"INSERT INTO reference ({', '.join(cols)}) "
                        f"VALUES ({', '.join(['%s'] * len(cols))})", [row[c] for c in cols])
    return pg.query("SELECT * FROM reference ORDER BY k")


@pytest.fixture(autouse=True)
def _importable(pg, monkeypatch):
    monkeypatch.syspath_prepend(str(__import__("pathlib").Path(__file__).parent))


@pytest.mark.parametrize("source", ["ROWS", "iter(ROWS)", "(dict(r) for r in ROWS)"])
def test_copy_loads_what_insert_would(pg, source):
    pg.python("20250101000000_load", migration(source))
    ok(pg.executor().execute())
    loaded = pg.query("SELECT * FROM loaded ORDER BY k")
    assert loaded == inserted_by_insert(pg, ROWS)
    by_key = {row[0]: row for row in loaded}
    assert by_key[3][1] == 2 and by_key[4][1] == 3 and by_key[4][5] == "true"
    assert by_key[1][5] == "a\tb\nc\\d" and bytes(by_key[1][14]) == b"\x00\\\xff"


def test_bulk_insert_statement_is_copy_and_script_stays_insert(pg):
    ex = pg.executor()
    provider = ex.provider
    (statement,) = provider.sql.sql_bulk_insert(ops.BulkInsert("We ird", [{"a b": 1, "c": None}],
                                                           schema="s p"), OFFLINE)
    assert statement.sql == 'COPY "s p"."We ird" ("a b", c) FROM STDIN'
    assert statement.describe() == statement.sql
    assert statement.render() == """INSERT INTO "s p"."We ird" ("a b", c) VALUES (1, NULL)"""


def test_failure_names_the_copy_and_rolls_back(pg):
    pg.python("20250101000000_dup", """
        class Dup(Migration):
            def up(self, b):
                b.create_table("nums", sa.Column("n", sa.Integer, primary_key=True),
                               sa.Column("s", sa.Text))
                b.execute("CREATE INDEX ix_nums_s ON nums (s)")
                b.bulk_insert("nums", ({"n": i % 3000, "s": str(i)} for i in range(5000)))

            def down(self, b):
                b.drop_table("nums")
    """)
    result = pg.executor().execute()
    assert not result.success
    message = result.errors[0].message
    assert "20250101000000_dup" in message
    assert "at statement: COPY nums (n, s) FROM STDIN" in message
    assert "UniqueViolation" in message and "rolled back" in message
    assert result.errors[0].exception.statement == "COPY nums (n, s) FROM STDIN"
    assert "nums" not in pg.tables()


def test_generator_error_mid_copy_rolls_back_with_the_python_error(pg):
    pg.python("20250101000000_boom", """
        def rows():
            for i in range(20000):
                if i == 15000:
                    raise ValueError("row source broke at 15000")
                yield {"n": i}

        class Boom(Migration):
            def up(self, b):
                b.create_table("nums", sa.Column("n", sa.Integer))
                b.bulk_insert("nums", rows())

            def down(self, b):
                b.drop_table("nums")
    """)
    result = pg.executor().execute()
    assert not result.success
    message = result.errors[0].message
    assert "ValueError: row source broke at 15000" in message
    assert "COPY nums (n) FROM STDIN" in message
    assert "nums" not in pg.tables()
    assert pg.history() == []


def test_fallback_insert_with_percent_in_names_and_order_kept(pg):
    pg.python("20250101000000_pct", """
        class Pct(Migration):
            def up(self, b):
                b.create_table("100% done", sa.Column("seq", sa.Integer, sa.Identity()),
                               sa.Column("50%", sa.Integer), sa.Column("k", sa.Integer))
                b.bulk_insert("100% done", [{"50%": 1 if i % 3 else 1.6, "k": i}
                                            for i in range(2500)])

            def down(self, b):
                b.drop_table("100% done")
    """)
    ok(pg.executor().execute())
    # (the DDL of the provider writes a % in a quoted name as %% today -- SQLAlchemy's
    # pyformat preparer; COPY and the INSERT fallback follow the table the DDL created)
    (table,) = pg.tables()
    (column,) = [c["name"] for c in pg.inspector().get_columns(table, schema=pg.schema)
                 if c["name"].startswith("50")]
    rows = pg.query(f'SELECT seq, "{column}", k FROM "{table}" ORDER BY seq')
    assert [r[2] for r in rows] == list(range(2500))  # order kept across COPY/INSERT runs
    assert {r[1] for r in rows} == {1, 2}


def test_rows_are_streamed_not_materialised(pg):
    """The generator is read while the COPY runs: by the time it ends, the server has
    received earlier rows of the same COPY (it was not read to the end first)."""
    pg.python("20250101000000_stream", """
        import gc
        seen = []

        def rows():
            for i in range(200_000):
                yield {"n": i, "s": "x" * 20}
            # every row dict already yielded is garbage by now, so not held in a list
            seen.append(sum(1 for o in gc.get_objects()
                            if type(o) is dict and o.get("s") == "x" * 20))

        class Stream(Migration):
            def up(self, b):
                b.create_table("nums", sa.Column("n", sa.Integer), sa.Column("s", sa.Text))
                b.bulk_insert("nums", rows())
                b.execute("SELECT 1")

            def down(self, b):
                b.drop_table("nums")
    """)
    ok(pg.executor().execute())
    import sys

    module = [m for name, m in sys.modules.items() if name.endswith("_stream") and
              hasattr(m, "seen")]
    assert module and module[0].seen and module[0].seen[0] <= 2000, module
    assert pg.query("SELECT count(*) FROM nums") == [(200_000,)]
