"""Autogenerate and check without a database: the changes planned from the schema the
migrations build to the models, the REVIEW notes, what raw SQL leaves uncompared, the
Python source written, and the ``npa migrate new --autogenerate`` / ``check`` commands.
(Round trips on SQLite, PostgreSQL and MariaDB: tests/test_autogen_roundtrip.py.)"""

import json
import sys
import textwrap

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from npa_migrations import MigrationExecutor
from npa_migrations import operations as ops
from npa_migrations.cli import cli
from npa_migrations.engine.target import DatabaseTarget
from npa_migrations.schema.autogen import autogenerate
from npa_migrations.schema.declare import generated_name
from npa_migrations.schema.codegen import render_migration

INITIAL = """
    import sqlalchemy as sa
    from npa_migrations import Migration

    class Initial(Migration):
        def up(self, b):
            b.create_table("customers", sa.Column("id", sa.Integer, primary_key=True),
                           sa.Column("email", sa.String(100), nullable=False),
                           sa.Column("nickname", sa.String(30)),
                           sa.Column("note", sa.String(200)))
            b.create_table("coupons", sa.Column("id", sa.Integer, primary_key=True),
                           sa.Column("code", sa.String(20)), sa.Column("pct", sa.Integer))

        def down(self, b):
            b.drop_table("coupons")
            b.drop_table("customers")
"""

MODELS = """
    import sqlalchemy as sa

    metadata = sa.MetaData()
    sa.Table("customers", metadata, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("email", sa.String(100), nullable=False),
             sa.Column("nickname", sa.String(30)),
             sa.Column("note", sa.String(200)))
    sa.Table("coupons", metadata, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("code", sa.String(20)), sa.Column("pct", sa.Integer))
"""


def metadata(*tables) -> sa.MetaData:
    md = sa.MetaData()
    for build in tables:
        build(md)
    return md


def customers(md, *extra, note=None, nickname="nickname"):
    sa.Table("customers", md, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("email", sa.String(100), nullable=False),
             sa.Column(nickname, sa.String(30)),
             sa.Column("note", sa.String(200) if note is None else note), *extra)


def coupons(md, name="coupons"):
    sa.Table(name, md, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("code", sa.String(20)), sa.Column("pct", sa.Integer))


@pytest.fixture
def models(tmp_path, monkeypatch):
    """Writes the module ``shop_models_v`` (the models the commands load)."""
    def write(text: str) -> None:
        (tmp_path / "shop_models_v.py").write_text(textwrap.dedent(text))
        monkeypatch.delitem(sys.modules, "shop_models_v", raising=False)

    write(MODELS)
    return write


@pytest.fixture
def project(tmp_path, migrations_dir, monkeypatch, models):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NPA_DATABASE_URL", raising=False)
    monkeypatch.delenv("NPA_MIGRATIONS", raising=False)
    migrations_dir("20250101000000_initial.py", INITIAL)
    return tmp_path


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def executor(migrations_dir, url="sqlite://"):
    return MigrationExecutor(url, migrations_dir.folder)


def kinds(result):
    return sorted(f"{d.kind} {d.where}" for d in result.differences)


# --------------------------------------------------------------------------------------
# what is planned
# --------------------------------------------------------------------------------------

def test_matching_models_give_no_changes(migrations_dir):
    migrations_dir("20250101000000_initial.py", INITIAL)
    result = autogenerate(executor(migrations_dir), metadata(customers, coupons))
    assert (result.changes, result.differences, result.not_compared) == ([], [], [])
    assert result.lines()[0].startswith("No differences: the models")


def test_rename_looks_like_drop_and_add_and_is_offered_commented(migrations_dir):
    migrations_dir("20250101000000_initial.py", INITIAL)
    result = autogenerate(executor(migrations_dir), metadata(
        lambda md: customers(md, nickname="display_name"), lambda md: coupons(md, "promos")))
    assert kinds(result) == ["extra column customers.nickname", "extra table coupons",
                             "missing column customers.display_name", "missing table promos"]
    column, table = [c for c in result.changes if c.commented_up]
    assert [op.kind for op in column.up] == ["add_column", "drop_column"]
    assert column.commented_up == [ops.RenameColumn("customers", "nickname", "display_name")]
    assert column.commented_down == [ops.RenameColumn("customers", "display_name", "nickname")]
    assert "looks like a rename" in column.review[0]
    assert [op.kind for op in table.up] == ["create_table", "drop_table"]
    assert table.commented_up == [ops.RenameTable("coupons", "promos")]
    source = render_migration("Renames", result, executor(migrations_dir).provider)
    assert '# b.rename_table("coupons", "promos")' in source
    assert '# b.rename_column("customers", "nickname", "display_name")' in source


