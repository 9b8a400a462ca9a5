"""add_column, drop_column, alter_column (type, nullable, server default, name),
rename_column. On databases without ALTER in place (SQLite) these need a table rebuild,
which must keep rows, indexes and constraints."""

from __future__ import annotations

from ..requirements import requires
from .base import SuiteTest, no_default

__all__ = ["TestAddColumn", "TestDropColumn", "TestAlterColumn", "TestAlterKeepsTheRest",
           "TestAlterInPlace", "TestRenameColumn"]

BASE_ID = "20250101000000_CreateItems"
CHANGE_ID = "20250102000000_ChangeItems"

ITEMS = """
    b.create_table(
        "npat_items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("label", sa.String(20), nullable=True),
        sa.Column("note", sa.String(50), nullable=True),
        sa.Column("status", sa.String(20), nullable=True))
"""
ROWS = [{"id": 1, "label": "one", "note": "n1", "status": "s1"},
        {"id": 2, "label": "two", "note": "n2", "status": None}]


class _ItemsTest(SuiteTest):
    """Creates ``npat_items`` with two rows, then applies ``up``/``down`` as one migration."""

    def change(self, up: str, down: str) -> None:
        self.folder.python(BASE_ID, ITEMS, 'b.drop_table("npat_items")')
        self.up()
        self.db.insert("npat_items", *ROWS)
        self.folder.python(CHANGE_ID, up, down)
        self.up()

    def item_rows(self, columns=("id", "label", "note", "status")) -> list[tuple]:
        return self.db.rows("npat_items", columns)


class TestAddColumn(_ItemsTest):
    def test_add_columns_then_drop_them(self):
        self.change("""
            b.add_column("npat_items", sa.Column("price", sa.Integer, nullable=False,
                                                  server_default=sa.text("7")))
            b.add_column("npat_items", sa.Column("extra", sa.String(100), nullable=True))
        """, """
            b.drop_column("npat_items", "extra")
            b.drop_column("npat_items", "price")
        """)
        db = self.db
        columns = db.columns("npat_items")
        assert list(columns) == ["id", "label", "note", "status", "price", "extra"]
        assert columns["price"]["nullable"] is False
        assert columns["extra"]["nullable"] is True
        assert columns["extra"]["type"].length == 100
        assert db.rows("npat_items", ["id", "price", "extra"]) == [(1, 7, None), (2, 7, None)]
        db.assert_insert_rejected("npat_items", {"id": 3, "price": None})
        self.down()
        assert db.column_names("npat_items") == ["id", "label", "note", "status"]
        assert self.item_rows() == [(1, "one", "n1", "s1"), (2, "two", "n2", None)]


@requires.drop_column
class TestDropColumn(_ItemsTest):
    def test_drop_column_then_add_it_back(self):
        self.change('b.drop_column("npat_items", "note")',
                    'b.add_column("npat_items", sa.Column("note", sa.String(50), nullable=True))')
        assert self.db.column_names("npat_items") == ["id", "label", "status"]
        assert self.item_rows(("id", "label", "status")) == [(1, "one", "s1"), (2, "two", None)]
        self.down()
        assert self.db.column_names("npat_items") == ["id", "label", "status", "note"]
        assert self.db.rows("npat_items", ["id", "note"]) == [(1, None), (2, None)]


