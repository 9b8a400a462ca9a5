"""Post-execution verification skips building the model of the schema for a run of raw
SQL only (``.sql`` files, ``execute`` operations): raw SQL claims nothing, so there is
nothing to compare, and replaying every applied migration would be the whole cost."""

from __future__ import annotations

import ast
import subprocess
import sys

from npa_migrations import MigrationExecutor, MigrationExecutorOptions
from npa_migrations.engine.executor import MigrationExecutor as Executor

RAW_SQL = """
    -- npa:up
    CREATE TABLE roles (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    -- npa:down
    DROP TABLE roles;
"""
EXECUTE_ONLY = """
    from npa_migrations import Migration

    class Grants(Migration):
        def up(self, b):
            b.execute("CREATE TABLE grants (id INTEGER PRIMARY KEY)")

        def down(self, b):
            b.execute("DROP TABLE grants")
"""
BUILDER = """
    import sqlalchemy as sa
    from npa_migrations import Migration

    class Users(Migration):
        def up(self, b):
            b.create_table("users", sa.Column("id", sa.Integer, primary_key=True))

        def down(self, b):
            b.drop_table("users")
"""


def run(url, folder, monkeypatch):
    """Apply ``folder`` with verification on; the number of models built."""
    built = []
    expected = Executor._expected

    def counted(self, rows):
        built.append(len(rows))
        return expected(self, rows)

    monkeypatch.setattr(Executor, "_expected", counted)
    result = MigrationExecutor(url, migrations=str(folder),
                               options=MigrationExecutorOptions(verify=True)).execute()
    assert result.success, result.errors
    return built


def test_a_run_of_raw_sql_builds_no_model(migrations_dir, sqlite_url, monkeypatch):
    migrations_dir("20240101000000_roles.sql", RAW_SQL)
    migrations_dir("20240102000000_grants.py", EXECUTE_ONLY)
    assert run(sqlite_url, migrations_dir.folder, monkeypatch) == []


def test_a_run_with_a_declared_operation_builds_it(migrations_dir, sqlite_url, monkeypatch):
    migrations_dir("20240101000000_roles.sql", RAW_SQL)
    assert run(sqlite_url, migrations_dir.folder, monkeypatch) == []
    migrations_dir("20240102000000_users.py", BUILDER)
    assert run(sqlite_url, migrations_dir.folder, monkeypatch) == [1]


#: what verification needs and a run of raw SQL only does not: the schema model, the
#: comparison, drift's helpers, the live reader, the provider's catalog reader
VERIFICATION_MODULES = ("npa_migrations.schema.model", "npa_migrations.schema.compare",
                        "npa_migrations.schema.drift", "npa_migrations.schema.live",
                        "npa_sqlite.catalog")
PROBE = """
import sys
from npa_migrations.launch import main
sys.argv = ["npa", "-d", {url!r}, "-m", {folder!r}, "migrate", "up"]
try:
    main()
except SystemExit as exc:
    assert not exc.code, exc.code
print(sorted(name for name in {modules!r} if name in sys.modules))
"""


def imported_by_up(url, folder) -> list[str]:
    """Which of :data:`VERIFICATION_MODULES` ``npa migrate up`` imports, run in a new
    interpreter (through the console script's function)."""
    code = PROBE.format(url=url, folder=str(folder), modules=VERIFICATION_MODULES)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    return ast.literal_eval(out.splitlines()[-1])


def test_a_deploy_of_raw_sql_imports_no_verification_module(migrations_dir, sqlite_url):
    """Every ``up`` asks whether there is anything to verify; the modules that verify are
    imported only when there is (a deploy of .sql files pays for none of them)."""
    migrations_dir("20240101000000_roles.sql", RAW_SQL)
    migrations_dir("20240102000000_grants.py", EXECUTE_ONLY)
    assert imported_by_up(sqlite_url, migrations_dir.folder) == []
    migrations_dir("20240103000000_users.py", BUILDER)
    assert imported_by_up(sqlite_url, migrations_dir.folder) == sorted(VERIFICATION_MODULES)
