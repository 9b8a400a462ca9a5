"""Scenario migrations for the offline checks: every builder operation, with ordinary and
with hostile identifiers (quotes, brackets, spaces, semicolons, reserved words).

Each scenario is a function ``build(b)`` recording operations on a
:class:`~npa_migrations.builder.MigrationBuilder`; :func:`render` turns them into the
statements the provider would run, in order.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import sqlalchemy as sa

from npa_migrations.builder import MigrationBuilder
from npa_migrations.engine.planner import plan_steps
from npa_migrations.provider import OFFLINE

URL = "mssql+pyodbc://app:secret@db.example.com/shop?driver=ODBC+Driver+18+for+SQL+Server"

# hostile names ----------------------------------------------------------------------------
H_TABLE = "we\"ird; tab'le [x]"
H_PARENT = "pa'rent; select"
H_RENAMED = "re]named; \"t\""
H_SCHEMA = "sch'ema ]"
H_COLUMNS = ["sel ect", "order", "Mixed]Case", 'quo"te', "semi;colon", "apos'trophe"]
H_INDEX = "ix \"we;ird's]"
H_UNIQUE = "uq u;v's"
H_FK = "fk x;y's [1]"
H_CHECK = "ck 'c'; d"
H_PK = "pk ]p["


def create_table(b):
    b.create_table(
        "products",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sku", sa.String(40), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False, server_default="unnamed"),
        sa.Column("description", sa.Text),
        sa.Column("price", sa.Numeric(10, 2), nullable=False, server_default=sa.text("0")),
        sa.Column("created_at", sa.DateTime, nullable=False,
                  server_default=sa.func.current_timestamp()),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("category_id", sa.Integer, sa.ForeignKey("categories.id", ondelete="RESTRICT"),
                  index=True),
        sa.Column("barcode", sa.String(32), index=True, unique=True),
        sa.CheckConstraint("price >= 0", name="ck_products_price"),
    )


def create_table_types(b):
    b.create_table(
        "everything",
        sa.Column("id", sa.BigInteger, sa.Identity(start=1000, increment=10), primary_key=True),
        sa.Column("code", sa.String(10), primary_key=True),
        sa.Column("plain_varchar", sa.VARCHAR(30)),
        sa.Column("unicode", sa.Unicode(30)),
        sa.Column("unbounded", sa.String()),
        sa.Column("legacy_datetime", sa.DATETIME()),
        sa.Column("moment", sa.DateTime(timezone=True)),
        sa.Column("day", sa.Date),
        sa.Column("clock", sa.Time),
        sa.Column("guid", sa.Uuid),
        sa.Column("blob", sa.LargeBinary),
        sa.Column("ratio", sa.Float),
        sa.Column("small", sa.SmallInteger),
        sa.Column("money", sa.Numeric(19, 4)),
        sa.Column("status", sa.Enum("new", "shipped", "cancelled", name="status")),
        sa.Column("payload", sa.JSON),
        sa.Column("binary_name", sa.String(20, collation="Latin1_General_BIN2")),
        schema="sales",
    )


def drop_table(b):
    b.drop_table("products")
    b.drop_table("everything", schema="sales")


def rename_table(b):
    b.rename_table("products", "articles")
    b.rename_table("everything", "all_things", schema="sales")


def add_column(b):
    b.add_column("products", sa.Column("weight", sa.Float))
    b.add_column("products", sa.Column("stock", sa.Integer, nullable=False,
                                       server_default=sa.text("0")))
    b.add_column("products", sa.Column("supplier_id", sa.Integer,
                                       sa.ForeignKey("suppliers.id", ondelete="SET NULL")))
    b.add_column("products", sa.Column("ean", sa.String(13), unique=True))
    b.add_column("products", sa.Column("origin", sa.String(2), index=True))


def drop_column(b):
    b.drop_column("products", "weight")
    b.drop_column("everything", "payload", schema="sales")


def alter_column_type(b):
    b.alter_column("products", "name", type_=sa.String(400))
    b.alter_column("products", "stock", type_=sa.BigInteger, existing_nullable=False)


def alter_column_nullable(b):
    b.alter_column("products", "description", nullable=False, existing_type=sa.Text)
    b.alter_column("products", "weight", nullable=True, existing_type=sa.Float)


def alter_column_several(b):
    b.alter_column("products", "sku", type_=sa.String(80), nullable=False,
                   server_default="none", existing_type=sa.String(40), existing_nullable=True)


def alter_column_server_default(b):
    b.alter_column("products", "name", server_default="n/a", existing_type=sa.String(200))
    b.alter_column("products", "price", server_default=None, existing_type=sa.Numeric(10, 2))
    b.alter_column("products", "created_at", server_default=sa.text("SYSUTCDATETIME()"))


def alter_column_rename(b):
    b.alter_column("products", "name", new_column_name="title",
                   existing_type=sa.String(200), existing_nullable=False)


def rename_column(b):
    b.rename_column("products", "sku", "article_number")
    b.rename_column("everything", "code", "key", schema="sales")


def comments(b):
    b.add_column("products", sa.Column("note", sa.String(50), comment="a 'note'"))
    b.alter_column("products", "note", comment="changed", existing_comment="a 'note'",
                   existing_type=sa.String(50))
    b.alter_column("products", "note", comment=None, existing_comment="changed")


def partial_index(b):
    b.create_index("ix_products_open", "products", ["name"], unique=True, where="active = 1")


def create_index(b):
    b.create_index("ix_products_name", "products", ["name"])
    b.create_index("ix_products_cat_name", "products", ["category_id", "name"])
    b.create_index("ux_products_barcode", "products", ["barcode"], unique=True)
    b.create_index("ux_everything_code", "everything", ["code", "day"], unique=True,
                   schema="sales")


def drop_index(b):
    b.drop_index("ix_products_name", "products")
    b.drop_index("ux_everything_code", "everything", schema="sales")


def constraints(b):
    b.create_primary_key("pk_orders", "orders", ["id"])
    b.create_foreign_key("fk_orders_products", "orders", "products", ["product_id"], ["id"],
                         ondelete="CASCADE", onupdate="NO ACTION")
    b.create_foreign_key("fk_orders_everything", "orders", "everything", ["code"], ["code"],
                         referent_schema="sales")
    b.create_unique_constraint("uq_orders_number", "orders", ["number"])
    b.create_check_constraint("ck_orders_qty", "orders", "qty > 0 AND qty < 1000")
    b.drop_constraint("ck_orders_qty", "orders", type_="check")
    b.drop_constraint("fk_orders_products", "orders", type_="foreignkey")
    b.drop_constraint("uq_orders_number", "orders")


def schemas(b):
    b.create_schema("sales")
    b.drop_schema("archive")


def bulk_insert(b):
    b.bulk_insert("products", [
        {"id": 1, "sku": "A-1", "name": "Widget", "price": decimal.Decimal("9.99"),
         "created_at": dt.datetime(2025, 1, 2, 3, 4, 5, 678000), "active": True},
        {"id": 2, "sku": "B-2", "name": "It's a \"gadget\"; 日本", "price": 24.5,
         "created_at": dt.datetime(2025, 1, 2), "active": False},
    ])
    b.bulk_insert("everything", [
        {"code": "X", "day": dt.date(2025, 1, 31), "clock": dt.time(13, 14, 15),
         "blob": b"\x00\xffab", "guid": uuid.UUID(int=1), "unbounded": None,
         "moment": dt.datetime(2025, 1, 2, 3, 4, tzinfo=dt.timezone.utc)},
    ], schema="sales")


def execute(b):
    b.execute("UPDATE products SET price = price * 1.1 WHERE [name] LIKE N'%;%'; "
              "DELETE FROM products WHERE id = 3")
    b.execute("CREATE VIEW v_products AS SELECT id, name FROM products\nGO\n"
              "CREATE PROCEDURE p_touch AS\nBEGIN\n    SET NOCOUNT ON;\n"
              "    UPDATE products SET name = name;\nEND\nGO", dialects="mssql")
    b.execute("SELECT 'only on postgresql'", dialects=["postgresql"])


def fill_names(connection):
    """A Python step: a script shows where it runs, never its code."""
    connection.execute(sa.text("UPDATE products SET name = sku WHERE name IS NULL"))


def data(b):
    b.execute("UPDATE products SET name = :name WHERE sku = :sku AND [name] LIKE N'%;%'",
              {"name": "It's; \"new\"", "sku": "A-1"})
    b.run_python(fill_names)
    b.backfill("products", {"price": sa.text("price * 100"), "name": "repriced"},
               where="active = 1", batch_size=500)


# hostile identifiers ----------------------------------------------------------------------
def hostile(b):
    c = H_COLUMNS
    b.create_schema(H_SCHEMA)
    b.create_table(H_PARENT, sa.Column("id", sa.Integer, primary_key=True,
                                       autoincrement=False))
    b.create_table(
        H_TABLE,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("parent_id", sa.Integer),
        *[sa.Column(name, sa.String(40)) for name in c],
        sa.UniqueConstraint(c[1], name=H_UNIQUE),
        sa.ForeignKeyConstraint(["parent_id"], [f"{H_PARENT}.id"], name=H_FK),
        sa.CheckConstraint("id > 0", name=H_CHECK),
    )
    b.create_table(H_TABLE, sa.Column(c[0], sa.Integer, primary_key=True), schema=H_SCHEMA)
    b.create_index(H_INDEX, H_TABLE, [c[0], c[2]])
    b.create_index(H_INDEX + " u", H_TABLE, [c[3], c[4]], unique=True)
    b.bulk_insert(H_PARENT, [{"id": 1}])
    b.bulk_insert(H_TABLE, [{"id": 1, "parent_id": 1, **{n: f"{n} 'v'; 1" for n in c}}])
    b.add_column(H_TABLE, sa.Column("group", sa.Integer, server_default=sa.text("1")))
    b.alter_column(H_TABLE, c[5], type_=sa.String(80), nullable=False,
                   server_default="it's; [x]", existing_type=sa.String(40))
    b.alter_column(H_TABLE, c[3], nullable=False, existing_type=sa.String(40))
    b.rename_column(H_TABLE, c[0], 'new "name;')
    b.rename_table(H_TABLE, H_RENAMED)
    b.rename_table(H_TABLE, H_RENAMED, schema=H_SCHEMA)
    b.create_primary_key(H_PK, H_PARENT, ["id"])
    b.create_foreign_key(H_FK + "2", H_RENAMED, H_PARENT, ["parent_id"], ["id"])
    b.create_unique_constraint(H_UNIQUE + "2", H_RENAMED, [c[4]])
    b.create_check_constraint(H_CHECK + "2", H_RENAMED, "[group] >= 0")
    b.drop_constraint(H_CHECK + "2", H_RENAMED, type_="check")
    b.drop_index(H_INDEX, H_RENAMED)
    b.drop_column(H_RENAMED, "group")
    b.execute(f"DELETE FROM [{H_PARENT.replace(']', ']]')}] WHERE id = 2; SELECT 1")
    b.drop_table(H_RENAMED, schema=H_SCHEMA)
    b.drop_table(H_RENAMED)
    b.drop_table(H_PARENT)
    b.drop_schema(H_SCHEMA)


#: migrations the real-server tests run (and the offline checks render): npat_ names
SERVER_MIGRATIONS = {
    "20250101000000_create.py": """
        import datetime as dt
        import sqlalchemy as sa
        from npa_migrations import Migration

        class Create(Migration):
            def up(self, b):
                b.create_table("npat_things",
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("code", sa.String(10), nullable=True),
                    sa.Column("label", sa.String(20), nullable=False, server_default="x"),
                    sa.Column("note", sa.String(30), nullable=False),
                    sa.Column("at", sa.DateTime, nullable=True))
                b.create_index("npat_ux_things_code", "npat_things", ["code"], unique=True)
                b.create_index("npat_ix_things_label", "npat_things", ["label"])
                b.bulk_insert("npat_things", [
                    {"id": 10, "code": None, "label": "a", "note": "n",
                     "at": dt.datetime(2025, 1, 2, 3, 4, 5, 123456)},
                    {"id": 11, "code": None, "label": "b", "note": "n", "at": None},
                    {"id": 12, "code": "c'1", "label": "日本", "note": "n", "at": None}])

            def down(self, b):
                b.drop_table("npat_things")
    """,
    "20250102000000_change.py": """
        import sqlalchemy as sa
        from npa_migrations import Migration

        class Change(Migration):
            def up(self, b):
                b.alter_column("npat_things", "label", type_=sa.String(5), nullable=False,
                               server_default="y", existing_type=sa.String(20))
                b.alter_column("npat_things", "note", nullable=True, existing_type=sa.String(30))
                b.rename_column("npat_things", "label", "npat label]")
                b.add_column("npat_things", sa.Column("qty", sa.Integer, nullable=False,
                                                      server_default=sa.text("3")))
                b.drop_column("npat_things", "at")
                b.rename_table("npat_things", "npat_renamed 'x'")

            def down(self, b):
                b.rename_table("npat_renamed 'x'", "npat_things")
                b.add_column("npat_things", sa.Column("at", sa.DateTime))
                b.drop_column("npat_things", "qty")
                b.rename_column("npat_things", "npat label]", "label")
                b.alter_column("npat_things", "note", nullable=False, existing_type=sa.String(30))
                b.alter_column("npat_things", "label", type_=sa.String(20), nullable=False,
                               server_default="x", existing_type=sa.String(5))
    """,
}


SCENARIOS = {
    "create_table": create_table,
    "create_table_types": create_table_types,
    "drop_table": drop_table,
    "rename_table": rename_table,
    "add_column": add_column,
    "drop_column": drop_column,
    "alter_column_type": alter_column_type,
    "alter_column_nullable": alter_column_nullable,
    "alter_column_several": alter_column_several,
    "alter_column_server_default": alter_column_server_default,
    "alter_column_rename": alter_column_rename,
    "rename_column": rename_column,
    "create_index": create_index,
    "partial_index": partial_index,
    "comments": comments,
    "drop_index": drop_index,
    "constraints": constraints,
    "schemas": schemas,
    "bulk_insert": bulk_insert,
    "execute": execute,
    "data": data,
    "hostile_identifiers": hostile,
}


def operations(name: str) -> list:
    b = MigrationBuilder()
    SCENARIOS[name](b)
    return b.operations


def statements(provider, name: str):
    """``(step description, statement)`` pairs the provider produces for scenario
    ``name``, in execution order (offline: no connection)."""
    out = []
    for step in plan_steps(provider, operations(name)):
        for statement in step.render(OFFLINE):
            out.append((step.describe(), statement))
    return out


def render(provider, name: str) -> str:
    """The scenario as a reviewed golden file: each statement as a ``--sql`` script shows
    it, terminated with ``GO``; parameterised statements also show what is executed."""
    lines = [f"-- scenario: {name}", f"-- provider: {provider.name} ({provider.display_url()})",
             ""]
    last = None
    for describe, statement in statements(provider, name):
        if describe != last:
            lines.append(f"-- {describe}")
            last = describe
        if statement.params is not None and not statement.many:
            lines.append(f"-- executed as: {statement.sql}")
            lines.append(f"-- with parameters: {tuple(statement.params)!r}")
        elif statement.many:
            lines.append(f"-- executed as: {statement.sql}")
            lines.append("-- with one parameter set per row (executemany)")
        lines.append(statement.render().rstrip().rstrip(";"))
        lines.append("GO")
    return "\n".join(lines) + "\n"
