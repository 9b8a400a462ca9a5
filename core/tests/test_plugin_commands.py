"""Plugin commands remembered for help listings (npa_migrations.cli.plugin_commands):
``npa migrate --help`` lists them without loading the plugins, and lists them again from
the plugins as soon as anything they depend on changed -- a plugin's file edited, a
distribution removed, the variables that choose plugins -- or when the plugins of this
process are not those a new process would load."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import click
import pytest

from npa_migrations import remembered
from npa_migrations.cli import plugin_commands

PLUGIN = '''
import click
from npa_migrations.hookspecs import hookimpl


@click.command()
def hello():
    """{help}"""
    click.echo("hello from the probe")


@hookimpl
def npa_register_commands(migrate):
    migrate.add_command(hello)
'''

PROBE = """
import sys
from npa_migrations.launch import main
sys.argv = ["npa", *sys.argv[1:]]
try:
    main()
finally:
    print("plugin imported:", "npa_probe_commands" in sys.modules)
"""


@pytest.fixture
def site(tmp_path):
    """A folder holding one distribution whose ``npa`` entry point adds ``npa migrate
    hello``; put on ``sys.path`` of the processes :func:`npa` starts."""
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "npa_probe_commands.py").write_text(PLUGIN.format(help="Say hello (probe)."))
    info = folder / "npa_probe_commands-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: npa-probe-commands\n"
                                   "Version: 1.0\n")
    (info / "entry_points.txt").write_text("[npa]\nprobe_commands = npa_probe_commands\n")
    return folder


def npa(site, *args, **env) -> tuple[str, bool]:
    """``npa ARGS`` in a new process with ``site`` on its path: its output and whether it
    imported the probe plugin."""
    clean = {k: v for k, v in os.environ.items()
             if k not in ("NPA_DISABLE_PLUGINS", "NPA_DISABLE_PLUGIN_AUTOLOAD", "NPA_PLUGINS",
                          "NPA_ENTRY_POINTS_CACHE")}
    run = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                         env={**clean, "PYTHONPATH": str(site), **env}, cwd=site.parent)
    out, _, flag = run.stdout.rpartition("plugin imported: ")
    return out + run.stderr, flag.strip() == "True"


def test_listed_from_memory_until_the_plugin_file_changes(site):
    first, _ = npa(site, "migrate", "--help")
    assert "hello     Say hello (probe)." in first
    again, imported = npa(site, "migrate", "--help")
    assert again == first and not imported
    (site / "npa_probe_commands.py").write_text(PLUGIN.format(help="Greet (edited)."))
    edited, imported = npa(site, "migrate", "--help")
    assert "hello     Greet (edited)." in edited and imported
    stat = os.stat(site / "npa_probe_commands.py")
    os.utime(site / "npa_probe_commands.py", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert npa(site, "migrate", "--help")[1]  # same size, another time: read again


def test_a_removed_distribution_is_no_longer_listed(site):
    npa(site, "migrate", "--help")
    shutil.rmtree(site / "npa_probe_commands-1.0.dist-info")
    out, _ = npa(site, "migrate", "--help")
    assert "hello" not in out and "up " in out


def test_the_variables_that_choose_plugins_are_part_of_the_key(site):
    npa(site, "migrate", "--help")
    out, _ = npa(site, "migrate", "--help", NPA_DISABLE_PLUGINS="probe_commands")
    assert "hello" not in out
    out, imported = npa(site, "migrate", "--help")
    assert "hello" in out


def test_a_remembered_command_runs_the_plugins_command(site):
    npa(site, "migrate", "--help")
    out, imported = npa(site, "migrate", "hello")
    assert out == "hello from the probe\n" and imported


@pytest.fixture
def memory(tmp_path, monkeypatch):
    """Remembered commands kept in ``tmp_path``, read as a new process would (no plugin
    manager imported yet); returns the file."""
    monkeypatch.setattr(remembered, "path_for", lambda kind: str(tmp_path / f"{kind}.json"))
    monkeypatch.setattr(plugin_commands, "_read", [])
    monkeypatch.delenv("NPA_ENTRY_POINTS_CACHE", raising=False)
    return tmp_path / f"{plugin_commands.KIND}.json"


class Manager:
    """What :func:`plugin_commands.remember` asks of a plugin manager."""

    def __init__(self, only_configured: bool = True):
        self.only_configured = only_configured

    def holds_only_configured_plugins(self):
        return self.only_configured

    def get_plugins(self):
        return [plugin_commands]


def greet():
    """Greet."""


def test_remembered_commands_are_read_back(memory, monkeypatch):
    command = click.Command("greet", callback=greet, help="Greet.", hidden=False)
    plugin_commands.remember(Manager(), {"migrate": {"greet": command}, "npa": {}})
    assert memory.exists()
    monkeypatch.delitem(sys.modules, "npa_migrations.plugins", raising=False)
    stand_in = plugin_commands.stand_ins("migrate")["greet"]
    assert stand_in.get_short_help_str(40) == command.get_short_help_str(40) == "Greet."
    assert plugin_commands.stand_ins("npa") == {}
    monkeypatch.setenv("NPA_ENTRY_POINTS_CACHE", "0")
    assert plugin_commands.stand_ins("migrate") is None


def test_not_read_once_this_process_has_a_plugin_manager(memory, monkeypatch):
    import npa_migrations.plugins  # noqa: F401

    command = click.Command("greet", callback=greet, help="Greet.")
    plugin_commands.remember(Manager(), {"migrate": {"greet": command}})
    assert memory.exists() and plugin_commands.stand_ins("migrate") is None


def test_nothing_is_remembered_when_in_doubt(memory):
    class OwnShortHelp(click.Command):
        def get_short_help_str(self, limit=45):
            return "computed"

    plugin_commands.remember(Manager(only_configured=False),
                             {"migrate": {"greet": click.Command("greet", callback=greet)}})
    plugin_commands.remember(Manager(), {"migrate": {"greet": OwnShortHelp("greet")}})
    without_source: dict = {}
    exec("def typed_in(): pass", {"__name__": "npa_typed_into_python_c"}, without_source)
    plugin_commands.remember(Manager(), {"migrate": {"greet": click.Command(
        "greet", callback=without_source["typed_in"])}})
    assert not memory.exists()
