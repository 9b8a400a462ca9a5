"""SQL files that MariaDB reads differently from the portable splitter: a column named
``begin`` (only a stored program or a compound statement opens a ``BEGIN ... END``
block), a byte-order mark. Each is split and then really run on the server."""

from __future__ import annotations

from npa_mysql.sqltext import split_mysql

from mysql_support import q


def up(my):
    result = my.executor().execute()
    assert result.success, "\n".join(e.message for e in result.errors)
    return result


def test_a_column_named_begin_next_to_a_procedure(my):
    slots, fill = q(my.name("slots")), q(my.name("fill"))
    text = f"""
        CREATE TABLE {slots} (id INT, begin INT);
        INSERT INTO {slots} (id, begin) VALUES (1, 10);
        UPDATE {slots} SET begin = begin + 1;
        CREATE PROCEDURE {fill}(n INT)
        BEGIN
            IF n > 0 THEN
                BEGIN
                    INSERT INTO {slots} (id, begin) VALUES (n, n * 10);
                END;
            END IF;
        END;
        CALL {fill}(2);
        DROP PROCEDURE {fill};
    """
    assert len(split_mysql(text)) == 6
    my.sql("20250101000000_begin", f"-- npa:up\n{text}")
    up(my)
    assert my.query(f"SELECT id, begin FROM {slots} ORDER BY id") == [(1, 11), (2, 20)]


def test_a_byte_order_mark_is_ignored_and_a_name_may_hold_dashes_and_dots(my):
    marked = q(my.name("marked"))
    (my.folder / "20250101000000_remove-categories.v5.35.sql").write_bytes(
        f"\ufeff-- npa:up\nCREATE TABLE {marked} (id INT);\n".encode("utf-8"))
    up(my)
    assert my.name("marked") in my.tables()
    assert [row[:2] for row in my.history()] == [("20250101000000_remove-categories.v5.35", 1)]
