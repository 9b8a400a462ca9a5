"""``npa -d oracle+oracledb://... migrate up --sql --offline`` prints a complete SQL*Plus /
SQLcl script: client settings, the history table, every migration with its history row
and COMMIT, PL/SQL blocks ended with ``/``; every statement in it parses."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from npa_migrations.cli import cli
from oracle_golden import normalise
from oracle_sqlcheck import check_plsql, check_sql

from npa_oracle import sqltext

TESTS = Path(__file__).parent
EXAMPLES = TESTS.parents[2] / "examples" / "migrations"
HOSTILE = TESTS / "migrations_hostile"
URL = "oracle+oracledb://app:s3cret@db.example.com:1521/?service_name=FREEPDB1"
SQLPLUS_COMMANDS = ("WHENEVER ", "SET ")


def npa(*args: str, env: dict | None = None):
    return CliRunner().invoke(cli, list(args), env=env or {}, catch_exceptions=False)


def statements_of(script: str) -> list[str]:
    """The statements of a script, split the way SQL*Plus reads it (its own commands
    left out)."""
    body = "\n".join(line for line in script.splitlines()
                     if not line.startswith(SQLPLUS_COMMANDS))
    return sqltext.split_oracle(body)


@pytest.mark.parametrize("folder", [EXAMPLES, HOSTILE], ids=["examples", "hostile"])
def test_up_sql_offline_prints_a_complete_runnable_script(folder):
    result = npa("-d", URL, "-m", str(folder), "migrate", "up", "--sql", "--offline")
    assert result.exit_code == 0, result.output
    script = result.output
    assert "s3cret" not in script
    lines = script.splitlines()
    assert lines[:3] == ["WHENEVER SQLERROR EXIT FAILURE ROLLBACK", "SET DEFINE OFF",
                         "SET SQLBLANKLINES ON"]
    assert "-- npa-migrations up script for oracle+oracledb://app:***@db.example.com" in script
    assert "CREATE TABLE npa_migrations_history (" in script
    ids = sorted(p.stem for p in folder.iterdir() if p.suffix in (".py", ".sql"))
    assert script.count("INSERT INTO npa_migrations_history") == len(ids)
    assert script.count("\nCOMMIT;\n") == len(ids)
    assert "BEGIN;" not in script and "BEGIN TRANSACTION" not in script
    statements = statements_of(script)
    for statement in statements:
        if sqltext.is_plsql(statement):
            check_plsql(statement)
        else:
            check_sql(statement)
    # every PL/SQL block, and nothing else, is ended by a "/" line after its "END;"
    slashes = [n for n, line in enumerate(lines) if line == "/"]
    assert len(slashes) == sum(sqltext.is_plsql(s) for s in statements)
    assert all(lines[n - 1].startswith("END") and lines[n - 1].endswith(";") for n in slashes)


def test_script_matches_the_executor_script_golden():
    result = npa("-d", "oracle+oracledb://app:secret@db.example.com:1521/?service_name="
                 "FREEPDB1", "-m", str(EXAMPLES), "migrate", "up", "--sql", "--offline")
    golden = (TESTS / "golden" / "examples_up.sql").read_text(encoding="utf-8")
    import re

    text = re.sub(r"TO_TIMESTAMP\('[^']+'", "TO_TIMESTAMP('<time>'", normalise(result.output))
    text = re.sub(r"'\d+\.\d+\.\d+', 1, NULL, NULL,", "'<version>', 1, NULL, NULL,", text)
    golden = re.sub(r"TO_TIMESTAMP\('[^']+'", "TO_TIMESTAMP('<time>'", golden)
    golden = re.sub(r"'\d+\.\d+\.\d+', 1, NULL, NULL,", "'<version>', 1, NULL, NULL,", golden)
    assert text == golden


def test_plain_oracle_url_uses_python_oracledb():
    result = npa("-d", "oracle://app:secret@db:1521/?service_name=FREEPDB1", "-m", str(EXAMPLES),
                 "migrate", "up", "--sql", "--offline")
    assert result.exit_code == 0, result.output
    assert "oracle+oracledb://app:***@db:1521/" in result.output


def test_all_in_one_script_is_refused():
    result = npa("-d", URL, "-m", str(EXAMPLES), "migrate", "up", "--sql", "--offline",
                 "--transaction-mode", "all-in-one")
    assert result.exit_code == 2
    assert "all-in-one is not possible on oracle" in result.output


def test_mode_none_script_autocommits():
    result = npa("-d", URL, "-m", str(EXAMPLES), "migrate", "up", "--sql", "--offline",
                 "--transaction-mode", "none")
    assert result.exit_code == 0, result.output
    assert "SET AUTOCOMMIT ON" in result.output.splitlines()[:5]
    assert "\nCOMMIT;" not in result.output


def test_other_drivers_are_refused_clearly():
    result = npa("-d", "oracle+cx_oracle://app:secret@db/x", "-m", str(EXAMPLES), "migrate",
                 "up", "--sql", "--offline")
    assert result.exit_code == 2
    assert "python-oracledb" in result.output
    assert "secret" not in result.output


def test_identifiers_oracle_cannot_hold_are_refused(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "20250101000000_bad.py").write_text(
        "import sqlalchemy as sa\nfrom npa_migrations import Migration\n\n"
        "class Bad(Migration):\n    def up(self, b):\n"
        "        b.create_table('a\"b', sa.Column('id', sa.Integer))\n"
        "    def down(self, b):\n        b.drop_table('a\"b')\n", encoding="utf-8")
    result = npa("-d", URL, "-m", str(folder), "migrate", "up", "--sql", "--offline")
    assert result.exit_code == 2
    assert "double quote" in result.output
