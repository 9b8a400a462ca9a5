"""A backfill killed with SIGKILL halfway, then run again, updates every chosen row exactly
once -- on SQLite, PostgreSQL and MariaDB (docs/migrations.md, "Backfills").

The backfill increments a counter, so a row updated twice shows as 2. A real child process
runs ``npa``'s executor and is killed:

* from inside, at a fixed boundary of the run (hook ``npa_checkpoint``): right after a
  chunk's ``UPDATE`` ran but before it committed, and right after a chunk committed;
* from outside, by the test, once the child's progress events say some rows are done.

A migration with ``transactional = False`` commits chunk by chunk, so the kill keeps what
committed and the next run continues after it; a transactional one loses everything and
starts over. Either way the second run ends with every chosen row at 1.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

from server_databases import database_of

ROWS, BATCH = 600, 40
CHOSEN = sum(1 for i in range(1, ROWS + 1) if i % 9)  # where="grp <> 'skip'"

TABLE = f"""
    import sqlalchemy as sa
    from npa_migrations import Migration

    class Counters(Migration):
        def up(self, b):
            b.create_table("counters", sa.Column("id", sa.Integer, primary_key=True),
                           sa.Column("n", sa.Integer, nullable=False, server_default="0"),
                           sa.Column("grp", sa.String(10), nullable=False))
            b.bulk_insert("counters", [{{"id": i * 3, "grp": "a" if i % 9 else "skip"}}
                                       for i in range(1, {ROWS} + 1)])

        def down(self, b):
            b.drop_table("counters")
"""

BACKFILL = """
    import sqlalchemy as sa
    from npa_migrations import Migration

    class Bump(Migration):
        transactional = {transactional}

        def up(self, b):
            b.backfill("counters", {{"n": sa.text("n + 1")}}, where="grp <> 'skip'",
                       batch_size={batch})

        def down(self, b):
            b.execute("UPDATE counters SET n = 0")
"""

#: the child: applies the migrations, printing each progress event; with a kill point it
#: SIGKILLs itself at the given occurrence of that npa_checkpoint boundary in the backfill
CHILD = """
    import json, os, signal, sys, time
    from npa_migrations import MigrationExecutor, hookimpl
    from npa_migrations.plugins import get_plugin_manager

    url, folder, point, occurrence, pause = sys.argv[1:6]
    seen = [0]

    class Child:
        @hookimpl
        def npa_checkpoint(self, point, migration):
            if migration is not None and migration.id.endswith("Bump") and point == sys.argv[3]:
                seen[0] += 1
                if seen[0] == int(occurrence):
                    os.kill(os.getpid(), signal.SIGKILL)

        @hookimpl
        def npa_operation_progress(self, migration, operation, rows_done):
            print(json.dumps({"rows_done": rows_done}), flush=True)
            time.sleep(float(pause))

    get_plugin_manager().register(Child())
    result = MigrationExecutor(url, folder).execute()
    sys.exit(0 if result.success else 1)
"""


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def database(request, tmp_path):
    """An empty database of each kind: yields its URL."""
    with database_of(request.param, tmp_path, "npa_backfill") as url:
        yield url


def prepare(tmp_path: Path, database: str, transactional: bool) -> Path:
    """The migrations, with the table applied (in this process) and the backfill pending."""
    from npa_migrations import MigrationExecutor

    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "20250101000000_counters.py").write_text(textwrap.dedent(TABLE))
    assert MigrationExecutor(database, folder).execute().success
    (folder / "20250102000000_bump.py").write_text(textwrap.dedent(BACKFILL.format(
        transactional=transactional, batch=BATCH)))
    (tmp_path / "child.py").write_text(textwrap.dedent(CHILD))
    return folder


def child(tmp_path: Path, database: str, folder: Path, point: str = "-", occurrence: int = 0,
          pause: float = 0.0) -> subprocess.Popen:
    env = {**os.environ, "NPA_CHECKSUM_CACHE": "0"}
    return subprocess.Popen([sys.executable, str(tmp_path / "child.py"), database, str(folder),
                             point, str(occurrence), str(pause)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def counts(database: str) -> dict[tuple[str, int], int]:
    """``(grp, n) -> rows``."""
    engine = sa.create_engine(database, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return {(g, n): c for g, n, c in conn.execute(sa.text(
                "SELECT grp, n, COUNT(*) FROM counters GROUP BY grp, n"))}
    finally:
        engine.dispose()


def finish_and_check(database: str, folder: Path, tmp_path: Path) -> None:
    """Run again in a new process: it completes, and every chosen row is at 1."""
    again = child(tmp_path, database, folder)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert counts(database) == {("a", 1): CHOSEN, ("skip", 0): ROWS - CHOSEN}


@pytest.mark.slow
@pytest.mark.parametrize("point", ["executed", "committed"])
def test_killed_between_chunks_resumes_after_the_last_commit(database, tmp_path, point):
    folder = prepare(tmp_path, database, transactional=False)
    killed = child(tmp_path, database, folder, point, occurrence=5)
    out, err = killed.communicate(timeout=120)
    assert killed.returncode == -signal.SIGKILL, err
    # the 5th chunk ran; "executed": it did not commit, "committed": it did (killed
    # before its progress event either way)
    done = [json.loads(line)["rows_done"] for line in out.splitlines()]
    assert done == [BATCH * k for k in range(1, 5)]
    committed = 5 if point == "committed" else 4
    assert counts(database) == {("a", 1): BATCH * committed,
                                ("a", 0): CHOSEN - BATCH * committed,
                                ("skip", 0): ROWS - CHOSEN}
    finish_and_check(database, folder, tmp_path)


@pytest.mark.slow
def test_killed_from_outside_while_chunks_run(database, tmp_path):
    folder = prepare(tmp_path, database, transactional=False)
    running = child(tmp_path, database, folder, pause=0.05)
    for line in running.stdout:
        if json.loads(line)["rows_done"] >= 5 * BATCH:
            running.send_signal(signal.SIGKILL)
            break
    running.communicate(timeout=120)
    assert running.returncode == -signal.SIGKILL
    partial = counts(database)
    assert set(partial) <= {("a", 1), ("a", 0), ("skip", 0)}  # no row twice
    assert 5 * BATCH <= partial[("a", 1)] < CHOSEN
    finish_and_check(database, folder, tmp_path)


@pytest.mark.slow
def test_killed_transactional_backfill_starts_over(database, tmp_path):
    folder = prepare(tmp_path, database, transactional=True)
    killed = child(tmp_path, database, folder, "executed", occurrence=5)
    killed.communicate(timeout=120)
    assert killed.returncode == -signal.SIGKILL
    assert counts(database) == {("a", 0): CHOSEN, ("skip", 0): ROWS - CHOSEN}
    finish_and_check(database, folder, tmp_path)
