"""The schema model (replaying operations, no database), the raw-SQL scan, and the
normalisation of types and defaults used by drift detection."""

import sqlalchemy as sa

from npa_migrations.builder import MigrationBuilder
from npa_migrations.engine.target import DatabaseTarget
from npa_migrations.provider.comparison import SchemaRules
from npa_migrations.schema.compare import Comparator
from npa_migrations.schema.model import UNKNOWN, SchemaModel
from npa_migrations.schema.sqlscan import analyse_sql, analyse_statement
from npa_migrations.schema.verify import claim_matches


def replay(build, model=None, migration_id="20250101000000_M"):
    b = MigrationBuilder()
    build(b)
    model = model or SchemaModel()
    claims = model.replay(b.operations, migration_id)
    return model, claims


def test_create_table_gives_columns_keys_and_indexes():
    model, claims = replay(lambda b: b.create_table(
        "users", sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(100), nullable=False, unique=True),
        sa.Column("org", sa.String(20), index=True, server_default="x"),
        sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="CASCADE")),
        sa.CheckConstraint("id > 0", name="ck_users_id")))
    users = model.get("users")
    assert list(users.columns) == ["id", "email", "org", "team_id"]
    assert users.primary_key == ("id",)
    assert users.columns["email"].nullable is False
    assert users.columns["org"].default is not None
    assert [u.columns for u in users.uniques] == [("email",)]
    assert list(users.indexes) == ["ix_users_org"]
    fk = users.foreign_keys[0]
    assert (fk.columns, fk.referred_table, fk.referred_columns, fk.ondelete) == \
        (("team_id",), "teams", ("id",), "CASCADE")
    assert [c.name for c in users.checks] == ["ck_users_id"]
    assert users.fully_known
    assert claims == [(0, {(None, "users", "*", None, None)})]


def test_alter_rename_and_drop_operations():
    model, _ = replay(lambda b: b.create_table(
        "t", sa.Column("id", sa.Integer, primary_key=True), sa.Column("a", sa.String(10))))
    _, claims = replay(lambda b: (
        b.alter_column("t", "a", type_=sa.String(50), nullable=False),
        b.rename_column("t", "a", "b"),
        b.create_index("ix_t_b", "t", ["b"]),
        b.rename_table("t", "t2"),
        b.add_column("t2", sa.Column("c", sa.Integer)),
        b.drop_column("t2", "c")), model)
    t2 = model.get("t2")
    assert model.get("t") is None
    assert list(t2.columns) == ["id", "b"]
    assert repr(t2.columns["b"].type) == "String(length=50)"
    assert t2.columns["b"].nullable is False
    assert t2.indexes["ix_t_b"].columns == ("b",)
    assert claims[0][1] == {(None, "t", "column", "a", "type"),
                            (None, "t", "column", "a", "nullable")}
    assert (None, "t2", "column", "c", "exists") in claims[5][1]


def test_raw_sql_marks_tables_unknown_instead_of_guessing():
    model, _ = replay(lambda b: b.create_table("t", sa.Column("id", sa.Integer,
                                                              primary_key=True)))
    replay(lambda b: (b.execute("CREATE TABLE roles (id INT); INSERT INTO roles VALUES (1)"),
                      b.execute('ALTER TABLE "t" ADD COLUMN x INT')), model)
    roles, t = model.get("roles"), model.get("t")
    assert roles is not None and not roles.fully_known and roles.columns == {}
    assert t.known == set() and t.columns == {} and t.primary_key is UNKNOWN
    notes = model.not_compared()
    assert any("table roles: created by raw SQL" in n for n in notes)
    assert any("table t: changed by raw SQL" in n and "ALTER TABLE" in n for n in notes)
    assert not model.open_world
    # what a later Python operation declares is known again
    replay(lambda b: b.add_column("roles", sa.Column("name", sa.String(20))), model)
    assert list(model.get("roles").columns) == ["name"]


def test_unreadable_sql_forgets_everything():
    model, _ = replay(lambda b: b.create_table("t", sa.Column("id", sa.Integer)))
    replay(lambda b: b.execute("DO $$ BEGIN PERFORM 1; END $$"), model)
    assert model.open_world
    assert model.get("t").maybe_absent
    assert any("cannot read" in n for n in model.not_compared())


