"""Which tables SQLAlchemy's ``SHOW CREATE TABLE`` parser cannot read
(:func:`npa_mysql.information_schema.tables_with_line_breaks`): a line break in the
table's name, or in the name of one of its columns, indexes or constraints -- with
backticks and ``%`` in the names too, which ``SHOW CREATE TABLE`` must quote and escape;
a line break in a string (a comment, a default, a check's text) breaks no name, also
under ``NO_BACKSLASH_ESCAPES``."""

from __future__ import annotations

import pytest
from mysql_support import q

from npa_mysql.information_schema import tables_with_line_breaks

#: suffix of the table's name -> its definition, and whether a name in it has a line break
TABLES = {
    "plain": ("`id` int PRIMARY KEY, `name` varchar(10)", False),
    "odd\nname": ("`a` int", True),
    "column": ("`a\nb` int", True),
    "index": ("`a` int, KEY `k\nx` (`a`)", True),
    "constraint": ("`a` int, CONSTRAINT `u\nq` UNIQUE (`a`)", True),
    "per%cent": ("`a%b` int, `c``d` int", False),
    "per%cent`tick": ("`x%\ny` int", True),
    "check": ("`a` int, CONSTRAINT `c\nk` CHECK (`a` > 0)", True),
    "foreign": ("`a` int, CONSTRAINT `f\nk` FOREIGN KEY (`a`) REFERENCES {plain} (`id`)", True),
    "strings": ("`a` varchar(20) DEFAULT 'x\ny' COMMENT 'it''s one ` tick\n', "
                "CONSTRAINT `ok` CHECK (`a` <> 'q\n`r`')", False),
}


@pytest.mark.parametrize("sql_mode", ["", "NO_BACKSLASH_ESCAPES"])
def test_tables_with_a_line_break_in_any_name_are_found(my, sql_mode):
    raw = my.connect()
    try:
        cur = raw.cursor()
        cur.execute("SET SESSION sql_mode = %s", (sql_mode,))
        for suffix, (columns, _) in TABLES.items():
            columns = columns.replace("{plain}", q(my.name("plain")))
            cur.execute(f"CREATE TABLE {q(my.name(suffix))} ({columns}) ENGINE=InnoDB")
    finally:
        raw.close()
    names = [my.name(suffix) for suffix in TABLES]
    expected = {my.name(suffix) for suffix, (_, broken) in TABLES.items() if broken}
    with my.engine.connect() as connection:
        connection.exec_driver_sql(f"SET SESSION sql_mode = '{sql_mode}'")
        assert tables_with_line_breaks(connection, None, names) == expected
        assert tables_with_line_breaks(connection, my.database, names) == expected
        assert tables_with_line_breaks(connection, None, []) == set()
