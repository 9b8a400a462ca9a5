"""Column comments and partial indexes: the builder calls autogenerate needed
(``alter_column(comment=...)``, ``create_index(where=...)``), their SQL on each database,
their replay in the schema model, and the checksums of migrations written before them."""

import pytest
import sqlalchemy as sa

from npa_migrations import operations as ops
from npa_migrations.builder import MigrationBuilder
from npa_migrations.engine.planner import plan_steps
from npa_migrations.engine.target import DatabaseTarget
from npa_migrations.errors import ConfigurationError
from npa_migrations.provider import OFFLINE
from npa_migrations.provider.comparison import SchemaRules
from npa_migrations.schema.model import SchemaModel


def test_new_fields_leave_existing_checksums_alone():
    """Operations written before ``where`` / ``comment`` existed keep their canonical
    form (and so their checksums)."""
    assert ops.CreateIndex("ix", "t", ("a",)).canonical() == {
        "op": "create_index", "kind": "create_index", "name_kind": "index", "name": "ix",
        "table": "t", "columns": ["a"], "unique": False, "schema": None}
    altered = ops.AlterColumn("t", "c", nullable=False).canonical()
    assert "comment" not in altered and "existing_comment" not in altered
    assert ops.CreateIndex("ix", "t", ("a",), where="a > 0").canonical()["where"] == "a > 0"
    assert ops.AlterColumn("t", "c", comment=None).canonical()["comment"] is None


def test_comment_and_partial_index_replay_and_reverse():
    b = MigrationBuilder()
    b.create_table("t", sa.Column("id", sa.Integer, primary_key=True), sa.Column("c", sa.Text))
    b.alter_column("t", "c", comment="new", existing_comment=None)
    b.create_index("ix_t_c", "t", ["c"], where="c IS NOT NULL")
    model = SchemaModel()
    claims = model.replay(b.operations)
    table = model.get("t")
    assert table.columns["c"].comment == "new"
    assert table.indexes["ix_t_c"].where == "c IS NOT NULL"
    assert (None, "t", "column", "c", "comment") in claims[1][1]
    undo = b.operations[1].reverse()
    assert (undo.comment, undo.existing_comment) == (None, "new")


def test_models_choose_the_partial_index_predicate_of_the_dialect():
    md = sa.MetaData()
    sa.Table("t", md, sa.Column("a", sa.Integer),
             sa.Index("ix", "a", postgresql_where=sa.text("a > 1"), sqlite_where=sa.text("a > 2")))
    assert SchemaModel.from_metadata(md, "sqlite").get("t").indexes["ix"].where == "a > 2"
    assert SchemaModel.from_metadata(md, "mysql").get("t").indexes["ix"].where is None


@pytest.mark.parametrize("url, expected", [
    ("postgresql://h/d", ['CREATE INDEX ix ON t (a) WHERE a > 0']),
    ("sqlite://", ['CREATE INDEX ix ON t (a) WHERE a > 0']),
])
def test_partial_index_sql(url, expected):
    provider = DatabaseTarget(url).provider
    [step] = plan_steps(provider, [ops.CreateIndex("ix", "t", ("a",), where="a > 0")])
    assert [s.sql for s in step.render(OFFLINE)] == expected


def test_partial_index_is_refused_before_it_runs_where_there_are_none():
    provider = DatabaseTarget("mysql+pymysql://u@h/d").provider
    with pytest.raises(ConfigurationError, match="has no partial indexes"):
        plan_steps(provider, [ops.CreateTable("t", (sa.Column("a", sa.Integer),)),
                              ops.CreateIndex("ix", "t", ("a",), where="a > 0")])


@pytest.mark.parametrize("url, expected", [
    ("postgresql://h/d", ["COMMENT ON COLUMN s.t.c IS 'it''s'"]),
    ("sqlite://", []),
    ("mysql+pymysql://u@h/d", ["ALTER TABLE s.t MODIFY COLUMN c VARCHAR(20) NOT NULL "
                               "DEFAULT 'x' COMMENT 'it''s'"]),
])
def test_comment_change_sql(url, expected):
    provider = DatabaseTarget(url).provider
    op = ops.AlterColumn("t", "c", comment="it's", existing_type=sa.String(20),
                         existing_nullable=False, existing_server_default="x", schema="s")
    [step] = plan_steps(provider, [op])
    assert [s.sql for s in step.render(OFFLINE)] == expected


def test_postgres_creates_a_commented_column_once():
    provider = DatabaseTarget("postgresql://h/d").provider
    statements = provider.sql.generate(ops.AddColumn("t", sa.Column("c", sa.Text,
                                                                    comment="x")), OFFLINE)
    assert statements == ["ALTER TABLE t ADD COLUMN c TEXT", "COMMENT ON COLUMN t.c IS 'x'"]




@pytest.mark.parametrize("declared, reflected", [
    ("status <> 'done'", "((status)::text <> 'done'::text)"),
    ("deleted_at IS NULL", "(deleted_at IS NULL)"),
    ("active = true", "(active = true)"),
    ("a != 1", "a <> 1"),
])
def test_partial_index_predicates_compare_as_the_database_writes_them(declared, reflected):
    normalise = SchemaRules(DatabaseTarget("sqlite://").provider).normalise_predicate
    assert normalise(declared) == normalise(reflected)
    assert normalise("a > 1") != normalise("a > 2")
    assert normalise(None) is None
