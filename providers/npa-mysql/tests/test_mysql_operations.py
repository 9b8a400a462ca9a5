"""Every operation of SPEC §4 on a real MariaDB/MySQL server, up and down, checked by
SQLAlchemy reflection (never by the SQL the provider generated)."""

from __future__ import annotations

import pytest

from npa_migrations.errors import ConfigurationError

from mysql_support import q


def up(my, **options):
    result = my.executor(**options).execute()
    assert result.success, "\n".join(e.message for e in result.errors)
    return result


def down(my, steps=1, **options):
    result = my.executor(**options).rollback(steps)
    assert result.success, "\n".join(e.message for e in result.errors)
    return result


def columns(my, table, schema=None):
    return {c["name"]: c for c in my.inspector().get_columns(table, schema=schema)}


def test_tables_create_rename_drop(my):
    users, people = my.name("users"), my.name("people")
    my.migration("20250101000000_CreateUsers", f"""
        b.create_table({users!r},
                       sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("email", sa.String(100), nullable=False, unique=True),
                       sa.Column("score", sa.Integer, server_default="7"),
                       sa.Column("bio", sa.Text, comment="free text"))
    """, f"b.drop_table({users!r})")
    my.migration("20250102000000_RenameUsers", f"b.rename_table({users!r}, {people!r})",
                 f"b.rename_table({people!r}, {users!r})")
    up(my)
    assert people in my.tables() and users not in my.tables()
    cols = columns(my, people)
    assert list(cols) == ["id", "email", "score", "bio"]
    assert cols["id"]["autoincrement"] is True and cols["email"]["nullable"] is False
    assert str(cols["score"]["default"]).strip("'") == "7"
    assert cols["bio"]["comment"] == "free text"
    assert any(u["column_names"] == ["email"] for u in my.inspector().get_unique_constraints(people))
    down(my)
    assert users in my.tables() and people not in my.tables()
    down(my)
    assert users not in my.tables()
    assert my.history() == []


def test_columns_add_drop_rename(my):
    t = my.name("t")
    my.migration("20250101000000_Create", f"""
        b.create_table({t!r}, sa.Column("id", sa.Integer, primary_key=True))
    """, f"b.drop_table({t!r})")
    my.migration("20250102000000_Columns", f"""
        b.add_column({t!r}, sa.Column("name", sa.String(50), nullable=False, server_default="x"))
        b.add_column({t!r}, sa.Column("gone", sa.Integer))
        b.drop_column({t!r}, "gone")
        b.rename_column({t!r}, "name", "title")
    """, f"""
        b.rename_column({t!r}, "title", "name")
        b.drop_column({t!r}, "name")
    """)
    up(my)
    cols = columns(my, t)
    assert list(cols) == ["id", "title"]
    assert cols["title"]["nullable"] is False and "VARCHAR(50)" in str(cols["title"]["type"])
    down(my)
    assert list(columns(my, t)) == ["id"]


