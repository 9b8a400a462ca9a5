"""The core's table rebuild (:mod:`npa_migrations.provider.rebuild`) with nothing but its
portable defaults: a provider that only says which operations need it
(``SqlGenerator.needs_rebuild``), as a third-party provider starts. On SQLite files
(npa-sqlite's session, the core's SQL) and on a PostgreSQL database of its own (dropped
after the test). npa-sqlite's own rebuild tests cover SQLite's quirks on top.
"""

from __future__ import annotations

import sqlite3
import textwrap
from contextlib import closing
from pathlib import Path

import pytest
import sqlalchemy as sa

from npa_migrations import MigrationExecutor
from npa_migrations import operations as ops
from npa_migrations.builder import MigrationBuilder
from npa_migrations.engine.planner import TABLE_SHAPE_OPERATIONS, plan_steps
from npa_migrations.errors import ConfigurationError
from npa_migrations.provider import OFFLINE, BaseProvider, SqlGenerator
from npa_migrations.provider.rebuild import RebuildStep
from npa_migrations.statements import Statement
from server_databases import fresh_database

HEADER = "import sqlalchemy as sa\nfrom npa_migrations import Migration\n\n"


class RebuildsWhatSqliteCannotAlter:
    """``needs_rebuild`` as the cookiecutter sample writes it, and nothing else."""

    def needs_rebuild(self, operation: ops.MigrationOperation) -> bool:
        if isinstance(operation, ops.AlterColumn):
            return operation.changes_definition
        return isinstance(operation, (ops.AddConstraint, ops.DropConstraint))


class PortableSql(RebuildsWhatSqliteCannotAlter, SqlGenerator):
    """The core's SQL and rebuild defaults."""


def portable(executor: MigrationExecutor, sql_class: type = PortableSql) -> MigrationExecutor:
    """``executor`` with its provider's SQL part replaced by ``sql_class``."""
    executor.provider.sql = sql_class(executor.provider)
    return executor


def write(folder: Path, timestamp: str, name: str, up: str, down: str = "") -> None:
    body = f"class {name}(Migration):\n    def up(self, b):\n"
    body += textwrap.indent(textwrap.dedent(up).strip() + "\n", " " * 8)
    if down:
        body += "\n    def down(self, b):\n"
        body += textwrap.indent(textwrap.dedent(down).strip() + "\n", " " * 8)
    (folder / f"{timestamp}_{name.lower()}.py").write_text(HEADER + body)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "migrations"
    path.mkdir()
    return path


def rebuild_statements(executor: MigrationExecutor) -> list[str]:
    """The statements of the first rebuild in the online ``--sql`` script (rehearsed in a
    transaction that is rolled back), each on one line."""
    script = executor.script()
    body = script.split("-- Rebuilding table ", 1)[1].split("\n", 1)[1]
    body = body.split("INSERT INTO npa_migrations_history", 1)[0]
    return [" ".join(s.split()) for s in body.split(";\n") if s.strip()]


def query(db: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql).fetchall()


# --------------------------------------------------------------------------------------
# planning
# --------------------------------------------------------------------------------------

def test_planner_groups_runs_on_one_table_that_hold_an_operation_needing_a_rebuild():
    provider = BaseProvider(sa.engine.make_url("postgresql://u@h/db"))
    b = MigrationBuilder()
    b.add_column("t", sa.Column("a", sa.Integer))                 # plain, but in the run
    b.alter_column("t", "a", nullable=False)                       # needs the rebuild
    b.create_unique_constraint("uq_t_a", "t", ["a"])
    b.alter_column("u", "b", server_default="x")                   # another table's run
    b.create_index("ix_u_b", "u", ["b"])                           # not a shape operation
    b.rename_column("u", "b", "c")                                 # a run needing nothing
    plain = plan_steps(provider, b.operations)
    assert not any(isinstance(step, RebuildStep) for step in plain)  # the default: no rebuild

    provider.sql = PortableSql(provider)
    steps = plan_steps(provider, b.operations)
    assert [(type(s).__name__, [op.kind for op in s.operations]) for s in steps] == [
        ("RebuildStep", ["add_column", "alter_column", "create_unique_constraint"]),
        ("RebuildStep", ["alter_column"]),
        ("Step", ["create_index"]), ("Step", ["rename_column"])]
    assert steps[0].live and steps[0].describe().startswith("Rebuilding table 't': ")
    # without a database or the replayed schema a rebuild cannot be written
    with pytest.raises(ConfigurationError, match="without the database or the schema"):
        list(steps[0].render(OFFLINE))


