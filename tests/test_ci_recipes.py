"""The CI recipes are real: the pre-commit hooks of ``.pre-commit-hooks.yaml`` run npa
commands that exist, and the GitHub Actions job of docs/ci.md -- a PostgreSQL service,
then validate, lint, ``up --dry-run``, ``up`` and ``status --exit-code`` -- passes when
its ``npa`` steps run, in order, against a PostgreSQL database with the example
migrations."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner

from npa_migrations.cli import cli

from server_databases import fresh_database

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "migrations"


def npa(command: str, env: dict[str, str] | None = None):
    """Run an ``npa ...`` command line in-process."""
    args = shlex.split(command.split("#")[0])
    assert args[0] == "npa", command
    return CliRunner().invoke(cli, args[1:], env=env, catch_exceptions=False)


def test_pre_commit_hooks_run_npa_commands(tmp_path, monkeypatch):
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert {h["id"]: h["entry"] for h in hooks} == {
        "npa-lint": "npa migrate lint --offline", "npa-check": "npa migrate check"}
    for hook in hooks:
        assert hook["language"] == "system" and hook["pass_filenames"] is False
        assert re.compile(hook["files"])
        assert npa(f"{hook['entry']} --help").exit_code == 0
    shutil.copytree(EXAMPLES, tmp_path / "migrations",
                    ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(tmp_path)
    lint = npa(hooks[0]["entry"], env={"NPA_DATABASE_URL": "postgresql://nowhere/app"})
    assert lint.exit_code == 0 and "(offline)" in lint.output  # no database needed
    assert re.search(hooks[0]["files"], "migrations/20250101000000_x.sql")


def recipe() -> dict:
    text = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    return yaml.safe_load(re.search(r"```yaml\n(name: migrations\n.*?)```", text, re.S)[1])


def test_github_actions_recipe_runs_against_postgresql(tmp_path, monkeypatch):
    job = recipe()["jobs"]["migrations"]
    assert job["services"]["postgres"]["image"].startswith("postgres:")
    assert job["env"]["NPA_DATABASE_URL"].startswith("postgresql://")
    commands = [s["run"] for s in job["steps"] if s.get("run", "").startswith("npa ")]
    assert commands == ["npa migrate validate", "npa migrate lint", "npa migrate up --dry-run",
                        "npa migrate up", "npa migrate status --exit-code"]
    shutil.copytree(EXAMPLES, tmp_path / "migrations",
                    ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(tmp_path)
    with fresh_database("postgresql", "npa_ci") as url:
        env = {"NPA_DATABASE_URL": url.render_as_string(hide_password=False),
               "NPA_MIGRATIONS": job["env"]["NPA_MIGRATIONS"]}
        assert npa("npa migrate status --exit-code", env).exit_code == 5  # before up
        for command in commands:
            result = npa(command, env)
            assert result.exit_code == 0, f"{command}:\n{result.output}"