def test_alter_column_modify_reflects_what_was_not_given(my):
    """MODIFY restates the whole column: type change keeps NOT NULL, the default, the
    comment and AUTO_INCREMENT read from the live table; nullable change keeps the type
    and collation; server_default alone is ALTER COLUMN SET/DROP DEFAULT."""
    t = my.name("alter")
    my.migration("20250101000000_Create", f"""
        b.create_table({t!r},
                       sa.Column("id", sa.Integer, primary_key=True, comment="key"),
                       sa.Column("code", sa.String(10, collation="utf8mb4_bin"), nullable=False,
                                 server_default="ab", comment="the code"),
                       sa.Column("n", sa.Integer, nullable=True))
        b.bulk_insert({t!r}, [{{"code": "x", "n": 1}}, {{"code": "y", "n": 2}}])
    """, f"b.drop_table({t!r})")
    my.migration("20250102000000_Alter", f"""
        b.alter_column({t!r}, "code", type_=sa.String(40))
        b.alter_column({t!r}, "n", nullable=False)
        b.alter_column({t!r}, "id", type_=sa.BigInteger)
        b.alter_column({t!r}, "n", server_default="5")
    """, f"""
        b.alter_column({t!r}, "n", server_default=None)
        b.alter_column({t!r}, "n", nullable=True, existing_type=sa.Integer)
        b.alter_column({t!r}, "code", type_=sa.String(10, collation="utf8mb4_bin"))
    """)
    up(my)
    cols = columns(my, t)
    assert "VARCHAR(40)" in str(cols["code"]["type"])
    assert cols["code"]["nullable"] is False
    assert cols["code"]["default"] == "'ab'" and cols["code"]["comment"] == "the code"
    assert "INTEGER" in str(cols["n"]["type"]) and cols["n"]["nullable"] is False
    assert cols["n"]["default"] == "'5'" or cols["n"]["default"] == "5"
    assert "BIGINT" in str(cols["id"]["type"]) and cols["id"]["autoincrement"] is True
    assert cols["id"]["comment"] == "key"
    assert my.query(f"SELECT code, n FROM {q(t)} ORDER BY id") == [("x", 1), ("y", 2)]
    down(my)
    cols = columns(my, t)
    assert "VARCHAR(10)" in str(cols["code"]["type"]) and cols["code"]["nullable"] is False
    assert getattr(cols["code"]["type"], "collation", None) == "utf8mb4_bin"
    assert cols["n"]["nullable"] is True and cols["n"]["default"] in (None, "NULL")


def test_alter_column_change_renames_and_retypes(my):
    t = my.name("chg")
    my.migration("20250101000000_Create", f"""
        b.create_table({t!r}, sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("old", sa.String(20), nullable=False))
    """, f"b.drop_table({t!r})")
    my.migration("20250102000000_Change", f"""
        b.alter_column({t!r}, "old", new_column_name="new", type_=sa.String(60), nullable=True)
    """, f"""
        b.alter_column({t!r}, "new", new_column_name="old", type_=sa.String(20), nullable=False)
    """)
    up(my)
    cols = columns(my, t)
    assert "new" in cols and "old" not in cols
    assert "VARCHAR(60)" in str(cols["new"]["type"]) and cols["new"]["nullable"] is True
    down(my)
    cols = columns(my, t)
    assert "VARCHAR(20)" in str(cols["old"]["type"]) and cols["old"]["nullable"] is False


def test_alter_column_offline_needs_existing_type(my):
    """Offline (``--sql --offline``) there is no table to read: a clear error asks for
    existing_type / existing_nullable; with them the MODIFY is rendered in full."""
    t = my.name("off")
    my.migration("20250101000000_Alter", f"""
        b.alter_column({t!r}, "c", nullable=False)
    """)
    with pytest.raises(ConfigurationError, match="existing_type"):
        my.executor().script(offline=True)
    # an online script cannot trust the live table either (earlier pending migrations
    # have not run), so it renders such a step as offline too
    with pytest.raises(ConfigurationError, match="existing_type"):
        my.executor().script()
    my.migration("20250101000000_Alter", f"""
        b.alter_column({t!r}, "c", nullable=False, existing_type=sa.String(30),
                       existing_server_default="d")
    """)
    for offline in (True, False):
        script = my.executor().script(offline=offline)
        assert f"ALTER TABLE {t} MODIFY COLUMN c VARCHAR(30) NOT NULL DEFAULT 'd';" in script


def test_indexes(my):
    t = my.name("ix")
    my.migration("20250101000000_Create", f"""
        b.create_table({t!r}, sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("a", sa.String(20)), sa.Column("b", sa.Integer))
    """, f"b.drop_table({t!r})")
    my.migration("20250102000000_Index", f"""
        b.create_index("ix_a_b", {t!r}, ["a", "b"])
        b.create_index("ux_b", {t!r}, ["b"], unique=True)
    """, f"""
        b.drop_index("ux_b", {t!r})
        b.drop_index("ix_a_b", {t!r})
    """)
    up(my)
    indexes = {i["name"]: i for i in my.inspector().get_indexes(t)}
    assert indexes["ix_a_b"]["column_names"] == ["a", "b"] and not indexes["ix_a_b"]["unique"]
    assert indexes["ux_b"]["unique"]
    down(my)
    assert my.inspector().get_indexes(t) == []


