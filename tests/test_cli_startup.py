"""What the help of ``npa`` imports (issue 16: ``npa migrate --help`` within 70 ms of a
bare interpreter). ``npa migrate --help`` lists the plugins' commands from the answer
remembered for this installation (:mod:`npa_migrations.cli.plugin_commands`), so it loads
no plugin, provider, pluggy or SQLAlchemy; the entry points, when a command does load the
plugins, come from the remembered answer, not from ``importlib.metadata``; reading
migrations -- the SQL lexer, the file parser, hashing -- waits for the first discovery."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from npa_migrations.launch import main
sys.argv = ["npa", *{args!r}]
try:
    main()
except SystemExit:
    pass
for name in {modules!r}:
    print("module", name, name in sys.modules)
"""

#: what the help of the ``migrate`` group needs none of
NOT_FOR_HELP = ("sqlalchemy", "pluggy", "npa_migrations.plugins", "npa_migrations.engine",
                "npa_migrations.builtin.discovery", "npa_migrations.builtin.sources",
                "npa_migrations.sqltext", "npa_sqlite", "npa_postgres", "npa_mysql",
                "npa_lint", "npa_concurrent_index", "importlib.metadata", "hashlib",
                "pathlib")


def run_probe(*args: str, modules=NOT_FOR_HELP, env=None) -> tuple[str, dict[str, bool]]:
    """Run ``npa ARGS`` through the console script's function in a new interpreter;
    its output and which of ``modules`` it imported."""
    out = subprocess.run([sys.executable, "-c", PROBE.format(args=args, modules=modules)],
                         capture_output=True, text=True, check=True, env=env).stdout
    imported = {line.split()[1]: line.split()[2] == "True" for line in out.splitlines()
                if line.startswith("module ")}
    return out, imported


def test_migrate_help_lists_plugin_commands_without_loading_plugins():
    run_probe("migrate", "--help")  # the first run may have to find and remember them
    out, imported = run_probe("migrate", "--help")
    assert "Commands:" in out and "up " in out
    assert "lint      Flag dangerous operations (from the npa-lint plugin)." in out
    assert [name for name, loaded in imported.items() if loaded] == []


def test_other_help_and_version_load_no_plugins_either():
    run_probe("migrate", "--help")
    for args in (["--help"], ["migrate", "up", "--help"], ["--version"]):
        out, imported = run_probe(*args)
        assert [name for name, loaded in imported.items() if loaded] == [], args
    assert "npa, version" in out


def test_version_is_the_installed_distributions():
    import importlib.metadata

    out, _ = run_probe("--version", modules=())
    assert out.splitlines()[0] == f"npa, version {importlib.metadata.version('npa-migrations')}"


def test_a_remembered_plugin_command_runs_the_real_command():
    run_probe("migrate", "--help")
    out, imported = run_probe("migrate", "lint", "--help", modules=("npa_lint.cli",))
    assert "--fail-on [error|warning|never]" in out
    assert imported == {"npa_lint.cli": True}


def test_the_help_is_the_same_as_with_the_plugins_loaded():
    import os

    run_probe("migrate", "--help")
    remembered, imported = run_probe("migrate", "--help")
    assert not imported["npa_lint"]
    env = {**os.environ, "NPA_ENTRY_POINTS_CACHE": "0"}
    loaded, imported = run_probe("migrate", "--help", env=env)
    assert imported["npa_lint"]
    assert remembered.split("module ")[0] == loaded.split("module ")[0]
