"""Engine behaviour on real SQLite files: apply, status, rollback, failures, validation."""

import sqlite3

import pytest

from npa_migrations import (MigrationExecutor, MigrationExecutorOptions, TransactionMode,
                            ValidationError)
from npa_migrations.errors import ConfigurationError, IrreversibleMigrationError, UnknownTargetError

CREATE_USERS = """
    import sqlalchemy as sa
    from npa_migrations import Migration

    class CreateUsers(Migration):
        def up(self, b):
            b.create_table("users", sa.Column("id", sa.Integer, primary_key=True),
                           sa.Column("email", sa.String(100), nullable=False))

        def down(self, b):
            b.drop_table("users")
"""

ADD_NAME = """
    import sqlalchemy as sa
    from npa_migrations import Migration

    class AddName(Migration):
        def up(self, b):
            b.add_column("users", sa.Column("name", sa.String(50)))
            b.create_index("ix_users_name", "users", ["name"])

        def down(self, b):
            b.drop_index("ix_users_name", "users")
            b.drop_column("users", "name")
"""

ROLES_SQL = """
    -- npa:up
    CREATE TABLE roles (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    INSERT INTO roles (name) VALUES ('admin; root');
    -- npa:down
    DROP TABLE roles;
"""


def tables(url: str) -> set[str]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def columns(url: str, table: str) -> list[str]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]


def history(url: str) -> list[tuple]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return conn.execute("SELECT migration_id, success FROM npa_migrations_history "
                            "ORDER BY migration_id").fetchall()


@pytest.fixture
def three(migrations_dir):
    migrations_dir("20250101000000_create_users.py", CREATE_USERS)
    migrations_dir("20250102000000_add_name.py", ADD_NAME)
    migrations_dir("20250103000000_roles.sql", ROLES_SQL)
    return migrations_dir


def test_apply_all_then_status(sqlite_url, three):
    executor = MigrationExecutor(sqlite_url, three.folder)
    result = executor.execute()
    assert result.success
    assert result.migration_ids == ["20250101000000_CreateUsers",
                                         "20250102000000_AddName", "20250103000000_Roles"]
    assert {"users", "roles", "npa_migrations_history"} <= tables(sqlite_url)
    assert columns(sqlite_url, "users") == ["id", "email", "name"]
    status = executor.status()
    assert status.current == "20250103000000_Roles"
    assert status.pending == []
    assert [a.id for a in status.applied] == result.migration_ids
    assert all(a.checksum.startswith("sha256:") for a in status.applied)


def test_second_run_applies_nothing(sqlite_url, three):
    MigrationExecutor(sqlite_url, three.folder).execute()
    again = MigrationExecutor(sqlite_url, three.folder).execute()
    assert again.success and again.migration_ids == []
    assert len(history(sqlite_url)) == 3


def test_target_by_timestamp(sqlite_url, three):
    result = MigrationExecutor(sqlite_url, three.folder).execute(target="20250102000000")
    assert result.migration_ids == ["20250101000000_CreateUsers", "20250102000000_AddName"]


def test_unknown_target_is_clear(sqlite_url, three):
    with pytest.raises(UnknownTargetError, match="20991231000000"):
        MigrationExecutor(sqlite_url, three.folder).execute(target="20991231000000")


def test_rollback_last_steps_and_to_target(sqlite_url, three):
    executor = MigrationExecutor(sqlite_url, three.folder)
    executor.execute()
    assert executor.rollback().migration_ids == ["20250103000000_Roles"]
    assert "roles" not in tables(sqlite_url)
    executor.execute()
    result = executor.rollback_to("20250101000000_CreateUsers")
    assert result.migration_ids == ["20250103000000_Roles", "20250102000000_AddName"]
    assert columns(sqlite_url, "users") == ["id", "email"]
    assert [r[0] for r in history(sqlite_url)] == ["20250101000000_CreateUsers"]


def test_failed_migration_rolls_back_and_stops(sqlite_url, three):
    three("20250104000000_broken.sql", """
        -- npa:up
        CREATE TABLE half (id INTEGER);
        INSERT INTO half VALUES (1);
        INSERT INTO no_such_table VALUES (1);
    """)
    three("20250105000000_after.sql", "-- npa:up\nCREATE TABLE after_broken (id INTEGER);\n")
    result = MigrationExecutor(sqlite_url, three.folder).execute()
    assert not result.success
    assert result.migration_ids[-1] == "20250103000000_Roles"
    error = result.errors[0]
    assert error.migration_id == "20250104000000_Broken"
    assert "INSERT INTO no_such_table VALUES (1)" in error.message
    assert "no such table" in error.message
    assert "rolled back" in error.message
    assert "half" not in tables(sqlite_url)          # first two statements rolled back
    assert "after_broken" not in tables(sqlite_url)  # stop_on_error
    assert "20250104000000_Broken" not in dict(history(sqlite_url))


def test_all_in_one_rolls_back_everything(sqlite_url, three):
    three("20250104000000_broken.sql", "-- npa:up\nSELECT * FROM nowhere;\n")
    options = MigrationExecutorOptions(transaction_mode=TransactionMode.ALL_IN_ONE)
    result = MigrationExecutor(sqlite_url, three.folder, options).execute()
    assert not result.success and result.migration_ids == []
    assert tables(sqlite_url) == {"npa_migrations_history", "npa_migrations_lock",
                                  "npa_migrations_log"}