def test_reviews_for_lossy_type_and_not_null(migrations_dir):
    migrations_dir("20250101000000_initial.py", INITIAL)
    result = autogenerate(executor(migrations_dir), metadata(
        lambda md: customers(md, sa.Column("phone", sa.String(20), nullable=False),
                             sa.Column("points", sa.Integer, nullable=False,
                                       server_default="0"),
                             note=sa.String(50)), coupons))
    reviews = {op.kind + ":" + getattr(op, "column_name", "") or "": change.review
               for change in result.changes for op in change.up[:1]}
    assert "may lose data (length 200 -> 50)" in reviews["alter_column:note"][0]
    phone, points = [c for c in result.changes if c.up[0].kind == "add_column"]
    assert "NOT NULL without a server default" in phone.review[0]
    assert points.review == []  # it has a server default


def test_foreign_keys_follow_their_tables_and_a_cycle_is_split(migrations_dir):
    migrations_dir("20250101000000_initial.py", INITIAL)

    def more(md):
        sa.Table("teams", md, sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("lead_id", sa.Integer, sa.ForeignKey("members.id", name="fk_lead")))
        sa.Table("members", md, sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", name="fk_team")),
                 sa.Column("customer_id", sa.Integer,
                           sa.ForeignKey("customers.id", name="fk_customer")))

    result = autogenerate(executor(migrations_dir), metadata(customers, coupons, more))
    shown = [(op.kind, getattr(op, "name", None) or op.table) for op in result.up]
    assert shown == [("create_table", "teams"), ("create_table", "members"),
                     ("create_foreign_key", "fk_lead")]
    teams, members = result.up[:2]
    assert [c.name for c in teams.constraints if isinstance(c, sa.ForeignKeyConstraint)] == []
    assert sorted(c.name for c in members.constraints if isinstance(
        c, sa.ForeignKeyConstraint)) == ["fk_customer", "fk_team"]
    assert [(op.kind, getattr(op, "name", None) or op.table) for op in result.down] == [
        ("drop_constraint", "fk_lead"), ("drop_table", "members"), ("drop_table", "teams")]


def test_tables_referring_to_others_are_dropped_first(migrations_dir):
    migrations_dir("20250101000000_initial.py", INITIAL)
    migrations_dir("20250102000000_orders.py", """
        import sqlalchemy as sa
        from npa_migrations import Migration

        class Orders(Migration):
            def up(self, b):
                b.create_table("a_lines", sa.Column("id", sa.Integer, primary_key=True),
                               sa.Column("order_id", sa.Integer, sa.ForeignKey("z_orders.id")))
                b.create_table("z_orders", sa.Column("id", sa.Integer, primary_key=True))

            def down(self, b):
                b.drop_table("a_lines")
                b.drop_table("z_orders")
    """)
    result = autogenerate(executor(migrations_dir), metadata(customers, coupons))
    assert [op.table for op in result.up] == ["a_lines", "z_orders"]
    assert [op.table for op in result.down if op.kind == "create_table"] == ["z_orders",
                                                                            "a_lines"]


def test_an_unnamed_constraint_is_left_to_a_person(migrations_dir):
    migrations_dir("20250101000000_initial.py", INITIAL)
    migrations_dir("20250102000000_unique.py", """
        import sqlalchemy as sa
        from npa_migrations import Migration

        class Unique(Migration):
            def up(self, b):
                b.create_table("tags", sa.Column("id", sa.Integer, primary_key=True),
                               sa.Column("label", sa.String(20), unique=True))

            def down(self, b):
                b.drop_table("tags")
    """)
    def tags(md):
        sa.Table("tags", md, sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("label", sa.String(20)))

    result = autogenerate(executor(migrations_dir), metadata(customers, coupons, tags))
    [change] = result.changes
    assert (change.up, change.down) == ([], [])
    assert "without a name" in change.review[0]
    assert change.commented_up == [ops.DropConstraint("NAME", "tags", "unique")]
    source = render_migration("Manual", result, executor(migrations_dir).provider)
    assert '        # b.drop_constraint("NAME", "tags", type_="unique")' in source
    assert "    def up(self, b):\n        # REVIEW" in source


