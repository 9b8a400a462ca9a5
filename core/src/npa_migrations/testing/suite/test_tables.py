"""create_table (with keys, constraints and server defaults), drop_table, rename_table."""

from __future__ import annotations

from .base import SuiteTest

__all__ = ["TestCreateTable", "TestDropTable", "TestRenameTable"]

PARENT_ID = "20250101000000_CreateParent"
CHILD_ID = "20250102000000_CreateChild"

PARENT = """
    b.create_table(
        "npat_parent",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("code", sa.String(20), nullable=False, unique=True))
"""

CHILD = """
    b.create_table(
        "npat_child",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("parent_id", sa.Integer, nullable=False),
        sa.Column("qty", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("status", sa.String(20), nullable=False, server_default="new"),
        sa.Column("created_at", sa.DateTime, nullable=True,
                  server_default=sa.func.current_timestamp()),
        sa.Column("note", sa.String(100), nullable=True),
        sa.UniqueConstraint("parent_id", "status", name="npat_uq_child_parent_status"),
        sa.CheckConstraint("qty >= 0", name="npat_ck_child_qty"),
        sa.ForeignKeyConstraint(["parent_id"], ["npat_parent.id"],
                                name="npat_fk_child_parent", ondelete="CASCADE"))
"""


class TestCreateTable(SuiteTest):
    def write(self) -> None:
        self.folder.python(PARENT_ID, PARENT, 'b.drop_table("npat_parent")')
        self.folder.python(CHILD_ID, CHILD, 'b.drop_table("npat_child")')

    def test_schema_is_created(self):
        self.write()
        self.up()
        db = self.db
        assert db.tables() == {"npat_parent", "npat_child"}
        assert db.column_names("npat_child") == ["id", "parent_id", "qty", "status",
                                                 "created_at", "note"]
        assert db.primary_key("npat_child") == ["id"]
        assert db.primary_key("npat_parent") == ["id"]
        columns = db.columns("npat_child")
        assert columns["parent_id"]["nullable"] is False
        assert columns["note"]["nullable"] is True
        assert columns["note"]["type"].length == 100
        assert "0" in str(columns["qty"]["default"])
        assert "new" in str(columns["status"]["default"])
        assert "npat_uq_child_parent_status" in db.unique_names("npat_child")
        assert "npat_ck_child_qty" in db.check_constraints("npat_child")
        fk = db.foreign_key("npat_child", "npat_fk_child_parent")
        assert fk is not None, db.foreign_keys("npat_child")
        assert fk["constrained_columns"] == ["parent_id"]
        assert fk["referred_table"] == "npat_parent"
        assert fk["referred_columns"] == ["id"]
        assert (fk["options"].get("ondelete") or "").upper() == "CASCADE"

    def test_constraints_and_defaults_hold_for_rows(self):
        self.write()
        self.up()
        db = self.db
        db.insert("npat_parent", {"id": 1, "code": "a"}, {"id": 2, "code": "b"})
        db.insert("npat_child", {"id": 10, "parent_id": 1})
        rows = db.rows("npat_child", ["id", "parent_id", "qty", "status", "note"])
        assert rows == [(10, 1, 0, "new", None)]
        assert db.rows("npat_child", ["created_at"])[0][0] is not None
        db.assert_insert_rejected("npat_parent", {"id": 3, "code": "a"})  # unique column
        db.assert_insert_rejected("npat_child", {"id": 10, "parent_id": 2, "status": "x"})  # pk
        db.assert_insert_rejected("npat_child", {"id": 11, "parent_id": 1, "qty": -1,
                                                 "status": "x"})  # check
        db.assert_insert_rejected("npat_child", {"id": 12, "parent_id": 1})  # unique pair
        db.assert_insert_rejected("npat_child", {"id": 13, "parent_id": 99,
                                                 "status": "x"})  # foreign key
        db.insert("npat_child", {"id": 14, "parent_id": 2, "status": "x"})
        db.delete("npat_parent", id=1)  # ON DELETE CASCADE
        assert db.rows("npat_child", ["id"]) == [(14,)]

    def test_down_drops_the_tables(self):
        self.write()
        self.up()
        self.down()
        assert self.db.tables() == {"npat_parent"}
        assert self.db.applied() == [PARENT_ID]
        self.down()
        assert self.db.tables() == set()
        assert self.db.applied() == []


class TestDropTable(SuiteTest):
    def test_up_drops_down_recreates(self):
        create = """
            b.create_table("npat_gone", sa.Column("id", sa.Integer, primary_key=True,
                                                   autoincrement=False),
                           sa.Column("name", sa.String(30), nullable=False))
        """
        self.folder.python("20250101000000_CreateGone", create, 'b.drop_table("npat_gone")')
        self.folder.python("20250102000000_DropGone", 'b.drop_table("npat_gone")', create)
        self.up(target="20250101000000_CreateGone")
        self.db.insert("npat_gone", {"id": 1, "name": "x"})
        self.up()
        assert "npat_gone" not in self.db.tables()
        self.down()
        assert self.db.column_names("npat_gone") == ["id", "name"]
        assert self.db.primary_key("npat_gone") == ["id"]
        assert self.db.count("npat_gone") == 0


class TestRenameTable(SuiteTest):
    def test_rows_follow_the_rename_both_ways(self):
        self.folder.python("20250101000000_CreateOld", """
            b.create_table("npat_old", sa.Column("id", sa.Integer, primary_key=True,
                                                  autoincrement=False),
                           sa.Column("name", sa.String(30)))
        """, 'b.drop_table("npat_old")')
        self.folder.python("20250102000000_RenameOld", 'b.rename_table("npat_old", "npat_new")',
                           'b.rename_table("npat_new", "npat_old")')
        self.up(target="20250101000000")
        self.db.insert("npat_old", {"id": 1, "name": "kept"})
        self.up()
        assert self.db.tables() == {"npat_new"}
        assert self.db.rows("npat_new", ["id", "name"]) == [(1, "kept")]
        self.down()
        assert self.db.tables() == {"npat_old"}
        assert self.db.rows("npat_old", ["id", "name"]) == [(1, "kept")]
