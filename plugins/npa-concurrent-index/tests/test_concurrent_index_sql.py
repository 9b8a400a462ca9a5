"""The override renders CONCURRENTLY for index operations on PostgreSQL only, marks those
steps non-transactional, and leaves every other operation and database alone."""

from __future__ import annotations

import sqlalchemy as sa

from npa_migrations import operations as ops
from npa_migrations.provider.registry import resolve_provider
from npa_migrations.plugins import get_plugin_manager
from npa_migrations.engine.planner import step_for
from npa_migrations.provider import OFFLINE

PG = sa.make_url("postgresql://u@localhost/db")


def render(provider, operation) -> list[str]:
    step = step_for(provider, operation)
    return [s.sql for s in step.render(OFFLINE)]


def test_create_index_is_concurrent_and_quoted(concurrent_plugin):
    provider = resolve_provider(PG)
    op = ops.CreateIndex('ix "odd"; name', "my table", ("select", "a b"), unique=True,
                         schema="s x")
    assert render(provider, op) == [
        'CREATE UNIQUE INDEX CONCURRENTLY "ix ""odd""; name" ON "s x"."my table" '
        '("select", "a b")']
    assert step_for(provider, op).transactional is False


def test_drop_index_is_concurrent_and_schema_qualified(concurrent_plugin):
    provider = resolve_provider(PG)
    op = ops.DropIndex("ix_users_email", "users", schema="app")
    assert render(provider, op) == ["DROP INDEX CONCURRENTLY app.ix_users_email"]
    assert step_for(provider, op).transactional is False


def test_other_operations_keep_the_providers_sql(concurrent_plugin):
    provider = resolve_provider(PG)
    others = [ops.AddColumn("users", sa.Column("email", sa.String(100))),
              ops.CreateTable("t", (sa.Column("id", sa.Integer, primary_key=True),)),
              ops.CreateUniqueConstraint("uq_email", "users", ("email",))]
    for op in others:
        step = step_for(provider, op)
        assert step.transactional is True
        assert render(provider, op) == [str(s) for s in provider.sql.generate(op, OFFLINE)]


def test_other_databases_keep_their_index_sql(concurrent_plugin, tmp_path):
    for url in (f"sqlite:///{tmp_path / 'x.db'}", "mysql+pymysql://u@localhost/db"):
        provider = resolve_provider(sa.make_url(url))
        op = ops.CreateIndex("ix_a", "t", ("a",))
        assert render(provider, op) == provider.sql.generate(op, OFFLINE)
        assert "CONCURRENTLY" not in render(provider, op)[0]
        assert step_for(provider, op).transactional is True


def test_without_the_plugin_postgres_renders_a_plain_index(concurrent_plugin):
    manager = get_plugin_manager()
    name = manager.get_name(concurrent_plugin)
    manager.unregister(concurrent_plugin)
    try:
        provider = resolve_provider(PG)
        op = ops.CreateIndex("ix_a", "t", ("a",))
        assert render(provider, op) == ["CREATE INDEX ix_a ON t (a)"]
        assert step_for(provider, op).transactional is True
    finally:
        manager.register(concurrent_plugin, name=name)


def test_offline_script_runs_the_index_migration_outside_a_transaction(concurrent_plugin,
                                                                       tmp_path):
    from npa_migrations import MigrationExecutor

    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "20250101000000_tables.py").write_text(
        "import sqlalchemy as sa\nfrom npa_migrations import Migration\n\n"
        "class Tables(Migration):\n"
        "    def up(self, b):\n"
        "        b.create_table('users', sa.Column('id', sa.Integer, primary_key=True),\n"
        "                       sa.Column('email', sa.String(100)))\n", encoding="utf-8")
    (folder / "20250102000000_index.py").write_text(
        "from npa_migrations import Migration\n\n"
        "class Index(Migration):\n"
        "    def up(self, b):\n"
        "        b.create_index('ix_users_email', 'users', ['email'])\n", encoding="utf-8")
    script = MigrationExecutor(str(PG), str(folder)).script(offline=True)
    first, second = script.split("-- 20250102000000_Index (up)")
    assert "BEGIN;" in first and "COMMIT;" in first          # the table migration: in a tx
    assert "CREATE INDEX CONCURRENTLY ix_users_email ON users (email);" in second
    assert "BEGIN" not in second and "COMMIT" not in second  # the index migration: none
