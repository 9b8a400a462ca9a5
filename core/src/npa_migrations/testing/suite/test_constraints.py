"""create_foreign_key, create_primary_key, create_unique_constraint,
create_check_constraint and drop_constraint on existing tables (SQLite: rebuilds)."""

from __future__ import annotations

from .base import SuiteTest

__all__ = ["TestCreateForeignKey", "TestCreatePrimaryKey", "TestCreateUniqueConstraint",
           "TestCreateCheckConstraint", "TestDropConstraint"]

TABLES = """
    b.create_table("npat_parent",
                   sa.Column("id", sa.Integer, primary_key=True, autoincrement=False))
    b.create_table(
        "npat_child",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("parent_id", sa.Integer, nullable=True),
        sa.Column("email", sa.String(100), nullable=True),
        sa.Column("price", sa.Integer, nullable=True))
"""
DROP_TABLES = """
    b.drop_table("npat_child")
    b.drop_table("npat_parent")
"""


class _ConstraintTest(SuiteTest):
    def change(self, up: str, down: str) -> None:
        self.folder.python("20250101000000_CreateTables", TABLES, DROP_TABLES)
        self.up()
        self.db.insert("npat_parent", {"id": 1}, {"id": 2})
        self.db.insert("npat_child", {"id": 1, "parent_id": 1, "email": "a@x", "price": 5},
                       {"id": 2, "parent_id": 2, "email": "b@x", "price": 0})
        self.folder.python("20250102000000_AddConstraint", up, down)
        self.up()

    def assert_rows_kept(self) -> None:
        assert self.db.rows("npat_child", ["id", "parent_id", "email", "price"]) == [
            (1, 1, "a@x", 5), (2, 2, "b@x", 0)]


class TestCreateForeignKey(_ConstraintTest):
    def test_with_ondelete_cascade(self):
        self.change("""
            b.create_foreign_key("npat_fk_child_parent", "npat_child", "npat_parent",
                                 ["parent_id"], ["id"], ondelete="CASCADE")
        """, 'b.drop_constraint("npat_fk_child_parent", "npat_child", type_="foreignkey")')
        fk = self.db.foreign_key("npat_child", "npat_fk_child_parent")
        assert fk is not None, self.db.foreign_keys("npat_child")
        assert (fk["constrained_columns"], fk["referred_table"], fk["referred_columns"]) == (
            ["parent_id"], "npat_parent", ["id"])
        assert (fk["options"].get("ondelete") or "").upper() == "CASCADE"
        self.assert_rows_kept()
        self.db.assert_insert_rejected("npat_child", {"id": 3, "parent_id": 99})
        self.db.delete("npat_parent", id=2)
        assert self.db.rows("npat_child", ["id"]) == [(1,)]
        self.down()
        assert self.db.foreign_key("npat_child", "npat_fk_child_parent") is None
        self.db.insert("npat_child", {"id": 3, "parent_id": 99})
        assert self.db.count("npat_child") == 2


class TestCreatePrimaryKey(_ConstraintTest):
    def test_add_then_drop(self):
        self.change('b.create_primary_key("npat_pk_child", "npat_child", ["id"])',
                    'b.drop_constraint("npat_pk_child", "npat_child", type_="primary")')
        assert self.db.primary_key("npat_child") == ["id"]
        self.assert_rows_kept()
        self.db.assert_insert_rejected("npat_child", {"id": 1})
        self.down()
        assert self.db.primary_key("npat_child") == []
        self.db.insert("npat_child", {"id": 1})
        assert self.db.count("npat_child") == 3


class TestCreateUniqueConstraint(_ConstraintTest):
    def test_add_then_drop(self):
        self.change('b.create_unique_constraint("npat_uq_child_email", "npat_child", ["email"])',
                    'b.drop_constraint("npat_uq_child_email", "npat_child", type_="unique")')
        assert "npat_uq_child_email" in self.db.unique_names("npat_child")
        self.assert_rows_kept()
        self.db.assert_insert_rejected("npat_child", {"id": 3, "email": "a@x"})
        self.down()
        assert "npat_uq_child_email" not in self.db.unique_names("npat_child")
        self.db.insert("npat_child", {"id": 3, "email": "a@x"})
        assert self.db.count("npat_child") == 3


class TestCreateCheckConstraint(_ConstraintTest):
    def test_add_then_drop(self):
        self.change('b.create_check_constraint("npat_ck_child_price", "npat_child", "price >= 0")',
                    'b.drop_constraint("npat_ck_child_price", "npat_child", type_="check")')
        assert "npat_ck_child_price" in self.db.check_constraints("npat_child")
        self.assert_rows_kept()
        self.db.assert_insert_rejected("npat_child", {"id": 3, "price": -1})
        self.down()
        assert "npat_ck_child_price" not in self.db.check_constraints("npat_child")
        self.db.insert("npat_child", {"id": 3, "price": -1})
        assert self.db.count("npat_child") == 3


class TestDropConstraint(SuiteTest):
    def test_drop_named_constraints_then_recreate_them(self):
        self.folder.python("20250101000000_CreateTables", """
            b.create_table("npat_parent",
                           sa.Column("id", sa.Integer, primary_key=True, autoincrement=False))
            b.create_table(
                "npat_child",
                sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                sa.Column("parent_id", sa.Integer, nullable=True),
                sa.Column("email", sa.String(100), nullable=True),
                sa.Column("price", sa.Integer, nullable=True),
                sa.UniqueConstraint("email", name="npat_uq_child_email"),
                sa.CheckConstraint("price >= 0", name="npat_ck_child_price"),
                sa.ForeignKeyConstraint(["parent_id"], ["npat_parent.id"],
                                        name="npat_fk_child_parent"))
        """, DROP_TABLES)
        self.folder.python("20250102000000_DropConstraints", """
            b.drop_constraint("npat_fk_child_parent", "npat_child", type_="foreignkey")
            b.drop_constraint("npat_uq_child_email", "npat_child", type_="unique")
            b.drop_constraint("npat_ck_child_price", "npat_child", type_="check")
        """, """
            b.create_check_constraint("npat_ck_child_price", "npat_child", "price >= 0")
            b.create_unique_constraint("npat_uq_child_email", "npat_child", ["email"])
            b.create_foreign_key("npat_fk_child_parent", "npat_child", "npat_parent",
                                 ["parent_id"], ["id"])
        """)
        self.up(target="20250101000000")
        self.db.insert("npat_parent", {"id": 1})
        self.db.insert("npat_child", {"id": 1, "parent_id": 1, "email": "a@x", "price": 1})
        self.up()
        db = self.db
        assert db.foreign_key("npat_child", "npat_fk_child_parent") is None
        assert "npat_uq_child_email" not in db.unique_names("npat_child")
        assert "npat_ck_child_price" not in db.check_constraints("npat_child")
        db.insert("npat_child", {"id": 2, "parent_id": 99, "email": "a@x", "price": -1})
        db.delete("npat_child", id=2)
        self.down()
        assert db.foreign_key("npat_child", "npat_fk_child_parent") is not None
        assert "npat_uq_child_email" in db.unique_names("npat_child")
        assert "npat_ck_child_price" in db.check_constraints("npat_child")
        assert db.rows("npat_child", ["id", "parent_id", "email", "price"]) == [
            (1, 1, "a@x", 1)]
        db.assert_insert_rejected("npat_child", {"id": 2, "parent_id": 99})
        db.assert_insert_rejected("npat_child", {"id": 2, "email": "a@x"})
        db.assert_insert_rejected("npat_child", {"id": 2, "price": -1})
