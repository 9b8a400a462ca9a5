"""Fixtures of npa-lint's tests: migrations built in memory, and a migrations folder."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa


def _make_script(migration_id: str, *operations, migration_class=None, source=None):
    """A :class:`MigrationScript` whose up() records ``operations``."""
    from npa_migrations.migration import MigrationScript

    return MigrationScript(id=migration_id, source=source or f"{migration_id}.py",
                           build_up=lambda: list(operations), build_down=None,
                           migration_class=migration_class)


def _lint(url: str, *scripts, selected=None, run=False, estimate=None, settings=None):
    """Findings of the npa-lint ``Linter`` for ``scripts`` on the provider of ``url``."""
    from npa_lint import Linter
    from npa_migrations.provider.registry import resolve_provider

    provider = resolve_provider(sa.make_url(url))
    ids = selected if selected is not None else [s.id for s in scripts]
    return Linter(provider, settings, estimate).lint(list(scripts), ids, run=run)


@pytest.fixture
def make_script():
    """``make_script(id, *operations, migration_class=None)`` -> a MigrationScript."""
    return _make_script


@pytest.fixture
def run_lint():
    """``run_lint(url, *scripts, selected=None, run=False, estimate=None, settings=None)``
    -> the Linter's findings."""
    return _lint


@pytest.fixture
def folder(tmp_path: Path):
    """Write migration files: ``folder("<id>.py", text)``; ``folder.path`` is the folder."""
    path = tmp_path / "migrations"
    path.mkdir()

    def write(name: str, text: str) -> Path:
        target = path / name
        target.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return target

    write.path = path
    return write


@pytest.fixture
def without_concurrent_index():
    """npa-concurrent-index unregistered for the test (it renders CONCURRENTLY)."""
    from npa_migrations.plugins import get_plugin_manager

    manager = get_plugin_manager()
    plugin = manager.get_plugin("concurrent_index")
    if plugin is not None:
        manager.unregister(plugin)
    try:
        yield
    finally:
        if plugin is not None:
            manager.register(plugin, name="concurrent_index")
