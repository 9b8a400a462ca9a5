"""``npa -d mssql+pyodbc://... migrate up --sql --offline`` prints a complete, runnable
script without pyodbc, a driver or a server."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

import mssql_scenarios as scenarios
import mssql_tsqlcheck as check
from npa_migrations.cli import cli
from mssql_support import EXAMPLES, FROZEN, GOLDEN

URL = scenarios.URL


@pytest.fixture
def frozen(monkeypatch):
    import npa_migrations
    import npa_migrations.engine.history as history

    monkeypatch.setattr(history, "utcnow", lambda: FROZEN)
    monkeypatch.setattr(npa_migrations, "__version__", "0.0.0")
    monkeypatch.delenv("NPA_DATABASE_URL", raising=False)
    monkeypatch.delenv("NPA_MIGRATIONS", raising=False)


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.parametrize("mode", ["per-migration", "all-in-one"])
def test_up_sql_offline_prints_the_whole_script(frozen, mode):
    result = run("-d", URL, "-m", str(EXAMPLES), "migrate", "up", "--sql", "--offline",
                 "--transaction-mode", mode)
    assert result.exit_code == 0, result.output
    golden = (GOLDEN / f"examples_up_{mode.replace('-', '_')}.sql").read_text(encoding="utf-8")
    assert result.output == golden + "\n"
    assert "secret" not in result.output
    assert result.output.rstrip().endswith("GO")
    batches = check.script_batches(result.output)
    if mode == "per-migration":
        # each migration: BEGIN TRANSACTION, its statements and history row, COMMIT
        assert sum(b.endswith("BEGIN TRANSACTION") for b in batches) == 4
        assert sum(b.endswith("COMMIT TRANSACTION") for b in batches) == 4
    else:
        assert sum(b.endswith("BEGIN TRANSACTION") for b in batches) == 1
    # the session settings first, then the script; every batch is followed by the guard
    assert batches[0].startswith("SET NOEXEC OFF;") and "SET XACT_ABORT ON;" in batches[0]
    assert batches[1].startswith("-- npa-migrations up script")
    guards = [i for i, b in enumerate(batches) if b == "IF @@ERROR <> 0 SET NOEXEC ON"]
    assert guards == list(range(2, len(batches), 2))
    for batch in batches:
        check.check_batch(batch)
    # every history row the script writes
    inserts = [b for b in batches if "INSERT INTO npa_migrations_history" in b]
    assert len(inserts) == 4


def test_up_sql_offline_up_to_a_target(frozen):
    result = run("-d", URL, "-m", str(EXAMPLES), "migrate", "up", "--sql", "--offline",
                 "--target", "20251119143022")
    assert result.exit_code == 0, result.output
    assert "20251119143022_AddProductDescription (up)" in result.output
    assert "AddUserRoles" not in result.output


def test_offline_script_needs_no_pyodbc(tmp_path):
    """Generating SQL never imports pyodbc (it cannot even be imported here)."""
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from npa_migrations.cli import cli\n"
        f"r = CliRunner().invoke(cli, ['-d', {URL!r}, '-m', {str(EXAMPLES)!r}, 'migrate', 'up',"
        " '--sql', '--offline'])\n"
        "assert r.exit_code == 0, r.output\n"
        "assert 'pyodbc' not in sys.modules, 'pyodbc was imported'\n"
        "print(r.output.count('GO'))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip()) > 10


def test_other_drivers_are_refused_clearly():
    result = CliRunner().invoke(cli, ["-d", "mssql+pymssql://u:p@h/db", "-m", str(EXAMPLES),
                                      "migrate", "up", "--sql", "--offline"])
    assert result.exit_code == 2
    assert "pyodbc" in result.output and "mssql+pyodbc://" in result.output


def test_providers_lists_sql_server():
    result = run("providers")
    assert result.exit_code == 0
    assert "npa-sqlserver" in result.output and "mssql" in result.output