def test_constraints_each_kind_and_untyped_drop(my):
    parent, child = my.name("parent"), my.name("child")
    my.migration("20250101000000_Create", f"""
        b.create_table({parent!r}, sa.Column("id", sa.Integer, nullable=False),
                       sa.Column("code", sa.String(10)))
        b.create_table({child!r}, sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("parent_id", sa.Integer), sa.Column("qty", sa.Integer))
    """, f"""
        b.drop_table({child!r})
        b.drop_table({parent!r})
    """)
    my.migration("20250102000000_Constraints", f"""
        b.create_primary_key("pk_parent", {parent!r}, ["id"])
        b.create_unique_constraint("uq_code", {parent!r}, ["code"])
        b.create_foreign_key("fk_child_parent", {child!r}, {parent!r}, ["parent_id"], ["id"],
                             ondelete="CASCADE")
        b.create_check_constraint("ck_qty", {child!r}, "qty > 0")
    """, f"""
        b.drop_constraint("ck_qty", {child!r}, type_="check")
        b.drop_constraint("fk_child_parent", {child!r})
        b.drop_constraint("uq_code", {parent!r}, type_="unique")
        b.drop_constraint("PRIMARY", {parent!r})
    """)
    up(my)
    insp = my.inspector()
    assert insp.get_pk_constraint(parent)["constrained_columns"] == ["id"]
    assert [u["name"] for u in insp.get_unique_constraints(parent)] == ["uq_code"]
    (fk,) = insp.get_foreign_keys(child)
    assert fk["name"] == "fk_child_parent" and fk["referred_table"] == parent
    assert fk["options"].get("ondelete") == "CASCADE"
    assert [c["name"] for c in insp.get_check_constraints(child)] == ["ck_qty"]
    with pytest.raises(Exception, match="ck_qty|CONSTRAINT"):
        my.query(f"INSERT INTO {q(child)} (qty) VALUES (0)")
    down(my)
    insp = my.inspector()
    assert insp.get_pk_constraint(parent)["constrained_columns"] == []
    assert insp.get_unique_constraints(parent) == []
    assert insp.get_foreign_keys(child) == []
    assert insp.get_check_constraints(child) == []


def test_schemas_are_databases(my):
    """create_schema is CREATE DATABASE; tables can live in it; drop_schema refuses a
    database that still has tables, and drops an empty one."""
    schema = my.name("sch")
    t = my.name("in_schema")
    my.migration("20250101000000_Schema", f"""
        b.create_schema({schema!r})
        b.create_table({t!r}, sa.Column("id", sa.Integer, primary_key=True), schema={schema!r})
        b.bulk_insert({t!r}, [{{"id": 1}}], schema={schema!r})
    """, f"""
        b.drop_table({t!r}, schema={schema!r})
        b.drop_schema({schema!r})
    """)
    up(my)
    assert schema in my.inspector().get_schema_names()
    assert my.tables(schema=schema) == {t}
    assert my.query(f"SELECT id FROM {q(schema)}.{q(t)}") == [(1,)]
    down(my)
    assert schema not in my.inspector().get_schema_names()

    # a non-empty database is not dropped
    my.migration("20250101000000_Schema", f"""
        b.create_schema({schema!r})
        b.create_table({t!r}, sa.Column("id", sa.Integer, primary_key=True), schema={schema!r})
    """, f"b.drop_schema({schema!r})")
    up(my)
    result = my.executor().rollback()
    assert not result.success
    assert "still has 1 table" in result.errors[0].message
    assert my.tables(schema=schema) == {t}