def test_primary_key_change_drops_the_named_key_and_adds_the_new_one(migrations_dir):
    migrations_dir("20250101000000_initial.py", INITIAL)
    migrations_dir("20250102000000_links.py", """
        import sqlalchemy as sa
        from npa_migrations import Migration

        class Links(Migration):
            def up(self, b):
                b.create_table("links", sa.Column("a", sa.Integer, nullable=False),
                               sa.Column("b", sa.Integer, nullable=False),
                               sa.PrimaryKeyConstraint("a", name="pk_links"))

            def down(self, b):
                b.drop_table("links")
    """)

    def links(md):
        sa.Table("links", md, sa.Column("a", sa.Integer), sa.Column("b", sa.Integer),
                 sa.PrimaryKeyConstraint("a", "b", name="pk_links_ab"))

    result = autogenerate(executor(migrations_dir), metadata(customers, coupons, links))
    assert kinds(result) == ["changed primary key links"]
    assert result.up == [ops.DropConstraint("pk_links", "links", "primary"),
                         ops.CreatePrimaryKey("pk_links_ab", "links", ("a", "b"))]
    assert result.down == [ops.DropConstraint("pk_links_ab", "links", "primary"),
                           ops.CreatePrimaryKey("pk_links", "links", ("a",))]


def test_raw_sql_tables_are_listed_not_guessed(migrations_dir):
    migrations_dir("20250101000000_initial.py", INITIAL)
    migrations_dir("20250102000000_legacy.sql", """
        -- npa:up
        CREATE TABLE legacy (id INTEGER PRIMARY KEY, payload TEXT);
        CREATE TABLE audit (id INTEGER PRIMARY KEY);
        CREATE INDEX ix_customers_email ON customers (email);
        -- npa:down
        DROP TABLE audit;
        DROP TABLE legacy;
    """)

    def legacy(md):
        sa.Table("legacy", md, sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("payload", sa.Text), sa.Column("added", sa.Integer))

    result = autogenerate(executor(migrations_dir), metadata(
        lambda md: customers(md, sa.Index("ix_customers_note", "note")), coupons, legacy))
    assert result.differences == []  # not a guess in sight
    assert result.changes == []
    text = "\n".join(result.not_compared)
    assert "table legacy: created by raw SQL" in text
    assert "table audit: not in the models, but its definition is unknown" in text
    assert "table customers: changed by raw SQL" in text


def test_after_sql_the_scan_cannot_read_nothing_is_compared(migrations_dir):
    migrations_dir("20250101000000_initial.py", INITIAL)
    migrations_dir("20250102000000_proc.sql", "-- npa:up\nCALL refresh_everything();\n")
    result = autogenerate(executor(migrations_dir), metadata(
        lambda md: customers(md, note=sa.Text), coupons,
        lambda md: sa.Table("tags", md, sa.Column("id", sa.Integer, primary_key=True))))
    assert (result.differences, result.changes) == ([], [])
    text = "\n".join(result.not_compared)
    assert "raw SQL the schema model cannot read" in text
    assert "table tags: in the models, but raw SQL the schema model cannot read may have " \
           "created it" in text


def test_generated_names_fit_the_identifier_limit():
    assert generated_name("fk", "orders", ["customer_id"], 63) == "fk_orders_customer_id"
    long = generated_name("uq", "t" * 60, ["c" * 30], 63)
    assert len(long) == 63 and long.startswith("uq_ttt")
    assert long != generated_name("uq", "t" * 60, ["c" * 31], 63)


# --------------------------------------------------------------------------------------
# the Python source
# --------------------------------------------------------------------------------------

def test_written_source_loads_as_the_same_operations(migrations_dir):
    """What the file records when loaded is exactly what was planned, both ways."""
    migrations_dir("20250101000000_initial.py", INITIAL)

    def everything(md):
        customers(md, sa.Column("phone", sa.String(20), comment='it\'s "the" phone'),
                  sa.Column("joined", sa.DateTime, server_default=sa.func.now()),
                  sa.Column("flag", sa.Boolean, nullable=False, server_default=sa.true()),
                  sa.Index("ix_customers_note", "note", sqlite_where=sa.text("note <> ''")),
                  note=sa.Text)
        sa.Table("orders", md, sa.Column("id", sa.BigInteger, primary_key=True),
                 sa.Column("customer_id", sa.Integer,
                           sa.ForeignKey("customers.id", ondelete="CASCADE", name="fk_c")),
                 sa.Column("total", sa.Numeric(10, 2), server_default=sa.text("0")),
                 sa.Column("kind", sa.Enum("a", "b", name="kind")),
                 sa.UniqueConstraint("customer_id", "kind", name="uq_orders"),
                 sa.CheckConstraint("total >= 0", name="ck_total"), schema=None)

    result = autogenerate(executor(migrations_dir), metadata(everything, coupons))
    source = render_migration("Everything", result, executor(migrations_dir).provider)
    compile(source, "generated.py", "exec")
    migrations_dir("20250102000000_everything.py", source)
    script = executor(migrations_dir).discover()[-1]
    assert script.id == "20250102000000_Everything"
    assert [op.canonical() for op in script.up_operations()] == [
        op.canonical() for op in result.up]
    assert [op.canonical() for op in script.down_operations()] == [
        op.canonical() for op in result.down]


