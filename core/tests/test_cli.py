"""The `npa` command line: output layout, JSON, config resolution and exit codes."""

import json
import re
import sqlite3

import pytest
from click.testing import CliRunner

from npa_migrations.cli import cli

USERS = """
    import sqlalchemy as sa
    from npa_migrations import Migration

    class CreateUsers(Migration):
        def up(self, b):
            b.create_table("users", sa.Column("id", sa.Integer, primary_key=True))
            b.create_index("ix_users_id", "users", ["id"])

        def down(self, b):
            b.drop_table("users")
"""


@pytest.fixture
def project(tmp_path, migrations_dir, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NPA_DATABASE_URL", raising=False)
    monkeypatch.delenv("NPA_MIGRATIONS", raising=False)
    migrations_dir("20250101000000_create_users.py", USERS)
    migrations_dir("20250102000000_roles.sql",
                   "-- npa:up\nCREATE TABLE roles (id INTEGER);\n-- npa:down\nDROP TABLE roles;\n")
    return tmp_path


def run(*args, **kwargs):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False, **kwargs)


def test_up_human_layout(project):
    result = run("migrate", "up")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Acquiring migration lock...\n" in out
    assert "Lock acquired" in out
    assert "Pending migrations:\n  1. 20250101000000_CreateUsers\n  2. 20250102000000_Roles\n" in out
    assert "Executing migration 1/2: CreateUsers\n  ✓ Creating table 'users'\n" \
           "  ✓ Creating index 'ix_users_id'\n" in out
    assert "Executing migration 2/2: Roles\n  ✓ Creating table 'roles'\n" in out
    assert "✓ 2 migrations applied successfully" in out
    assert "Time: " in out
    assert (project / "npa.db").exists()  # the default database


def test_up_freezes_start_up_objects_only_for_the_run(project, monkeypatch):
    # the run's collections skip what start-up built; afterwards (the CLI may run inside
    # another process, as here) the objects go back to the collector
    import gc

    from npa_migrations.engine.executor import MigrationExecutor

    seen = []
    execute = MigrationExecutor.execute

    def watched(self, *args, **kwargs):
        seen.append(gc.get_freeze_count())
        return execute(self, *args, **kwargs)

    monkeypatch.setattr(MigrationExecutor, "execute", watched)
    assert gc.get_freeze_count() == 0
    assert run("migrate", "up").exit_code == 0
    assert seen and seen[0] > 0
    assert gc.get_freeze_count() == 0


def test_up_leaves_a_hosts_frozen_objects_frozen(project):
    import gc

    gc.freeze()
    try:
        assert run("migrate", "up").exit_code == 0
        assert gc.get_freeze_count() > 0  # not handed back: the host froze them
    finally:
        gc.unfreeze()


def test_up_summarises_a_migration_of_many_statements(project, migrations_dir):
    inserts = "".join(f"INSERT INTO roles VALUES ({i});\n" for i in range(30))
    migrations_dir("20250103000000_fill.sql", f"-- npa:up\n{inserts}-- npa:down\nSELECT 1;\n")
    result = run("migrate", "up")
    assert result.exit_code == 0, result.output
    section = result.output.split("Executing migration 3/3: Fill\n", 1)[1].split("\n\n")[0]
    lines = section.splitlines()
    assert lines[:20] == ["  ✓ Inserting rows into 'roles'"] * 20
    assert lines[-1] == "  ✓ 10 more operations (30 in all)"
    assert sqlite3.connect(project / "npa.db").execute("SELECT count(*) FROM roles").fetchone() == (30,)


def test_up_of_many_migrations_prints_one_line_each(project, migrations_dir):
    for i in range(3, 63):
        migrations_dir(f"202501{i:02d}000000_t{i}.sql" if i < 32 else
                       f"202502{i - 31:02d}000000_t{i}.sql",
                       f"-- npa:up\nCREATE TABLE t{i} (id INTEGER);\n-- npa:down\nDROP TABLE t{i};\n")
    result = run("migrate", "up")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "  10. 20250110000000_T10\n  ... and 52 more\n" in out
    assert "Executing migration 1/62: CreateUsers\nExecuting migration 2/62: Roles\n" in out
    assert "Creating table" not in out
    assert "Executing migration 62/62: T62\n\n✓ 62 migrations applied successfully" in out


def test_up_nothing_pending_takes_no_lock(project):
    run("migrate", "up")
    result = run("migrate", "up")
    assert result.exit_code == 0
    assert "Acquiring" not in result.output
    assert "up to date" in result.output