class TestAlterColumn(_ItemsTest):
    def test_type(self):
        self.change("""
            b.alter_column("npat_items", "label", type_=sa.String(200),
                           existing_type=sa.String(20), existing_nullable=True)
        """, """
            b.alter_column("npat_items", "label", type_=sa.String(20),
                           existing_type=sa.String(200), existing_nullable=True)
        """)
        assert self.db.columns("npat_items")["label"]["type"].length == 200
        self.db.insert("npat_items", {"id": 3, "label": "x" * 150})
        self.db.delete("npat_items", id=3)
        assert self.item_rows() == [(1, "one", "n1", "s1"), (2, "two", "n2", None)]
        self.down()
        assert self.db.columns("npat_items")["label"]["type"].length == 20
        assert self.item_rows() == [(1, "one", "n1", "s1"), (2, "two", "n2", None)]

    def test_nullable(self):
        self.change("""
            b.alter_column("npat_items", "note", nullable=False,
                           existing_type=sa.String(50), existing_nullable=True)
        """, """
            b.alter_column("npat_items", "note", nullable=True,
                           existing_type=sa.String(50), existing_nullable=False)
        """)
        assert self.db.columns("npat_items")["note"]["nullable"] is False
        self.db.assert_insert_rejected("npat_items", {"id": 3, "note": None})
        assert self.item_rows() == [(1, "one", "n1", "s1"), (2, "two", "n2", None)]
        self.down()
        assert self.db.columns("npat_items")["note"]["nullable"] is True
        self.db.insert("npat_items", {"id": 3, "note": None})
        assert self.db.count("npat_items") == 3

    def test_server_default(self):
        self.change("""
            b.alter_column("npat_items", "status", server_default="active",
                           existing_type=sa.String(20), existing_nullable=True)
        """, """
            b.alter_column("npat_items", "status", server_default=None,
                           existing_type=sa.String(20), existing_nullable=True,
                           existing_server_default="active")
        """)
        assert "active" in str(self.db.columns("npat_items")["status"]["default"])
        self.db.insert("npat_items", {"id": 3, "label": "three"})
        assert self.db.rows("npat_items", ["id", "status"]) == [(1, "s1"), (2, None),
                                                                  (3, "active")]
        self.down()
        assert no_default(self.db.columns("npat_items")["status"]["default"])
        self.db.insert("npat_items", {"id": 4, "label": "four"})
        assert self.db.rows("npat_items", ["id", "status"])[-1] == (4, None)

    def test_new_column_name(self):
        self.change("""
            b.alter_column("npat_items", "label", new_column_name="title",
                           existing_type=sa.String(20), existing_nullable=True)
        """, """
            b.alter_column("npat_items", "title", new_column_name="label",
                           existing_type=sa.String(20), existing_nullable=True)
        """)
        assert self.db.column_names("npat_items") == ["id", "title", "note", "status"]
        assert self.db.rows("npat_items", ["id", "title"]) == [(1, "one"), (2, "two")]
        self.down()
        assert self.db.column_names("npat_items") == ["id", "label", "note", "status"]
        assert self.item_rows() == [(1, "one", "n1", "s1"), (2, "two", "n2", None)]

    def test_several_changes_in_one_call(self):
        self.change("""
            b.alter_column("npat_items", "note", type_=sa.String(120), nullable=False,
                           server_default="none", existing_type=sa.String(50),
                           existing_nullable=True)
        """, """
            b.alter_column("npat_items", "note", type_=sa.String(50), nullable=True,
                           server_default=None, existing_type=sa.String(120),
                           existing_nullable=False, existing_server_default="none")
        """)
        column = self.db.columns("npat_items")["note"]
        assert (column["type"].length, column["nullable"]) == (120, False)
        self.db.insert("npat_items", {"id": 3})
        assert self.db.rows("npat_items", ["id", "note"])[-1] == (3, "none")
        self.down()
        column = self.db.columns("npat_items")["note"]
        assert (column["type"].length, column["nullable"]) == (50, True)
        assert no_default(column["default"])


KEEP = """
    b.create_table("npat_parent", sa.Column("id", sa.Integer, primary_key=True,
                                             autoincrement=False))
    b.create_table(
        "npat_keep",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("parent_id", sa.Integer, nullable=True),
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("qty", sa.Integer, nullable=False, server_default=sa.text("1")),
        sa.Column("label", sa.String(20), nullable=True),
        sa.UniqueConstraint("code", name="npat_uq_keep_code"),
        sa.CheckConstraint("qty >= 0", name="npat_ck_keep_qty"),
        sa.ForeignKeyConstraint(["parent_id"], ["npat_parent.id"], name="npat_fk_keep_parent",
                                ondelete="CASCADE"))
    b.create_index("npat_ix_keep_label", "npat_keep", ["label"])
    b.create_table(
        "npat_ref",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("keep_id", sa.Integer, nullable=True),
        sa.ForeignKeyConstraint(["keep_id"], ["npat_keep.id"], name="npat_fk_ref_keep"))
"""


