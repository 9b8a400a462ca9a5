"""Every builder operation on PostgreSQL, up and down, checked by SQLAlchemy reflection."""

from __future__ import annotations

import pytest
import sqlalchemy as sa



def ok(result):
    assert result.success, [e.message for e in result.errors]
    return result


def columns(pg, table, schema=None):
    return {c["name"]: c for c in pg.inspector().get_columns(table, schema=schema or pg.schema)}


def test_create_table_with_identity_serial_enum_comment_constraints(pg):
    pg.python("20250101000000_create_everything", """
        from sqlalchemy.dialects import postgresql

        class CreateEverything(Migration):
            def up(self, b):
                b.create_table(
                    "parent",
                    sa.Column("id", sa.Integer, sa.Identity(always=True), primary_key=True),
                    sa.Column("code", sa.String(20), nullable=False, unique=True))
                b.create_table(
                    "child",
                    sa.Column("id", sa.BigInteger, primary_key=True),
                    sa.Column("parent_id", sa.Integer,
                              sa.ForeignKey("parent.id", ondelete="CASCADE"), nullable=False),
                    sa.Column("mood", sa.Enum("happy", "sad", name="mood"),
                              comment="How it feels"),
                    sa.Column("amount", sa.Numeric(10, 2), server_default="0"),
                    sa.Column("created", sa.DateTime(timezone=True),
                              server_default=sa.text("now()")),
                    sa.Column("payload", postgresql.JSONB),
                    sa.Column("tags", postgresql.ARRAY(sa.Text)),
                    sa.CheckConstraint("amount >= 0", name="ck_child_amount"),
                    sa.UniqueConstraint("parent_id", "mood", name="uq_child_parent_mood"))

            def down(self, b):
                b.drop_table("child")
                b.drop_table("parent")
                b.execute("DROP TYPE mood")
    """)
    ex = pg.executor()
    ok(ex.execute())
    insp = pg.inspector()
    parent = columns(pg, "parent")
    assert parent["id"]["identity"]["always"] is True
    assert insp.get_pk_constraint("parent", schema=pg.schema)["constrained_columns"] == ["id"]
    assert [u["column_names"] for u in insp.get_unique_constraints("parent", schema=pg.schema)] \
        == [["code"]]
    child = columns(pg, "child")
    assert isinstance(child["id"]["type"], sa.BigInteger)
    assert "nextval" in child["id"]["default"]  # BIGSERIAL
    assert child["mood"]["type"].name == "mood"
    assert list(child["mood"]["type"].enums) == ["happy", "sad"]
    assert child["mood"]["comment"] == "How it feels"
    assert (child["amount"]["type"].precision, child["amount"]["type"].scale) == (10, 2)
    assert child["amount"]["default"] == "'0'::numeric"
    assert child["created"]["type"].timezone is True
    assert "now()" in child["created"]["default"]
    assert child["payload"]["type"].__class__.__name__ == "JSONB"
    assert child["parent_id"]["nullable"] is False
    (fk,) = insp.get_foreign_keys("child", schema=pg.schema)
    assert (fk["referred_table"], fk["referred_columns"], fk["options"].get("ondelete")) \
        == ("parent", ["id"], "CASCADE")
    checks = {c["name"]: c["sqltext"] for c in insp.get_check_constraints("child", schema=pg.schema)}
    assert "amount >= " in checks["ck_child_amount"]
    uniques = {u["name"]: u["column_names"]
               for u in insp.get_unique_constraints("child", schema=pg.schema)}
    assert uniques == {"uq_child_parent_mood": ["parent_id", "mood"]}
    # identity ALWAYS really refuses explicit ids; the enum type is enforced
    pg.query("INSERT INTO parent (code) VALUES ('p1')")
    with pytest.raises(Exception, match="GENERATED ALWAYS"):
        pg.query("INSERT INTO parent (id, code) VALUES (5, 'p2')")
    with pytest.raises(Exception, match="invalid input value for enum"):
        pg.query("INSERT INTO child (parent_id, mood) VALUES (1, 'angry')")

    ok(ex.rollback())
    assert pg.tables() == set()
    assert pg.query("SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                    "WHERE t.typname = 'mood' AND n.nspname = %s", (pg.schema,)) == []
    assert pg.history() == []


def test_column_operations_up_and_down(pg):
    pg.python("20250101000000_base", """
        class Base(Migration):
            def up(self, b):
                b.create_table("items", sa.Column("id", sa.Integer, primary_key=True),
                               sa.Column("qty", sa.String(10), server_default="1"),
                               sa.Column("flag", sa.Integer),
                               sa.Column("old_name", sa.Text))
                b.bulk_insert("items", [{"id": 1, "qty": "12", "flag": 1, "old_name": "a"},
                                        {"id": 2, "qty": "7", "flag": 0, "old_name": "b"}])

            def down(self, b):
                b.drop_table("items")
    """)
    pg.python("20250101000100_change_columns", """
        class ChangeColumns(Migration):
            def up(self, b):
                b.add_column("items", sa.Column("note", sa.String(50), nullable=False,
                                                server_default="none", comment="free text"))
                # varchar -> integer needs USING; the old default must not be cast
                b.alter_column("items", "qty", type_=sa.Integer(), nullable=False,
                               server_default=sa.text("0"))
                # integer -> boolean has no assignment cast either
                b.alter_column("items", "flag", type_=sa.Boolean())
                b.rename_column("items", "old_name", "label")
                b.alter_column("items", "label", new_column_name="title", nullable=False)
                b.drop_column("items", "title")

            def down(self, b):
                b.add_column("items", sa.Column("title", sa.Text))
                b.alter_column("items", "title", new_column_name="old_name")
                b.alter_column("items", "flag", type_=sa.Integer())
                b.alter_column("items", "qty", type_=sa.String(10), nullable=True,
                               server_default="1")
                b.drop_column("items", "note")
    """)
    ex = pg.executor()
    ok(ex.execute())
    cols = columns(pg, "items")
    assert list(cols) == ["id", "qty", "flag", "note"]
    assert isinstance(cols["qty"]["type"], sa.Integer) and cols["qty"]["nullable"] is False
    assert cols["qty"]["default"] == "0"
    assert isinstance(cols["flag"]["type"], sa.Boolean)
    assert cols["note"]["comment"] == "free text" and cols["note"]["nullable"] is False
    assert cols["note"]["type"].length == 50
    assert pg.query("SELECT id, qty, flag, note FROM items ORDER BY id") == \
        [(1, 12, True, "none"), (2, 7, False, "none")]

    ok(ex.rollback())
    cols = columns(pg, "items")
    assert list(cols) == ["id", "qty", "flag", "old_name"]
    assert isinstance(cols["qty"]["type"], sa.String) and cols["qty"]["type"].length == 10
    assert cols["qty"]["nullable"] is True and cols["qty"]["default"].startswith("'1'")
    assert isinstance(cols["flag"]["type"], sa.Integer)
    assert pg.query("SELECT id, qty, flag FROM items ORDER BY id") == [(1, "12", 1), (2, "7", 0)]
    ok(ex.rollback())
    assert "items" not in pg.tables()


def test_narrowing_a_varchar_fails_instead_of_truncating(pg):
    pg.python("20250101000000_base", """
        class Base(Migration):
            def up(self, b):
                b.create_table("words", sa.Column("w", sa.String(20)))
                b.bulk_insert("words", [{"w": "abcdef"}])

            def down(self, b):
                b.drop_table("words")
    """)
    pg.python("20250101000100_narrow", """
        class Narrow(Migration):
            def up(self, b):
                b.alter_column("words", "w", type_=sa.String(3))

            def down(self, b):
                b.alter_column("words", "w", type_=sa.String(20))
    """)
    result = pg.executor().execute()
    assert result.migration_ids == ["20250101000000_Base"]
    assert "value too long" in result.errors[0].message
    assert pg.query("SELECT w FROM words") == [("abcdef",)]
    assert columns(pg, "words")["w"]["type"].length == 20


def test_table_index_and_constraint_operations(pg):
    pg.python("20250101000000_tables", """
        class Tables(Migration):
            def up(self, b):
                b.create_schema("refs")
                b.create_table("countries", sa.Column("code", sa.String(2), nullable=False),
                               schema="refs")
                b.create_primary_key("pk_countries", "countries", ["code"], schema="refs")
                b.create_table("people", sa.Column("id", sa.Integer, nullable=False),
                               sa.Column("email", sa.String(100)),
                               sa.Column("country", sa.String(2)),
                               sa.Column("age", sa.Integer))
                b.create_primary_key("pk_people", "people", ["id"])
                b.create_unique_constraint("uq_people_email", "people", ["email"])
                b.create_check_constraint("ck_people_age", "people", "age >= 0")
                b.create_foreign_key("fk_people_country", "people", "countries", ["country"],
                                     ["code"], ondelete="SET NULL", referent_schema="refs")
                b.create_index("ix_people_country_age", "people", ["country", "age"])
                b.create_index("ux_people_lower", "people", ["email", "id"], unique=True)
                b.rename_table("people", "persons")

            def down(self, b):
                b.rename_table("persons", "people")
                b.drop_index("ux_people_lower", "people")
                b.drop_index("ix_people_country_age", "people")
                b.drop_constraint("fk_people_country", "people", type_="foreignkey")
                b.drop_constraint("ck_people_age", "people", type_="check")
                b.drop_constraint("uq_people_email", "people", type_="unique")
                b.drop_constraint("pk_people", "people", type_="primary")
                b.drop_table("people")
                b.drop_table("countries", schema="refs")
                b.drop_schema("refs")
    """)
    pg.extra_schemas.append("refs")
    ex = pg.executor()
    ok(ex.execute())
    insp = pg.inspector()
    assert "refs" in insp.get_schema_names()
    assert pg.tables() == {"persons"}
    assert insp.get_pk_constraint("countries", schema="refs")["name"] == "pk_countries"
    pk = insp.get_pk_constraint("persons", schema=pg.schema)
    assert (pk["name"], pk["constrained_columns"]) == ("pk_people", ["id"])
    (fk,) = insp.get_foreign_keys("persons", schema=pg.schema)
    assert (fk["name"], fk["referred_schema"], fk["referred_table"], fk["options"]["ondelete"]) \
        == ("fk_people_country", "refs", "countries", "SET NULL")
    assert [c["name"] for c in insp.get_check_constraints("persons", schema=pg.schema)] \
        == ["ck_people_age"]
    assert [u["name"] for u in insp.get_unique_constraints("persons", schema=pg.schema)] \
        == ["uq_people_email"]
    indexes = {i["name"]: (i["column_names"], i["unique"])
               for i in insp.get_indexes("persons", schema=pg.schema)}
    assert indexes["ix_people_country_age"] == (["country", "age"], False)
    assert indexes["ux_people_lower"] == (["email", "id"], True)
    with pytest.raises(Exception, match="ck_people_age"):
        pg.query("INSERT INTO persons (id, age) VALUES (1, -1)")

    ok(ex.rollback())
    insp = pg.inspector()
    assert pg.tables() == set()
    assert "refs" not in insp.get_schema_names()
    pg.extra_schemas.remove("refs")


def test_bulk_insert_and_dialect_specific_execute(pg):
    pg.python("20250101000000_data", """
        class Data(Migration):
            def up(self, b):
                b.create_table("nums", sa.Column("n", sa.Integer), sa.Column("s", sa.Text))
                b.bulk_insert("nums", ({"n": i, "s": f"{i}% o'clock"} for i in range(2500)))
                b.bulk_insert("nums", [{"n": -1, "s": None}])
                b.execute("INSERT INTO nums (n, s) VALUES (-2, 'pg only')", dialects="postgresql")
                b.execute("INSERT INTO nums (n, s) VALUES (-3, 'sqlite only')", dialects="sqlite")

            def down(self, b):
                b.drop_table("nums")
    """)
    ok(pg.executor().execute())
    assert pg.query("SELECT count(*), min(n), max(n) FROM nums") == [(2502, -2, 2499)]
    assert pg.query("SELECT s FROM nums WHERE n = 7") == [("7% o'clock",)]
    assert pg.query("SELECT s FROM nums WHERE n = -1") == [(None,)]


def test_sql_migration_with_dollar_quoted_function(pg):
    pg.sql("20250101000000_function", """
        -- npa:up
        CREATE TABLE audit (id SERIAL PRIMARY KEY, msg TEXT NOT NULL);
        CREATE FUNCTION log_it(m TEXT) RETURNS void AS $$
        BEGIN
            INSERT INTO audit (msg) VALUES (m || ';');
        END;
        $$ LANGUAGE plpgsql;
        SELECT log_it('100%');
        -- npa:down
        DROP FUNCTION log_it(TEXT);
        DROP TABLE audit;
    """)
    ex = pg.executor()
    ok(ex.execute())
    assert pg.query("SELECT msg FROM audit") == [("100%;",)]
    ok(ex.rollback())
    assert "audit" not in pg.tables()
