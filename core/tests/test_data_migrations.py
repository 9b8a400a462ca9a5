"""Data migrations on real SQLite files: ``execute`` with bound parameters, Python steps
(``run_python``) with the live connection, batched ``backfill``, and what ``--dry-run`` /
``--sql`` say about them (docs/migrations.md, "Data migrations")."""

import json
import sqlite3

import pytest
from click.testing import CliRunner

from npa_migrations import MigrationExecutor, MigrationExecutorOptions, TransactionMode
from npa_migrations.builder import MigrationBuilder
from npa_migrations.cli import cli
from npa_migrations.migration import checksum_of

ITEMS = """
    import sqlalchemy as sa
    from npa_migrations import Migration

    class CreateItems(Migration):
        def up(self, b):
            b.create_table("items", sa.Column("id", sa.Integer, primary_key=True),
                           sa.Column("n", sa.Integer, nullable=False, server_default="0"),
                           sa.Column("name", sa.String(50)), sa.Column("grp", sa.String(10)))
            b.bulk_insert("items", [{"id": i, "grp": "skip" if i % 10 == 0 else "a"}
                                    for i in range(1, 101)])

        def down(self, b):
            b.drop_table("items")
"""


def rows(url: str, sql: str) -> list[tuple]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return conn.execute(sql).fetchall()


def run(url, folder, **options):
    result = MigrationExecutor(url, folder, MigrationExecutorOptions(**options)).execute()
    assert result.success, result.errors
    return result


# execute() with bound parameters ---------------------------------------------------------------
def test_execute_binds_values_never_in_the_sql_text(migrations_dir, sqlite_url, register):
    migrations_dir("20250101000000_items.py", ITEMS)
    migrations_dir("20250102000000_names.py", """
        from npa_migrations import Migration

        class Names(Migration):
            def up(self, b):
                b.execute("UPDATE items SET name = :name WHERE id <= :top",
                          {"name": "Robert'); DROP TABLE items;--", "top": 3})

            def down(self, b):
                b.execute("UPDATE items SET name = NULL")
    """)
    sent = []

    class Spy:
        from npa_migrations import hookimpl

        @hookimpl
        def npa_statement_start(self, migration, statement):
            sent.append(statement)

    register(Spy())
    run(sqlite_url, migrations_dir.folder)
    assert rows(sqlite_url, "SELECT DISTINCT name FROM items WHERE id <= 3") == [
        ("Robert'); DROP TABLE items;--",)]
    update = next(s for s in sent if s.sql.startswith("UPDATE"))
    assert "Robert" not in update.sql and "?" in update.sql
    assert update.params == ("Robert'); DROP TABLE items;--", 3)


def test_execute_params_must_match_the_sql():
    b = MigrationBuilder()
    with pytest.raises(TypeError, match=r"names :top but params has no value"):
        b.execute("UPDATE t SET x = :x WHERE id = :top", {"x": 1})
    with pytest.raises(TypeError, match=r"params gives y, which the SQL does not name"):
        b.execute("UPDATE t SET x = :x", {"x": 1, "y": 2})
    with pytest.raises(TypeError, match=r"pass dialects="):
        b.execute("UPDATE t SET x = 1", ("postgresql",))


def test_execute_params_are_part_of_the_checksum_and_old_checksums_stay():
    def checksum(build):
        b = MigrationBuilder()
        build(b)
        return checksum_of([op.canonical() for op in b.operations])

    plain = checksum(lambda b: b.execute("UPDATE t SET x = 1"))
    assert plain == checksum_of([{"op": "execute", "kind": "execute", "name_kind": "object",
                                  "sql": "UPDATE t SET x = 1", "dialects": None}])
    one = checksum(lambda b: b.execute("UPDATE t SET x = :x", {"x": 1}))
    assert one != checksum(lambda b: b.execute("UPDATE t SET x = :x", {"x": 2}))


