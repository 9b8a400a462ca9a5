"""Relative paths resolve one documented way: a path named in a config file is relative
to the file's folder (migrations folders, a SQLite database file), one given with a
flag or an environment variable to the current folder; a dotted package named as a
source is importable without PYTHONPATH."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from npa_migrations.cli import cli

MIGRATION = """
    import sqlalchemy as sa
    from npa_migrations import Migration

    class {name}(Migration):
        def up(self, b):
            b.create_table("{table}", sa.Column("id", sa.Integer))
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder with npa.toml, migrations/ and a package myapp.extra_migrations,
    as in docs/cli.md; the environment names no database or sources."""
    monkeypatch.delenv("NPA_DATABASE_URL", raising=False)
    monkeypatch.delenv("NPA_MIGRATIONS", raising=False)
    root = tmp_path / "project"
    (root / "migrations").mkdir(parents=True)
    (root / "migrations" / "20250101000000_create_a.py").write_text(
        textwrap.dedent(MIGRATION.format(name="CreateA", table="a")))
    package = root / "myapp" / "extra_migrations"
    package.mkdir(parents=True)
    (root / "myapp" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "20250102000000_create_b.py").write_text(
        textwrap.dedent(MIGRATION.format(name="CreateB", table="b")))
    (root / "npa.toml").write_text('database_url = "sqlite:///app.db"\n'
                                   'migrations = ["migrations", "myapp.extra_migrations"]\n')
    (root / "sub").mkdir()
    monkeypatch.setattr(sys, "path", sys.path[:])  # the CLI adds the project folder
    yield root
    for name in [m for m in sys.modules if m == "myapp" or m.startswith("myapp.")]:
        del sys.modules[name]


def npa_script(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The installed ``npa`` console script (not ``python -m``, which would put the
    current folder on sys.path by itself), without PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    script = Path(sys.executable).with_name("npa")
    return subprocess.run([str(script), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_the_documented_example_works_as_written(project, user_tables):
    """docs/cli.md: a folder and a dotted package; the package failed to import without
    PYTHONPATH."""
    proc = npa_script("migrate", "up", cwd=project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert user_tables(project / "app.db") == {"a", "b"}


def test_paths_in_the_config_file_are_relative_to_it(project, monkeypatch, user_tables):
    """Run from another folder, the config's sqlite:///app.db is the project's database:
    it used to be a new, empty one in the current folder."""
    monkeypatch.chdir(project / "sub")
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", "../npa.toml", "migrate", "up"])
    assert result.exit_code == 0, result.output
    assert user_tables(project / "app.db") == {"a", "b"}
    assert not (project / "sub" / "app.db").exists()
    result = runner.invoke(cli, ["--config", "../npa.toml", "migrate", "status"])
    assert f"URL: sqlite:///{Path('..') / 'app.db'}" in result.output
    assert "2 applied, 0 pending" in result.output


def test_new_creates_the_folder_next_to_the_config_file(project, monkeypatch):
    (project / "npa.toml").write_text('migrations = "db/migrations"\n')
    monkeypatch.chdir(project / "sub")
    result = CliRunner().invoke(cli, ["--config", "../npa.toml", "migrate", "new", "AddC"])
    assert result.exit_code == 0, result.output
    assert list((project / "db" / "migrations").glob("*_add_c.py"))
    assert not (project / "sub" / "db").exists()


def test_flags_and_environment_are_relative_to_the_current_folder(project, monkeypatch,
                                                                   user_tables):
    monkeypatch.chdir(project / "sub")
    monkeypatch.setenv("NPA_DATABASE_URL", "sqlite:///here.db")
    result = CliRunner().invoke(cli, ["--config", "../npa.toml", "-m", "../migrations",
                                      "migrate", "up"])
    assert result.exit_code == 0, result.output
    assert user_tables(project / "sub" / "here.db") == {"a"}
    assert not (project / "app.db").exists()
