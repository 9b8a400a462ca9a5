"""Table rebuilds in offline scripts (``--sql --offline``): written from the schema the
migrations build, run with the ``sqlite3`` client (``-bail``), and checked by the script
itself where the online rebuild reads the database (foreign keys off, no violated foreign
key afterwards)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import textwrap

import pytest

from npa_migrations import MigrationExecutor
from npa_migrations.errors import RebuildError

needs_client = pytest.mark.skipif(shutil.which("sqlite3") is None,
                                  reason="needs the sqlite3 command-line client")

HEADER = "import sqlalchemy as sa\nfrom npa_migrations import Migration\n\n"


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "migrations"
    path.mkdir()
    return path


def write(folder, stamp: str, name: str, up: str, down: str = "pass") -> None:
    (folder / f"{stamp}_{name.lower()}.py").write_text(
        HEADER + f"class {name}(Migration):\n    def up(self, b):\n"
        + textwrap.indent(textwrap.dedent(up).strip(), " " * 8)
        + "\n\n    def down(self, b):\n" + textwrap.indent(textwrap.dedent(down).strip(),
                                                          " " * 8) + "\n",
        encoding="utf-8")


def run(db, script: str, *pragmas: str) -> subprocess.CompletedProcess:
    return subprocess.run(["sqlite3", "-bail", str(db)], input="\n".join(pragmas) + script,
                          capture_output=True, text=True, timeout=60)


@needs_client
def test_offline_rebuild_keeps_data_indexes_and_raw_sql_triggers(tmp_path, folder):
    write(folder, "20250101000000", "Create", """
        b.create_table("t", sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("v", sa.String(10)), sa.Column("w", sa.Integer))
        b.create_table("log", sa.Column("msg", sa.String(50)))
        b.create_index("ix_t_w", "t", ["w"])
        b.execute("CREATE TRIGGER trg_t AFTER INSERT ON t BEGIN "
                  "INSERT INTO log (msg) VALUES ('inserted ' || NEW.id); END")
        b.bulk_insert("t", [{"id": 1, "v": "a", "w": 1}])
    """)
    write(folder, "20250102000000", "Change", """
        b.alter_column("t", "v", nullable=False, server_default="z")
        b.create_unique_constraint("uq_t_w", "t", ["w"])
    """, """
        b.drop_constraint("uq_t_w", "t", type_="unique")
        b.alter_column("t", "v", nullable=True, server_default=None)
    """)
    db = tmp_path / "script.db"
    executor = MigrationExecutor(f"sqlite:///{db}", folder)
    script = executor.script(offline=True)
    assert "CREATE TABLE _npa_tmp_t" in script and "CREATE TRIGGER trg_t" in script
    result = run(db, script)
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO t (id, w) VALUES (2, 2)")  # the default and the trigger
    assert conn.execute("SELECT id, v, w FROM t ORDER BY id").fetchall() == [
        (1, "a", 1), (2, "z", 2)]
    assert conn.execute("SELECT msg FROM log").fetchall() == [("inserted 1",),
                                                               ("inserted 2",)]
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO t (id, w) VALUES (3, 2)")  # uq_t_w
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert {"ix_t_w", "trg_t"} <= names
    conn.close()
    assert executor.drift().has_drift is False
    down = executor.script(offline=True, direction="down")  # rebuilds again, backwards
    assert run(db, down).returncode == 0
    assert executor.status().pending == ["20250102000000_Change"]


@needs_client
def test_offline_rebuild_checks_foreign_keys_in_the_script(tmp_path, folder):
    write(folder, "20250101000000", "Create", """
        b.create_table("p", sa.Column("id", sa.Integer, primary_key=True))
        b.create_table("c", sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("p_id", sa.Integer))
        b.bulk_insert("c", [{"id": 1, "p_id": 7}])
    """)
    write(folder, "20250102000000", "AddKey",
          'b.create_foreign_key("fk_c_p", "c", "p", ["p_id"], ["id"])')
    db = tmp_path / "script.db"
    script = MigrationExecutor(f"sqlite:///{db}", folder).script(offline=True)
    result = run(db, script)
    assert result.returncode != 0
    assert "rows violate a foreign key after the rebuild of c" in result.stderr
    # the migration's transaction never committed: no history row for it
    rows = sqlite3.connect(db).execute("SELECT migration_id FROM npa_migrations_history")
    assert [r[0] for r in rows] == ["20250101000000_Create"]


@needs_client
def test_offline_rebuild_of_a_referenced_table_needs_foreign_keys_off(tmp_path, folder):
    write(folder, "20250101000000", "Create", """
        b.create_table("p", sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("v", sa.Integer))
        b.create_table("c", sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("p_id", sa.Integer,
                                 sa.ForeignKey("p.id", ondelete="CASCADE")))
        b.bulk_insert("p", [{"id": 1, "v": 1}])
        b.bulk_insert("c", [{"id": 1, "p_id": 1}])
    """)
    write(folder, "20250102000000", "Change", 'b.alter_column("p", "v", nullable=False)')
    db = tmp_path / "script.db"
    script = MigrationExecutor(f"sqlite:///{db}", folder).script(offline=True)
    first, second = script.split("-- 20250102000000_Change (up)")
    assert run(db, first).returncode == 0
    result = run(db, second, "PRAGMA foreign_keys = ON;\n")
    assert "PRAGMA foreign_keys must be OFF to rebuild p" in result.stderr
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM c").fetchall() == [(1,)]
    assert run(db, second).returncode == 0  # off, as sqlite3 starts: the rows stay
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM c").fetchall() == [(1,)]


def test_offline_rebuild_refuses_sql_that_names_a_renamed_column(tmp_path, folder):
    write(folder, "20250101000000", "Create", """
        b.create_table("t", sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("price", sa.Integer),
                       sa.CheckConstraint("price > 0", name="ck_price"))
    """)
    write(folder, "20250102000000", "Rename", 'b.rename_column("t", "price", "cost")')
    write(folder, "20250103000000", "Change", 'b.alter_column("t", "cost", nullable=False)')
    with pytest.raises(RebuildError) as info:
        MigrationExecutor(f"sqlite:///{tmp_path / 'x.db'}", folder).script(offline=True)
    message = str(info.value)
    assert "check constraint 'ck_price'" in message and "price" in message
    assert "without --offline" in message