# run_python ------------------------------------------------------------------------------------
PYTHON_STEP = """
    import sqlalchemy as sa
    from npa_migrations import Migration

    def fill_names(connection):
        '''Name every row after its id.'''
        items = sa.table("items", sa.column("id"), sa.column("name"))
        for (item_id,) in connection.execute(sa.select(items.c.id)).all():
            connection.execute(items.update().where(items.c.id == item_id)
                               .values(name=f"item {item_id}"))

    class FillNames(Migration):
        def up(self, b):
            b.run_python(fill_names)
            b.execute("CREATE INDEX ix_items_name ON items (name)")

        def down(self, b):
            b.execute("DROP INDEX ix_items_name")
"""


def test_run_python_gets_a_sqlalchemy_connection_in_the_migrations_transaction(
        migrations_dir, sqlite_url):
    migrations_dir("20250101000000_items.py", ITEMS)
    migrations_dir("20250102000000_fill.py", PYTHON_STEP)
    run(sqlite_url, migrations_dir.folder)
    assert rows(sqlite_url, "SELECT name FROM items WHERE id = 42") == [("item 42",)]


def test_a_failing_python_step_leaves_nothing_behind(migrations_dir, sqlite_url):
    migrations_dir("20250101000000_items.py", ITEMS)
    migrations_dir("20250102000000_broken.py", """
        import sqlalchemy as sa
        from npa_migrations import Migration

        def half_done(connection):
            connection.execute(sa.text("UPDATE items SET n = 99"))
            raise ValueError("the price list is missing")

        class Broken(Migration):
            def up(self, b):
                b.run_python(half_done)

            def down(self, b):
                pass
    """)
    result = MigrationExecutor(sqlite_url, migrations_dir.folder).execute()
    assert not result.success
    message = result.errors[0].message
    assert "20250102000000_Broken" in message and "half_done" in message
    assert "ValueError: the price list is missing" in message
    assert rows(sqlite_url, "SELECT MAX(n) FROM items") == [(0,)]
    assert rows(sqlite_url, "SELECT migration_id FROM npa_migrations_history") == [
        ("20250101000000_CreateItems",)]


@pytest.mark.parametrize("ending", ["connection.commit()", "connection.rollback()"])
def test_a_python_step_cannot_end_the_migrations_transaction(migrations_dir, sqlite_url,
                                                             ending):
    migrations_dir("20250101000000_items.py", ITEMS)
    migrations_dir("20250102000000_commits.py", f"""
        import sqlalchemy as sa
        from npa_migrations import Migration

        def commits(connection):
            connection.execute(sa.text("UPDATE items SET n = 7"))
            {ending}

        class Commits(Migration):
            def up(self, b):
                b.run_python(commits)
                b.execute("UPDATE items SET n = n + 1")

            def down(self, b):
                pass
    """)
    result = MigrationExecutor(sqlite_url, migrations_dir.folder).execute()
    assert not result.success
    assert "commits() tried to commit or roll back" in result.errors[0].message
    assert rows(sqlite_url, "SELECT MAX(n) FROM items") == [(0,)]


def test_a_python_step_may_use_a_savepoint(migrations_dir, sqlite_url):
    migrations_dir("20250101000000_items.py", ITEMS)
    migrations_dir("20250102000000_savepoint.py", """
        import sqlalchemy as sa
        from npa_migrations import Migration

        def tries(connection):
            connection.execute(sa.text("UPDATE items SET n = 1"))
            savepoint = connection.begin_nested()
            connection.execute(sa.text("UPDATE items SET n = 2"))
            savepoint.rollback()

        class Savepoint(Migration):
            def up(self, b):
                b.run_python(tries)

            def down(self, b):
                pass
    """)
    run(sqlite_url, migrations_dir.folder)
    assert rows(sqlite_url, "SELECT DISTINCT n FROM items") == [(1,)]


def test_python_step_without_source_is_known_by_its_name():
    namespace: dict = {}
    exec(compile("def fill(c):\n    return 1\n", "<generated>", "exec"), namespace)
    b = MigrationBuilder()
    b.run_python(namespace["fill"])
    assert b.operations[0].canonical() == {"op": "run_python", "function": "fill",
                                           "code": None}


