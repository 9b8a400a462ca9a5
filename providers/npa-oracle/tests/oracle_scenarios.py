"""Scenario migrations for the Oracle provider: every builder operation of SPEC §4, with
ordinary and hostile identifiers. Each case is a function recording operations on a
``MigrationBuilder``; the golden files (``golden/<case>.sql``) hold the SQL they render
to, and the sqlglot test parses every statement.

Regenerate the golden files (then review the diff by hand)::

    NPA_REGENERATE_GOLDEN=1 uv run --no-sync pytest providers/npa-oracle/tests/test_oracle_golden.py
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Callable

import sqlalchemy as sa

from npa_migrations.builder import MigrationBuilder

URL = "oracle+oracledb://app:secret@db.example.com:1521/?service_name=FREEPDB1"

#: hostile identifiers: quotes, spaces, semicolons, reserved words, case, non-ASCII,
#: and one of exactly 128 bytes (Oracle's limit)
T = "select"                     # a reserved word as table name
C_QUOTE = "it's"                  # single quote
C_SPACE = "first name"            # space
C_SEMI = "a;b"                    # semicolon
C_RESERVED = "level"              # reserved word
C_CASE = "MixedCase"              # needs quoting to keep its case
C_UPPER = "UPPER"                 # upper case must stay quoted (round-trips exactly)
C_UNICODE = "größe"               # non-ASCII
S = "My Schema"                   # schema with a space
LONG = "t" * 126 + "é"            # 128 bytes in UTF-8

CASES: dict[str, Callable[[MigrationBuilder], None]] = {}


def case(function: Callable[[MigrationBuilder], None]) -> Callable[[MigrationBuilder], None]:
    CASES[function.__name__] = function
    return function


def operations(name: str) -> list:
    builder = MigrationBuilder()
    CASES[name](builder)
    return builder.operations


# create_table -------------------------------------------------------------------------------
@case
def create_table_types(b):
    b.create_table(
        "products",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("code", sa.String(20), nullable=False, unique=True),
        sa.Column("title", sa.Unicode(50)),
        sa.Column("price", sa.Numeric(10, 2), nullable=False, server_default="0"),
        sa.Column("qty", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("big", sa.BigInteger),
        sa.Column("small", sa.SmallInteger),
        sa.Column("ratio", sa.Float),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("body", sa.Text),
        sa.Column("blob", sa.LargeBinary),
        sa.Column("born", sa.Date),
        sa.Column("created_at", sa.DateTime, server_default=sa.func.current_timestamp()),
        sa.Column("stamp", sa.TIMESTAMP(timezone=True)),
        sa.Column("duration", sa.Interval),
        sa.Column("doc", sa.JSON),
        sa.Column("status", sa.String(10), server_default="new", index=True),
    )


@case
def create_table_identity(b):
    b.create_table(
        "orders",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True, start=100, increment=5),
                  primary_key=True),
        sa.Column("seq", sa.Integer, sa.Identity(oracle_on_null=True)),
        sa.Column("note", sa.String(100)),
    )


@case
def create_table_no_autoincrement(b):
    b.create_table(
        "lookup",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("label", sa.String(30), nullable=False),
    )


@case
def create_table_composite_key(b):
    b.create_table(
        "user_roles",
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("role", sa.String(50), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "role", name="pk_user_roles"),
    )


@case
def create_table_constraints(b):
    b.create_table(
        "order_lines",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("product_id", sa.Integer, nullable=True),
        sa.Column("parent_id", sa.Integer, nullable=True),
        sa.Column("qty", sa.Integer, nullable=False, server_default=sa.text("1")),
        sa.UniqueConstraint("order_id", "product_id", name="uq_lines_order_product"),
        sa.CheckConstraint("qty > 0", name="ck_lines_qty"),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name="fk_lines_product",
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["parent_id"], ["order_lines.id"], name="fk_lines_parent",
                                ondelete="NO ACTION"),
    )


@case
def create_table_in_schema(b):
    b.create_table("audit", sa.Column("id", sa.Integer, primary_key=True),
                   sa.Column("at", sa.DateTime, nullable=False), schema="sales")


# drop / rename table ------------------------------------------------------------------------
@case
def drop_table(b):
    b.drop_table("products")
    b.drop_table("audit", schema="sales")


@case
def rename_table(b):
    b.rename_table("products", "items")
    b.rename_table("audit", "audit_log", schema="sales")


# columns -------------------------------------------------------------------------------------
@case
def add_column(b):
    b.add_column("products", sa.Column("description", sa.String(500), nullable=True))
    b.add_column("products", sa.Column("stock", sa.Integer, nullable=False,
                                       server_default=sa.text("0")))
    b.add_column("products", sa.Column("seq", sa.Integer, sa.Identity()))
    b.add_column("products", sa.Column("supplier_id", sa.Integer,
                                       sa.ForeignKey("suppliers.id")), schema="sales")


@case
def drop_column(b):
    b.drop_column("products", "description")
    b.drop_column("audit", "at", schema="sales")


@case
def rename_column(b):
    b.rename_column("products", "name", "title")
    b.rename_column("audit", "at", "happened_at", schema="sales")


@case
def alter_column_type(b):
    b.alter_column("products", "qty", type_=sa.Numeric(12, 0))
    b.alter_column("products", "name", type_=sa.String(300), existing_type=sa.String(200))


@case
def alter_column_nullable_known(b):
    b.alter_column("products", "name", nullable=False, existing_nullable=True)
    b.alter_column("products", "code", nullable=True, existing_nullable=False)
    b.alter_column("products", "title", nullable=True, existing_nullable=True)  # no-op


@case
def alter_column_nullable_unknown(b):
    b.alter_column("products", "name", nullable=False)
    b.alter_column("products", "code", nullable=True)


@case
def alter_column_default(b):
    b.alter_column("products", "status", server_default="active")
    b.alter_column("products", "qty", server_default=sa.text("1"))
    b.alter_column("products", "status", server_default=None)


@case
def alter_column_combined(b):
    b.alter_column("products", "qty", type_=sa.BigInteger, server_default=sa.text("0"),
                   nullable=False, existing_nullable=True, new_column_name="quantity",
                   schema="sales")
    b.alter_column("products", "note", type_=sa.String(50), nullable=True)


@case
def column_comments(b):
    b.create_table("notes", sa.Column("id", sa.Integer, primary_key=True),
                   sa.Column("body", sa.String(200), comment="it's the body"), schema="sales")
    b.add_column("notes", sa.Column("author", sa.String(50), comment="who"), schema="sales")
    b.alter_column("notes", "author", comment="who wrote it", existing_comment="who",
                   schema="sales")
    b.alter_column("notes", "author", comment=None, existing_comment="who wrote it",
                   schema="sales")


# indexes -------------------------------------------------------------------------------------
@case
def create_index(b):
    b.create_index("ix_products_name", "products", ["name"])
    b.create_index("ux_products_code_status", "products", ["code", "status"], unique=True)
    b.create_index("ix_audit_at", "audit", ["at"], schema="sales")


@case
def drop_index(b):
    b.drop_index("ix_products_name", "products")
    b.drop_index("ix_audit_at", "audit", schema="sales")


# constraints ---------------------------------------------------------------------------------
@case
def create_foreign_key(b):
    b.create_foreign_key("fk_lines_order", "order_lines", "orders", ["order_id"], ["id"],
                         ondelete="CASCADE")
    b.create_foreign_key("fk_lines_product", "order_lines", "products", ["product_id"],
                         ["id"], ondelete="set null")
    b.create_foreign_key("fk_lines_batch", "order_lines", "batches", ["batch_id", "batch_no"],
                         ["id", "no"], ondelete="RESTRICT", onupdate="NO ACTION")
    b.create_foreign_key("fk_audit_user", "audit", "users", ["user_id"], ["id"],
                         schema="sales", referent_schema="hr")


@case
def create_primary_key(b):
    b.create_primary_key("pk_lookup", "lookup", ["id"])
    b.create_primary_key("pk_audit", "audit", ["id", "at"], schema="sales")


@case
def create_unique_constraint(b):
    b.create_unique_constraint("uq_products_code", "products", ["code"])


@case
def create_check_constraint(b):
    b.create_check_constraint("ck_products_price", "products", "price >= 0 AND price < 1e9")


@case
def drop_constraint(b):
    b.drop_constraint("fk_lines_order", "order_lines", type_="foreignkey")
    b.drop_constraint("pk_lookup", "lookup", type_="primary")
    b.drop_constraint("uq_products_code", "products", type_="unique")
    b.drop_constraint("ck_products_price", "products", type_="check")
    b.drop_constraint("ck_anything", "audit", schema="sales")


# schemas -------------------------------------------------------------------------------------
@case
def create_schema(b):
    b.create_schema("sales")


@case
def drop_schema(b):
    b.drop_schema("sales")


# data ----------------------------------------------------------------------------------------
@case
def bulk_insert(b):
    b.bulk_insert("products", [
        {"id": 1, "name": "Widget", "price": decimal.Decimal("9.99"), "active": True,
         "born": None, "note": "it's; fine"},
        {"id": 2, "name": "Gadget", "price": 24.5, "active": False,
         "born": dt.datetime(2025, 1, 2, 3, 4, 5), "note": None},
    ])


@case
def bulk_insert_streamed(b):
    b.bulk_insert("products", ({"id": n, "name": f"p{n}"} for n in range(3)),
                  columns=["id", "name"])


@case
def execute_sql(b):
    b.execute("UPDATE products SET price = price * 1.1 WHERE code LIKE 'A%';\n"
              "DELETE FROM products WHERE id IN (1, 2);")
    b.execute("SELECT 1", dialects=["postgresql"])  # not for Oracle: renders nothing
    b.execute("UPDATE products SET name = q'[it's; here]' WHERE id = 3", dialects=["oracle"])


@case
def execute_plsql(b):
    b.execute("DECLARE\n  n NUMBER;\nBEGIN\n  SELECT COUNT(*) INTO n FROM products;\n"
              "  IF n = 0 THEN\n    INSERT INTO products (id, name) VALUES (1, 'x;y');\n"
              "  END IF;\nEND;\n/\nUPDATE products SET name = 'z' WHERE id = 1;")
    b.execute("CREATE OR REPLACE TRIGGER trg_products_bi BEFORE INSERT ON products "
              "FOR EACH ROW\nBEGIN\n  :new.name := TRIM(:new.name);\nEND;")


# hostile identifiers -------------------------------------------------------------------------
@case
def hostile_identifiers(b):
    b.create_schema(S)
    b.create_table(
        T,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(C_QUOTE, sa.String(20), server_default="it's"),
        sa.Column(C_SPACE, sa.String(20), nullable=False),
        sa.Column(C_SEMI, sa.Integer),
        sa.Column(C_RESERVED, sa.Integer, index=True),
        sa.Column(C_CASE, sa.Integer),
        sa.Column(C_UPPER, sa.Integer),
        sa.Column(C_UNICODE, sa.Numeric(5, 1)),
        sa.CheckConstraint('"a;b" >= 0', name="ck;semi"),
        schema=S)
    b.create_table(LONG, sa.Column(LONG, sa.Integer, primary_key=True, autoincrement=False))
    b.add_column(T, sa.Column("date", sa.Date), schema=S)
    b.alter_column(T, C_SPACE, type_=sa.String(40), nullable=True, schema=S)
    b.alter_column(T, C_SEMI, server_default=sa.text("0"), new_column_name="semi;colon",
                   schema=S)
    b.rename_column(T, C_QUOTE, "it''s", schema=S)
    b.create_index("ix it's", T, [C_SPACE, C_RESERVED], schema=S)
    b.create_unique_constraint("uq;level", T, [C_RESERVED, C_CASE], schema=S)
    b.create_primary_key("pk order", "order", ["group"])
    b.create_foreign_key("fk 'quote'", "order", T, ["group"], ["id"], ondelete="CASCADE",
                         referent_schema=S)
    b.bulk_insert(T, [{"id": 1, C_SPACE: "O'Brien; DROP TABLE x", C_UNICODE: 1.5}], schema=S)
    b.drop_constraint("fk 'quote'", "order", type_="foreignkey")
    b.drop_index("ix it's", T, schema=S)
    b.drop_column(T, C_UNICODE, schema=S)
    b.rename_table(T, "from", schema=S)
    b.drop_table("from", schema=S)
    b.drop_table(LONG)
    b.drop_schema(S)
