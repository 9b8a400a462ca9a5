"""The render cache (npa_migrations.provider.render_cache) gives byte-identical SQL to
rendering every operation itself, on every provider, and compiles a repeated shape once."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from npa_migrations import operations as ops
from npa_migrations.engine.target import DatabaseTarget
from npa_migrations.provider.context import OFFLINE
from npa_migrations.operation_shapes import shape_of

URLS = {
    "sqlite": "sqlite:///:memory:",
    "postgresql": "postgresql+psycopg://u@localhost/db",
    "mysql": "mysql+pymysql://u@localhost/db",
    "mssql": "mssql+pyodbc://app:secret@db.example.com/shop?driver=ODBC+Driver+18+for+SQL+Server",
    "oracle": "oracle+oracledb://app:secret@db.example.com:1521/?service_name=FREEPDB1",
}


def _provider(kind: str):
    try:
        return DatabaseTarget(URLS[kind]).provider
    except Exception as exc:  # a provider package that is not installed
        pytest.skip(f"no {kind} provider: {exc}")


def _operations(table: str, column: str, schema: str | None) -> list[ops.MigrationOperation]:
    """Operations of many shapes, named after ``table`` and ``column``."""
    return [
        ops.CreateTable(table, (sa.Column("id", sa.Integer, primary_key=True,
                                          autoincrement=False),
                                sa.Column(column, sa.String(100), nullable=False)),
                        schema=schema),
        ops.CreateTable(table, (sa.Column("id", sa.Integer, primary_key=True),
                                sa.Column(column, sa.Numeric(10, 2), server_default="0",
                                          comment="a comment"),
                                sa.Column("at", sa.DateTime(timezone=True),
                                          server_default=sa.text("CURRENT_TIMESTAMP")),
                                sa.Column("flag", sa.Boolean, nullable=True),
                                sa.Column("body", sa.Text)), schema=schema),
        ops.CreateTable(table, (sa.Column("id", sa.BigInteger, primary_key=True),
                                sa.Column(column, sa.String(20, collation="C")
                                          if schema is None else sa.Unicode(20))),
                        schema=schema),
        ops.CreateTable(table, (sa.Column("a", sa.Integer, primary_key=True),
                                sa.Column(column, sa.Integer, primary_key=True))),
        ops.CreateIndex(f"ix_{table}_{column}", table, (column,), schema=schema),
        ops.CreateIndex(f"ux_{table}_{column}", table, (column, "id"), unique=True,
                        schema=schema),
        ops.CreateIndex(f"px_{table}_{column}", table, (column,), where=f"{column} > 0"),
        ops.DropIndex(f"ix_{table}_{column}", table, schema=schema),
        ops.DropTable(table, schema=schema),
    ]


NAMES = [("t000001", "name", None), ("t000002", "title", None), ("Users", "Order", None),
         ("order", "select", None), ("accounts", "user", "sales"), ("Mixed", "Case", "Sales"),
         ("_under", "col_1", None)]


def _comparable(statements) -> list:
    return [(type(s).__name__, getattr(s, "sql", s), getattr(s, "params", None))
            for s in statements]


@pytest.mark.parametrize("kind", sorted(URLS))
def test_cached_sql_is_the_direct_sql(kind):
    generator = _provider(kind).sql
    uncached = _provider(kind).sql
    uncached.cache_renders = False
    for table, column, schema in NAMES:
        for op in _operations(table, column, schema):
            if generator.needs_rebuild(op):
                continue
            try:
                direct = _comparable(uncached.generate(op, OFFLINE))
            except Exception as exc:
                with pytest.raises(type(exc)):
                    list(generator.generate(op, OFFLINE))
                continue
            assert _comparable(generator.generate(op, OFFLINE)) == direct, (kind, op)
    assert any(t is not None for t in generator.render_cache.templates.values()), kind


def test_a_repeated_shape_is_compiled_once(monkeypatch):
    generator = _provider("sqlite").sql
    calls = []
    original = type(generator).sql_create_table

    def counting(self, op, ctx):
        calls.append(op.table)
        return original(self, op, ctx)

    monkeypatch.setattr(type(generator), "sql_create_table", counting)
    for i in range(20):
        op = ops.CreateTable(f"t{i}", (sa.Column("id", sa.Integer, primary_key=True),))
        assert list(generator.generate(op, OFFLINE)) == [
            f"CREATE TABLE t{i} (\n\tid INTEGER NOT NULL, \n\tPRIMARY KEY (id)\n)"]
    assert len(calls) == 2  # the template and its check with names that need quoting


def test_a_derived_name_is_not_templated():
    """A provider that builds a name from the table's (a sequence, a constraint) writes it
    as part of a longer word: that shape is rendered directly every time."""
    generator = _provider("sqlite").sql

    class Derived(type(generator)):  # type: ignore[misc]
        def sql_drop_table(self, op, ctx):
            return [f"DROP TABLE {self.quote(op.table)}", f"DROP SEQUENCE {op.table}_seq"]

    derived = Derived(generator.provider)
    assert list(derived.generate(ops.DropTable("Users"), OFFLINE)) == [
        'DROP TABLE "Users"', "DROP SEQUENCE Users_seq"]
    assert list(derived.render_cache.templates.values()) == [None]


def test_a_name_in_a_string_literal_is_not_templated():
    generator = _provider("sqlite").sql

    class Literal(type(generator)):  # type: ignore[misc]
        def sql_drop_table(self, op, ctx):
            return [f"DELETE FROM meta WHERE name = '{op.table}'"]

    literal = Literal(generator.provider)
    assert list(literal.generate(ops.DropTable("My_T"), OFFLINE)) == [
        "DELETE FROM meta WHERE name = 'My_T'"]
    assert list(literal.render_cache.templates.values()) == [None]


def test_unusual_shapes_are_rendered_directly():
    fk = sa.Column("owner_id", sa.Integer, sa.ForeignKey("owners.id"))
    assert shape_of(ops.CreateTable("t", (fk,))) is None
    assert shape_of(ops.CreateTable("t", (sa.Column("id", sa.Integer, sa.Identity()),))) is None
    assert shape_of(ops.CreateTable("t", (sa.Column("id", sa.Integer, index=True),))) is None
    assert shape_of(ops.CreateTable("t", (sa.Column("x", sa.Integer, default=1),))) is None
    assert shape_of(ops.CreateTable("t", (sa.Column("x", sa.Integer),),
                                    (sa.CheckConstraint("x > 0"),))) is None
    assert shape_of(ops.CreateTable("with space", (sa.Column("x", sa.Integer),))) is None
    assert shape_of(ops.CreateTable("t" * 31, (sa.Column("x", sa.Integer),))) is None
    assert shape_of(ops.CreateIndex("ix", "t", ("lower(name)",))) is None
    assert shape_of(ops.CreateTable("t", (sa.Column("x", sa.Integer),))) is not None


def test_a_column_with_dialect_arguments_is_rendered_directly():
    """Dialect arguments are seen however they were given: to the column, or added to
    its ``dialect_kwargs`` / ``dialect_options`` later."""
    given = sa.Column("x", sa.Integer, sqlite_on_conflict_not_null="FAIL")
    added = sa.Column("x", sa.Integer)
    added.dialect_kwargs["sqlite_on_conflict_not_null"] = "FAIL"
    nested = sa.Column("x", sa.Integer)
    nested.dialect_options["sqlite"]["on_conflict_not_null"] = "FAIL"
    for column in (given, added, nested):
        assert shape_of(ops.CreateTable("t", (column,))) is None
    asked = sa.Column("x", sa.Integer)
    assert not asked.dialect_kwargs  # its options built, and empty: still cacheable
    assert shape_of(ops.CreateTable("t", (asked,))) is not None


def test_a_provider_can_turn_the_cache_off(monkeypatch):
    generator = _provider("sqlite").sql
    monkeypatch.setattr(type(generator), "cache_renders", False)
    list(generator.generate(ops.DropTable("t"), OFFLINE))
    assert generator.render_cache.templates == {}