def test_bulk_insert_and_execute(my):
    t = my.name("data")
    rows = [{"id": i, "name": f"n{i}%", "doc": {"k": i}} for i in range(1, 2501)]
    my.migration("20250101000000_Data", f"""
        b.create_table({t!r}, sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("name", sa.String(20)), sa.Column("doc", sa.JSON))
        b.bulk_insert({t!r}, {rows!r})
        b.execute("UPDATE {t} SET name = CONCAT(name, '\\\\'') WHERE id = 1; "
                  "# a MySQL comment; with a semicolon\\n"
                  "DELETE FROM {t} WHERE id = 2")
        b.execute("SELECT 'only on postgres'", dialects=["postgresql"])
    """, f"b.drop_table({t!r})")
    up(my)
    assert my.query(f"SELECT COUNT(*) FROM {q(t)}") == [(2499,)]
    assert my.query(f"SELECT name, doc FROM {q(t)} WHERE id IN (1, 3) ORDER BY id") == [
        ("n1%'", '{"k": 1}'), ("n3%", '{"k": 3}')]


def test_bulk_insert_uses_multi_row_inserts(my, monkeypatch):
    """PyMySQL's executemany sends INSERT ... VALUES (...), (...), ... batches: a few
    statements on the wire for thousands of rows."""
    import pymysql.cursors

    t = my.name("bulk")
    sent = []
    original = pymysql.cursors.Cursor._query

    def spy(self, query):
        text = bytes(query).decode("utf-8", "replace") if not isinstance(query, str) else query
        if text.lstrip().upper().startswith("INSERT INTO") and t in text:
            sent.append(text.count("),(") + 1)
        return original(self, query)

    monkeypatch.setattr(pymysql.cursors.Cursor, "_query", spy)
    my.migration("20250101000000_Bulk", f"""
        b.create_table({t!r}, sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("v", sa.String(30)))
        b.bulk_insert({t!r}, ({{"id": i, "v": "value %d" % i}} for i in range(1, 20001)))
    """)
    up(my)
    assert my.query(f"SELECT COUNT(*), SUM(id) FROM {q(t)}") == [(20000, sum(range(1, 20001)))]
    # 20,000 rows in a handful of multi-row statements (batches of 10,000 rows each, split
    # only where a statement would pass max_stmt_length)
    assert sum(sent) == 20000 and len(sent) <= 4, sent


def test_sql_file_is_split_the_mysql_way(my):
    """A ``.sql`` migration is split by the MySQL provider when it runs: ``\\'`` inside a
    string, ``#`` comments holding ``;`` and quotes, a ``CASE ... END CASE`` procedure
    body, and ``DELIMITER`` blocks, as the ``mysql`` client reads them."""
    t, p, p2 = my.name("s"), my.name("p"), my.name("p2")
    my.sql("20250101000000_mysql_text", rf"""
        -- npa:up
        CREATE TABLE {t} (id INT PRIMARY KEY, note VARCHAR(50)); # the table; it's new
        INSERT INTO {t} VALUES (1, 'it\'s; here'), (2, "a \"quoted\"; b");
        CREATE PROCEDURE {p}(IN x INT) BEGIN
          CASE x WHEN 1 THEN UPDATE {t} SET note = 'one' WHERE id = 1;
                 ELSE UPDATE {t} SET note = 'other' WHERE id = 1; END CASE;
        END;
        DELIMITER $$
        CREATE PROCEDURE {p2}() BEGIN UPDATE {t} SET note = CONCAT(note, ';$') WHERE id = 2; END$$
        DELIMITER ;
        CALL {p2}();
        -- npa:down
        DROP PROCEDURE {p2}; DROP PROCEDURE {p};
        DROP TABLE {t};
    """)
    result = my.executor().execute()
    assert result.success, result.errors
    assert my.query(f"SELECT id, note FROM {q(t)} ORDER BY id") == [
        (1, "it's; here"), (2, 'a "quoted"; b;$')]
    script = my.executor().discover()[0]
    assert len(script.up_operations()) == 5
    assert my.executor().rollback().success
    assert t not in my.tables()
