import sqlite3
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


@pytest.fixture
def user_tables():
    """The tables of a SQLite database (a ``sqlite:///`` URL or a path), without the
    engine's own ``npa_*`` tables."""

    def tables(database) -> set[str]:
        path = str(database).removeprefix("sqlite:///")
        with sqlite3.connect(path) as conn:
            return {r[0] for r in conn.execute("SELECT name FROM sqlite_master "
                                               "WHERE type='table'") if not r[0].startswith("npa_")}
    return tables


@pytest.fixture
def migrate():
    """Run ``npa -d URL -m FOLDER migrate ARGS...`` in-process; returns click's result."""
    from click.testing import CliRunner

    from npa_migrations.cli import cli

    def run(url: str, folder, *args: str):
        return CliRunner().invoke(cli, ["-d", url, "-m", str(folder), "migrate", *args])
    return run