def test_an_operation_that_needs_a_rebuild_has_no_sql_of_its_own():
    provider = BaseProvider(sa.engine.make_url("postgresql://u@h/db"))
    provider.sql = PortableSql(provider)
    with pytest.raises(ConfigurationError, match="rebuilding the table.*plan_steps"):
        provider.sql.generate(ops.AlterColumn("t", "c", nullable=False), OFFLINE)
    assert provider.sql.generate(ops.AlterColumn("t", "c", new_column_name="d"), OFFLINE) == [
        "ALTER TABLE t RENAME COLUMN c TO d"]


def test_names_in_sql_reads_quoted_names_and_skips_strings_and_calls():
    sql = SqlGenerator(BaseProvider(sa.engine.make_url("postgresql://u@h/db")))
    names = sql.names_in_sql('lower("Full ""Name""") <> \'price\' AND qty >= `Min`')
    assert {'full "name"', "qty", "min"} <= names
    assert not {"lower", "price"} & names


# --------------------------------------------------------------------------------------
# SQLite, with the portable defaults only
# --------------------------------------------------------------------------------------

SHOP = """
    CREATE TABLE parent (id INTEGER PRIMARY KEY);
    CREATE TABLE t (id INTEGER PRIMARY KEY, code VARCHAR(10) NOT NULL,
                    qty INTEGER DEFAULT 1, label VARCHAR(20),
                    parent_id INTEGER,
                    CONSTRAINT uq_t_code UNIQUE (code),
                    CONSTRAINT ck_t_qty CHECK (qty >= 0),
                    CONSTRAINT fk_t_parent FOREIGN KEY (parent_id) REFERENCES parent (id)
                        ON DELETE CASCADE);
    CREATE INDEX ix_t_label ON t (label);
    CREATE TABLE child (id INTEGER PRIMARY KEY, t_id INTEGER REFERENCES t (id));
    INSERT INTO parent VALUES (1);
    INSERT INTO t VALUES (1, 'a', 5, 'first', 1), (2, 'b', 0, 'second', NULL);
    INSERT INTO child VALUES (1, 1);
"""


def test_portable_rebuild_keeps_rows_constraints_indexes_and_references(tmp_path, folder):
    db = tmp_path / "app.db"
    with closing(sqlite3.connect(db)) as conn:
        conn.executescript(SHOP)
    write(folder, "20250101000000", "Widen", """
        b.alter_column("t", "label", type_=sa.String(80), nullable=False,
                       existing_type=sa.String(20), existing_nullable=True)
        b.create_check_constraint("ck_t_label", "t", "length(label) > 0")
    """, """
        b.drop_constraint("ck_t_label", "t", type_="check")
        b.alter_column("t", "label", type_=sa.String(20), nullable=True,
                       existing_type=sa.String(80), existing_nullable=False)
    """)
    executor = portable(MigrationExecutor(f"sqlite:///{db}", folder))
    rebuild = rebuild_statements(executor)
    result = executor.execute()
    assert result.success, result.errors
    assert [s.split("(")[0].strip() for s in rebuild] == [
        "CREATE TABLE _npa_tmp_t", "INSERT INTO _npa_tmp_t",
        "DROP TABLE t", "ALTER TABLE _npa_tmp_t RENAME TO t", "CREATE INDEX ix_t_label ON t"]
    assert rebuild[1] == ("INSERT INTO _npa_tmp_t (id, code, qty, label, parent_id) "
                          "SELECT id, code, qty, label, parent_id FROM t")
    inspector = sa.inspect(sa.create_engine(f"sqlite:///{db}"))
    label = {c["name"]: c for c in inspector.get_columns("t")}["label"]
    assert (label["type"].length, label["nullable"]) == (80, False)
    assert [u["name"] for u in inspector.get_unique_constraints("t")] == ["uq_t_code"]
    assert {c["name"] for c in inspector.get_check_constraints("t")} == {"ck_t_qty",
                                                                         "ck_t_label"}
    [fk] = inspector.get_foreign_keys("t")
    assert (fk["name"], fk["referred_table"], fk["options"].get("ondelete")) == (
        "fk_t_parent", "parent", "CASCADE")
    assert [i["name"] for i in inspector.get_indexes("t")] == ["ix_t_label"]
    assert query(db, "SELECT * FROM t ORDER BY id") == [(1, "a", 5, "first", 1),
                                                        (2, "b", 0, "second", None)]
    assert query(db, "SELECT * FROM pragma_foreign_key_check") == []  # child still points at t
    with pytest.raises(sqlite3.IntegrityError, match="ck_t_label"):
        query(db, "INSERT INTO t (id, code, label) VALUES (3, 'c', '')")

    assert portable(MigrationExecutor(f"sqlite:///{db}", folder)).rollback().success
    label = {c["name"]: c for c in sa.inspect(sa.create_engine(f"sqlite:///{db}"))
             .get_columns("t")}["label"]
    assert (label["type"].length, label["nullable"]) == (20, True)


