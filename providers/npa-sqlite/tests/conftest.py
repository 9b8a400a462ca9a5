"""Test configuration of npa-sqlite: the conformance suite's pytest plugin, on SQLite.

A provider whose ``tests/conftest.py`` is top-level opts in with
``pytest_plugins = ["npa_migrations.testing.plugin"]``. Here the conftest sits three
levels below the workspace root, where pytest rejects ``pytest_plugins`` when the whole
tree runs (``uv run pytest``), so it star-imports the plugin instead: same hooks and
fixtures, scoped to this directory.

Without ``--npa-url`` the suite runs on SQLite, each test on a fresh database file in its
``tmp_path`` (``npa_migrations.testing.provision.FileProvision``).
"""

import pytest

from npa_migrations.testing.plugin import *  # noqa: F401,F403


@pytest.fixture(scope="session")
def npa_default_url():
    """The suite's URL when ``--npa-url`` is not given: SQLite (a new file per test)."""
    return "sqlite://"
