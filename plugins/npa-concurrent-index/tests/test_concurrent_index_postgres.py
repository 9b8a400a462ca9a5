"""On a real PostgreSQL server: CREATE/DROP INDEX CONCURRENTLY run, outside a transaction
(PostgreSQL refuses them in a transaction block), and what that means for failures and
all-in-one mode."""

from __future__ import annotations

import pytest

from npa_migrations.errors import ConfigurationError
from npa_migrations.hookspecs import hookimpl
from npa_migrations.plugins import get_plugin_manager

TABLE = """
class Users(Migration):
    id = "20250101000000_Users"

    def up(self, b):
        b.create_table("users", sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("e mail", sa.String(100)))
        b.bulk_insert("users", [{"id": n, "e mail": f"u{n % 3}@x"} for n in range(30)])
"""

INDEX = """
class EmailIndex(Migration):
    id = "20250102000000_EmailIndex"

    def up(self, b):
        b.create_index("ix users email", "users", ["e mail"], unique={unique})

    def down(self, b):
        b.drop_index("ix users email", "users")
"""


class Statements:
    """Records every executed statement and whether a transaction was open."""

    def __init__(self):
        self.seen: list[str] = []

    @hookimpl
    def npa_statement_executed(self, statement):
        self.seen.append(statement.sql)


@pytest.fixture
def statements():
    recorder = Statements()
    manager = get_plugin_manager()
    manager.register(recorder)
    try:
        yield recorder
    finally:
        manager.unregister(recorder)


def index_state(pg) -> list[tuple]:
    return pg.query("SELECT c.relname, i.indisvalid FROM pg_index i "
                    "JOIN pg_class c ON c.oid = i.indexrelid "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = %s AND c.relname = 'ix users email'", (pg.schema,))


def test_create_and_drop_index_concurrently(pg, statements):
    pg.python("20250101000000_users", TABLE)
    pg.python("20250102000000_email_index", INDEX.format(unique=False))
    result = pg.executor().execute()
    assert result.success, result.errors
    assert index_state(pg) == [("ix users email", True)]
    assert 'CREATE INDEX CONCURRENTLY "ix users email" ON users ("e mail")' in statements.seen
    assert pg.query("SELECT migration_id, success FROM npa_migrations_history "
                    "ORDER BY migration_id") == [("20250101000000_Users", True),
                                                 ("20250102000000_EmailIndex", True)]

    result = pg.executor().rollback()
    assert result.success, result.errors
    assert index_state(pg) == []
    assert any(s.startswith("DROP INDEX CONCURRENTLY") for s in statements.seen)


def test_table_and_index_in_one_migration(pg):
    pg.python("20250101000000_both", """
        class Both(Migration):
            def up(self, b):
                b.create_table("items", sa.Column("id", sa.Integer, primary_key=True),
                               sa.Column("sku", sa.String(20)))
                b.create_index("ix_items_sku", "items", ["sku"], unique=True)
        """)
    result = pg.executor().execute()
    assert result.success, result.errors
    assert pg.query("SELECT indexname FROM pg_indexes WHERE schemaname = %s "
                    "AND tablename = 'items' ORDER BY indexname", (pg.schema,)) == [
        ("items_pkey",), ("ix_items_sku",)]
    # outside a transaction, each statement committed on its own; the run still succeeded
    assert pg.query("SELECT success FROM npa_migrations_history") == [(True,)]


def test_failed_concurrent_build_leaves_no_trace_and_runs_again(pg):
    """PostgreSQL leaves a failed concurrent build behind as an INVALID index; the engine
    drops it, so the migration left no trace: once the data is fixed, a plain 'up' runs
    it again (no repair)."""
    pg.python("20250101000000_users", TABLE)
    pg.python("20250102000000_email_index", INDEX.format(unique=True))  # duplicates exist
    result = pg.executor().execute()
    assert not result.success
    [error] = result.errors
    assert error.migration_id == "20250102000000_EmailIndex"
    assert "CREATE UNIQUE INDEX CONCURRENTLY" in error.message
    assert "left no trace" in error.message
    assert pg.query("SELECT migration_id, success FROM npa_migrations_history "
                    "ORDER BY migration_id") == [("20250101000000_Users", True)]
    assert index_state(pg) == []
    pg.query("DELETE FROM users WHERE id >= 3")  # u0@x, u1@x, u2@x once each
    assert pg.executor().execute().success
    assert index_state(pg) == [("ix users email", True)]


def test_all_in_one_mode_refuses_the_migration_before_anything_runs(pg):
    pg.python("20250101000000_users", TABLE)
    pg.python("20250102000000_email_index", INDEX.format(unique=False))
    with pytest.raises(ConfigurationError, match="20250102000000_EmailIndex.*all-in-one"):
        pg.executor(transaction_mode="all-in-one").execute()
    assert pg.query("SELECT tablename FROM pg_tables WHERE schemaname = %s "
                    "AND tablename = 'users'", (pg.schema,)) == []
    assert pg.query("SELECT count(*) FROM npa_migrations_history") == [(0,)]