class TestAlterKeepsTheRest(SuiteTest):
    """Altering one column leaves every other part of the table, and the foreign keys
    that point at it, as they were (what a SQLite table rebuild must preserve)."""

    def assert_intact(self, label_length: int) -> None:
        db = self.db
        assert db.column_names("npat_keep") == ["id", "parent_id", "code", "qty", "label"]
        assert db.columns("npat_keep")["label"]["type"].length == label_length
        assert db.columns("npat_keep")["code"]["nullable"] is False
        assert "1" in str(db.columns("npat_keep")["qty"]["default"])
        assert db.primary_key("npat_keep") == ["id"]
        index = db.indexes("npat_keep").get("npat_ix_keep_label")
        assert index is not None and index["column_names"] == ["label"]
        assert not index["unique"]
        assert "npat_uq_keep_code" in db.unique_names("npat_keep")
        assert "npat_ck_keep_qty" in db.check_constraints("npat_keep")
        fk = db.foreign_key("npat_keep", "npat_fk_keep_parent")
        assert fk is not None and fk["referred_table"] == "npat_parent"
        assert (fk["options"].get("ondelete") or "").upper() == "CASCADE"
        incoming = db.foreign_key("npat_ref", "npat_fk_ref_keep")
        assert incoming is not None and incoming["referred_table"] == "npat_keep"
        assert db.rows("npat_keep", ["id", "parent_id", "code", "qty", "label"]) == [
            (1, 1, "a", 5, "first"), (2, None, "b", 1, None)]
        assert db.rows("npat_ref", ["id", "keep_id"]) == [(1, 1)]

    def assert_enforced(self) -> None:
        db = self.db
        db.assert_insert_rejected("npat_keep", {"id": 3, "code": "a"})
        db.assert_insert_rejected("npat_keep", {"id": 3, "code": "c", "qty": -1})
        db.assert_insert_rejected("npat_keep", {"id": 3, "code": "c", "parent_id": 99})
        db.assert_insert_rejected("npat_ref", {"id": 2, "keep_id": 99})

    def test_alter_type_keeps_rows_indexes_constraints_and_references(self):
        self.folder.python(BASE_ID, KEEP, """
            b.drop_table("npat_ref")
            b.drop_table("npat_keep")
            b.drop_table("npat_parent")
        """)
        self.up()
        self.db.insert("npat_parent", {"id": 1})
        self.db.insert("npat_keep", {"id": 1, "parent_id": 1, "code": "a", "qty": 5,
                                     "label": "first"},
                       {"id": 2, "parent_id": None, "code": "b", "qty": 1, "label": None})
        self.db.insert("npat_ref", {"id": 1, "keep_id": 1})
        self.folder.python(CHANGE_ID, """
            b.alter_column("npat_keep", "label", type_=sa.String(80),
                           existing_type=sa.String(20), existing_nullable=True)
        """, """
            b.alter_column("npat_keep", "label", type_=sa.String(20),
                           existing_type=sa.String(80), existing_nullable=True)
        """)
        self.up()
        self.assert_intact(80)
        self.assert_enforced()
        self.down()
        self.assert_intact(20)
        self.assert_enforced()


@requires.alter_in_place
class TestAlterInPlace(_ItemsTest):
    def test_alter_column_does_not_copy_the_table(self):
        self.folder.python(BASE_ID, ITEMS, 'b.drop_table("npat_items")')
        self.up()
        self.folder.python(CHANGE_ID, """
            b.alter_column("npat_items", "label", type_=sa.String(200),
                           existing_type=sa.String(20), existing_nullable=True)
        """, "")
        script = self.executor().script()
        assert "npat_items" in script
        assert "CREATE TABLE" not in script.upper()


class TestRenameColumn(_ItemsTest):
    def test_rename_both_ways(self):
        self.change('b.rename_column("npat_items", "label", "title")',
                    'b.rename_column("npat_items", "title", "label")')
        assert self.db.column_names("npat_items") == ["id", "title", "note", "status"]
        assert self.db.rows("npat_items", ["id", "title"]) == [(1, "one"), (2, "two")]
        self.down()
        assert self.db.column_names("npat_items") == ["id", "label", "note", "status"]
        assert self.item_rows() == [(1, "one", "n1", "s1"), (2, "two", "n2", None)]
