"""pytest plugin of the conformance suite: ``--npa-url`` and the fixtures suite tests use.

A provider opts in from its ``tests/conftest.py`` (not through a ``pytest11`` entry
point, so it never loads into anyone else's pytest run)::

    pytest_plugins = ["npa_migrations.testing.plugin"]

pytest accepts ``pytest_plugins`` only in a top-level conftest (one in the rootdir or in
a directory named on the command line or in ``testpaths``). A conftest nested deeper in
a larger tree, such as ``providers/npa-sqlite/tests/conftest.py`` in the npa-migrations
monorepo, star-imports the plugin instead (SQLAlchemy's way); its fixtures then apply to
that directory only, and ``--npa-url`` is available when that directory is named on the
command line::

    from npa_migrations.testing.plugin import *  # noqa: F401,F403

The database URL is, first match wins:

1. ``--npa-url URL`` on the command line;
2. the ``npa_default_url`` fixture, which a provider overrides in its ``conftest.py``
   (typically reading an environment variable such as ``NPA_TEST_POSTGRES_URL``); the
   plugin's own default reads ``NPA_TEST_URL``, then the ``npa_url`` ini value;
3. none: every suite test is skipped, saying how to give one.

Fixtures (all prefixed ``npa_``):

* ``npa_base_url`` -- the configured URL (session).
* ``npa_provider`` -- the provider serving it (session); ``npa_requirements`` -- its
  :class:`~npa_migrations.testing.requirements.SuiteRequirements` (session).
* ``npa_provision`` -- how each test gets a fresh database
  (:mod:`~npa_migrations.testing.provision`).
* ``npa_url`` -- the URL of a fresh, empty database for this test (cleaned up after).
* ``npa_migrations_folder`` -- a :class:`~npa_migrations.testing.migrations.MigrationFolder`.
* ``npa_executor`` -- ``npa_executor(**options)`` makes a ``MigrationExecutor`` on
  ``npa_url`` and the folder; every ``*_table`` option defaults to a prefixed name
  (``npat_migrations_history``, ``npat_migrations_lock``, ...).
* ``npa_db`` -- a :class:`~npa_migrations.testing.reflection.ReflectedDatabase`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable, Iterator

import pytest

from ..apptest.options import URL_ENV, add_options  # the URL_ENV its npa_default_url reads
from . import PREFIX
from .requirements import MARK, SuiteRequirements

# assertions in the suite modules give pytest's detailed messages
pytest.register_assert_rewrite("npa_migrations.testing.suite")

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

    from ..engine.executor import MigrationExecutor
    from ..provider.base import BaseProvider
    from .provision import Provision

__all__ = [
    "pytest_addoption", "pytest_configure", "npa_default_url", "npa_base_url", "npa_provider",
    "npa_requirements_class", "npa_requirements", "_npa_requirement_gates",
    "pytest_report_teststatus", "pytest_terminal_summary", "npa_provision",
    "npa_url", "npa_engine", "npa_migrations_folder", "npa_executor", "npa_db",
]


def suite_table_options() -> dict[str, str]:
    """Every ``*_table`` option of ``MigrationExecutorOptions`` (history, lock, event
    log, ...), renamed with the suite prefix: ``npa_migrations_history`` ->
    ``npat_migrations_history``."""
    import dataclasses

    from ..options import MigrationExecutorOptions

    return {f.name: PREFIX + f.default.removeprefix("npa_")
            for f in dataclasses.fields(MigrationExecutorOptions)
            if f.name.endswith("_table") and isinstance(f.default, str)}


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--npa-url`` and the ``npa_url`` ini key, shared with the application plugin
    (:mod:`npa_migrations.apptest.options`; several conftests may star-import this one)."""
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARK}(name): the test needs conformance requirement 'name' "
                   "(npa_migrations.testing.requirements); skipped when the provider lacks it")


def _hidden(url: "sa.engine.URL") -> str:
    from ..urls import display_url

    return display_url(url)


# configuration -----------------------------------------------------------------------------
@pytest.fixture(scope="session")
def npa_default_url(pytestconfig: pytest.Config) -> str | None:
    """The URL used when ``--npa-url`` is not given. Providers override this fixture."""
    return os.environ.get(URL_ENV) or pytestconfig.getini("npa_url") or None


@pytest.fixture(scope="session")
def npa_base_url(pytestconfig: pytest.Config, npa_default_url: str | None) -> "sa.engine.URL":
    """The configured database URL (a SQLAlchemy ``URL``)."""
    from ..engine.target import parse_url

    value = pytestconfig.getoption("npa_url", default=None) or npa_default_url
    if not value:
        pytest.skip("no database URL for the npa conformance suite: pass --npa-url URL, set "
                    f"${URL_ENV}, or override the npa_default_url fixture in conftest.py")
    return parse_url(value)


@pytest.fixture(scope="session")
def npa_provider(npa_base_url: "sa.engine.URL") -> "BaseProvider":
    """The provider serving the configured URL (its ``capabilities`` drive the gates)."""
    from ..provider.registry import resolve_provider

    return resolve_provider(npa_base_url)


