"""Edges a fault campaign hit (issue "Every edge answered"): each test reproduces one case
and checks its single clear outcome."""

import sqlite3

import pytest

from npa_migrations import MigrationExecutor
from npa_migrations.errors import LockTimeoutError


def table_lock(url):
    executor = MigrationExecutor(url, ".")
    return executor.hook.npa_create_lock(provider=executor.provider,
                                         table_name="npa_migrations_lock")


@pytest.fixture
def busy_sqlite(tmp_path):
    """A SQLite database whose lock row is held by a live run that is inside a write
    transaction (as while it runs a migration): the database is 'locked' to writers."""
    path = tmp_path / "busy.db"
    holder = table_lock(f"sqlite:///{path}")
    holder.acquire(1)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    yield f"sqlite:///{path}", holder
    writer.execute("ROLLBACK")
    writer.close()
    holder.release()


def test_sqlite_lock_waits_out_a_busy_database_and_names_the_holder(busy_sqlite):
    url, holder = busy_sqlite
    with pytest.raises(LockTimeoutError) as caught:  # not OperationalError: database is locked
        table_lock(url).acquire(0.5)
    assert caught.value.exit_code == 4
    assert holder.owner in str(caught.value)


def test_sqlite_unlock_waits_for_a_busy_database_then_names_the_holder(busy_sqlite):
    url, holder = busy_sqlite
    lock = table_lock(url)
    lock.unlock_wait_seconds = 0.5
    with pytest.raises(LockTimeoutError) as caught:
        lock.force_release()
    assert caught.value.exit_code == 4
    assert holder.owner in str(caught.value) and "still migrating" in str(caught.value)


ONLY_PG = '''
from npa_migrations import Migration

class OnlyPg(Migration):
    def up(self, b):
        b.execute("CREATE TABLE only_pg (id int)", dialects=["postgresql"])
        b.execute("CREATE TABLE everywhere (id int)")

    def down(self, b):
        b.execute("DROP TABLE everywhere")
'''


def test_sql_for_another_dialect_is_reported_as_skipped(tmp_path, migrations_dir):
    import json

    from click.testing import CliRunner

    from npa_migrations.cli import cli

    folder = migrations_dir("20250101000000_only_pg.py", ONLY_PG).parent
    args = ["-d", f"sqlite:///{tmp_path / 'app.db'}", "-m", str(folder), "migrate", "up"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "  - Creating table 'only_pg' (skipped: only for postgresql)" in result.output
    assert "✓ Creating table 'only_pg'" not in result.output
    assert "✓ Creating table 'everywhere'" in result.output
    CliRunner().invoke(cli, args[:-1] + ["down"])
    events = [json.loads(line) for line in CliRunner().invoke(cli, args + ["--json"]).output
              .splitlines()]
    skipped = [e for e in events if e["event"] == "operation_skipped"]
    assert [(e["description"], e["reason"]) for e in skipped] == [
        ("Creating table 'only_pg'", "only for postgresql")]
    assert all(e["description"] != "Creating table 'only_pg'"
               for e in events if e["event"] == "operation")


@pytest.mark.parametrize("command", [["status"], ["validate"], ["history"], ["drift"],
                                     ["up", "--dry-run"], ["down", "--dry-run"],
                                     ["up", "--sql"], ["status", "--json"]])
def test_read_only_commands_never_create_the_database(tmp_path, monkeypatch, command):
    from click.testing import CliRunner

    from npa_migrations.cli import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NPA_DATABASE_URL", raising=False)
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "20250101000000_a.sql").write_text(
        "-- npa:up\nCREATE TABLE a (id INTEGER);\n")
    result = CliRunner().invoke(cli, ["migrate", *command])  # the default sqlite:///npa.db
    assert result.exit_code in (0, 2), result.output
    assert not (tmp_path / "npa.db").exists()


EMPTY_PY_DOWN = '''
from npa_migrations import Migration

class AddThings(Migration):
    def up(self, b):
        b.execute("CREATE TABLE things (id INTEGER)")

    def down(self, b):
        pass
'''


@pytest.mark.parametrize("name, text", [
    ("20250101000000_add_things.py", EMPTY_PY_DOWN),
    ("20250101000000_add_things.sql", "-- npa:up\nCREATE TABLE things (id INTEGER);\n"
                                      "-- npa:down\n-- nothing yet\n")], ids=["python", "sql"])