def test_rows_that_do_not_fit_fail_before_the_copy_and_change_nothing(tmp_path, folder):
    db = tmp_path / "app.db"
    with closing(sqlite3.connect(db)) as conn:
        conn.executescript("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);"
                           "INSERT INTO t VALUES (1, 'a'), (2, 'a'), (3, NULL);")
    write(folder, "20250101000000", "Unique", 'b.create_unique_constraint("uq", "t", ["v"])')
    result = portable(MigrationExecutor(f"sqlite:///{db}", folder)).execute()
    assert not result.success
    assert "sqlite rebuild of table 't'" in result.errors[0].message
    assert "values repeat (value x times: ('a',) x2)" in result.errors[0].message
    assert query(db, "SELECT name FROM sqlite_master WHERE name LIKE '_npa%'") == []


def test_a_long_table_name_gets_a_temporary_name_the_database_can_hold(tmp_path, folder):
    class ShortNames(PortableSql):
        def max_identifier_length(self) -> int:
            return 30

    table = "order_line_items_archive"  # 24 characters, 33 with the prefix
    db = tmp_path / "app.db"
    with closing(sqlite3.connect(db)) as conn:
        conn.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, v TEXT)")
    write(folder, "20250101000000", "Alter", f'b.alter_column("{table}", "v", nullable=False)')
    executor = portable(MigrationExecutor(f"sqlite:///{db}", folder), ShortNames)
    create = rebuild_statements(executor)[0]
    assert executor.execute().success
    tmp = create.split()[2]
    assert len(tmp) <= 30 and tmp != f"_npa_tmp_{table}"


def test_a_provider_that_rebuilds_for_every_column_change_still_renames_in_place(tmp_path,
                                                                                 folder):
    class RebuildsAll(SqlGenerator):
        def needs_rebuild(self, operation):
            return isinstance(operation, TABLE_SHAPE_OPERATIONS)

    db = tmp_path / "app.db"
    with closing(sqlite3.connect(db)) as conn:
        conn.executescript("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT);"
                           "INSERT INTO t VALUES (1, 'x', 'y');")
    write(folder, "20250101000000", "Swap", """
        b.rename_column("t", "a", "tmp")
        b.rename_column("t", "b", "a")
        b.alter_column("t", "tmp", new_column_name="b", nullable=False)
    """)
    executor = portable(MigrationExecutor(f"sqlite:///{db}", folder), RebuildsAll)
    assert executor.execute().success
    assert query(db, "SELECT id, a, b FROM t") == [(1, "y", "x")]


def test_a_provider_hook_that_spoils_the_table_is_caught_and_rolled_back(tmp_path, folder):
    class Spoiling(PortableSql):
        def rebuild_epilogue(self, rebuild, table):
            return [Statement(f"ALTER TABLE {rebuild.quoted()} ADD COLUMN stray INTEGER")]

    db = tmp_path / "app.db"
    with closing(sqlite3.connect(db)) as conn:
        conn.executescript("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);"
                           "INSERT INTO t VALUES (1, 'a');")
    before = query(db, "SELECT sql FROM sqlite_master WHERE tbl_name = 't'")
    write(folder, "20250101000000", "Alter", 'b.alter_column("t", "v", nullable=False)')
    result = portable(MigrationExecutor(f"sqlite:///{db}", folder), Spoiling).execute()
    assert not result.success
    message = result.errors[0].message
    assert ("the rebuilt table is (id, v NOT NULL, stray; primary key: id), not "
            "(id, v NOT NULL; primary key: id)") in message
    assert query(db, "SELECT sql FROM sqlite_master WHERE tbl_name = 't'") == before
    assert query(db, "SELECT * FROM t") == [(1, "a")]


# --------------------------------------------------------------------------------------
# PostgreSQL: the same mechanism compiled for another dialect, in a schema
# --------------------------------------------------------------------------------------

def postgres_sql(provider: BaseProvider) -> type:
    """PostgreSQL's SQL part plus the rebuild. PostgreSQL names the index behind a
    primary key or unique constraint after the constraint, in the schema's namespace, so
    the old table's keys move out of the way first: the kind of quirk a provider puts in
    ``rebuild_prologue``."""

    class PostgresRebuild(RebuildsWhatSqliteCannotAlter, type(provider.sql)):
        def rebuild_prologue(self, rebuild, table):
            return [Statement(f"ALTER TABLE {rebuild.quoted()} RENAME CONSTRAINT "
                              f"{self.quote(c.name)} TO {self.quote('_npa_old_' + c.name)}")
                    for c in table.constraints
                    if c.kind in ("primary", "unique") and c.name and not c.created]

    return PostgresRebuild


