"""Remembered entry points (npa_migrations.entrypoints): the answer is reused while the
installation is unchanged and read again as soon as a distribution comes or goes; the
plugins it names are the ones pluggy would load."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from npa_migrations import entrypoints


@pytest.fixture
def installation(tmp_path, monkeypatch):
    """A folder on ``sys.path`` holding one distribution with an ``npa`` entry point, and
    the remembered answer kept in ``tmp_path`` instead of beside the installed package."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "npa_probe_plugin.py").write_text("class hooks:\n    marker = 'probe'\n")
    info = site / "npa_probe_plugin-1.2.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: npa-probe-plugin\nVersion: 1.2\n")
    (info / "entry_points.txt").write_text(
        "[npa]\nprobe = npa_probe_plugin:hooks [extra]\n\n[console_scripts]\nx = y:z\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(entrypoints, "cache_path", lambda: str(tmp_path / "cache.json"))
    monkeypatch.delenv("NPA_ENTRY_POINTS_CACHE", raising=False)
    return site


PROBE = {"name": "probe", "value": "npa_probe_plugin:hooks [extra]",
         "distribution": "npa-probe-plugin", "version": "1.2"}


def test_entry_points_are_read_once_then_remembered(installation, monkeypatch):
    first = entrypoints.read("npa")
    assert PROBE in first
    assert all(entry["name"] != "x" for entry in first)  # another group

    def no_scan(group):
        raise AssertionError("the remembered answer should have been used")

    monkeypatch.setattr(entrypoints, "scan", no_scan)
    assert entrypoints.read("npa") == first


def test_removing_a_distribution_reads_them_again(installation):
    assert PROBE in entrypoints.read("npa")
    shutil.rmtree(installation / "npa_probe_plugin-1.2.dist-info")
    assert PROBE not in entrypoints.read("npa")


def test_a_damaged_file_or_the_switch_reads_them_again(installation, tmp_path, monkeypatch):
    entrypoints.read("npa")
    (tmp_path / "cache.json").write_text("{not json")
    assert PROBE in entrypoints.read("npa")
    monkeypatch.setenv("NPA_ENTRY_POINTS_CACHE", "0")
    scanned = []
    monkeypatch.setattr(entrypoints, "scan", lambda group: scanned.append(group) or [])
    assert entrypoints.read("npa") == [] and scanned == ["npa"]


def test_an_unwritable_folder_still_answers(installation, tmp_path, monkeypatch):
    monkeypatch.setattr(entrypoints, "cache_path",
                        lambda: str(tmp_path / "a-file" / "cache.json"))
    (tmp_path / "a-file").write_text("not a folder")
    assert PROBE in entrypoints.read("npa")


def test_load_resolves_module_attribute_and_ignores_extras(installation):
    plugin = entrypoints.load(PROBE["value"])
    assert plugin.marker == "probe"
    assert entrypoints.load("npa_probe_plugin").__name__ == "npa_probe_plugin"


def test_npa_lists_the_same_plugins_as_importlib_metadata():
    """The CLI process, answered from the remembered file, loads exactly the entry
    points ``importlib.metadata`` lists for group ``npa`` (run twice: the second run
    reads the file)."""
    probe = ("from npa_migrations.plugins import entry_point_plugins; import sys; "
             "print(sorted(e['name'] for _, e in entry_point_plugins())); "
             "print('importlib.metadata' in sys.modules)")
    env = {k: v for k, v in os.environ.items()
           if k not in ("NPA_DISABLE_PLUGINS", "NPA_DISABLE_PLUGIN_AUTOLOAD")}
    runs = [subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                           check=True, env=env).stdout.split("\n") for _ in range(2)]
    import importlib.metadata

    expected = sorted(e.name for e in importlib.metadata.entry_points(group="npa"))
    assert runs[0][0] == runs[1][0] == str(expected)
    assert runs[1][1] == "False"


def test_each_manager_keeps_its_own_entry_point_plugins(monkeypatch):
    """A manager built for a while (a test without entry points) and then put back must
    not take the first manager's list of plugins with it (``npa providers`` said "No
    providers installed" after such a test)."""
    from npa_migrations import plugins

    monkeypatch.delenv("NPA_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    monkeypatch.setattr(plugins, "_manager", None)
    first = plugins.get_plugin_manager()
    names = [entry["name"] for _, entry in plugins.entry_point_plugins()]
    assert "sqlite" in names
    monkeypatch.setenv("NPA_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setattr(plugins, "_manager", None)
    assert plugins.entry_point_plugins() == []
    monkeypatch.setattr(plugins, "_manager", first)
    assert [entry["name"] for _, entry in plugins.entry_point_plugins()] == names