def test_an_empty_down_is_irreversible(tmp_path, migrations_dir, name, text):
    from click.testing import CliRunner

    from npa_migrations.cli import cli

    folder = migrations_dir(name, text).parent
    base = ["-d", f"sqlite:///{tmp_path / 'app.db'}", "-m", str(folder), "migrate"]
    assert CliRunner().invoke(cli, base + ["up"]).exit_code == 0
    result = CliRunner().invoke(cli, base + ["down"])
    assert result.exit_code == 1  # it printed "rolled back successfully", the table stayed
    assert "has an empty down, which would undo nothing" in result.output
    assert "empty_down = True" in result.output and "-- npa:empty-down" in result.output
    assert "rolled back successfully" not in result.output
    with sqlite3.connect(tmp_path / "app.db") as conn:
        assert conn.execute("SELECT count(*) FROM npa_migrations_history").fetchone() == (1,)


@pytest.mark.parametrize("name, text", [
    ("20250101000000_add_things.py", EMPTY_PY_DOWN.replace(
        "class AddThings(Migration):\n", "class AddThings(Migration):\n    empty_down = True\n")),
    ("20250101000000_add_things.sql", "-- npa:up\nINSERT INTO t VALUES (1);\n"
                                      "-- npa:empty-down\n")], ids=["python", "sql"])
def test_a_declared_empty_down_rolls_back(tmp_path, migrations_dir, name, text):
    from click.testing import CliRunner

    from npa_migrations.cli import cli

    with sqlite3.connect(tmp_path / "app.db") as conn:
        conn.execute("CREATE TABLE t (id INTEGER)")
    folder = migrations_dir(name, text).parent
    base = ["-d", f"sqlite:///{tmp_path / 'app.db'}", "-m", str(folder), "migrate"]
    assert CliRunner().invoke(cli, base + ["up"]).exit_code == 0
    result = CliRunner().invoke(cli, base + ["down"])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "app.db") as conn:
        assert conn.execute("SELECT count(*) FROM npa_migrations_history").fetchone() == (0,)


@pytest.mark.parametrize("text, problem", [
    ("-- npa:up\nSELECT 1;\n-- npa:empty-down\nSELECT 2;\n", "SQL after '-- npa:empty-down'"),
    ("-- npa:up\nSELECT 1;\n-- npa:down\n-- npa:empty-down\n", "exclude each other")])
def test_empty_down_marker_misuse_is_refused(text, problem):
    from npa_migrations.builtin.sqlfile import find_sections
    from npa_migrations.errors import MigrationSourceError
    from npa_migrations.sqltext import PORTABLE

    with pytest.raises(MigrationSourceError, match=problem):
        find_sections(text, PORTABLE)


def test_a_baseline_has_a_documented_way_back(tmp_path, migrations_dir):
    from click.testing import CliRunner

    from npa_migrations.cli import cli

    for n in range(3):
        migrations_dir(f"2025010{n + 1}000000_step{n}.sql",
                       f"-- npa:up\nCREATE TABLE t{n} (id INTEGER);\n-- npa:down\nDROP TABLE t{n};\n")
    base = ["-d", f"sqlite:///{tmp_path / 'app.db'}", "-m", str(tmp_path / "migrations"),
            "migrate"]
    result = CliRunner().invoke(cli, base + ["baseline", "--target", "20250102000000"])
    assert result.exit_code == 0, result.output
    assert "'npa migrate mark 20250102000000_Step1 --pending'" in result.output
    assert CliRunner().invoke(cli, base + ["mark", "20250101000000_Step0", "--pending"]
                              ).exit_code == 2  # newest first: the order cannot go wrong
    for migration_id in ("20250102000000_Step1", "20250101000000_Step0"):
        assert CliRunner().invoke(cli, base + ["mark", migration_id, "--pending"]).exit_code == 0
    assert "0 applied, 3 pending" in CliRunner().invoke(cli, base + ["status"]).output
    assert CliRunner().invoke(cli, base + ["up"]).exit_code == 0  # now really runs them
    with sqlite3.connect(tmp_path / "app.db") as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert {"t0", "t1", "t2"} <= tables