def test_up_says_which_older_migrations_out_of_order_ignore_left(project, migrations_dir):
    run("migrate", "up")
    migrations_dir("20240101000000_older.sql", "-- npa:up\nCREATE TABLE older (id INTEGER);\n")
    result = run("migrate", "up", "--out-of-order", "ignore")
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output
    assert ("1 older pending migration(s) not applied (--out-of-order ignore): "
            "20240101000000_Older") in result.output
    line = run("migrate", "up", "--out-of-order", "ignore", "--json").output.splitlines()[-1]
    assert json.loads(line)["ignored"] == ["20240101000000_Older"]


def test_status_flags_what_would_stop_up(project, migrations_dir):
    run("migrate", "up")
    migrations_dir("20250102000000_roles.sql",
                   "-- npa:up\nCREATE TABLE roles (id INTEGER, name TEXT);\n")
    migrations_dir("20240101000000_older.sql", "-- npa:up\nCREATE TABLE older (id INTEGER);\n")
    text = run("migrate", "status").output
    assert re.search(r"20250102000000_Roles \(.*\)  \(edited after it was applied\)", text)
    assert "□ 20240101000000_Older  (older than the newest applied)" in text
    assert "2 validation problems: 'npa migrate up' will refuse to run" in text
    data = json.loads(run("migrate", "status", "--json").output)
    assert sorted((p["code"], p["migration_id"]) for p in data["problems"]) == [
        ("checksum", "20250102000000_Roles"), ("out_of_order", "20240101000000_Older")]


def test_status_text_and_json(project):
    run("migrate", "up", "--target", "20250101000000")
    text = run("migrate", "status").output
    # the seed's layout (SPEC §7), npa's extras after it
    lines = text.splitlines()
    assert lines[:3] == ["Database: npa.db", "Current Version: 20250101000000_CreateUsers", ""]
    assert lines[3] == "Applied Migrations:"
    assert re.fullmatch(r"  ✓ 20250101000000_CreateUsers \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\)",
                        lines[4])
    assert lines[5:8] == ["", "Pending Migrations:", "  □ 20250102000000_Roles"]
    assert lines[-1] == "URL: sqlite:///npa.db (applied times in UTC)"
    data = json.loads(run("migrate", "status", "--json").output)
    assert data["current"] == "20250101000000_CreateUsers"
    assert [a["id"] for a in data["applied"]] == ["20250101000000_CreateUsers"]
    assert set(data["applied"][0]) == {"id", "applied_at", "checksum", "success"}
    assert data["pending"] == [{"id": "20250102000000_Roles"}]
    assert data["problems"] == []


