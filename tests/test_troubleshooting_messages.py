"""Messages shown in docs/troubleshooting.md that were changed while writing it: a bad URL
never echoes its password, a half-applied migration names the operations that took
effect, and `npa migrate repair` says what took effect and what did not run."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from npa_migrations.cli import cli


def npa(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("url", ["postgres//app:s3cret@localhost",
                                 "postgresql:/app:s3cret@localhost/app",
                                 "app:s3//cret@host", "postgresql://app:s3cret@@"])
def test_an_invalid_url_never_shows_its_password(url):
    result = npa("-d", url, "migrate", "status")
    assert result.exit_code == 2
    assert "Invalid database URL" in result.output or "Error:" in result.output
    assert "s3" not in result.output and "cret" not in result.output


def test_the_invalid_url_message_keeps_the_scheme():
    result = npa("-d", "postgres//app:s3cret@localhost", "migrate", "status")
    assert "Invalid database URL 'postgres//***@localhost'" in result.output


@pytest.fixture
def half_applied(tmp_path: Path):
    """A migration recorded as failed after its first operation (mode none on SQLite,
    which records failures the way MySQL and Oracle do)."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "20250101000000_add_nickname.py").write_text(textwrap.dedent("""
        import sqlalchemy as sa
        from npa_migrations import Migration

        class AddNickname(Migration):
            def up(self, b):
                b.create_table("customers", sa.Column("id", sa.Integer, primary_key=True))
                b.execute("UPDATE no_such_table SET x = 1")
                b.create_index("ix_customers_id", "customers", ["id"])
    """))
    url = f"sqlite:///{tmp_path / 'app.db'}"
    result = npa("-d", url, "-m", str(folder), "migrate", "up", "--transaction-mode", "none")
    assert result.exit_code == 1
    return url, folder, result.output


def test_the_failure_names_what_took_effect(half_applied):
    _, _, output = half_applied
    assert ("1 of 3 operation(s) took effect (Creating table 'customers'), and the migration "
            "is recorded as failed") in output


def test_repair_lists_what_took_effect_and_what_did_not_run(half_applied):
    url, folder, _ = half_applied
    result = npa("-d", url, "-m", str(folder), "migrate", "repair")
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert "  20250101000000_AddNickname: 1 of 3 operation(s) took effect" in lines
    assert "    took effect: Creating table 'customers'" in lines
    assert ("    not run: Executing SQL: UPDATE no_such_table SET x = 1; "
            "Creating index 'ix_customers_id'") in lines
    assert any(line.startswith("    error: OperationalError: no such table: no_such_table")
               for line in lines)


def test_repair_with_nothing_failed_says_so(half_applied):
    url, folder, _ = half_applied
    assert npa("-d", url, "-m", str(folder), "migrate", "repair",
               "--mark-rolled-back").exit_code == 0
    result = npa("-d", url, "-m", str(folder), "migrate", "repair", "--resume")
    assert result.exit_code == 0
    assert result.output.strip() == "Nothing to repair: no failed migrations."


def test_a_broken_ipv6_host_is_a_url_error_without_the_password():
    result = npa("-d", "postgresql://app:s3cret@[::1/app", "migrate", "status")
    assert result.exit_code == 2
    assert result.output == (
        "Error: Invalid database URL 'postgresql://***@[::1/app': its host or port cannot be "
        "read. The port must be a number from 1 to 65535, and an IPv6 address is written in "
        "brackets, e.g. postgresql://app@[::1]:5432/app.\n")


@pytest.fixture
def project(tmp_path: Path, monkeypatch):
    """An empty project folder (default database, ./migrations) as the current folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NPA_DATABASE_URL", raising=False)
    monkeypatch.delenv("NPA_MIGRATIONS", raising=False)
    (tmp_path / "migrations").mkdir()
    return tmp_path / "migrations"


@pytest.mark.parametrize("name, text, command, message", [
    ("20250103000000_add_notes.sql",  # a MySQL escape, on SQLite
     "-- npa:up\nCREATE TABLE notes (id INTEGER, body TEXT);\n"
     "INSERT INTO notes VALUES (1, 'it\\'s a note');\nCREATE INDEX ix_notes ON notes (body);\n",
     "up",
     "Error: migrations/20250103000000_add_notes.sql: line 3: a string opens here and is "
     "never closed: ');. Close it; if it is closed, the text uses a quoting rule of "
     "another database (e.g. a backslash escape), so run it on the database it was "
     "written for.\n"),
    ("20250103000000_add_notes.sql",
     "CREATE TABLE early (id INTEGER);\n-- npa:up\nCREATE TABLE notes (id INTEGER);\n", "up",
     "Error: migrations/20250103000000_add_notes.sql: line 1: SQL before '-- npa:up' never "
     "runs. Move it below '-- npa:up' (or below '-- npa:down' if it reverts the "
     "migration).\n"),
    ("20250103000000_add\tnotes.sql", "-- npa:up\nCREATE TABLE notes (id INTEGER);\n", "status",
     "Error: migrations/20250103000000_add\tnotes.sql: migration id "
     "'20250103000000_add\\tnotes' is not '<14-digit UTC timestamp>_<name>', where the "
     "name may hold any character except '/', '\\' and control characters, at most 255 "
     "characters in all. Rename the file.\n"),
    ("20250103000000_add_notes.py",
     "import sys\nfrom npa_migrations import Migration\n\n"
     "class AddNotes(Migration):\n    def up(self, b):\n        sys.exit(0)\n", "up",
     "Error: migrations/20250103000000_add_notes.py: AddNotes.up() called sys.exit(0), "
     "which a migration must not do. Fix the migration; up/down must only call the "
     "builder.\n"),
])
def test_a_refused_migration_file(project, name, text, command, message):
    """"A SQL file is refused" and "A Python migration ends the process"."""
    (project / name).write_text(text)
    result = npa("migrate", command)
    assert result.exit_code == 2
    assert result.output.endswith(message)
