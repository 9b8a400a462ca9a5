"""Hostile identifiers round-trip exactly through PostgreSQL and SQLAlchemy reflection."""

from __future__ import annotations

import pytest

from npa_migrations.errors import ConfigurationError

SCHEMA = 'we "ird"; schema'
TABLE = 'Table; DROP TABLE x; --'
OTHER = 'a "quoted" name'
DROP_ENUM = 'DROP TYPE "my ""enum"""'
COLUMNS = ["user", "col with space", "semi;colon", '"dq"', "MixedCase", "order"]


def test_hostile_identifiers_round_trip(pg):
    pg.extra_schemas.append(SCHEMA)
    pg.python("20250101000000_hostile", f"""
        SCHEMA = {SCHEMA!r}
        TABLE = {TABLE!r}
        OTHER = {OTHER!r}

        class Hostile(Migration):
            def up(self, b):
                b.create_schema(SCHEMA)
                b.create_table(OTHER, sa.Column("select", sa.Integer, nullable=False),
                               sa.PrimaryKeyConstraint("select", name='pk "other"'),
                               schema=SCHEMA)
                b.create_table(TABLE,
                               sa.Column("user", sa.Integer, nullable=False),
                               sa.Column("col with space", sa.String(20)),
                               sa.Column("semi;colon", sa.Integer),
                               sa.Column('"dq"', sa.Text, comment="it's \\"quoted\\""),
                               sa.Column("MixedCase", sa.Enum("x", "y'z", name='my "enum"')),
                               schema=SCHEMA)
                b.add_column(TABLE, sa.Column("order", sa.Integer, server_default="1"),
                             schema=SCHEMA)
                b.create_primary_key("pk select", TABLE, ["user"], schema=SCHEMA)
                b.create_unique_constraint('uq "u"', TABLE, ["col with space"], schema=SCHEMA)
                b.create_check_constraint("ck ;", TABLE, '"semi;colon" > 0', schema=SCHEMA)
                b.create_foreign_key("fk from", TABLE, OTHER, ["order"], ["select"],
                                     schema=SCHEMA, referent_schema=SCHEMA)
                b.create_index('ix "odd"; name', TABLE, ["MixedCase", "order"], schema=SCHEMA)
                b.bulk_insert(OTHER, [{{"select": 1}}], schema=SCHEMA)
                b.bulk_insert(TABLE, [{{"user": 7, "col with space": "a b", "semi;colon": 3,
                                        '"dq"': "q", "MixedCase": "y'z", "order": 1}}],
                              schema=SCHEMA)

            def down(self, b):
                b.drop_index('ix "odd"; name', TABLE, schema=SCHEMA)
                b.drop_constraint("fk from", TABLE, type_="foreignkey", schema=SCHEMA)
                b.drop_table(TABLE, schema=SCHEMA)
                b.drop_table(OTHER, schema=SCHEMA)
                b.execute({DROP_ENUM!r})
                b.drop_schema(SCHEMA)
    """)
    ex = pg.executor()
    result = ex.execute()
    assert result.success, [e.message for e in result.errors]
    insp = pg.inspector()
    assert SCHEMA in insp.get_schema_names()
    assert set(insp.get_table_names(schema=SCHEMA)) == {TABLE, OTHER}
    cols = {c["name"]: c for c in insp.get_columns(TABLE, schema=SCHEMA)}
    assert list(cols) == COLUMNS
    assert cols['"dq"']["comment"] == "it's \"quoted\""
    assert cols["MixedCase"]["type"].name == 'my "enum"'
    assert insp.get_pk_constraint(TABLE, schema=SCHEMA)["name"] == "pk select"
    assert [u["name"] for u in insp.get_unique_constraints(TABLE, schema=SCHEMA)] == ['uq "u"']
    assert [c["name"] for c in insp.get_check_constraints(TABLE, schema=SCHEMA)] == ["ck ;"]
    (fk,) = insp.get_foreign_keys(TABLE, schema=SCHEMA)
    assert (fk["name"], fk["referred_table"], fk["referred_columns"]) == \
        ("fk from", OTHER, ["select"])
    indexes = {i["name"]: i["column_names"] for i in insp.get_indexes(TABLE, schema=SCHEMA)}
    assert indexes['ix "odd"; name'] == ["MixedCase", "order"]
    quoted = f'"{SCHEMA.replace(chr(34), 2 * chr(34))}"."{TABLE.replace(chr(34), 2 * chr(34))}"'
    assert pg.query(f'SELECT "user", "col with space", "MixedCase"::text FROM {quoted}') == \
        [(7, "a b", "y'z")]

    result = ex.rollback()
    assert result.success, [e.message for e in result.errors]
    assert SCHEMA not in pg.inspector().get_schema_names()


def test_case_is_kept_exactly(pg):
    pg.python("20250101000000_cases", """
        class Cases(Migration):
            def up(self, b):
                b.create_table("lower", sa.Column("id", sa.Integer))
                b.create_table("Upper", sa.Column("Id", sa.Integer))
                b.create_table("UPPER", sa.Column("ID", sa.Integer))

            def down(self, b):
                for name in ("lower", "Upper", "UPPER"):
                    b.drop_table(name)
    """)
    assert pg.executor().execute().success
    assert pg.tables() >= {"lower", "Upper", "UPPER"}
    assert [c["name"] for c in pg.inspector().get_columns("Upper", schema=pg.schema)] == ["Id"]


def test_identifier_longer_than_63_bytes_is_refused_before_anything_runs(pg):
    long_name = "é" * 32  # 64 bytes in UTF-8
    pg.python("20250101000000_first", """
        class First(Migration):
            def up(self, b):
                b.create_table("first_ok", sa.Column("id", sa.Integer))

            def down(self, b):
                b.drop_table("first_ok")
    """)
    pg.python("20250101000100_too_long", f"""
        class TooLong(Migration):
            def up(self, b):
                b.create_table({long_name!r}, sa.Column("id", sa.Integer))

            def down(self, b):
                pass
    """)
    with pytest.raises(ConfigurationError, match="at most 63"):
        pg.executor().execute()
    assert "first_ok" not in pg.tables()
    # 63 bytes is fine
    (pg.folder / "20250101000100_too_long.py").unlink()
    pg.python("20250101000100_just_fits", f"""
        class JustFits(Migration):
            def up(self, b):
                b.create_table({"a" * 63!r}, sa.Column("id", sa.Integer))

            def down(self, b):
                pass
    """)
    assert pg.executor().execute().success
    assert "a" * 63 in pg.tables()