@pytest.fixture(scope="session")
def npa_requirements_class() -> type[SuiteRequirements]:
    """The requirements class; a provider returns its subclass from an override."""
    return SuiteRequirements


@pytest.fixture(scope="session")
def npa_requirements(npa_requirements_class: type[SuiteRequirements],
                     npa_provider: "BaseProvider") -> SuiteRequirements:
    return npa_requirements_class(npa_provider)


#: user property set on a test whose requirement gate is closed
NOT_APPLICABLE = "npa_not_applicable"
#: the outcome category such a test is reported under (instead of "skipped")
NOT_APPLICABLE_CATEGORY = "not applicable"
_SUMMARY_SHOWN = pytest.StashKey[bool]()


@pytest.fixture(autouse=True)
def _npa_requirement_gates(request: pytest.FixtureRequest) -> None:
    """Leave out a test whose ``npa_requires`` marks name a gate the provider does not
    open. It is reported as *not applicable* (with the reason), not as skipped: a skip
    means something that should have run did not (a server missing), this means the
    provider declares the capability the test is about absent."""
    names = [m.args[0] for m in request.node.iter_markers(MARK)]
    if not names:
        return
    requirements: SuiteRequirements = request.getfixturevalue("npa_requirements")
    for name in dict.fromkeys(names):
        reason = requirements.unmet(name)
        if reason:
            request.node.user_properties.append((NOT_APPLICABLE, reason))
            pytest.skip(reason)


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config):
    """Report a test left out by a closed requirement gate as ``not applicable`` (``n``)."""
    if report.skipped and any(key == NOT_APPLICABLE for key, _ in report.user_properties):
        return NOT_APPLICABLE_CATEGORY, "n", "NOT APPLICABLE"
    return None


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    """List the not-applicable tests once, grouped by reason, after the test summary."""
    if config.stash.get(_SUMMARY_SHOWN, False):
        return  # several conftests star-import this plugin
    config.stash[_SUMMARY_SHOWN] = True
    reports = terminalreporter.stats.get(NOT_APPLICABLE_CATEGORY, [])
    if not reports:
        return
    by_reason: dict[str, list[str]] = {}
    for report in reports:
        reason = dict(report.user_properties)[NOT_APPLICABLE]
        by_reason.setdefault(reason, []).append(report.nodeid)
    terminalreporter.section("not applicable: the provider declares the capability absent")
    for reason, nodeids in by_reason.items():
        terminalreporter.write_line(f"{len(nodeids)} x {reason}")
        for nodeid in nodeids:
            terminalreporter.write_line(f"    {nodeid}")


# the test database -------------------------------------------------------------------------
@pytest.fixture(scope="session")
def npa_provision(npa_base_url: "sa.engine.URL", npa_provider: "BaseProvider") -> "Provision":
    """How each test gets a fresh, empty database (override for other strategies)."""
    from .provision import provision_for

    return provision_for(npa_base_url, npa_provider)


@pytest.fixture
def npa_url(npa_provision: "Provision", tmp_path) -> "Iterator[sa.engine.URL]":
    """URL of a fresh database for this test, free of suite objects before and after."""
    url = npa_provision.test_url(tmp_path)
    engine = npa_provision.create_engine(url)
    try:
        npa_provision.prepare(engine)
        yield url
        npa_provision.cleanup(engine)
    finally:
        engine.dispose()


@pytest.fixture
def npa_engine(npa_provision: "Provision", npa_url: "sa.engine.URL"
               ) -> "Iterator[sa.engine.Engine]":
    """A SQLAlchemy engine on the test database (separate from the engine's connections)."""
    engine = npa_provision.create_engine(npa_url)
    yield engine
    engine.dispose()


@pytest.fixture
def npa_migrations_folder(tmp_path):
    """A :class:`~npa_migrations.testing.migrations.MigrationFolder` for this test."""
    from .migrations import MigrationFolder

    return MigrationFolder(tmp_path / "migrations")


@pytest.fixture
def npa_executor(npa_url, npa_migrations_folder) -> Callable[..., "MigrationExecutor"]:
    """``npa_executor(**options)``: a new ``MigrationExecutor`` on the test database and
    the test's migrations folder (``migrations=`` overrides the sources)."""
    from ..engine.executor import MigrationExecutor
    from ..options import MigrationExecutorOptions

    tables = suite_table_options()

    def make(migrations: Any = None, **options: Any) -> "MigrationExecutor":
        for name, table in tables.items():
            options.setdefault(name, table)
        options.setdefault("lock_timeout_seconds", 20)
        sources = migrations if migrations is not None else npa_migrations_folder.path
        return MigrationExecutor(npa_url, sources, options=MigrationExecutorOptions(**options))

    return make


@pytest.fixture
def npa_db(npa_url, npa_engine, npa_provider):
    """The test database seen through SQLAlchemy reflection (assert real state)."""
    from ..provider.registry import resolve_provider
    from .reflection import ReflectedDatabase

    tables = suite_table_options()
    return ReflectedDatabase(npa_url, npa_engine, resolve_provider(npa_url),
                             tables["history_table"], set(tables.values()))
