"""pytest plugin for an application's own migrations (docs/testing-your-migrations.md).

Off until the application enables it, with one line in its top-level ``conftest.py``::

    pytest_plugins = ["npa_migrations.apptest"]

Then ``pytest`` runs the ready tests (:mod:`npa_migrations.apptest.checks`: one order
without cycles, stairway, ``down`` restores the schema, the models match the migrations)
as tests of that conftest, on a throwaway database
(:mod:`npa_migrations.apptest.database`): a SQLite file by default, or a new database on
the server ``--npa-url`` (``$NPA_TEST_URL``, ini ``npa_url``) names, dropped at the end.

Fixtures:

* ``npa_config`` (session) -- :class:`~npa_migrations.apptest.runner.NpaTestConfig`: the
  migrations, the models and the executor options, read from the project's ``npa.toml``
  or ``[tool.npa]`` in ``pyproject.toml`` (found in pytest's rootdir); override it to
  choose otherwise.
* ``npa_database`` (session) -- the :class:`~npa_migrations.apptest.database.ThrowawayDatabase`.
* ``npa_runner`` -- a :class:`~npa_migrations.apptest.runner.MigrationRunner` on the empty
  database, for tests of single migrations with data (``up(target, before=True)``,
  ``insert``, ``up(target)``, ``rows``).

This is not the provider conformance suite (:mod:`npa_migrations.testing`), which tests a
database provider rather than an application's migrations.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import pytest

from .options import URL_ENV, add_options

if TYPE_CHECKING:  # pragma: no cover
    from .database import ThrowawayDatabase
    from .runner import MigrationRunner, NpaTestConfig

__all__ = ["pytest_addoption", "pytest_configure", "pytest_collect_file", "npa_config",
           "npa_database", "npa_runner"]

#: the name a conftest lists in ``pytest_plugins`` to enable this plugin
PLUGIN = __name__

pytest.register_assert_rewrite(f"{PLUGIN}.checks")


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    from .checks import MARKER

    config.addinivalue_line("markers", f"{MARKER}: the ready migration tests of "
                                       "npa_migrations.apptest")


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    """The ready tests, collected with the conftest that enabled the plugin."""
    if file_path.name != "conftest.py":
        return None
    for plugin in parent.config.pluginmanager.get_plugins():
        if getattr(plugin, "__file__", None) == str(file_path) \
                and PLUGIN in _listed(getattr(plugin, "pytest_plugins", ())):
            from .checks import ReadyTests

            return ReadyTests.from_parent(parent, path=file_path)
    return None


def _listed(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


@pytest.fixture(scope="session")
def npa_config(pytestconfig: pytest.Config) -> "NpaTestConfig":
    """What the tests run, from the project's configuration file (see the module docs)."""
    from ..config import resolve
    from .runner import NpaTestConfig

    root = Path(pytestconfig.rootpath)
    found = _config_file(root)
    if found is None:
        return NpaTestConfig(migrations=[str(root / "migrations")])
    config = resolve(None, None, str(found))
    settings = config.settings
    options: dict[str, Any] = {key: settings[key]
                               for key in ("history_table", "lock_table", "log_table")
                               if key in settings}
    return NpaTestConfig(migrations=config.migrations, model=settings.get("model"),
                         options=options)


def _config_file(root: Path) -> Path | None:
    """``npa.toml`` in ``root``, else a ``pyproject.toml`` there with ``[tool.npa]``."""
    import tomllib

    if (root / "npa.toml").is_file():
        return root / "npa.toml"
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and "npa" in tomllib.loads(
            pyproject.read_text(encoding="utf-8")).get("tool", {}):
        return pyproject
    return None


@pytest.fixture(scope="session")
def npa_database(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator["ThrowawayDatabase"]:
    """The throwaway database of the session (created first, dropped at the end)."""
    from ..urls import parse_url
    from .database import ThrowawayDatabase

    value = (pytestconfig.getoption("npa_url", default=None) or os.environ.get(URL_ENV)
             or pytestconfig.getini("npa_url") or "sqlite:///npa.db")
    database = ThrowawayDatabase(parse_url(value), tmp_path_factory.mktemp("npa"))
    database.create()
    try:
        yield database
    finally:
        database.drop()


@pytest.fixture
def npa_runner(npa_config: "NpaTestConfig", npa_database: "ThrowawayDatabase"
               ) -> Iterator["MigrationRunner"]:
    """The migrations on the empty throwaway database."""
    from .runner import MigrationRunner

    npa_database.empty()
    runner = MigrationRunner(npa_config, npa_database)
    try:
        yield runner
    finally:
        runner.close()
