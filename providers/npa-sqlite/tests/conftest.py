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
from npa_migrations.testing.requirements import SuiteRequirements, closed


class SqliteRequirements(SuiteRequirements):
    """The suite's gates on SQLite, where SQLite's own reflection differs."""

    @property
    def reflects_quoted_constraint_names(self):
        return closed("SQLAlchemy's SQLite reflection reads constraint names from the "
                      "table's SQL text without unescaping doubled quotes")


@pytest.fixture(scope="session")
def npa_requirements_class():
    return SqliteRequirements


@pytest.fixture(scope="session")
def npa_default_url():
    """The suite's URL when ``--npa-url`` is not given: SQLite (a new file per test)."""
    return "sqlite://"
