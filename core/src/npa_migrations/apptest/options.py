"""The command-line option and ini key of npa's pytest plugins, registered by the core's
``pytest11`` entry point.

pytest loads every ``pytest11`` entry point into every test session, so this module does
nothing else: it imports only pytest, adds no fixture and no test. The plugin itself is
off until an application enables it in its ``conftest.py``
(``pytest_plugins = ["npa_migrations.apptest"]``, :mod:`npa_migrations.apptest`), and the
provider conformance suite is enabled the same way (:mod:`npa_migrations.testing.plugin`).
Registering the option here makes ``--npa-url`` known wherever either is enabled from.
"""

from __future__ import annotations

import pytest

#: the environment variable both plugins read when ``--npa-url`` is not given
URL_ENV = "NPA_TEST_URL"


def add_options(parser: pytest.Parser) -> None:
    """``--npa-url`` and the ``npa_url`` ini key (once, whoever asks first)."""
    group = parser.getgroup("npa", "npa-migrations tests")
    try:
        group.addoption(
            "--npa-url", action="store", default=None, metavar="URL",
            help="database URL npa's test plugins run against, e.g. "
                 "postgresql://postgres@127.0.0.1/test. Default: the conformance suite "
                 f"asks the provider's npa_default_url fixture, then ${URL_ENV}, then the "
                 "npa_url ini value; application tests read the latter two, else use a "
                 "SQLite file.")
    except ValueError:  # already added by the other plugin
        return
    parser.addini("npa_url", "database URL of npa's test plugins", default="")


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)