def test_python_step_fingerprint_ignores_comments_formatting_and_docstring(tmp_path):
    import importlib.util

    from npa_migrations.pycode import code_fingerprint

    def load(name: str, body: str):
        path = tmp_path / f"{name}.py"
        path.write_text(body)
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.fill

    base = load("a", "def fill(c):\n    c.execute('UPDATE t SET x = 1')\n")
    styled = load("b", "def fill(c):\n    '''Docs.'''\n    # why\n\n    c.execute(\n"
                       "        'UPDATE t SET x = 1'  # the value\n    )\n")
    changed = load("c", "def fill(c):\n    c.execute('UPDATE t SET x = 2')\n")
    assert code_fingerprint(base) == code_fingerprint(styled)
    assert code_fingerprint(base) != code_fingerprint(changed)


# backfill --------------------------------------------------------------------------------------
def backfill_migration(transactional: bool, batch_size: int = 7) -> str:
    return f"""
        import sqlalchemy as sa
        from npa_migrations import Migration

        class Bump(Migration):
            transactional = {transactional}

            def up(self, b):
                b.backfill("items", {{"n": sa.text("n + 1"), "name": "bumped"}},
                           where="grp <> 'skip'", batch_size={batch_size})

            def down(self, b):
                b.execute("UPDATE items SET n = 0, name = NULL")
    """


@pytest.mark.parametrize("transactional", [True, False])
def test_backfill_updates_each_chosen_row_once_and_reports_progress(
        migrations_dir, sqlite_url, register, transactional):
    from npa_migrations import hookimpl

    migrations_dir("20250101000000_items.py", ITEMS)
    migrations_dir("20250102000000_bump.py", backfill_migration(transactional))
    progress = []

    class Listener:
        @hookimpl
        def npa_operation_progress(self, migration, operation, rows_done):
            progress.append(rows_done)

    register(Listener())
    run(sqlite_url, migrations_dir.folder)
    assert rows(sqlite_url, "SELECT grp, n, name, COUNT(*) FROM items GROUP BY grp, n, name") \
        == [("a", 1, "bumped", 90), ("skip", 0, None, 10)]
    assert progress == list(range(7, 90, 7)) + [90]


def test_backfill_needs_a_single_column_key(migrations_dir, sqlite_url):
    migrations_dir("20250101000000_pairs.py", """
        import sqlalchemy as sa
        from npa_migrations import Migration

        class Pairs(Migration):
            def up(self, b):
                b.create_table("pairs", sa.Column("a", sa.Integer, primary_key=True),
                               sa.Column("b", sa.Integer, primary_key=True),
                               sa.Column("n", sa.Integer))
                b.backfill("pairs", {"n": 1})

            def down(self, b):
                b.drop_table("pairs")
    """)
    result = MigrationExecutor(sqlite_url, migrations_dir.folder).execute()
    assert not result.success
    assert "'pairs' has a primary key of 2 columns" in result.errors[0].message
    assert "Pass key=" in result.errors[0].message


def test_backfill_arguments_are_checked_when_the_migration_loads():
    b = MigrationBuilder()
    with pytest.raises(TypeError, match="batch_size must be a whole number"):
        b.backfill("t", {"x": 1}, batch_size=0)
    with pytest.raises(TypeError, match="set_ must name at least one column"):
        b.backfill("t", {})


def test_backfill_continues_after_the_last_committed_chunk(migrations_dir, sqlite_url,
                                                           register):
    """Stopped at a safe point after 3 chunks (the in-process twin of the SIGKILL tests in
    tests/test_backfill_resume.py): the next run does the rest, each row once."""
    from npa_migrations import hookimpl
    from npa_migrations.errors import RunInterrupted

    migrations_dir("20250101000000_items.py", ITEMS)
    run(sqlite_url, migrations_dir.folder)
    migrations_dir("20250102000000_bump.py", backfill_migration(False))
    executor = MigrationExecutor(sqlite_url, migrations_dir.folder)

    class StopAfterThree:
        @hookimpl
        def npa_operation_progress(self, migration, operation, rows_done):
            if rows_done == 21:
                executor.interrupt()

    register(StopAfterThree())
    with pytest.raises(RunInterrupted):
        executor.execute()
    assert rows(sqlite_url, "SELECT COUNT(*) FROM items WHERE n = 1") == [(21,)]
    state, done, checkpoint = rows(
        sqlite_url, "SELECT state, statements_done, step_checkpoint FROM "
                    "npa_migrations_history WHERE migration_id LIKE '%Bump'")[0]
    assert (state, done, json.loads(checkpoint)) == ("stopped", 3, {"key": 23, "rows": 21})
    result = run(sqlite_url, migrations_dir.folder)
    assert result.migration_ids == ["20250102000000_Bump"]
    assert rows(sqlite_url, "SELECT grp, n, COUNT(*) FROM items GROUP BY grp, n") == [
        ("a", 1, 90), ("skip", 0, 10)]


