"""Recorded up-to-date answers (npa_migrations.uptodate), end to end on SQLite,
PostgreSQL and MariaDB, with real ``npa`` processes: a second ``up`` / ``status`` on an
up-to-date database answers without loading SQLAlchemy, says exactly what the full
command says, and any change the answer depends on -- a new or edited migration file,
the history changed by someone else, the config, the environment -- runs the full
command instead."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from server_databases import execute_sql, fresh_database

#: runs the ``npa`` launcher, then says on stderr whether SQLAlchemy was imported
LAUNCH = """
import sys
from npa_migrations.launch import main
try:
    main()
finally:
    print("SQLALCHEMY", "sqlalchemy" in sys.modules, file=sys.stderr)
"""

FIRST = """\
-- npa:up
CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(40));
-- npa:down
DROP TABLE items;
"""
SECOND = """\
-- npa:up
CREATE TABLE tags (id INTEGER PRIMARY KEY);
-- npa:down
DROP TABLE tags;
"""


class Run:
    def __init__(self, completed: subprocess.CompletedProcess):
        self.code = completed.returncode
        self.out = completed.stdout
        self.err = completed.stderr
        #: whether the full command ran (it imports SQLAlchemy; a recorded answer does not)
        self.full = "SQLALCHEMY True" in self.err


def settle(folder: Path) -> None:
    """Date the migration files back, as files written a while ago (a record is not
    written while a file is younger than uptodate.SETTLE_SECONDS)."""
    past = time.time() - 60
    for path in folder.iterdir():
        os.utime(path, (past, past))


def launch(url: sa.engine.URL, folder: Path, cwd: Path, *args: str,
           extra_env: dict[str, str] | None = None) -> Run:
    """``npa -d <url> -m <folder> migrate <args>`` as a real process of the launcher."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NPA_")}
    argv = ["-d", url.render_as_string(hide_password=False), "-m", str(folder), "migrate",
            *args]
    return Run(subprocess.run([sys.executable, "-c", LAUNCH, *argv], cwd=cwd,
                              env={**env, **(extra_env or {})}, capture_output=True,
                              text=True, timeout=120))


@pytest.fixture
def npa(dba, tmp_path):
    """Run ``npa migrate <args>`` on the test's database and migrations folder."""

    def run(*args: str, extra_env: dict[str, str] | None = None) -> Run:
        return launch(dba.url, dba.folder, tmp_path, *args, extra_env=extra_env)

    dba.write({"20240101000000_items.sql": FIRST})
    settle(dba.folder)
    return run


def records(folder: Path) -> list[Path]:
    return sorted((folder / "__pycache__").glob("npa-uptodate-*.json"))


def test_second_up_and_status_answer_from_the_record(dba, npa):
    applied = npa("up")
    assert applied.code == 0 and "1 migration applied" in applied.out and applied.full
    first = npa("up")
    assert first.code == 0 and first.full and "up to date" in first.out
    assert len(records(dba.folder)) == 1
    second = npa("up")
    assert second.code == 0 and not second.full, second.err
    assert second.out.splitlines()[:-1] == first.out.splitlines()[:-1]
    assert second.out.splitlines()[-1].startswith("Time: ")

    full_status = npa("status")
    answered = npa("status")
    assert full_status.full and not answered.full
    assert answered.out == full_status.out and answered.code == 0
    gate = [npa("status", "--exit-code") for _ in range(2)]
    assert [g.code for g in gate] == [0, 0] and not gate[1].full

    as_json = [npa("up", "--json") for _ in range(2)]
    assert as_json[0].full and not as_json[1].full
    result = json.loads(as_json[1].out)
    assert result["event"] == "result" and result["success"] and result["migrations"] == []
    assert result["duration_ms"] > 0
    assert set(result) == set(json.loads(as_json[0].out))