def test_mode_none_records_failure(sqlite_url, three):
    three("20250104000000_broken.sql", """
        -- npa:up
        CREATE TABLE half (id INTEGER);
        SELECT * FROM nowhere;
    """)
    options = MigrationExecutorOptions(transaction_mode="none")
    result = MigrationExecutor(sqlite_url, three.folder, options).execute()
    assert not result.success
    assert "half" in tables(sqlite_url)  # nothing could roll it back
    assert dict(history(sqlite_url))["20250104000000_Broken"] == 0
    with pytest.raises(ValidationError, match="recorded as failed.*npa migrate repair"):
        MigrationExecutor(sqlite_url, three.folder).execute()


def test_edited_migration_fails_validation(sqlite_url, three):
    MigrationExecutor(sqlite_url, three.folder).execute()
    three("20250102000000_add_name.py", ADD_NAME.replace("String(50)", "String(80)"))
    with pytest.raises(ValidationError) as info:
        MigrationExecutor(sqlite_url, three.folder).execute()
    assert info.value.problems[0].code == "checksum"
    assert "20250102000000_AddName" in str(info.value)


def test_comment_edit_keeps_checksum(sqlite_url, three):
    MigrationExecutor(sqlite_url, three.folder).execute()
    three("20250102000000_add_name.py", "    # a new comment\n" + ADD_NAME.replace(
        "def up(self, b):", "def up(self, b):  # adds the name column"))
    assert MigrationExecutor(sqlite_url, three.folder).validate() == []


def test_missing_and_out_of_order(sqlite_url, three):
    MigrationExecutor(sqlite_url, three.folder).execute()
    (three.folder / "20250103000000_roles.sql").unlink()
    three("20240101000000_older.sql", "-- npa:up\nCREATE TABLE older (id INTEGER);\n")
    problems = MigrationExecutor(sqlite_url, three.folder).validate()
    assert sorted(p.code for p in problems) == ["missing", "out_of_order"]
    assert {p.migration_id for p in problems} == {"20250103000000_Roles", "20240101000000_Older"}


def test_out_of_order_apply(sqlite_url, three):
    MigrationExecutor(sqlite_url, three.folder).execute()
    three("20240101000000_older.sql", "-- npa:up\nCREATE TABLE older (id INTEGER);\n")
    options = MigrationExecutorOptions(out_of_order="apply")
    result = MigrationExecutor(sqlite_url, three.folder, options).execute()
    assert result.migration_ids == ["20240101000000_Older"]


def test_out_of_order_ignore_reports_what_it_left_unapplied(sqlite_url, three):
    MigrationExecutor(sqlite_url, three.folder).execute()
    three("20240101000000_older.sql", "-- npa:up\nCREATE TABLE older (id INTEGER);\n")
    three("20260101000000_newer.sql", "-- npa:up\nCREATE TABLE newer (id INTEGER);\n")
    options = MigrationExecutorOptions(out_of_order="ignore")
    result = MigrationExecutor(sqlite_url, three.folder, options).execute()
    assert result.migration_ids == ["20260101000000_Newer"]
    assert result.migrations_ignored == ["20240101000000_Older"]
    assert "older" not in tables(sqlite_url)


def test_rollback_without_down_changes_nothing(sqlite_url, migrations_dir):
    migrations_dir("20250101000000_one.sql", "-- npa:up\nCREATE TABLE one (id INTEGER);\n")
    executor = MigrationExecutor(sqlite_url, migrations_dir.folder)
    executor.execute()
    with pytest.raises(IrreversibleMigrationError, match="20250101000000_One"):
        executor.rollback()
    assert "one" in tables(sqlite_url)


def test_all_in_one_refused_without_transactional_ddl(sqlite_url, three, monkeypatch):
    from npa_migrations.provider import Capabilities

    executor = MigrationExecutor(sqlite_url, three.folder,
                                 MigrationExecutorOptions(transaction_mode="all-in-one"))
    monkeypatch.setattr(type(executor.provider), "capabilities",
                        Capabilities(transactional_ddl=False))
    with pytest.raises(ConfigurationError, match="all-in-one"):
        executor.execute()
    assert "users" not in tables(sqlite_url)


def test_on_progress_reports_each_operation(sqlite_url, three):
    seen = []
    options = MigrationExecutorOptions(on_progress=lambda m, step: seen.append((m.id, step.kind,
                                                                                str(step))))
    MigrationExecutor(sqlite_url, three.folder, options).execute(target="20250102000000")
    assert ("20250102000000_AddName", "operation", "Adding column 'name'") in seen
    assert ("20250102000000_AddName", "operation", "Creating index 'ix_users_name'") in seen
    assert [k for _, k, _ in seen].count("end") == 2


def test_async_twin(sqlite_url, three):
    import asyncio

    result = asyncio.run(MigrationExecutor(sqlite_url, three.folder).execute_async())
    assert result.success and len(result.migration_ids) == 3


def test_engine_and_connection_inputs(sqlite_url, three):
    import sqlalchemy as sa

    engine = sa.create_engine(sqlite_url)
    assert MigrationExecutor(engine, three.folder).execute(target="20250101000000").success
    with engine.connect() as conn:
        result = MigrationExecutor(conn, three.folder).execute()
        assert result.migration_ids == ["20250102000000_AddName", "20250103000000_Roles"]
        assert conn.exec_driver_sql("SELECT count(*) FROM users").scalar() == 0