@pytest.fixture
def postgres_url():
    with fresh_database("postgresql", "npa_rebuild") as url:
        yield url


def test_portable_rebuild_on_postgresql_in_a_schema(postgres_url, folder):
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text("""
            CREATE SCHEMA app;
            CREATE TABLE app.parent (id INTEGER PRIMARY KEY);
            CREATE TABLE app."Items" (id INTEGER PRIMARY KEY, code VARCHAR(10) NOT NULL,
                CONSTRAINT "uq items code" UNIQUE (code),
                qty INTEGER NOT NULL DEFAULT 1 CONSTRAINT ck_qty CHECK (qty >= 0),
                label VARCHAR(20),
                parent_id INTEGER CONSTRAINT fk_parent REFERENCES app.parent (id)
                    ON DELETE CASCADE);
            CREATE INDEX ix_items_label ON app."Items" (lower(label));
            INSERT INTO app.parent VALUES (1);
            INSERT INTO app."Items" VALUES (1, 'a', 5, 'first', 1), (2, 'b', 0, NULL, NULL);
        """))
    write(folder, "20250101000000", "Widen", """
        b.alter_column("Items", "label", type_=sa.String(80), server_default="none",
                       schema="app")
        b.create_unique_constraint("uq_items_label", "Items", ["label"], schema="app")
    """, """
        b.drop_constraint("uq_items_label", "Items", type_="unique", schema="app")
        b.alter_column("Items", "label", type_=sa.String(20), server_default=None,
                       schema="app")
    """)
    executor = MigrationExecutor(postgres_url, folder)
    executor.provider.sql = postgres_sql(executor.provider)(executor.provider)
    result = executor.execute()
    assert result.success, result.errors[0].message

    inspector = sa.inspect(engine)
    label = {c["name"]: c for c in inspector.get_columns("Items", schema="app")}["label"]
    assert label["type"].length == 80 and "none" in label["default"]
    assert sorted(u["name"] for u in inspector.get_unique_constraints("Items", schema="app")) \
        == ["uq items code", "uq_items_label"]
    assert [c["name"] for c in inspector.get_check_constraints("Items", schema="app")] == [
        "ck_qty"]
    [fk] = inspector.get_foreign_keys("Items", schema="app")
    assert (fk["name"], fk["referred_schema"], fk["options"].get("ondelete")) == (
        "fk_parent", "app", "CASCADE")
    [index] = [i for i in inspector.get_indexes("Items", schema="app")
               if not i.get("duplicates_constraint")]
    assert index["name"] == "ix_items_label"
    assert [e.replace("(", "").replace(")", "") for e in index["expressions"]] == [
        "lowerlabel::text"]  # the expression index, re-created
    assert sorted(inspector.get_table_names(schema="app")) == ["Items", "parent"]
    with engine.connect() as conn:
        assert conn.execute(sa.text('SELECT * FROM app."Items" ORDER BY id')).all() == [
            (1, "a", 5, "first", 1), (2, "b", 0, None, None)]

    rollback = MigrationExecutor(postgres_url, folder)
    rollback.provider.sql = postgres_sql(rollback.provider)(rollback.provider)
    assert rollback.rollback().success
    label = {c["name"]: c for c in sa.inspect(engine).get_columns("Items", schema="app")}[
        "label"]
    assert label["type"].length == 20 and label["default"] is None
    engine.dispose()


def test_postgresql_refuses_to_drop_a_referenced_table_and_nothing_changes(postgres_url,
                                                                           folder):
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text("""
            CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
            CREATE TABLE child (id INTEGER PRIMARY KEY, t_id INTEGER REFERENCES t (id));
            INSERT INTO t VALUES (1, 'a');
        """))
    write(folder, "20250101000000", "Alter", 'b.alter_column("t", "v", nullable=False)')
    executor = MigrationExecutor(postgres_url, folder)
    executor.provider.sql = postgres_sql(executor.provider)(executor.provider)
    result = executor.execute()
    assert not result.success
    message = result.errors[0].message
    assert "DROP TABLE t" in message and "depend" in message
    inspector = sa.inspect(engine)
    assert sorted(inspector.get_table_names()) == ["child", "npa_migrations_history",
                                                   "npa_migrations_log", "t"]
    assert inspector.get_pk_constraint("t")["name"] == "t_pkey"
    engine.dispose()
