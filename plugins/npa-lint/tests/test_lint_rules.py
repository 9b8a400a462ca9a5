"""Each rule, on builder operations: when it fires, when it stays silent."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from npa_migrations import operations as ops

PG = "postgresql://u@localhost/db"
MYSQL = "mysql+pymysql://u@localhost/db"

USERS = ops.CreateTable("users", (sa.Column("id", sa.Integer, primary_key=True),
                                  sa.Column("name", sa.String(200)),
                                  sa.Column("age", sa.BigInteger)))


@pytest.fixture
def base(make_script):
    """An applied migration that created ``users`` (not linted)."""
    return make_script("20250101000000_Users", USERS)


def rules_of(findings) -> list[str]:
    return [f.rule for f in findings]


def check(run_lint, base, make_script, *operations, url=PG, **kwargs):
    script = make_script("20250102000000_Change", *operations)
    return run_lint(url, base, script, selected=[script.id], **kwargs)


# add-not-null-column ------------------------------------------------------------------
def test_not_null_column_without_default_on_existing_table(run_lint, base, make_script):
    [finding] = check(run_lint, base, make_script,
                      ops.AddColumn("users", sa.Column("email", sa.String(50), nullable=False)))
    assert finding.rule == "add-not-null-column" and finding.severity == "error"
    assert finding.migration_id == "20250102000000_Change"
    assert "'email'" in finding.message and "'users'" in finding.message
    assert "backfill" in finding.fix
    assert finding.operation == "Adding column 'email'"


@pytest.mark.parametrize("column", [
    sa.Column("email", sa.String(50), nullable=False, server_default="x"),
    sa.Column("email", sa.String(50), nullable=True),
    sa.Column("n", sa.Integer, sa.Identity(), nullable=False),
], ids=["server-default", "nullable", "identity"])
def test_not_null_column_is_fine_with_default_nullable_or_identity(run_lint, base,
                                                                   make_script, column):
    assert "add-not-null-column" not in rules_of(
        check(run_lint, base, make_script, ops.AddColumn("users", column)))


def test_table_created_in_the_same_migration_is_new(run_lint, make_script):
    script = make_script("20250101000000_New", USERS,
                         ops.AddColumn("users", sa.Column("email", sa.String(50), nullable=False)),
                         ops.CreateIndex("ix_email", "users", ("email",)),
                         ops.DropColumn("users", "age"))
    assert run_lint(PG, script) == []


def test_a_run_counts_tables_created_by_earlier_pending_migrations_as_new(run_lint,
                                                                          make_script):
    first = make_script("20250101000000_Users", USERS)
    second = make_script("20250102000000_Drop", ops.DropColumn("users", "age"))
    assert run_lint(PG, first, second, run=True) == []
    assert rules_of(run_lint(PG, first, second, run=False)) == ["drop-column"]


# create-index-not-concurrently ---------------------------------------------------------
def test_create_index_without_concurrently_on_postgres(run_lint, base, make_script,
                                                       without_concurrent_index):
    [finding] = check(run_lint, base, make_script, ops.CreateIndex("ix_name", "users", ("name",)))
    assert finding.rule == "create-index-not-concurrently"
    assert finding.severity == "warning"
    assert "npa-concurrent-index" in finding.fix


def test_create_index_is_fine_elsewhere_or_when_rendered_concurrently(run_lint, base,
                                                                      make_script):
    index = ops.CreateIndex("ix_name", "users", ("name",))
    assert check(run_lint, base, make_script, index, url=MYSQL) == []
    # with npa-concurrent-index the SQL (through the hook) says CONCURRENTLY
    plugin = pytest.importorskip("npa_concurrent_index.plugin")
    from npa_migrations.plugins import get_plugin_manager

    manager = get_plugin_manager()
    added = not manager.is_registered(plugin)
    if added:
        manager.register(plugin, name="npa-lint-test-concurrent-index")
    try:
        assert check(run_lint, base, make_script, index) == []
    finally:
        if added:
            manager.unregister(plugin)


# drop-column / drop-table --------------------------------------------------------------
def test_drop_column_and_drop_table(run_lint, base, make_script):
    findings = check(run_lint, base, make_script, ops.DropColumn("users", "age"),
                     ops.DropTable("users"))
    assert rules_of(findings) == ["drop-column", "drop-table"]
    assert all(f.severity == "warning" for f in findings)
    assert "'age'" in findings[0].message


# narrow-column-type --------------------------------------------------------------------
def test_narrowing_found_from_the_schema_model(run_lint, base, make_script):
    [finding] = check(run_lint, base, make_script,
                      ops.AlterColumn("users", "name", type_=sa.String(50)))
    assert finding.rule == "narrow-column-type" and finding.severity == "error"
    assert "length 200 -> 50" in finding.message


@pytest.mark.parametrize("old,new,narrow", [
    (sa.BigInteger(), sa.Integer(), True),
    (sa.Integer(), sa.BigInteger(), False),
    (sa.Numeric(10, 2), sa.Numeric(8, 2), True),
    (sa.Numeric(10, 2), sa.Numeric(12, 2), False),
    (sa.Numeric(10, 2), sa.Integer(), True),
    (sa.Text(), sa.String(10), True),
    (sa.String(10), sa.Text(), False),
    (sa.String(10), sa.Integer(), True),
    (sa.DateTime(), sa.Date(), True),
])
def test_narrowing_with_existing_type(run_lint, base, make_script, old, new, narrow):
    findings = check(run_lint, base, make_script,
                     ops.AlterColumn("users", "age", type_=new, existing_type=old))
    assert ("narrow-column-type" in rules_of(findings)) is narrow


def test_unknown_old_type_is_not_guessed(run_lint, make_script):
    script = make_script("20250102000000_Alter",
                         ops.AlterColumn("legacy", "code", type_=sa.String(5)))
    assert run_lint(PG, script) == []


# renames -------------------------------------------------------------------------------
def test_renames(run_lint, base, make_script):
    findings = check(run_lint, base, make_script, ops.RenameColumn("users", "name", "full_name"),
                     ops.AlterColumn("users", "age", new_column_name="years"),
                     ops.RenameTable("users", "people"))
    assert rules_of(findings) == ["rename-column", "rename-column", "rename-table"]
    assert "'full_name'" in findings[0].message and "Expand and contract" in findings[0].fix


# rewrite-large-table -------------------------------------------------------------------
REWRITES = [
    ops.AlterColumn("users", "age", type_=sa.Integer(), existing_type=sa.Integer()),
    ops.AlterColumn("users", "name", nullable=False),
    ops.CreateForeignKey("fk", "users", "users", ("age",), ("id",)),
    ops.CreateUniqueConstraint("uq_name", "users", ("name",)),
    ops.AddColumn("users", sa.Column("token", sa.String(36),
                                     server_default=sa.text("gen_random_uuid()"))),
]


@pytest.mark.parametrize("operation", REWRITES, ids=lambda op: op.kind)
def test_rewrite_of_a_large_table(run_lint, base, make_script, operation):
    estimates = []

    def estimate(schema, table):
        estimates.append((schema, table))
        return 5_000_000

    findings = check(run_lint, base, make_script, operation, estimate=estimate)
    [finding] = [f for f in findings if f.rule == "rewrite-large-table"]
    assert finding.severity == "error"
    assert "about 5,000,000 rows" in finding.message
    assert estimates == [(None, "users")]


def test_rewrite_is_silent_for_small_or_unknown_tables(run_lint, base, make_script):
    operation = REWRITES[0]
    for estimate in (lambda s, t: 10, lambda s, t: None, None):
        assert "rewrite-large-table" not in rules_of(
            check(run_lint, base, make_script, operation, estimate=estimate))


def test_widening_a_string_is_not_a_rewrite_on_postgres(run_lint, base, make_script):
    findings = check(run_lint, base, make_script,
                     ops.AlterColumn("users", "name", type_=sa.String(400)),
                     estimate=lambda s, t: 10**9)
    assert findings == []


def test_sqlite_rebuilds_are_rewrites(run_lint, base, make_script, tmp_path):
    findings = check(run_lint, base, make_script,
                     ops.AlterColumn("users", "name", nullable=False),
                     url=f"sqlite:///{tmp_path / 'x.db'}", estimate=lambda s, t: 10**7)
    [finding] = findings
    assert finding.rule == "rewrite-large-table" and "rebuilds 'users'" in finding.message


# empty-down ---------------------------------------------------------------------------------
def _with_down(migration_id, down, empty_down=False):
    from npa_migrations.migration import MigrationScript

    return MigrationScript(id=migration_id, source=f"{migration_id}.py", build_up=lambda: [USERS],
                           build_down=None if down is None else lambda: list(down),
                           empty_down=empty_down)


def test_an_empty_down_is_flagged(run_lint):
    [finding] = run_lint(PG, _with_down("20250101000000_Users", []))
    assert finding.rule == "empty-down" and finding.severity == "warning"
    assert "down() of 20250101000000_Users records no steps" in finding.message
    assert "empty_down = True" in finding.fix


@pytest.mark.parametrize("down, declared", [([ops.DropTable("users")], False), ([], True),
                                            (None, False)],
                         ids=["real-down", "declared-empty", "no-down-method"])
def test_a_down_with_steps_or_declared_empty_is_fine(run_lint, down, declared):
    assert run_lint(PG, _with_down("20250101000000_Users", down, declared)) == []
