import textwrap
from pathlib import Path

import pytest


@pytest.fixture
def migrations_dir(tmp_path: Path):
    """A folder to write migration files into; returns a writer function."""
    folder = tmp_path / "migrations"
    folder.mkdir()

    def write(name: str, text: str) -> Path:
        path = folder / name
        path.write_text(textwrap.dedent(text).lstrip())
        return path

    write.folder = folder
    return write


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'app.db'}"


@pytest.fixture
def register():
    """Register in-test plugins; unregistered afterwards."""
    from npa_migrations.plugins import get_plugin_manager

    manager = get_plugin_manager()
    added = []

    def add(plugin):
        manager.register(plugin)
        added.append(plugin)
        return plugin

    try:
        yield add
    finally:
        for plugin in added:
            manager.unregister(plugin)