def test_continuing_past_a_failure_does_not_leave_it_out_of_order(tmp_path, migrations_dir):
    from click.testing import CliRunner

    from npa_migrations import MigrationExecutor, MigrationExecutorOptions
    from npa_migrations.cli import cli

    migrations_dir("20250101000000_a.sql", "-- npa:up\nCREATE TABLE a (id INTEGER);\n"
                                           "INSERT INTO nowhere VALUES (1);\n")
    migrations_dir("20250102000000_b.sql", "-- npa:up\nCREATE TABLE b (id INTEGER);\n")
    url, folder = f"sqlite:///{tmp_path / 'app.db'}", tmp_path / "migrations"
    result = MigrationExecutor(url, folder, MigrationExecutorOptions(stop_on_error=False)).execute()
    assert (result.success, result.migration_ids) == (False, ["20250102000000_B"])
    assert result.migrations_applied == 1  # SPEC §6: a count (the seed's int); ids apart
    status = MigrationExecutor(url, folder).status()
    assert status.pending == ["20250101000000_A"] and status.problems == []
    migrations_dir("20250101000000_a.sql", "-- npa:up\nCREATE TABLE a (id INTEGER);\n")  # fixed
    up = CliRunner().invoke(cli, ["-d", url, "-m", str(folder), "migrate", "up"])
    assert up.exit_code == 0, up.output  # was exit 3: "older than the newest applied"
    assert [r.id for r in MigrationExecutor(url, folder).status().applied] == [
        "20250102000000_B", "20250101000000_A"]


def test_an_old_migration_added_later_is_still_out_of_order(tmp_path, migrations_dir):
    from npa_migrations import MigrationExecutor

    migrations_dir("20250102000000_b.sql", "-- npa:up\nCREATE TABLE b (id INTEGER);\n")
    url, folder = f"sqlite:///{tmp_path / 'app.db'}", tmp_path / "migrations"
    MigrationExecutor(url, folder).execute()
    migrations_dir("20250101000000_a.sql", "-- npa:up\nCREATE TABLE a (id INTEGER);\n")
    assert [p.code for p in MigrationExecutor(url, folder).validate()] == ["out_of_order"]


def test_cancelling_execute_async_stops_the_run_with_a_truthful_record(tmp_path, migrations_dir):
    """asyncio.wait_for(execute_async(), t) timed out while the run went on and applied
    everything; now the cancellation stops it at the next safe point (the slow statement
    is cancelled) and the history says exactly what ran."""
    import asyncio

    from npa_migrations import MigrationExecutor

    slow = ("CREATE TABLE s{n} AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
            "FROM c WHERE x < 50000000) SELECT count(*) AS n FROM c;\n")
    for n in range(3):
        migrations_dir(f"2025010{n + 1}000000_slow{n}.sql", "-- npa:up\n" + slow.format(n=n))
    url, folder = f"sqlite:///{tmp_path / 'app.db'}", tmp_path / "migrations"

    async def main():
        await asyncio.wait_for(MigrationExecutor(url, folder).execute_async(), 0.5)

    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(main())
    status = MigrationExecutor(url, folder).status()
    assert [r.id for r in status.applied if r.success] == []  # stopped inside the first
    assert status.pending == [f"2025010{n + 1}000000_Slow{n}" for n in range(3)]
    with sqlite3.connect(tmp_path / "app.db") as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert conn.execute("SELECT count(*) FROM npa_migrations_lock").fetchone() == (0,)
    assert not tables & {"s0", "s1", "s2"}


def test_a_failure_outside_a_transaction_says_why_it_ran_there(tmp_path, migrations_dir):
    """It said "sqlite cannot roll back DDL", which is false."""
    from click.testing import CliRunner

    from npa_migrations.cli import cli

    migrations_dir("20250101000000_outside.sql", "-- npa:no-transaction\n-- npa:up\n"
                   "CREATE TABLE t1 (id INTEGER);\nINSERT INTO nowhere VALUES (1);\n")
    result = CliRunner().invoke(cli, ["-d", f"sqlite:///{tmp_path / 'app.db'}", "-m",
                                      str(tmp_path / "migrations"), "migrate", "up"])
    assert result.exit_code == 1
    assert ("It ran outside a single transaction (the migration is marked to run outside a "
            "transaction): 1 of 2 operation(s) took effect") in result.output
    assert "cannot roll back DDL" not in result.output and "npa migrate repair" in result.output
