"""Shared pieces of the fleet tests: a three-migration history whose every migration
leaves a row behind (so a migration applied twice on one target shows as a duplicate
row), and the ``npa`` child process.

The third migration sleeps ``NPA_TEST_FLEET_SLEEP`` seconds in a Python step, so a test
can make a fleet run last long enough to overlap it with another or kill it midway.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

NPA = [sys.executable, "-m", "npa_migrations.cli"]

MIGRATIONS = {
    "20240101000000_create_runs.sql": """
        -- npa:up
        CREATE TABLE runs (n INT NOT NULL);
        INSERT INTO runs (n) VALUES (1);
        -- npa:down
        DROP TABLE runs;
    """,
    "20240102000000_second.sql": """
        -- npa:up
        INSERT INTO runs (n) VALUES (2);
        -- npa:down
        DELETE FROM runs WHERE n = 2;
    """,
    "20240103000000_third.py": """
        import os
        import time

        from npa_migrations import Migration


        def pause(connection):
            time.sleep(float(os.environ.get("NPA_TEST_FLEET_SLEEP", "0")))


        class Third(Migration):
            def up(self, b):
                b.run_python(pause)
                b.execute("INSERT INTO runs (n) VALUES (3)")

            def down(self, b):
                b.execute("DELETE FROM runs WHERE n = 3")
    """,
}
#: the ids, in order
IDS = ["20240101000000_CreateRuns", "20240102000000_Second", "20240103000000_Third"]


def write_migrations(folder: Path) -> Path:
    """The three migrations in ``folder`` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in MIGRATIONS.items():
        (folder / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return folder


def npa(*args: str, cwd: Path, sleep: float = 0.0, **popen) -> subprocess.Popen:
    """``npa *args`` as a child process (stdout and stderr piped)."""
    env = dict(os.environ, NPA_TEST_FLEET_SLEEP=str(sleep))
    env.pop("NPA_DATABASE_URL", None)
    return subprocess.Popen([*NPA, *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **popen)
