"""repair on a failed entry: resume, undo-partial, mark-applied, mark-rolled-back.

Failures are produced for real with transaction mode `none` on SQLite, which leaves the
completed operations in place exactly as MySQL/Oracle do.
"""

import sqlite3

import pytest

from npa_migrations import MigrationExecutor, MigrationExecutorOptions, ValidationError
from npa_migrations.hookspecs import hookimpl

PARTIAL = """
    import sqlalchemy as sa
    from npa_migrations import Migration

    class Partial(Migration):
        def up(self, b):
            b.create_table("a", sa.Column("id", sa.Integer, primary_key=True))
            b.add_column("a", sa.Column("note", sa.String(20)))
            b.execute("INSERT INTO blocker (id) VALUES (1)")
            b.create_table("c", sa.Column("id", sa.Integer, primary_key=True))

        def down(self, b):
            b.drop_table("c")
            b.drop_table("a")
"""


def tables(db) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def history(db) -> dict:
    with sqlite3.connect(db) as conn:
        return {r[0]: r[1:] for r in conn.execute(
            "SELECT migration_id, success, steps_done FROM npa_migrations_history")}


@pytest.fixture
def failed(tmp_path, migrations_dir):
    """A database where migration Partial failed after 2 of 4 operations."""
    db = tmp_path / "app.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE blocker (id INTEGER PRIMARY KEY)")
        conn.execute("INSERT INTO blocker VALUES (1)")
    migrations_dir("20250101000000_partial.py", PARTIAL)
    url = f"sqlite:///{db}"
    none = MigrationExecutorOptions(transaction_mode="none")
    result = MigrationExecutor(url, migrations_dir.folder, none).execute()
    assert not result.success
    assert history(db) == {"20250101000000_Partial": (0, 2)}
    assert "npa migrate repair" in result.errors[0].message
    return db, url, migrations_dir.folder


def test_failed_entry_blocks_runs(failed):
    db, url, folder = failed
    with pytest.raises(ValidationError, match="20250101000000_Partial is recorded as failed after 2 step"):
        MigrationExecutor(url, folder).execute()


def test_resume_runs_the_rest(failed):
    db, url, folder = failed
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM blocker")  # the user fixes the cause
    report = MigrationExecutor(url, folder).repair("resume")
    assert report.success and "resumed from step 3" in report.done[0]
    assert {"a", "c"} <= tables(db)
    assert history(db)["20250101000000_Partial"][0] == 1
    assert MigrationExecutor(url, folder).validate() == []


class StatementLog:
    """Records the statement events a plugin sees."""

    def __init__(self):
        self.events = []

    @hookimpl
    def npa_statement_start(self, migration, statement):
        self.events.append(("start", migration.id, statement.sql))

    @hookimpl
    def npa_statement_executed(self, migration, statement, duration):
        self.events.append(("executed", migration.id, statement.sql))


def test_resume_fires_statement_events(failed, register):
    db, url, folder = failed
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM blocker")
    log = register(StatementLog())
    assert MigrationExecutor(url, folder).repair("resume").success
    executed = [sql for kind, _, sql in log.events if kind == "executed"]
    assert executed[0] == "INSERT INTO blocker (id) VALUES (1)"
    assert executed[1].startswith("CREATE TABLE c")
    assert [kind for kind, _, _ in log.events] == ["start", "executed"] * len(executed)
    assert {mid for _, mid, _ in log.events} == {"20250101000000_Partial"}


def test_resume_failing_again_stays_failed(failed):
    db, url, folder = failed
    with pytest.raises(Exception, match="Migration 20250101000000_Partial .* failed"):
        MigrationExecutor(url, folder).repair("resume")
    assert history(db)["20250101000000_Partial"][0] == 0


def test_undo_partial_inverts_what_ran(failed):
    db, url, folder = failed
    report = MigrationExecutor(url, folder).repair("undo_partial")
    assert report.success, report.failed
    assert "a" not in tables(db)
    assert history(db) == {}
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM blocker")
    assert MigrationExecutor(url, folder).execute().success
    assert {"a", "c"} <= tables(db)


def test_undo_partial_refuses_unknown_inverse(tmp_path, migrations_dir):
    db = tmp_path / "app.db"
    migrations_dir("20250101000000_raw.sql",
                   "-- npa:up\nCREATE TABLE x (id INTEGER);\nSELECT * FROM missing;\n")
    url = f"sqlite:///{db}"
    MigrationExecutor(url, migrations_dir.folder,
                      MigrationExecutorOptions(transaction_mode="none")).execute()
    report = MigrationExecutor(url, migrations_dir.folder).repair("undo_partial")
    assert not report.success
    assert "no known inverse" in report.failed[0] and "Creating table 'x'" in report.failed[0]
    assert "x" in tables(db)  # nothing changed
    assert history(db)["20250101000000_Raw"][0] == 0


def test_mark_applied_and_rolled_back(failed):
    db, url, folder = failed
    MigrationExecutor(url, folder).repair("mark_rolled_back")
    assert history(db) == {}
    with sqlite3.connect(db) as conn:  # the user undid it by hand, as the mark says
        conn.execute("DROP TABLE a")
    MigrationExecutor(url, folder, MigrationExecutorOptions(transaction_mode="none")).execute()
    MigrationExecutor(url, folder).repair("mark_applied")
    assert history(db)["20250101000000_Partial"][0] == 1



REORDERED = """
    import sqlalchemy as sa
    from npa_migrations import Migration

    class Reordered(Migration):
        def up(self, b):
            b.create_table("a", sa.Column("id", sa.Integer, primary_key=True),
                           sa.Column("c_id", sa.Integer))
            b.create_foreign_key("fk_a_c", "a", "c", ["c_id"], ["id"])
            b.execute("INSERT INTO audit (id) VALUES (1)")
            b.create_table("c", sa.Column("id", sa.Integer, primary_key=True))
"""


def test_resume_continues_in_the_order_the_engine_ran(tmp_path, migrations_dir):
    """The engine runs the foreign key after its referent's create_table (a, INSERT, c,
    fk), so steps_done counts in that order; resume must continue in it too -- in the
    author's order it would run the INSERT again and never add the foreign key."""
    db = tmp_path / "app.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE audit (id INTEGER)")
        conn.execute("CREATE TABLE c (id INTEGER PRIMARY KEY)")  # makes create_table c fail
    migrations_dir("20250101000000_reordered.py", REORDERED)
    url = f"sqlite:///{db}"
    none = MigrationExecutorOptions(transaction_mode="none")
    assert not MigrationExecutor(url, migrations_dir.folder, none).execute().success
    assert history(db) == {"20250101000000_Reordered": (0, 2)}  # a and the INSERT ran
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE c")  # the user fixes the cause
    report = MigrationExecutor(url, migrations_dir.folder).repair("resume")
    assert report.success and "resumed from step 3" in report.done[0]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT id FROM audit").fetchall() == [(1,)]  # ran once
        fks = conn.execute("PRAGMA foreign_key_list(a)").fetchall()
    assert [(fk[2], fk[3], fk[4]) for fk in fks] == [("c", "c_id", "id")]