def test_up_json_stream(project):
    result = run("migrate", "up", "--json")
    events = [json.loads(line) for line in result.output.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "lock_acquired"
    assert kinds.count("migration_start") == 2 and kinds.count("migration_end") == 2
    assert "operation" in kinds
    assert events[-1]["event"] == "result" and events[-1]["success"] is True
    assert events[-1]["migrations"] == ["20250101000000_CreateUsers", "20250102000000_Roles"]


def test_failed_migration_exit_1(project, migrations_dir):
    migrations_dir("20250103000000_bad.sql", "-- npa:up\nCREATE TABLE ok (id INTEGER);\nBOGUS;\n")
    result = run("migrate", "up")
    assert result.exit_code == 1
    assert "20250103000000_Bad" in result.output
    assert "BOGUS" in result.output
    assert "Traceback" not in result.output


def test_validation_exit_3(project, migrations_dir):
    run("migrate", "up")
    migrations_dir("20250102000000_roles.sql", "-- npa:up\nCREATE TABLE roles (id BIGINT);\n")
    result = run("migrate", "validate")
    assert result.exit_code == 3
    assert "20250102000000_Roles" in result.output
    assert run("migrate", "up").exit_code == 3
    data = json.loads(run("migrate", "validate", "--json").output)
    assert data["valid"] is False and data["problems"][0]["code"] == "checksum"
    assert run("migrate", "repair", "--accept-checksum", "20250102000000").exit_code == 0
    assert run("migrate", "validate").exit_code == 0


def test_usage_errors_exit_2(project):
    assert run("migrate", "up", "--transaction-mode", "bogus").exit_code == 2
    assert run("-d", "nosuchdb://x", "migrate", "up").exit_code == 2
    result = run("-d", "postgresql+nosuchdriver://u:hunter2@h/db", "migrate", "status")
    assert result.exit_code == 2
    assert "hunter2" not in result.output
    assert run("migrate", "down", "--target", "x", "--steps", "1").exit_code == 2
    assert run("migrate", "up", "--offline").exit_code == 2


def test_lock_timeout_exit_4(project):
    from npa_migrations import MigrationExecutor

    executor = MigrationExecutor("sqlite:///npa.db", "migrations")
    lock = executor.hook.npa_create_lock(provider=executor.provider, table_name="npa_migrations_lock")
    lock.acquire(1)
    try:
        result = run("migrate", "up", "--lock-timeout", "0.5")
        assert result.exit_code == 4
        assert "pid=" in result.output  # names the holder
        assert "npa migrate unlock" in result.output
    finally:
        lock.release()


def test_unlock_releases_a_stale_lock(project):
    from npa_migrations import MigrationExecutor

    executor = MigrationExecutor("sqlite:///npa.db", "migrations")
    lock = executor.hook.npa_create_lock(provider=executor.provider, table_name="npa_migrations_lock")
    lock.acquire(1)
    lock._stop.set()  # simulate a crashed holder: the row stays
    result = run("migrate", "unlock")
    assert "Released the migration lock held by" in result.output
    assert run("migrate", "up", "--lock-timeout", "0.5").exit_code == 0


def test_down_steps_and_target(project):
    run("migrate", "up")
    result = run("migrate", "down")
    assert result.exit_code == 0
    assert "Rolling back migration 1/1: Roles" in result.output
    run("migrate", "up")
    assert run("migrate", "down", "--target", "20250101000000").exit_code == 0
    data = json.loads(run("migrate", "status", "--json").output)
    assert data["current"] == "20250101000000_CreateUsers"


def test_dry_run_changes_nothing(project):
    result = run("migrate", "up", "--dry-run")
    assert result.exit_code == 0
    assert "20250101000000_CreateUsers" in result.output and "Creating table 'users'" in result.output
    with sqlite3.connect(project / "npa.db") as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "users" not in names


def test_sql_offline_script(project):
    result = run("-d", "sqlite:///elsewhere.db", "migrate", "up", "--sql", "--offline")
    assert result.exit_code == 0
    script = result.output
    assert "CREATE TABLE npa_migrations_history" in script
    assert script.index("CREATE TABLE users") < script.index("CREATE TABLE roles")
    assert "INSERT INTO npa_migrations_history" in script
    assert not (project / "elsewhere.db").exists()
    # the script is runnable as it is
    with sqlite3.connect(project / "from_script.db") as conn:
        conn.executescript(script)
        assert conn.execute("SELECT count(*) FROM npa_migrations_history").fetchone()[0] == 2


def test_config_precedence(project, monkeypatch):
    (project / "npa.toml").write_text('database_url = "sqlite:///from_file.db"\n')
    run("migrate", "up")
    assert (project / "from_file.db").exists()
    monkeypatch.setenv("NPA_DATABASE_URL", "sqlite:///from_env.db")
    run("migrate", "up")
    assert (project / "from_env.db").exists()
    run("-d", "sqlite:///from_flag.db", "migrate", "up")
    assert (project / "from_flag.db").exists()


def test_pyproject_tool_npa_and_bad_keys(project):
    (project / "pyproject.toml").write_text('[tool.npa]\ndatabase_url = "sqlite:///pp.db"\n')
    run("migrate", "up")
    assert (project / "pp.db").exists()
    (project / "npa.toml").write_text('databse_url = "x"\n')
    result = run("migrate", "status")
    assert result.exit_code == 2 and "databse_url" in result.output


def test_new_creates_python_and_sql(project):
    result = run("migrate", "new", "AddOrders")
    assert result.exit_code == 0
    created = sorted(p.name for p in (project / "migrations").iterdir())
    assert any(name.endswith("_add_orders.py") for name in created)
    assert run("migrate", "new", "seed_data", "--sql").exit_code == 0
    assert any(p.name.endswith("_seed_data.sql") for p in (project / "migrations").iterdir())
    assert run("migrate", "new", "bad name!").exit_code == 2
    assert run("migrate", "up").exit_code == 0


def test_providers_lists_sqlite(project):
    result = run("providers")
    assert "sqlite" in result.output and "npa-sqlite" in result.output


def test_malformed_migration_file(project, migrations_dir):
    migrations_dir("20250105000000_broken.py", "this is not python\n")
    result = run("migrate", "up")
    assert result.exit_code == 2
    assert "20250105000000_broken.py" in result.output
    assert "Traceback" not in result.output


def test_duplicate_ids(project, migrations_dir):
    migrations_dir("20250101000000_create_users.sql", "-- npa:up\nSELECT 1;\n")
    result = run("migrate", "status")
    assert result.exit_code == 2 and "Duplicate migration id 20250101000000_CreateUsers" in result.output
