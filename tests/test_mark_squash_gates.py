"""``npa migrate mark``, squashed migrations (``replaces`` and ``npa migrate squash``) and
the ``status --exit-code`` gate, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import json

import pytest

from dba_project import project

A = """
    import sqlalchemy as sa
    from npa_migrations import Migration

    class CreateA(Migration):
        def up(self, b):
            b.create_table("a", sa.Column("id", sa.Integer, primary_key=True),
                           sa.Column("name", sa.String(20), nullable=False, server_default="x"))
            b.bulk_insert("a", [{"id": 1, "name": "one"}])

        def down(self, b):
            b.drop_table("a")
"""
B = """
    import sqlalchemy as sa
    from npa_migrations import Migration

    class ChangeA(Migration):
        def up(self, b):
            b.add_column("a", sa.Column("score", sa.Integer))
            b.create_index("ix_a_score", "a", ["score"])
            b.create_table("b", sa.Column("id", sa.Integer, primary_key=True),
                           sa.Column("a_id", sa.Integer, sa.ForeignKey("a.id", ondelete="CASCADE"),
                                     nullable=False, index=True))

        def down(self, b):
            b.drop_table("b")
            b.drop_index("ix_a_score", "a")
            b.drop_column("a", "score")
"""
C = """
    import sqlalchemy as sa
    from npa_migrations import Migration

    class CreateC(Migration):
        depends_on = ("20250102000000_ChangeA",)

        def up(self, b):
            b.create_table("c", sa.Column("id", sa.Integer, primary_key=True))

        def down(self, b):
            b.drop_table("c")
"""
RAW = """
    -- npa:up
    CREATE TABLE raw_t (id INTEGER PRIMARY KEY);
    -- npa:down
    DROP TABLE raw_t;
