"""Odd input that ended in "Unexpected error", exit 0 with nothing done, or a broken
JSON stream: a migration calling sys.exit() or print(), symbolic links that loop or
dangle, a 300-character name, a closed stdout pipe."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from npa_migrations.cli import cli

VALID = """
    import sqlalchemy as sa
    from npa_migrations import Migration

    class CreateA(Migration):
        def up(self, b):
            b.create_table("a", sa.Column("id", sa.Integer))
"""


# Python migrations misbehaving ---------------------------------------------------------------
@pytest.mark.parametrize("where", ["up", "import"])
def test_sys_exit_in_a_migration_is_an_error_naming_it(migrations_dir, sqlite_url, where, migrate,
                                                       user_tables):
    """It made `up` exit 0 with no output and nothing applied, the valid migration
    before it included."""
    migrations_dir("20250101000000_create_a.py", VALID)
    body = ("import sys\nsys.exit(0)\n" if where == "import" else
            "import sys\nfrom npa_migrations import Migration\n\n"
            "class Quit(Migration):\n    def up(self, b):\n        sys.exit(0)\n")
    path = migrations_dir("20250102000000_quit.py", body)
    result = migrate(sqlite_url, migrations_dir.folder, "up")
    assert result.exit_code == 2, result.output
    what = ("cannot import migration module: it called sys.exit(0)" if where == "import"
            else "Quit.up() called sys.exit(0)")
    assert f"Error: {path}: {what}, which a migration must not do." in result.output
    assert user_tables(sqlite_url) == set()


def test_a_migrations_print_goes_to_stderr_under_json(migrations_dir, sqlite_url, migrate,
                                                      user_tables):
    migrations_dir("20250101000000_chatty.py", """
        import sqlalchemy as sa
        from npa_migrations import Migration

        print("imported")

        class Chatty(Migration):
            def up(self, b):
                print("building up")
                b.create_table("a", sa.Column("id", sa.Integer))
    """)
    stderr = ""
    for args in [("up", "--dry-run", "--json"), ("status", "--json"), ("up", "--json")]:
        result = migrate(sqlite_url, migrations_dir.folder, *args)
        assert result.exit_code == 0, result.output
        events = [json.loads(line) for line in result.stdout.splitlines()]  # JSON only
        assert events
        stderr += result.stderr
    assert "imported" in stderr and "building up" in stderr
    assert user_tables(sqlite_url) == {"a"}


def test_a_json_error_is_the_only_line_on_stdout(migrations_dir, sqlite_url, migrate):
    migrations_dir("20250101000000_chatty.py", "print('imported')\nraise ValueError('no')\n")
    result = migrate(sqlite_url, migrations_dir.folder, "up", "--json")
    assert result.exit_code == 2
    [line] = result.stdout.splitlines()
    assert json.loads(line)["event"] == "error"
    assert "imported" in result.stderr


# paths and names -----------------------------------------------------------------------------
def test_a_looping_or_dangling_migrations_link_is_named(tmp_path, sqlite_url, migrate):
    loop, dangling = tmp_path / "loop", tmp_path / "dangling"
    loop.symlink_to(loop)
    dangling.symlink_to(tmp_path / "nowhere")
    for link, target in [(loop, loop), (dangling, tmp_path / "nowhere")]:
        result = migrate(sqlite_url, link, "status")
        assert result.exit_code == 2, result.output
        assert (f"Migrations source '{link}' is a symbolic link to '{target}', which does "
                "not exist or loops back on itself") in result.output


def test_a_looping_link_inside_the_folder_is_named(migrations_dir, sqlite_url, migrate):
    """It ended in "Unexpected error: OSError: Too many levels of symbolic links"."""
    folder = migrations_dir.folder
    (folder / "20250101000000_a.sql").symlink_to(folder / "20250101000000_b.sql")
    (folder / "20250101000000_b.sql").symlink_to(folder / "20250101000000_a.sql")
    (folder / "20250102000000_c.py").symlink_to(folder / "20250102000000_c.py")
    result = migrate(sqlite_url, folder, "status")
    assert result.exit_code == 2, result.output
    assert f"Error: {folder / '20250101000000_a.sql'}: cannot be read (" in result.output
    assert "Fix the file or the link that points to it" in result.output


def test_a_folder_linked_to_itself_and_a_file_as_source(migrations_dir, sqlite_url, migrate,
                                                        user_tables):
    folder = migrations_dir.folder
    migrations_dir("20250101000000_a.sql", "-- npa:up\nCREATE TABLE a (id INTEGER);\n")
    (folder / "self").symlink_to(folder)
    result = migrate(sqlite_url, folder, "up")
    assert result.exit_code == 0, result.output
    assert user_tables(sqlite_url) == {"a"}
    result = migrate(sqlite_url, folder / "20250101000000_a.sql", "status")
    assert result.exit_code == 2
    assert "is a file, not a folder" in result.output


def test_new_with_a_name_too_long_for_a_file_says_the_limit(tmp_path, monkeypatch):
    """It ended in "Unexpected error: OSError: File name too long"."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["migrate", "new", "A" * 300])
    assert result.exit_code == 2
    assert "is 300 characters long" in result.output
    assert "file systems allow at most 255. Use a shorter NAME (at most 237 characters" \
        in result.output
    assert not (tmp_path / "migrations").exists()


# a closed pipe -----------------------------------------------------------------------------
def run_into_closed_pipe(tmp_path, *args):
    """``npa ... | head`` where head is already gone: stdout's reader is closed."""
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run([sys.executable, "-m", "npa_migrations.cli", *args],
                              stdout=write, stderr=subprocess.PIPE, cwd=tmp_path,
                              text=True, timeout=120)
    finally:
        os.close(write)
    return proc


def test_a_closed_pipe_ends_quietly(migrations_dir, sqlite_url, tmp_path, user_tables):
    """`npa migrate status | head` ended in a BrokenPipeError."""
    migrations_dir("20250101000000_create_a.py", VALID)
    base = ["-d", sqlite_url, "-m", str(migrations_dir.folder), "migrate"]
    proc = run_into_closed_pipe(tmp_path, *base, "status")
    assert (proc.returncode, proc.stderr) == (141, "")
    proc = run_into_closed_pipe(tmp_path, *base, "up")  # the run still finishes
    assert (proc.returncode, proc.stderr) == (141, "")
    assert user_tables(sqlite_url) == {"a"}
    proc = run_into_closed_pipe(tmp_path, *base, "status", "--json")
    assert (proc.returncode, proc.stderr) == (141, "")