def test_index_on_a_materialized_view_is_no_table():
    """Lemmy's history: an index on a materialized view made by raw SQL must not make
    the model expect a table of that name."""
    model, _ = replay(lambda b: b.execute(
        "CREATE MATERIALIZED VIEW user_mview AS SELECT 1 AS id;"
        "CREATE UNIQUE INDEX idx_user_mview_id ON user_mview (id);"))
    assert model.get("user_mview") is None and not model.open_world
    replay(lambda b: b.execute("DROP MATERIALIZED VIEW user_mview;"
                               "CREATE TABLE user_mview (id INT);"
                               "CREATE INDEX ix_user_mview ON user_mview (id)"), model)
    assert model.get("user_mview") is not None


def test_raw_sql_on_an_unknown_relation_may_be_absent():
    """An index made by raw SQL on a relation no applied migration created (a view made
    before the tool was adopted) does not make a table the database must have."""
    model, _ = replay(lambda b: b.execute("CREATE INDEX ix_old ON old_view (id)"))
    assert model.get("old_view").maybe_absent
    replay(lambda b: b.add_column("old_view", sa.Column("x", sa.Integer)), model)
    assert not model.get("old_view").maybe_absent


def test_create_type_keeps_the_rest_of_the_schema_known():
    model, _ = replay(lambda b: (
        b.execute("CREATE TYPE mood AS ENUM ('sad', 'ok')"),
        b.create_table("t", sa.Column("id", sa.Integer, primary_key=True))))
    assert not model.open_world and model.get("t").fully_known
    assert model.not_compared() == []


def test_lookups_fold_case_through_an_index_kept_in_step():
    model = SchemaModel()
    replay(lambda b: [b.create_table(f"T{i}", sa.Column("id", sa.Integer))
                      for i in range(3)], model)
    assert model.get("t1").name == "T1" and model.get("T1").name == "T1"
    replay(lambda b: b.rename_table("T1", "renamed"), model)
    assert model.get("t1") is None and model.get("RENAMED").name == "renamed"
    snapshot = model.snapshot()
    replay(lambda b: b.drop_table("renamed"), model)
    assert model.get("renamed") is None and snapshot.get("renamed") is not None
    assert sorted(model.tables) == [(None, "T0"), (None, "T2")]


def test_execute_for_another_dialect_does_nothing():
    model = SchemaModel(provider_names={"sqlite"})
    replay(lambda b: b.execute("CREATE TABLE x (id INT)", dialects=("postgresql",)), model)
    assert model.get("x") is None


def test_statement_scan():
    kinds = lambda sql: [(e.kind, e.table, e.new, e.index) for e in analyse_statement(sql)]  # noqa
    assert kinds("-- c\nCREATE TABLE IF NOT EXISTS s.\"My T\" (id int)") == \
        [("create", ("s", "My T"), None, None)]
    assert kinds("CREATE TEMP TABLE x (id int)") == [("none", None, None, None)]
    assert kinds("ALTER TABLE a RENAME TO b") == [("rename", (None, "a"), (None, "b"), None)]
    assert kinds("DROP TABLE IF EXISTS a, `b` CASCADE") == \
        [("drop", (None, "a"), None, None), ("drop", (None, "b"), None, None)]
    assert kinds("RENAME TABLE a TO b") == [("rename", (None, "a"), (None, "b"), None)]
    assert kinds("CREATE UNIQUE INDEX CONCURRENTLY ix ON ONLY t (a)") == \
        [("indexes", (None, "t"), None, None)]
    assert kinds("DROP INDEX ix ON t") == [("drop_index", (None, "t"), None, "ix")]
    for harmless in ("INSERT INTO t VALUES (1)", "UPDATE t SET a = 1",
                     "CREATE OR REPLACE FUNCTION f() RETURNS int AS $$ $$",
                     "GRANT SELECT ON t TO bob", "COMMENT ON TABLE t IS 'x'",
                     "CREATE TYPE mood AS ENUM ('sad', 'ok')", "ALTER TYPE mood ADD VALUE 'x'",
                     "CREATE DOMAIN posint AS integer CHECK (VALUE > 0)", "DROP TYPE mood",
                     "REFRESH MATERIALIZED VIEW CONCURRENTLY mv"):
        assert kinds(harmless)[0][0] == "none", harmless
    for unknown in ("DO $$ BEGIN END $$", "CALL p()", "EXEC sp_rename 'a', 'b'",
                    "DROP TYPE mood CASCADE", "ALTER TYPE mood RENAME TO feeling",
                    "ALTER DOMAIN posint SET SCHEMA other"):
        assert kinds(unknown)[0][0] == "unknown", unknown
    # a trigger does not change its table's shape, but a table rebuild must re-create it
    assert kinds("CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END") == \
        [("trigger", (None, "t"), None, "tr")]
    assert kinds("DROP TRIGGER IF EXISTS tr") == [("drop_trigger", None, None, "tr")]
    assert kinds("CREATE VIEW v AS SELECT 1") == [("view", (None, "v"), None, None)]
    assert kinds("CREATE MATERIALIZED VIEW IF NOT EXISTS s.mv AS SELECT 1") == \
        [("view", ("s", "mv"), None, None)]
    assert kinds("DROP MATERIALIZED VIEW IF EXISTS mv, w CASCADE") == \
        [("drop_view", (None, "mv"), None, None), ("drop_view", (None, "w"), None, None)]
    assert [e.kind for e in analyse_sql("CREATE TABLE a (x int); DROP TABLE a;")] == \
        ["create", "drop"]