"""
FILES = {"20250101000000_create_a.py": A, "20250102000000_change_a.py": B,
         "20250103000000_create_c.py": C}
IDS = ["20250101000000_CreateA", "20250102000000_ChangeA", "20250103000000_CreateC"]
SQUASH = "20250102000000_Base"


@pytest.fixture
def db(dba):
    dba.write(FILES)
    return dba


def events(db) -> list[tuple[str, str]]:
    log = json.loads(db.ok("history", "--json"))["events"]
    return [(e["event"], e["migration_id"]) for e in log]


# status --exit-code ---------------------------------------------------------------------------
def test_status_exit_code_is_a_deploy_gate(db):
    assert db.npa("status", "--exit-code").exit_code == 5  # pending
    assert db.npa("status").exit_code == 0  # without the flag: 0 whatever the state
    db.ok("up")
    result = db.npa("status", "--exit-code", "--json")
    assert result.exit_code == 0 and json.loads(result.output)["pending"] == []
    db.write({"20250101000000_create_a.py": A.replace("String(20)", "String(30)")})
    assert db.npa("status", "--exit-code").exit_code == 3  # edited after it was applied
    db.write({"20250101000000_create_a.py": A})
    (db.folder / "20250103000000_create_c.py").unlink()
    assert db.npa("status", "--exit-code").exit_code == 3  # applied but missing


# mark -----------------------------------------------------------------------------------------
def test_mark_records_without_running_and_refuses_inconsistency(db):
    result = db.npa("mark", IDS[1], "--applied")
    assert result.exit_code == 2 and "20250101000000_CreateA are still pending" in result.output
    assert "--force" in result.output and db.history() == []
    db.ok("up", "--target", "20250101000000")
    assert "Marked 20250102000000_ChangeA applied" in db.ok("mark", "20250102000000",
                                                            "--applied")
    assert db.history() == IDS[:2]
    assert db.query("SELECT COUNT(*) FROM a") == [(1,)]
    with pytest.raises(Exception):  # recorded, not run: table b does not exist
        db.query("SELECT COUNT(*) FROM b")
    assert "already recorded" in db.ok("mark", IDS[1], "--applied")
    db.ok("up")  # C depends on B, which counts as applied
    result = db.npa("mark", IDS[1], "--pending")
    assert result.exit_code == 2
    assert "newer migration(s) 20250103000000_CreateC are applied" in result.output
    assert "applied migration 20250103000000_CreateC depends on it" in result.output
    forced = db.npa("mark", IDS[1], "--pending", "--force")
    assert forced.exit_code == 0 and "warning:" in forced.output
    assert db.history() == [IDS[0], IDS[2]]
    assert db.npa("validate").exit_code == 3  # what --force let through shows
    assert ("mark", IDS[1]) in events(db)
    assert db.npa("mark", IDS[1], "--pending").exit_code == 2  # not recorded
    (db.folder / "20250103000000_create_c.py").unlink()  # a row whose file is gone
    assert db.npa("validate").exit_code == 3
    db.ok("mark", IDS[2], "--pending")
    assert db.history() == [IDS[0]]


def test_mark_needs_a_choice(db):
    result = db.npa("mark", IDS[0])
    assert result.exit_code == 2 and "--applied or --pending" in result.output


# squash ---------------------------------------------------------------------------------------
def test_squash_stands_for_the_migrations_it_replaces(db, tmp_path):
    db.ok("up")
    output = db.ok("squash", "20250101000000", "20250102000000", "Base")
    path = db.folder / "20250102000000_base.py"
    assert f"Created {path}" in output and path.exists()
    text = path.read_text(encoding="utf-8")
    assert "replaces = (\"20250101000000_CreateA\", \"20250102000000_ChangeA\")" in text
    # the database that applied both counts the squash as applied, and records it
    assert db.npa("status", "--exit-code").exit_code == 0
    assert "up to date" in db.ok("up")
    assert ("squash", SQUASH) in events(db)
    replaced = db.npa("up", "--target", "20250101000000")
    assert replaced.exit_code == 2 and "replaced by a squashed migration" in replaced.output
    # the replaced files may go now: no "missing migration"
    for name in list(FILES)[:2]:
        (db.folder / name).unlink()
    assert db.npa("validate").exit_code == 0
    assert db.npa("drift").exit_code == 0, db.npa("drift").output
    # a fresh database runs only the squash
    with project(db.backend, tmp_path / "fresh") as fresh:
        fresh.folder.mkdir(parents=True)
        for file in db.folder.iterdir():
            if file.suffix == ".py":
                (fresh.folder / file.name).write_text(file.read_text(encoding="utf-8"))
        output = fresh.ok("up")
        assert "Executing migration 1/2: Base" in output
        assert fresh.history() == [SQUASH, IDS[2]]
        assert fresh.query("SELECT name FROM a") == [("one",)]
        assert fresh.npa("drift").exit_code == 0
    # rolling the squash back forgets the rows of what it replaces too
    db.ok("down", "--steps", "2")
    assert db.history() == []


def test_squash_refuses_raw_sql_and_writes_nothing(db):
    db.write({"20250102000000_change_a.py": B, "20250102500000_raw.sql": RAW})
    result = db.npa("squash", "20250101000000", "20250102500000", "Base")
    assert result.exit_code == 2
    assert "20250102500000_Raw" in result.output and "raw SQL" in result.output
    assert not (db.folder / "20250102500000_base.py").exists()


def test_a_partly_applied_squash_runs_the_rest_from_their_files(db):
    db.ok("up", "--target", "20250101000000")
    db.ok("squash", "20250101000000", "20250102000000", "Base")
    assert [p["id"] for p in db.status()["pending"]] == IDS[1:]
    db.ok("up")
    assert db.npa("status", "--exit-code").exit_code == 0
    assert db.query("SELECT COUNT(*) FROM b") == [(0,)]
    # without the file of a replaced migration still to run, it cannot go on
    squash = (db.folder / "20250102000000_base.py").read_text(encoding="utf-8")
    with project(db.backend, db.folder.parent / "other") as other:
        other.write({"20250101000000_create_a.py": A})
        other.ok("up")
        other.write({"20250102000000_base.py": squash})
        result = other.npa("validate")
        assert result.exit_code == 3
        assert "20250102000000_ChangeA are gone" in result.output
