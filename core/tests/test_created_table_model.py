"""The model of a ``create_table`` made without a SQLAlchemy ``Table`` for a shape seen
before (:func:`npa_migrations.schema.model.created_table`) must be the model the
``Table`` gives: same columns, nullability, autoincrement column and primary key."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa

from npa_migrations import operations as ops
from npa_migrations.operation_shapes import shape_of
from npa_migrations.schema import model as schema_model
from npa_migrations.schema.model import _sa_table, created_table, table_from_sa


@pytest.fixture(autouse=True)
def no_remembered_shapes(monkeypatch):
    monkeypatch.setattr(schema_model, "_TABLE_RULES", {})


def comparable(table) -> dict:
    """A model as plain values (a type or a server default by its text)."""
    out = dataclasses.asdict(table)
    for name, column in out["columns"].items():
        source = table.columns[name]
        column["type"] = repr(source.type)
        column["default"] = repr(getattr(source.default, "arg", source.default))
    return out


def from_table(op: ops.CreateTable):
    return table_from_sa(_sa_table(op))


#: each case builds one create_table of a shape, with the names given
SHAPES = {
    "integer key and a string": lambda t, a, b: ops.CreateTable(t, (
        sa.Column(a, sa.Integer, primary_key=True),
        sa.Column(b, sa.String(100), nullable=False))),
    "integer key, autoincrement off": lambda t, a, b: ops.CreateTable(t, (
        sa.Column(a, sa.Integer, primary_key=True, autoincrement=False),
        sa.Column(b, sa.String(100)))),
    "big integer key, server default": lambda t, a, b: ops.CreateTable(t, (
        sa.Column(a, sa.BigInteger, primary_key=True),
        sa.Column(b, sa.Integer, nullable=False, server_default=sa.text("0")))),
    "composite key": lambda t, a, b: ops.CreateTable(t, (
        sa.Column(b, sa.Integer, primary_key=True),
        sa.Column(a, sa.Integer, primary_key=True))),
    "string key": lambda t, a, b: ops.CreateTable(t, (
        sa.Column(a, sa.String(20), primary_key=True),
        sa.Column(b, sa.Numeric(10, 2), comment="price"))),
    "key declared nullable": lambda t, a, b: ops.CreateTable(t, (
        sa.Column(a, sa.Integer, primary_key=True, nullable=True),
        sa.Column(b, sa.Boolean))),
    "no key, in a schema": lambda t, a, b: ops.CreateTable(t, (
        sa.Column(a, sa.DateTime),
        sa.Column(b, sa.Text, server_default="x")), schema="other"),
    "boolean with its check": lambda t, a, b: ops.CreateTable(t, (
        sa.Column(a, sa.Integer, primary_key=True),
        sa.Column(b, sa.Boolean(create_constraint=True, name=f"ck_{t}")))),
    "unique column (no shape)": lambda t, a, b: ops.CreateTable(t, (
        sa.Column(a, sa.Integer, primary_key=True),
        sa.Column(b, sa.String(10), unique=True))),
}


@pytest.mark.parametrize("case", sorted(SHAPES))
def test_a_shape_seen_before_gives_the_tables_model(case):
    build = SHAPES[case]
    first = build("orders", "id", "name")
    assert comparable(created_table(first)) == comparable(from_table(first))
    second = build("Line_Items", "line_id", "label")
    assert comparable(created_table(second)) == comparable(from_table(second))


def test_a_plain_shape_is_remembered_and_not_rebuilt(monkeypatch):
    first = SHAPES["integer key and a string"]("orders", "id", "name")
    key = shape_of(first).key  # before the Table memoizes state on the types
    created_table(first)
    assert schema_model._TABLE_RULES[key] is not None
    monkeypatch.setattr(schema_model, "_sa_table", pytest.fail)
    second = SHAPES["integer key and a string"]("users", "user_id", "email")
    model = created_table(second)
    assert model.columns["user_id"].autoincrement and not model.columns["email"].nullable
    assert model.primary_key == ("user_id",)