def portable_rules(tmp_path) -> SchemaRules:
    """The portable defaults, on a SQLite provider's dialect."""
    return SchemaRules(DatabaseTarget(f"sqlite:///{tmp_path / 'x.db'}").provider)


def test_portable_type_normalisation(tmp_path):
    rules = portable_rules(tmp_path)
    assert rules.normalise_type("character varying(5)") == "VARCHAR(5)"
    assert rules.normalise_type("DECIMAL(10, 2)") == "NUMERIC(10,2)"
    assert rules.normalise_type("VARCHAR(10) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin") == \
        "VARCHAR(10)"
    assert rules.normalise_type("TIMESTAMP WITHOUT TIME ZONE") == "TIMESTAMP"
    assert rules.compare_type("INT", "integer")
    assert not rules.compare_type("VARCHAR(5)", "VARCHAR(6)")
    # no database's own spelling in the portable rules
    assert not rules.compare_type("INT4", "INTEGER")
    assert not rules.compare_type("TINYINT(1)", "BOOLEAN")


def test_default_normalisation(tmp_path):
    n = portable_rules(tmp_path).normalise_default
    assert n("'x'::character varying") == n("'x'") == "'x'"
    assert n("'0'::numeric") == n("0.00") == n("(0)") == n("'0'") == "0"
    assert n("now()") == n("CURRENT_TIMESTAMP") == n("current_timestamp()")
    assert n("true") == n("1") and n("false") == n("'0'")
    assert n("NULL") is None and n(None) is None
    assert n("'ab''c'") == "'ab'c'"
    assert n("'a'") != n("'b'")


def test_comparator_reports_each_kind(tmp_path):
    provider = DatabaseTarget(f"sqlite:///{tmp_path / 'x.db'}").provider
    expected, _ = replay(lambda b: b.create_table(
        "t", sa.Column("id", sa.Integer, primary_key=True), sa.Column("a", sa.String(10)),
        sa.Column("b", sa.Integer, nullable=False, server_default="1")))
    replay(lambda b: b.create_index("ix_t_a", "t", ["a"]), expected)
    live, _ = replay(lambda b: b.create_table(
        "t", sa.Column("id", sa.Integer, primary_key=True), sa.Column("a", sa.String(20)),
        sa.Column("b", sa.Integer, nullable=True, server_default="2"),
        sa.Column("c", sa.Integer)))
    replay(lambda b: b.create_table("extra", sa.Column("id", sa.Integer)), live)
    kinds = sorted((d.kind, d.where) for d in Comparator(provider).compare(expected, live))
    assert kinds == [("changed default", "t.b"), ("changed nullability", "t.b"),
                     ("changed type", "t.a"), ("extra column", "t.c"), ("extra table", "extra"),
                     ("missing index", "t.ix_t_a")]


def test_a_type_the_comparison_cannot_read_is_listed_as_not_compared(tmp_path):
    provider = DatabaseTarget(f"sqlite:///{tmp_path / 'x.db'}").provider
    expected, _ = replay(lambda b: b.create_table("t", sa.Column("geo", sa.Integer)))
    live, _ = replay(lambda b: b.create_table("t", sa.Column("geo", sa.types.NullType())))
    comparator = Comparator(provider)
    assert comparator.compare(expected, live) == []
    assert comparator.not_compared == [
        "column t.geo: type not compared (the database reports a type the sqlite dialect "
        "cannot read)"]


def test_claims_match_only_what_an_operation_declared():
    add = (None, "t", "column", "price", "*")
    alter = (None, "t", "column", "price", "nullable")
    assert claim_matches(add, (None, "t", "column", "price", "type"))
    assert not claim_matches(alter, (None, "t", "column", "price", "default"))
    assert claim_matches(alter, (None, "T", "column", "PRICE", "nullable"))
    assert not claim_matches(add, (None, "t", "column", "other", "type"))
    assert claim_matches((None, "t", "*", None, None), (None, "t", "index", "ix", None))
    assert claim_matches((None, "t", "index", "ix", None), (None, "t", "table", None, None))