def test_a_new_migration_file_runs_the_full_command(dba, npa):
    npa("up"), npa("up")
    assert not npa("up").full
    dba.write({"20240102000000_tags.sql": SECOND})
    settle(dba.folder)
    status = npa("status")
    assert status.full and "20240102000000" in status.out and "1 pending" in status.out
    applied = npa("up")
    assert applied.full and "1 migration applied" in applied.out
    assert [i[:14] for i in dba.history()] == ["20240101000000", "20240102000000"]


def test_an_edited_applied_migration_is_refused_as_without_a_record(dba, npa):
    npa("up"), npa("up")
    assert not npa("up").full
    path = dba.folder / "20240101000000_items.sql"
    stat = path.stat()
    path.write_text(FIRST.replace("40", "41"), encoding="utf-8")  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000))
    refused = npa("up")
    assert refused.full and refused.code == 3 and "20240101000000" in refused.err


def test_history_changed_by_someone_else_runs_the_full_command(dba, npa):
    dba.write({"20240102000000_tags.sql": SECOND})
    settle(dba.folder)
    npa("up"), npa("status")
    assert not npa("status").full
    execute_sql(dba.url, "DELETE FROM npa_migrations_history WHERE migration_id = "
                     "'20240102000000_Tags'", "DROP TABLE tags")
    status = npa("status")
    assert status.full and "1 pending" in status.out
    applied = npa("up")
    assert applied.full and "1 migration applied" in applied.out


def test_config_and_environment_are_part_of_the_answer(dba, npa, tmp_path):
    npa("up"), npa("up")
    assert not npa("up").full
    assert npa("up", extra_env={"NPA_CHECKSUM_CACHE": "0"}).full
    assert npa("up", extra_env={"NPA_UPTODATE_RECORDS": "0"}).full
    assert npa("up", extra_env={"SOME_SETTING": "1"}).full  # another environment: no record yet
    (tmp_path / "npa.toml").write_text("lock_timeout = 31\n", encoding="utf-8")
    settle(tmp_path)
    with_config = npa("up")
    assert with_config.full and "up to date" in with_config.out


def test_no_record_while_something_is_pending_or_failed(dba, npa):
    dba.write({"20240102000000_broken.sql": "-- npa:up\nINSERT INTO no_such_table VALUES (1);\n"})
    settle(dba.folder)
    assert npa("up").code == 1
    for _ in range(2):
        assert npa("status").full and npa("up").full
    assert records(dba.folder) == []


def test_a_young_file_is_not_recorded_yet(dba, npa):
    npa("up")
    soon = time.time() + 600  # young for the length of the test, however slow it runs
    os.utime(dba.folder / "20240101000000_items.sql", (soon, soon))
    assert npa("up").full and npa("up").full
    assert records(dba.folder) == []


def test_the_password_is_never_written(tmp_path):
    """On PostgreSQL, whose test server trusts its clients: any password is accepted, so
    a URL can carry one."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "20240101000000_items.sql").write_text(FIRST, encoding="utf-8")
    settle(folder)
    with fresh_database("postgresql", "npa_uptodate") as url:
        url = url.set(password="s3cret-Word")
        runs = [launch(url, folder, tmp_path, "up") for _ in range(3)]
    assert [r.full for r in runs] == [True, True, False], runs[-1].err
    texts = [p.read_text(encoding="utf-8") for p in records(folder)]
    assert texts and not any("s3cret-Word" in t for t in texts)
    assert all('"password": true' in t for t in texts)


def test_no_record_when_a_plugin_discovers_migrations(dba, npa, tmp_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "extra_discovery.py").write_text(
        "from npa_migrations import hookimpl\n\n\n"
        "@hookimpl\n"
        "def npa_discover_migrations(source, register):\n"
        "    return None  # finds nothing itself; the built-in discovery still runs\n")
    env = {"NPA_PLUGINS": "extra_discovery", "PYTHONPATH": str(plugins)}
    runs = [npa("up", extra_env=env) for _ in range(3)]
    assert all(run.code == 0 and run.full for run in runs), runs[-1].err
    assert records(dba.folder) == []