def test_types_and_defaults_are_written_as_constructors():
    from npa_migrations.schema.codegen import PythonWriter
    from sqlalchemy.dialects import postgresql

    writer = PythonWriter(DatabaseTarget("sqlite://").provider)
    assert writer.type(sa.String(20)) == "sa.String(length=20)"
    assert writer.type(postgresql.JSONB()) == "postgresql.JSONB(astext_type=sa.Text())"
    assert writer.type(sa.ARRAY(sa.Integer)) == "sa.ARRAY(sa.Integer())"
    assert writer.type(sa.Enum("a", "b", name="k")) == "sa.Enum('a', 'b', name='k')"
    assert writer.imports == {"from sqlalchemy.dialects import postgresql"}
    assert writer.default(sa.text("now()")) == 'sa.text("now()")'
    assert writer.default("it's") == '"it\'s"'
    assert writer.default(sa.func.current_timestamp()) == "sa.func.current_timestamp()"
    assert writer.default(sa.false()) == "sa.false()"
    assert writer.default(sa.func.lower("X")) == "sa.text(\"lower('X')\")"


# --------------------------------------------------------------------------------------
# the commands
# --------------------------------------------------------------------------------------

def test_check_passes_fails_and_new_autogenerate_fixes_it(project, models):
    assert run("migrate", "check", "--model", "shop_models_v:metadata").exit_code == 0
    models(MODELS + """
    sa.Table("tags", metadata, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("label", sa.String(20), nullable=False))
    """)
    result = run("migrate", "check", "--model", "shop_models_v:metadata")
    assert result.exit_code == 3
    assert "missing table tags: in the models, not in the migrations (models: 2 column(s))" in \
        result.output
    data = json.loads(run("migrate", "check", "--model", "shop_models_v:metadata",
                          "--json").output)
    assert (data["match"], [d["kind"] for d in data["differences"]]) == (False,
                                                                         ["missing table"])
    created = run("migrate", "new", "AddTags", "--autogenerate", "--model",
                  "shop_models_v:metadata")
    assert created.exit_code == 0, created.output
    assert "1 operation(s) for 1 difference(s)" in created.output
    [path] = (project / "migrations").glob("*_add_tags.py")
    assert 'b.create_table(\n            "tags",' in path.read_text()
    assert run("migrate", "check", "--model", "shop_models_v:metadata").exit_code == 0
    assert run("migrate", "up").exit_code == 0
    drift = run("migrate", "drift", "--model", "shop_models_v:metadata")
    assert drift.exit_code == 0, drift.output


def test_the_first_migration_of_a_new_project(tmp_path, monkeypatch, models):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NPA_DATABASE_URL", raising=False)
    monkeypatch.delenv("NPA_MIGRATIONS", raising=False)
    result = run("migrate", "new", "Initial", "--autogenerate", "--model",
                 "shop_models_v:metadata")
    assert result.exit_code == 0, result.output
    assert "2 operation(s) for 2 difference(s)" in result.output
    assert run("migrate", "check", "--model", "shop_models_v:metadata").exit_code == 0


def test_model_from_config_and_nothing_to_write(project):
    (project / "npa.toml").write_text('model = "shop_models_v:metadata"\n')
    assert run("migrate", "check").exit_code == 0
    result = run("migrate", "new", "Nothing", "--autogenerate")
    assert result.exit_code == 0
    assert "Nothing to write: no migration created." in result.output
    assert [p.name for p in (project / "migrations").glob("*.py")] == [
        "20250101000000_initial.py"]


def test_new_autogenerate_against_the_database(project):
    assert run("migrate", "up").exit_code == 0
    import sqlite3

    with sqlite3.connect(project / "npa.db") as conn:
        conn.execute("ALTER TABLE coupons ADD COLUMN stray INTEGER")
    result = run("migrate", "new", "DropStray", "--autogenerate", "--database", "--model",
                 "shop_models_v:metadata")
    assert result.exit_code == 0, result.output
    assert "between the models and the database" in result.output
    [path] = (project / "migrations").glob("*_drop_stray.py")
    assert 'b.drop_column("coupons", "stray")' in path.read_text()


@pytest.mark.parametrize("args, message", [
    (["check"], "Name the SQLAlchemy models: --model module:attr"),
    (["new", "X", "--model", "shop_models_v:metadata"], "--model and --database go with "
                                                        "--autogenerate"),
    (["new", "X", "--autogenerate", "--sql", "--model", "m:x"], "not --sql"),
    (["check", "--model", "no_such_module:metadata"], "cannot import module"),
    (["check", "--model", "shop_models_v"], "must be 'module:attribute'"),
])
def test_usage_errors_exit_2(project, args, message):
    result = CliRunner().invoke(cli, ["migrate", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
