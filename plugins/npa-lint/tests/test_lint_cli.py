"""``npa migrate lint`` and the plan check of ``npa migrate up --dry-run`` (SQLite)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from npa_migrations.cli import cli

INIT = """
import sqlalchemy as sa
from npa_migrations import Migration

class Init(Migration):
    def up(self, b):
        b.create_table("users", sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("name", sa.String(200)))
        b.bulk_insert("users", [{"id": n, "name": f"u{n}"} for n in range(20)])

    def down(self, b):
        b.drop_table("users")
"""

DANGER = """
import sqlalchemy as sa
from npa_migrations import Migration

class Danger(Migration):
    def up(self, b):
        b.add_column("users", sa.Column("email", sa.String(100), nullable=False))
        b.drop_column("users", "name")
"""


@pytest.fixture
def project(folder, tmp_path, monkeypatch):
    """Two migrations, the first applied; cwd is the project folder."""
    for key in ("NPA_DATABASE_URL", "NPA_MIGRATIONS"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    folder("20250101000000_init.py", INIT)
    folder("20250102000000_danger.py", DANGER)
    url = f"sqlite:///{tmp_path / 'app.db'}"
    run = invoke(url, "up", "--target", "20250101000000")
    assert run.exit_code == 0, run.output
    return url


def invoke(url, *args, config=None):
    base = ["-d", url, "-m", "migrations"] + (["--config", str(config)] if config else [])
    return CliRunner().invoke(cli, base + ["migrate", *args], catch_exceptions=False)


def test_lint_lists_findings_with_migration_id_and_fix(project):
    run = invoke(project, "lint")
    assert run.exit_code == 3, run.output
    assert "Linted 1 migration(s) for sqlite" in run.output
    assert "20250102000000_Danger" in run.output
    assert "[add-not-null-column]" in run.output and "[drop-column]" in run.output
    assert "fix: Add the column nullable" in run.output
    assert "1 error, 1 warning" in run.output


def test_lint_json(project):
    run = invoke(project, "lint", "--json")
    assert run.exit_code == 3
    data = json.loads(run.output)
    assert data["linted"] == ["20250102000000_Danger"]
    assert [(f["migration_id"], f["rule"], f["severity"]) for f in data["findings"]] == [
        ("20250102000000_Danger", "add-not-null-column", "error"),
        ("20250102000000_Danger", "drop-column", "warning")]
    assert data["counts"] == {"error": 1, "warning": 1, "info": 0}
    assert data["exit_code"] == 3 and "rewrite-large-table" in data["rules"]


def test_fail_on(project):
    assert invoke(project, "lint", "--fail-on", "never").exit_code == 0
    assert invoke(project, "lint", "--fail-on", "warning", "--json").exit_code == 3


def test_lint_by_id_all_and_offline(project):
    run = invoke(project, "lint", "20250101000000", "--json")
    assert run.exit_code == 0 and json.loads(run.output)["findings"] == []
    run = invoke(project, "lint", "--all", "--json")
    assert json.loads(run.output)["linted"] == ["20250101000000_Init", "20250102000000_Danger"]
    run = invoke("postgresql://nobody@127.0.0.1:1/none", "lint", "--offline", "--json")
    assert run.exit_code == 3, run.output  # no connection made
    assert json.loads(run.output)["provider"] == "postgresql"


def test_unknown_id_is_a_usage_error(project):
    run = invoke(project, "lint", "20990101000000")
    assert run.exit_code == 2 and "Unknown target" in run.output


def test_npa_toml_lint_section(project, tmp_path):
    config = tmp_path / "npa.toml"
    config.write_text('[lint]\ndisable = ["add-not-null-column"]\nlarge_table_rows = 5\n')
    run = invoke(project, "lint", "--json", config=config)
    assert [f["rule"] for f in json.loads(run.output)["findings"]] == ["drop-column"]
    assert run.exit_code == 0


def test_pyproject_tool_npa_lint_section(project, tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.npa.lint]\nfail_on = "warning"\n[tool.npa.lint.severity]\n'
        'add-not-null-column = "info"\n')
    run = invoke(project, "lint", "--json")
    assert {f["rule"]: f["severity"] for f in json.loads(run.output)["findings"]} == {
        "add-not-null-column": "info", "drop-column": "warning"}
    assert run.exit_code == 3  # fail_on = warning


def test_bad_lint_config_exits_2(project, tmp_path):
    config = tmp_path / "npa.toml"
    config.write_text('[lint]\ndisable = ["drop-colum"]\n')
    run = invoke(project, "lint", config=config)
    assert run.exit_code == 2 and "unknown lint rule(s) 'drop-colum'" in run.output


def test_unknown_top_level_key_is_still_an_error(project, tmp_path):
    config = tmp_path / "npa.toml"
    config.write_text('[lnt]\ndisable = []\n')
    run = invoke(project, "status", config=config)
    assert run.exit_code == 2 and "unknown setting(s) lnt" in run.output


def test_rewrite_of_a_large_table_uses_the_live_row_count(project, folder, tmp_path):
    folder("20250103000000_retype.py", """
        import sqlalchemy as sa
        from npa_migrations import Migration

        class Retype(Migration):
            lint_ignore = {"narrow-column-type"}

            def up(self, b):
                b.alter_column("users", "name", type_=sa.String(100))
        """)
    config = tmp_path / "npa.toml"
    config.write_text('[lint]\nlarge_table_rows = 20\n')
    run = invoke(project, "lint", "20250103000000", "--json", config=config)
    [finding] = json.loads(run.output)["findings"]
    assert finding["rule"] == "rewrite-large-table"
    assert "about 20 rows" in finding["message"]
    config.write_text('[lint]\nlarge_table_rows = 21\n')
    run = invoke(project, "lint", "20250103000000", "--json", config=config)
    assert json.loads(run.output)["findings"] == []
    run = invoke(project, "lint", "20250103000000", "--json", "--offline", config=config)
    assert json.loads(run.output)["findings"] == []


# up --dry-run ---------------------------------------------------------------------------
def test_dry_run_prints_plan_checks_and_exits_3_on_errors(project):
    run = invoke(project, "up", "--dry-run")
    assert run.exit_code == 3, run.output
    assert "Would apply 1 migration(s)" in run.output
    assert "Plan checks:" in run.output and "[add-not-null-column]" in run.output
    assert invoke(project, "status", "--json").exit_code == 0
    status = json.loads(invoke(project, "status", "--json").output)
    assert [p["id"] for p in status["pending"]] == ["20250102000000_Danger"]  # nothing ran


def test_dry_run_json_carries_findings(project):
    run = invoke(project, "up", "--dry-run", "--json")
    data = json.loads(run.output)
    assert [f["rule"] for f in data["findings"]] == ["add-not-null-column", "drop-column"]
    assert data["findings"][0]["checker"] == "npa-lint"


def test_dry_run_without_errors_exits_0(project, tmp_path):
    config = tmp_path / "npa.toml"
    config.write_text('[lint]\nseverity = { add-not-null-column = "warning" }\n')
    run = invoke(project, "up", "--dry-run", config=config)
    assert run.exit_code == 0, run.output
    assert "2 warnings" in run.output


def test_dry_run_of_a_fresh_database_counts_tables_of_the_run_as_new(folder, tmp_path,
                                                                     monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder("20250101000000_init.py", INIT)
    folder("20250102000000_danger.py", DANGER)
    run = invoke(f"sqlite:///{tmp_path / 'fresh.db'}", "up", "--dry-run")
    assert run.exit_code == 0, run.output
    assert "Plan checks" not in run.output


def test_down_dry_run_is_not_linted(project):
    run = invoke(project, "down", "--dry-run", "--json")
    assert run.exit_code == 0 and json.loads(run.output)["findings"] == []


# the command line stays lazy ---------------------------------------------------------------
def test_lint_is_listed_by_migrate_help():
    run = CliRunner().invoke(cli, ["migrate", "--help"])
    assert "lint" in run.output and "npa-lint plugin" in run.output


def test_npa_help_loads_no_plugins():
    code = ("import sys; from npa_migrations.cli import main; sys.argv = ['npa', '--help']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "assert 'pluggy' not in sys.modules and 'npa_lint' not in sys.modules, 'loaded'\n"
            "assert 'sqlalchemy' not in sys.modules")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "migrate" in run.stdout


def test_a_plugin_cannot_replace_a_built_in_command():
    import click

    from npa_migrations.cli import load_plugin_commands, migrate
    from npa_migrations.hookspecs import hookimpl
    from npa_migrations.plugins import get_plugin_manager

    class Rogue:
        @hookimpl
        def npa_register_commands(self, migrate):
            migrate.add_command(click.Command("up", callback=lambda: None))

    manager = get_plugin_manager()
    original = migrate.commands["up"]
    manager.register(Rogue())
    from npa_migrations.cli import _loaded_for

    saved = list(_loaded_for)
    _loaded_for.clear()
    try:
        with pytest.raises(click.UsageError, match="replace the built-in 'npa migrate up'"):
            load_plugin_commands()
        assert migrate.commands["up"] is original
    finally:
        for plugin in [p for p in manager.get_plugins() if isinstance(p, Rogue)]:
            manager.unregister(plugin)
        _loaded_for[:] = saved
