"""Hostile identifiers round-trip through the server and back through reflection;
identifiers MySQL cannot hold are refused before anything runs."""

from __future__ import annotations

import pytest

from npa_migrations.errors import ConfigurationError

from mysql_support import q

HOSTILE = ["we`ird", 'dq"uote', "sq'uote", "semi;colon", "sp ace", "select", "50%", "order"]


def test_hostile_names_round_trip(my):
    parent = my.name("par`ent; DROP TABLE x")
    child = my.name("ch'ild \"select\"")
    cols = {name: f"c_{name}" if name == "select" else name for name in HOSTILE}
    col_defs = ", ".join(f"sa.Column({c!r}, sa.String(20))" for c in cols.values())
    rows = [{c: f"v{i}'%;`" for i, c in enumerate(cols.values())}]
    my.migration("20250101000000_Hostile", f"""
        b.create_table({parent!r}, sa.Column("key", sa.Integer, primary_key=True), {col_defs})
        b.create_index("ix `odd`; name", {parent!r}, [{HOSTILE[0]!r}, {HOSTILE[3]!r}])
        b.create_unique_constraint("uq 'x'%", {parent!r}, [{HOSTILE[4]!r}])
        b.create_check_constraint('ck "y";', {parent!r}, "`order` <> 'z'")
        b.create_table({child!r}, sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("parent key", sa.Integer))
        b.create_foreign_key("fk`x`", {child!r}, {parent!r}, ["parent key"], ["key"])
        b.bulk_insert({parent!r}, {rows!r})
        b.rename_column({parent!r}, "50%", "fifty % percent")
        b.alter_column({parent!r}, "sp ace", type_=sa.String(40))
    """, f"""
        b.drop_constraint("fk`x`", {child!r}, type_="foreignkey")
        b.drop_table({child!r})
        b.drop_index("ix `odd`; name", {parent!r})
        b.drop_constraint("uq 'x'%", {parent!r}, type_="unique")
        b.drop_constraint('ck "y";', {parent!r}, type_="check")
        b.drop_table({parent!r})
    """)
    result = my.executor().execute()
    assert result.success, result.errors
    insp = my.inspector()
    assert {parent, child} <= set(insp.get_table_names())
    expected = ["key"] + [("fifty % percent" if c == "50%" else c) for c in cols.values()]
    # the server's own catalogue holds the names exactly
    names = [r[0] for r in my.query(
        "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
        "AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION", (parent,))]
    assert names == expected
    # SQLAlchemy's MySQL reflection parses SHOW CREATE TABLE and leaves a backtick in a
    # column name doubled (its bug, not the server's): undo that one escape
    assert [c["name"].replace("``", "`") for c in insp.get_columns(parent)] == expected
    assert "VARCHAR(40)" in str(next(c for c in insp.get_columns(parent)
                                     if c["name"] == "sp ace")["type"])
    assert ("ix `odd`; name",) in my.query(
        "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s", (parent,))
    assert "ix `odd`; name" in {i["name"].replace("``", "`") for i in insp.get_indexes(parent)}
    assert [u["name"] for u in insp.get_unique_constraints(parent)] == ["uq 'x'%"]
    assert [c["name"] for c in insp.get_check_constraints(parent)] == ['ck "y";']
    # SQLAlchemy cannot parse a foreign key that names a table with a backtick; the
    # server's catalogue can
    assert my.query(
        "SELECT CONSTRAINT_NAME, REFERENCED_TABLE_NAME FROM "
        "information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() "
        "AND TABLE_NAME = %s", (child,)) == [("fk`x`", parent)]
    values = my.query(f"SELECT {', '.join(q(n) for n in names[1:])} FROM {q(parent)}")
    assert values == [tuple(rows[0].values())]

    result = my.executor().rollback()
    assert result.success, result.errors
    assert not {parent, child} & set(my.inspector().get_table_names())


@pytest.mark.parametrize("name, reason", [
    ("x" * 65, "at most 64"),
    ("trailing ", "end with a space"),
    ("emoji\U0001F600", "Basic Multilingual Plane"),
    ("", "empty"),
])
def test_names_mysql_cannot_hold_are_refused(my, name, reason):
    t = my.name("ok")
    my.migration("20250101000000_Bad", f"""
        b.create_table({t!r}, sa.Column("id", sa.Integer))
        b.add_column({t!r}, sa.Column({name!r}, sa.Integer))
    """)
    with pytest.raises(ConfigurationError, match=reason):
        my.executor().script(offline=True)
    with pytest.raises(ConfigurationError, match=reason):
        my.executor().execute()
    assert t not in my.tables()


def test_64_character_names_fit(my):
    t = my.name("x" * (64 - len(my.name(""))))
    assert len(t) == 64
    my.migration("20250101000000_Long", f"""
        b.create_table({t!r}, sa.Column({"é" * 64!r}, sa.Integer))
    """)
    assert my.executor().execute().success
    assert [c["name"] for c in my.inspector().get_columns(t)] == ["é" * 64]