# --dry-run, --sql, --sql --offline -------------------------------------------------------------
def test_scripts_and_dry_runs_say_what_python_and_backfill_steps_do(migrations_dir, tmp_path):
    migrations_dir("20250101000000_items.py", ITEMS)
    migrations_dir("20250102000000_fill.py", PYTHON_STEP)
    migrations_dir("20250103000000_bump.py", backfill_migration(False))
    url = f"sqlite:///{tmp_path / 'script.db'}"
    runner = CliRunner()
    base = ["-d", url, "-m", str(migrations_dir.folder), "migrate", "up"]
    for extra in (["--sql", "--offline"], ["--sql"]):
        result = runner.invoke(cli, base + extra)
        assert result.exit_code == 0, result.output
        script = result.stdout
        assert ("-- PYTHON STEP NOT IN THIS SCRIPT: fill_names(connection) runs here when "
                "'npa migrate' applies the migration") in script
        assert "the chunks depend on the rows" in script
        assert "UPDATE items SET n=n + 1, name='bumped' WHERE grp <> 'skip';" in script
        assert "leaves out 1 Python step(s)" in result.stderr
    result = runner.invoke(cli, base + ["--dry-run"])
    assert "- Running Python fill_names(connection)" in result.output
    assert "- Backfilling 'items' in batches of 7 rows" in result.output


def test_json_output_streams_backfill_progress(migrations_dir, sqlite_url):
    migrations_dir("20250101000000_items.py", ITEMS)
    migrations_dir("20250102000000_bump.py", backfill_migration(False, batch_size=40))
    result = CliRunner().invoke(cli, ["-d", sqlite_url, "-m", str(migrations_dir.folder),
                                      "migrate", "up", "--json"])
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["rows_done"] for e in events if e["event"] == "progress"] == [40, 80, 90]


def test_all_in_one_runs_backfill_chunks_in_the_one_transaction(migrations_dir, sqlite_url):
    migrations_dir("20250101000000_items.py", ITEMS)
    migrations_dir("20250102000000_bump.py", backfill_migration(True))
    run(sqlite_url, migrations_dir.folder, transaction_mode=TransactionMode.ALL_IN_ONE)
    assert rows(sqlite_url, "SELECT SUM(n) FROM items") == [(90,)]


def test_a_history_table_without_the_checkpoint_column_still_reads_its_journal(
        migrations_dir, sqlite_url):
    """A table the previous version created has the journal columns but no
    step_checkpoint: status reads a stopped migration as stopped, and up adds the column
    and continues it."""
    migrations_dir("20250101000000_items.py", ITEMS)
    run(sqlite_url, migrations_dir.folder)
    migrations_dir("20250102000000_bump.py", backfill_migration(False))
    path = sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE npa_migrations_history DROP COLUMN step_checkpoint")
        checksum = MigrationExecutor(sqlite_url, migrations_dir.folder).discover()[1].checksum
        conn.execute("INSERT INTO npa_migrations_history VALUES ('20250102000000_Bump', ?, "
                     "'2025-01-02 00:00:00', 0, '0.1.0', 0, 0, NULL, 'stopped', 'up', 0, 0)",
                     (checksum,))
    status = MigrationExecutor(sqlite_url, migrations_dir.folder).status()
    assert status.interrupted == ["20250102000000_Bump"] and status.failed == []
    run(sqlite_url, migrations_dir.folder)
    assert rows(sqlite_url, "SELECT SUM(n) FROM items") == [(90,)]
    assert "step_checkpoint" in {r[1] for r in rows(
        sqlite_url, "PRAGMA table_info(npa_migrations_history)")}
