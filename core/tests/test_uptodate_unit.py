"""The recorded up-to-date answers' own logic (npa_migrations.uptodate): which command
lines are answered, what their key depends on, and the time line an answer ends with.
The answers themselves are tested end to end with real processes on every database in
tests/test_uptodate.py."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from npa_migrations import uptodate
from npa_migrations.uptodate import Invocation


@pytest.mark.parametrize("argv, command, url, migrations", [
    (["migrate", "up"], "up", None, []),
    (["-d", "sqlite:///a.db", "-m", "m1", "--migrations=m2", "migrate", "status", "--json"],
     "status", "sqlite:///a.db", ["m1", "m2"]),
    (["--database-url=postgresql://h/db", "-v", "migrate", "up", "--no-verify"], "up",
     "postgresql://h/db", []),
])
def test_plain_up_and_status_are_answered(argv, command, url, migrations):
    invocation = Invocation.parse(argv)
    assert invocation is not None
    assert (invocation.command, invocation.database_url, invocation.migrations) == (
        command, url, migrations)


@pytest.mark.parametrize("argv", [
    [], ["--help"], ["--version"], ["migrate"], ["migrate", "down"], ["migrate", "up", "-h"],
    ["-d"], ["providers"], ["--unknown", "migrate", "up"], ["migrate", "status", "--help"],
])
def test_everything_else_is_the_clis(argv):
    assert Invocation.parse(argv) is None


def test_the_key_follows_the_environment_but_not_the_shells_bookkeeping(monkeypatch):
    invocation = Invocation.parse(["migrate", "up"])
    key = invocation.key()
    monkeypatch.setenv("_", "/usr/bin/time")
    monkeypatch.setenv("OLDPWD", "/elsewhere")
    assert invocation.key() == key
    monkeypatch.setenv("PGPASSWORD", "other")
    assert invocation.key() != key
    assert Invocation.parse(["migrate", "up", "--json"]).key() != key


def test_the_time_line_is_filled_in():
    assert uptodate.timing_line({"human": "Time: {seconds:.3f}s"}, 0.0123) == "Time: 0.012s\n"
    line = uptodate.timing_line({"json": {"event": "result", "duration_ms": 0.0, "x": 1}}, 0.5)
    assert json.loads(line) == {"event": "result", "duration_ms": 500.0, "x": 1}
    assert list(json.loads(line)) == ["event", "duration_ms", "x"]


def test_answering_never_fails_on_its_own(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "migrations" / "__pycache__").mkdir(parents=True)
    key = Invocation.parse(["migrate", "up"]).key()
    (tmp_path / "migrations" / "__pycache__" / f"npa-uptodate-{key}.json").write_text("{broken")
    assert uptodate.answer(["migrate", "up"]) is None
    assert capsys.readouterr().out == ""


def test_the_answer_path_imports_neither_click_nor_sqlalchemy():
    probe = ("import sys\nimport npa_migrations.uptodate, npa_migrations.config\n"
             "import npa_sqlite.quick, npa_postgres.quick, npa_mysql.quick\n"
             "print(sorted(m for m in ('click', 'sqlalchemy', 'pluggy', 'typing', "
             "'dataclasses', 'npa_migrations.engine') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
