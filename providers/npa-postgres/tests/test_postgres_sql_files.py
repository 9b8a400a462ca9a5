"""SQL files that PostgreSQL reads differently from the portable splitter: ``E'...'``
strings with backslash escapes, nesting ``/* */`` comments, multi-action rules, a column
named ``begin``, a byte-order mark. Each is split and then really run on the server."""

from __future__ import annotations

import random

from npa_migrations.sqltext import split_statements
from npa_postgres.provider import POSTGRES


def ok(result):
    assert result.success, [e.message for e in result.errors]
    return result


def e_literal(value: str) -> str:
    """``value`` as an ``E'...'`` string: backslashes doubled, quotes as ``\\'`` or ``''``."""
    escaped = value.replace("\\", "\\\\").replace("\n", "\\n")
    return "E'" + "".join(("\\'" if n % 2 else "''") if ch == "'" else ch
                          for n, ch in enumerate(escaped)) + "'"


def random_values(count: int) -> list[str]:
    rng = random.Random(20250101)
    alphabet = "ab ';\\\"$-/*\n()"
    return [''.join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
            for _ in range(count)]


def test_e_strings_split_and_round_trip(pg):
    """25 random strings full of quotes, backslashes and semicolons: the portable
    splitter cut 13 of them wrongly."""
    values = random_values(25)
    inserts = "\n".join(f"INSERT INTO texts VALUES ({n}, {e_literal(v)});"
                        for n, v in enumerate(values))
    text = f"CREATE TABLE texts (n INT PRIMARY KEY, v TEXT);\n{inserts}\n"
    assert len(split_statements(text, lexicon=POSTGRES)) == 26
    pg.sql("20250101000000_texts", f"-- npa:up\n{text}")
    ok(pg.executor().execute())
    assert [v for _, v in pg.query("SELECT n, v FROM texts ORDER BY n")] == values


def test_nested_comments_and_a_multi_action_rule(pg):
    pg.sql("20250101000000_rule", """
        -- npa:up
        /* outer /* inner; */ still a comment; DROP TABLE nothing; */
        CREATE TABLE orders (id INT);
        CREATE TABLE audit (what TEXT);
        CREATE RULE log_orders AS ON INSERT TO orders DO ALSO (
            INSERT INTO audit VALUES ('first; action');
            INSERT INTO audit VALUES ('second')
        );
        INSERT INTO orders VALUES (1);
        -- npa:down
        DROP TABLE orders;
        DROP TABLE audit;
    """)
    [script] = pg.executor().discover()
    assert len(script.up_operations()) == 4
    ok(pg.executor().execute())
    assert pg.query("SELECT what FROM audit ORDER BY what") == [("first; action",),
                                                               ("second",)]
    ok(pg.executor().rollback())
    assert pg.tables() == set()


def test_a_column_named_begin_and_a_begin_atomic_body(pg):
    pg.sql("20250101000000_begin", """
        -- npa:up
        CREATE TABLE slots (id INT, begin INT);
        INSERT INTO slots (id, begin) VALUES (1, 10);
        UPDATE slots SET begin = begin + 1;
        CREATE FUNCTION slot_begin(slot INT) RETURNS INT LANGUAGE sql
        BEGIN ATOMIC
            SELECT begin FROM slots WHERE id = slot;
        END;
        BEGIN;
        INSERT INTO slots (id, begin) VALUES (2, 20);
        COMMIT;
    """, no_transaction=True)
    [script] = pg.executor().discover()
    assert [op.sql.split()[0] for op in script.up_operations()] == [
        "CREATE", "INSERT", "UPDATE", "CREATE", "BEGIN", "INSERT", "COMMIT"]
    ok(pg.executor().execute())
    assert pg.query("SELECT slot_begin(1), (SELECT begin FROM slots WHERE id = 2)") == [
        (11, 20)]


def test_a_byte_order_mark_is_ignored_and_a_name_may_hold_dashes_and_dots(pg):
    path = pg.folder / "20250101000000_remove-categories.v5.35.sql"
    path.write_bytes(b"\xef\xbb\xbf-- npa:up\nCREATE TABLE marked (id INT);\n"
                     b"-- npa:down\nDROP TABLE marked;\n")
    ok(pg.executor().execute())
    assert pg.tables() == {"marked"}
    assert pg.history() == [("20250101000000_remove-categories.v5.35", True)]
    ok(pg.executor().rollback())
    assert pg.tables() == set()
