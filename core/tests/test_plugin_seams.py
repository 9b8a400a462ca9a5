"""The core's seams for third-party plugins: non-transactional steps
(``npa_operation_transactional``), plan checks (``npa_check_plan``), configuration
sections (``npa_config_sections``) and commands (``npa_register_commands``)."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from npa_migrations import MigrationExecutor, MigrationExecutorOptions, operations as ops
from npa_migrations.engine.checks import PlanFinding, check_plan
from npa_migrations.engine.planner import plan_steps
from npa_migrations.cli import cli
from npa_migrations.errors import ConfigurationError
from npa_migrations.hookspecs import hookimpl

MIGRATION = """
import sqlalchemy as sa
from npa_migrations import Migration

class Items(Migration):
    def up(self, b):
        b.create_table("items", sa.Column("id", sa.Integer, primary_key=True))
        b.create_index("ix_items_id", "items", ["id"])
"""


class IndexOutsideTransaction:
    """Says create_index may not run in a transaction."""

    @hookimpl(tryfirst=True)
    def npa_operation_transactional(self, provider, operation):
        return False if isinstance(operation, ops.CreateIndex) else None


def test_hook_npa_operation_transactional(register, migrations_dir, sqlite_url):
    register(IndexOutsideTransaction())
    migrations_dir("20250101000000_items.py", MIGRATION)
    executor = MigrationExecutor(sqlite_url, migrations_dir.folder)
    steps = plan_steps(executor.provider, executor.discover()[0].up_operations())
    assert [s.transactional for s in steps] == [True, False]
    script = executor.script(offline=True)
    body = script.split("-- 20250101000000_Items (up)")[1]
    assert "BEGIN" not in body and "COMMIT" not in body
    result = executor.execute()
    assert result.success, result.errors


def test_all_in_one_refuses_a_non_transactional_step(register, migrations_dir, sqlite_url):
    register(IndexOutsideTransaction())
    migrations_dir("20250101000000_items.py", MIGRATION)
    executor = MigrationExecutor(sqlite_url, migrations_dir.folder,
                                 MigrationExecutorOptions(transaction_mode="all-in-one"))
    with pytest.raises(ConfigurationError, match="20250101000000_Items must run outside"):
        executor.execute()


class Checker:
    @hookimpl
    def npa_check_plan(self, executor, migrations, direction, settings):
        return [PlanFinding(m.id, "demo", settings.get("demo", {}).get("severity", "warning"),
                            f"{direction} {m.id}", "do something", "test")
                for m in migrations]

    @hookimpl
    def npa_config_sections(self):
        return ["demo"]


def test_hook_npa_check_plan(register, migrations_dir, sqlite_url):
    register(Checker())
    migrations_dir("20250101000000_items.py", MIGRATION)
    executor = MigrationExecutor(sqlite_url, migrations_dir.folder)
    findings = [f for f in check_plan(executor, executor.plan(), "up") if f.checker == "test"]
    assert [(f.migration_id, f.message) for f in findings] == [
        ("20250101000000_Items", "up 20250101000000_Items")]
    assert findings[0].to_json()["fix"] == "do something"
    with pytest.raises(ValueError, match="severity"):
        PlanFinding("x", "r", "fatal", "m")


def test_hook_npa_config_sections_and_dry_run_exit_code(register, migrations_dir, sqlite_url,
                                                        tmp_path, monkeypatch):
    register(Checker())
    monkeypatch.chdir(tmp_path)
    migrations_dir("20250101000000_items.py", MIGRATION)
    (tmp_path / "npa.toml").write_text('[demo]\nseverity = "error"\n')
    base = ["-d", sqlite_url, "-m", str(migrations_dir.folder), "migrate", "up", "--dry-run"]
    run = CliRunner().invoke(cli, base + ["--json"])
    assert run.exit_code == 3, run.output
    assert [f["rule"] for f in json.loads(run.output)["findings"]
            if f["checker"] == "test"] == ["demo"]
    run = CliRunner().invoke(cli, base)
    assert "Plan checks:" in run.output and "[demo] up 20250101000000_Items" in run.output


def test_hook_npa_register_commands(register):
    from npa_migrations.cli import _loaded_for, load_plugin_commands, migrate

    class Commands:
        @hookimpl
        def npa_register_commands(self, cli, migrate):
            migrate.add_command(click.Command("hello", callback=lambda: click.echo("hi")))

    register(Commands())
    saved = list(_loaded_for)
    _loaded_for.clear()
    try:
        assert load_plugin_commands() is True
        assert load_plugin_commands() is False  # once per plugin manager
        run = CliRunner().invoke(cli, ["migrate", "hello"])
        assert run.exit_code == 0 and run.output == "hi\n"
    finally:
        migrate.commands.pop("hello", None)
        _loaded_for[:] = saved


# NPA_PLUGINS: extra plugin modules for one process --------------------------------------
def _npa(tmp_path, env, *args):
    import os
    import subprocess
    import sys

    folder = tmp_path / "migrations"
    folder.mkdir(exist_ok=True)
    (folder / "20250101000000_items.py").write_text(MIGRATION)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NPA_CRASH_")}
    return subprocess.run(
        [sys.executable, "-m", "npa_migrations.cli", "-d", f"sqlite:///{tmp_path / 'x.db'}",
         "-m", str(folder), "migrate", *args], env={**clean, **env}, cwd=tmp_path,
        capture_output=True, text=True, timeout=120)


def test_npa_plugins_loads_a_module_into_a_real_npa_process(tmp_path):
    """The crash injector, loaded by name, sees every boundary of the run in order."""
    trace = tmp_path / "trace.txt"
    done = _npa(tmp_path, {"NPA_PLUGINS": "npa_migrations.testing.crash",
                           "NPA_CRASH_TRACE": str(trace)}, "up")
    assert done.returncode == 0, done.stderr
    points = [line.split()[1] for line in trace.read_text().splitlines()]
    assert points[:3] == ["lock", "locked", "migration"]
    assert points[-2:] == ["unlock", "unlocked"]
    assert points.count("statement") == points.count("executed") == 2


def test_crash_injector_kills_its_process_at_the_chosen_boundary(tmp_path):
    done = _npa(tmp_path, {"NPA_PLUGINS": "npa_migrations.testing.crash",
                           "NPA_CRASH_AT": "4"}, "up")  # 'begin' of the one migration
    assert done.returncode == -9
    assert "Executing migration 1/1" in done.stdout and "applied" not in done.stdout


@pytest.mark.parametrize("env, named", [
    ({"NPA_PLUGINS": "no_such_npa_plugin_module"}, "no_such_npa_plugin_module"),
    ({"NPA_PLUGINS": "npa_migrations.testing.crash", "NPA_CRASH_SIGNAL": "HUP"},
     "NPA_CRASH_SIGNAL='HUP'"),
])
def test_a_plugin_module_that_cannot_load_is_a_configuration_error(tmp_path, env, named):
    done = _npa(tmp_path, env, "up")
    assert done.returncode == 2, done.stderr
    assert "NPA_PLUGINS" in done.stderr and named in done.stderr
    assert "Traceback" not in done.stderr


def test_live_calls_the_implementations_as_pluggy_does():
    """``plugins.live`` calls a hook's implementations directly (the run's hot hooks,
    several per statement): same order (``tryfirst`` first, then the last registered),
    the arguments each one asks for, ``firstresult``; pluggy itself once a wrapper is
    among them."""
    import pluggy

    from npa_migrations.plugins import live

    spec, impl = pluggy.HookspecMarker("t"), pluggy.HookimplMarker("t")

    class Specs:
        @spec
        def every(self, a, b): ...

        @spec(firstresult=True)
        def first(self, a): ...

    class One:
        @impl
        def every(self, a):
            return ("one", a)

        @impl
        def first(self, a):
            return None

    class Two:
        @impl(tryfirst=True)
        def every(self, a, b):
            return ("two", a, b)

        @impl
        def first(self, a):
            return a * 2

    class Three:
        @impl
        def every(self, b):
            return ("three", b)

    manager = pluggy.PluginManager("t")
    manager.add_hookspecs(Specs)
    for plugin in (One(), Two(), Three()):
        manager.register(plugin)
    for name, kwargs, expected in [("every", {"a": 1, "b": 2},
                                    [("two", 1, 2), ("three", 2), ("one", 1)]),
                                   ("first", {"a": 3}, 6)]:
        caller = getattr(manager.hook, name)
        direct = live(caller)
        assert direct is not caller
        assert direct(**kwargs) == caller(**kwargs) == expected

    class Wrapper:
        @impl(wrapper=True)
        def every(self, a):
            return (yield)

    manager.register(Wrapper())
    assert live(manager.hook.every) is manager.hook.every
    assert live(manager.hook.every)(a=1, b=2) == [("two", 1, 2), ("three", 2), ("one", 1)]
