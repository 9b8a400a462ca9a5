"""The provider's own reading of given tables (``npa_sqlite.catalog``, what post-execution
verification uses) against SQLAlchemy's inspector path (what drift detection uses): for
tables of every shape both must report the same schema, except where the catalog is
meant to be exacter (a type's declared text, names holding quotes)."""

from __future__ import annotations

import pytest

from npa_migrations.schema.live import LiveSchemaReader
from npa_migrations.testing.catalog import assert_same_readings, database_with

TABLES = [
    "CREATE TABLE parent (id INTEGER PRIMARY KEY, code VARCHAR(10) NOT NULL UNIQUE)",
    "CREATE TABLE basic (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "name VARCHAR(100) NOT NULL DEFAULT 'x', qty NUMERIC(10, 2) DEFAULT 0, "
    "created DATETIME DEFAULT CURRENT_TIMESTAMP, flag BOOLEAN, note TEXT)",
    "CREATE TABLE pair (a INTEGER NOT NULL, b VARCHAR(5) NOT NULL, "
    "CONSTRAINT pk_pair PRIMARY KEY (b, a)) WITHOUT ROWID",
    "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER "
    "CONSTRAINT fk_child_parent REFERENCES parent (id) ON DELETE CASCADE, "
    "other_id INTEGER REFERENCES parent ON UPDATE SET NULL, "
    "pa INTEGER, pb VARCHAR(5), "
    "FOREIGN KEY (pb, pa) REFERENCES pair (b, a), "
    "CONSTRAINT uq_child UNIQUE (parent_id, other_id), UNIQUE (pa), "
    "CONSTRAINT ck_child CHECK (pa > 0), CHECK (pb <> ''))",
    'CREATE TABLE "Mixed Case" ("sp ace" INTEGER CHECK ("sp ace" >= 0), '
    '"where" TEXT COLLATE NOCASE, g INTEGER GENERATED ALWAYS AS ("sp ace" + 1) VIRTUAL, '
    "s TEXT GENERATED ALWAYS AS (upper(\"where\")) STORED)",
    "CREATE INDEX ix_basic_name ON basic (name)",
    "CREATE UNIQUE INDEX ux_basic_name_qty ON basic (name, qty)",
    "CREATE INDEX ix_basic_partial ON basic (qty) WHERE flag = 1 AND (name <> 'a(b)')",
    "CREATE INDEX ix_basic_expression ON basic (lower(name))",
    'CREATE INDEX "ix where" ON "Mixed Case" ("where") WHERE "sp ace" > 0',
    "CREATE VIEW v_basic AS SELECT id, name FROM basic",
]
NAMES = ["parent", "basic", "pair", "child", "Mixed Case", "v_basic"]


@pytest.fixture
def database():
    with database_with("sqlite://", TABLES) as connected:
        yield connected


def test_the_catalog_reads_what_the_inspector_reads(database):
    catalog, inspected = assert_same_readings(*database, NAMES)
    child = next(t for t in catalog if t.name == "child")
    assert {f.name for f in child.foreign_keys} == {"fk_child_parent", None}
    assert ("other_id",) in {f.columns for f in child.foreign_keys}
    basic = next(t for t in catalog if t.name == "basic")
    assert set(basic.indexes) == {"ix_basic_name", "ux_basic_name_qty", "ix_basic_partial"}
    assert basic.indexes["ix_basic_partial"].where == "flag = 1 AND (name <> 'a(b)')"
    assert basic.columns["qty"].type == "NUMERIC(10, 2)"
    mixed = next(t for t in catalog if t.name == "Mixed Case")
    assert mixed.columns["g"].type == "INTEGER"
    assert mixed.indexes["ix where"].where == '"sp ace" > 0'


def test_foreign_key_actions_written_on_the_column(database):
    # SQLAlchemy's reading finds ON DELETE / ON UPDATE only in a table-level FOREIGN KEY
    # clause; pragma_foreign_key_list has them wherever they were written
    provider, conn = database
    [child] = provider.schema_rules.read_tables(conn, None, ["child"])
    actions = {f.columns: (f.ondelete, f.onupdate) for f in child.foreign_keys}
    assert actions == {("parent_id",): ("CASCADE", "NO ACTION"),
                       ("other_id",): ("NO ACTION", "SET NULL"),
                       ("pb", "pa"): ("NO ACTION", "NO ACTION")}


def test_names_are_found_by_sqlites_rule_and_missing_tables_left_out(database):
    provider, conn = database
    [child] = provider.schema_rules.read_tables(conn, None, ["CHILD", "nowhere"])
    assert child.name == "CHILD"
    assert {c.name for c in child.checks} == {"ck_child", None}
    assert {u.name for u in child.uniques} == {"uq_child", None}


def test_names_holding_quotes_are_read_exactly(database):
    # SQLAlchemy's regular expressions keep the quote doubled; the stored text is tokenized
    provider, conn = database
    conn.execute('CREATE TABLE q (a INTEGER, b INTEGER, CONSTRAINT "pk ""q""" '
                 'PRIMARY KEY (a), CONSTRAINT "uq ""b""" UNIQUE (b))')
    [table] = provider.schema_rules.read_tables(conn, None, ["q"])
    assert table.primary_key_name == 'pk "q"'
    assert [u.name for u in table.uniques] == ['uq "b"']


def test_a_temporary_table_is_left_to_the_inspector(database):
    provider, conn = database
    conn.execute("CREATE TEMPORARY TABLE scratch (id INTEGER)")
    assert provider.schema_rules.read_tables(conn, None, ["scratch"]) is None
    assert LiveSchemaReader(provider, conn).read(tables=[(None, "scratch")]).get("scratch")
